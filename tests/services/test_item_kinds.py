"""Item kinds and their conditions, in the session's language (issue 12 §2): from the
back office's `item_kinds` setting, a record from before labels per language shown in
its one language, and the kiosk's own kinds when there is no record or an unreadable one."""

from __future__ import annotations

import logging

from kiosk.services.demo_data import item_kinds_record
from kiosk.services.journeys.item_kinds import item_kinds


def labels(kinds):
    return {k.code: (k.label, [c.label for c in k.conditions]) for k in kinds}


def test_without_a_record_the_kiosk_offers_its_own_kinds_in_each_language():
    assert labels(item_kinds(None, "fr"))["bike"] == (
        "Vélo",
        ["rayures", "bosses", "pièces manquantes"],
    )
    assert labels(item_kinds(None, "en"))["bike"] == (
        "Bike",
        ["scratches", "dents", "missing parts"],
    )
    assert [k.code for k in item_kinds(None, "en")] == ["bike", "phone", "appliance", "other"]


def test_the_back_office_record_decides_kinds_labels_icons_and_conditions():
    record = {
        "kinds": [{"code": "ebike", "labels": {"fr": "Vélo électrique", "en": "E-bike"},
                   "label": "Vélo électrique", "icon": "bicycle",
                   "conditions": ["battery_swollen"]}],
        "conditions": {"battery_swollen": {"labels": {"fr": "batterie gonflée",
                                                      "en": "swollen battery"}}},
    }  # fmt: skip
    (kind,) = item_kinds(record, "en")
    assert (kind.code, kind.label, kind.icon) == ("ebike", "E-bike", "bicycle")
    assert [c.label for c in kind.conditions] == ["swollen battery"]
    assert item_kinds(record, "fr")[0].conditions[0].label == "batterie gonflée"


def test_a_record_from_before_labels_per_language_shows_its_one_label():
    record = {"kinds": [{"code": "bike", "label": "Vélo", "conditions": ["rayure"]}],
              "conditions": {"rayure": {"label": "rayure cadre"}}}  # fmt: skip
    (kind,) = item_kinds(record, "en")
    assert (kind.label, kind.conditions[0].label) == ("Vélo", "rayure cadre")


def test_an_unreadable_record_falls_back_to_the_kiosks_kinds_and_says_why(caplog):
    bad = [
        "not an object",
        {"kinds": []},
        {"kinds": [{"label": "no code"}]},
        {"kinds": [{"code": "bike", "label": "Vélo", "conditions": ["unknown"]}]},
        {"kinds": [{"code": "bike", "labels": {"fr": "Vélo"}}]},  # no English, no label
    ]
    for record in bad:
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            kinds = item_kinds(record, "en")
        assert [k.code for k in kinds] == ["bike", "phone", "appliance", "other"], record
        assert "item_kinds from the back office unreadable" in caplog.text, record


def test_the_demo_record_reads_back_as_the_kiosks_own_kinds():
    for lang in ("fr", "en"):
        assert labels(item_kinds(item_kinds_record(), lang)) == labels(item_kinds(None, lang))


def test_german_gets_the_kiosks_own_kinds_in_german_and_english_where_the_record_has_no_german():
    """Issue 28: the built-in kinds speak German through the catalogue; a back office
    record with French and English labels only shows its English ones to a German
    session, its kinds still offered."""
    assert labels(item_kinds(None, "de"))["bike"] == (
        "Fahrrad",
        ["Kratzer", "Dellen", "fehlende Teile"],
    )
    record = {
        "kinds": [{"code": "ebike", "labels": {"fr": "Vélo électrique", "en": "E-bike"},
                   "icon": "bicycle", "conditions": ["battery_swollen"]}],
        "conditions": {"battery_swollen": {"labels": {"fr": "batterie gonflée",
                                                      "en": "swollen battery"}}},
    }  # fmt: skip
    assert labels(item_kinds(record, "de")) == {"ebike": ("E-bike", ["swollen battery"])}
