"""What a customer can leave, and the conditions worth noting on each kind, in the
session's language.

The back office sends them as the `setting` record `item_kinds` (docs/sync-protocol.md):

    {"kinds": [{"code": "bike", "labels": {"fr": "Vélo", "en": "Bike"}, "label": "Vélo",
                "icon": "bicycle", "conditions": ["scratches", "dents"]}, …],
     "conditions": {"scratches": {"labels": {"fr": "rayures", "en": "scratches"},
                                  "label": "rayures"}, …}}

A label is taken in the session's language; a record from before labels per language
has only `label` (the shop's language) and that is shown, whatever the session's. Until
a back office has sent the record, or when it sends one the kiosk cannot read, the kiosk
offers its own four kinds, labelled by its translation catalogue, and says so in its log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.i18n import Lang

log = logging.getLogger(__name__)

SETTING = "setting:item_kinds"


@dataclass(frozen=True)
class Condition:
    code: str
    label: str


@dataclass(frozen=True)
class ItemKind:
    code: str
    label: str
    icon: str  # a Font Awesome name (kiosk/app/icons.py); "" for none
    conditions: tuple[Condition, ...]


# the kiosk's own, before the back office says otherwise; labels are catalogue msgids
CONDITIONS = {
    "scratches": "scratches",
    "dents": "dents",
    "cracked_screen": "cracked screen",
    "missing_parts": "missing parts",
    "water_damage": "water damage",
}
KINDS = (
    ("bike", "Bike", "bicycle", ("scratches", "dents", "missing_parts")),
    ("phone", "Phone", "mobile-screen", ("scratches", "dents", "cracked_screen", "water_damage")),
    ("appliance", "Appliance", "blender", ("scratches", "dents", "missing_parts", "water_damage")),
    ("other", "Other", "box", tuple(CONDITIONS)),
)


class UnreadableKinds(ValueError):
    pass


def item_kinds(record: object, lang: str) -> list[ItemKind]:
    """The kinds on offer in `lang`: the back office's, else the kiosk's own."""
    if record is None:
        return built_in(lang)
    try:
        return from_record(record, lang)
    except UnreadableKinds as exc:
        log.warning("setting item_kinds from the back office unreadable (%s): "
                    "the kiosk's own four kinds are offered", exc)  # fmt: skip
        return built_in(lang)


def built_in(lang: str) -> list[ItemKind]:
    words = Lang(lang)._
    return [
        ItemKind(code, words(label), icon, tuple(Condition(c, words(CONDITIONS[c])) for c in conds))
        for code, label, icon, conds in KINDS
    ]


def from_record(record: object, lang: str) -> list[ItemKind]:
    if not isinstance(record, Mapping):
        raise UnreadableKinds(f"expected an object, got {type(record).__name__}")
    kinds, conditions = record.get("kinds"), record.get("conditions", {})
    if not isinstance(kinds, list) or not kinds:
        raise UnreadableKinds("'kinds' must be a non-empty list")
    if not isinstance(conditions, Mapping):
        raise UnreadableKinds("'conditions' must be an object of code → labels")
    named = {code: Condition(str(code), _label(value, lang, f"condition {code}"))
             for code, value in conditions.items()}  # fmt: skip
    offered = []
    for n, kind in enumerate(kinds):
        if not isinstance(kind, Mapping) or not str(kind.get("code", "")).strip():
            raise UnreadableKinds(f"kinds[{n}] has no code")
        codes = kind.get("conditions", [])
        if not isinstance(codes, list):
            raise UnreadableKinds(f"kinds[{n}].conditions must be a list of codes")
        unknown = [c for c in codes if c not in named]
        if unknown:
            raise UnreadableKinds(f"kinds[{n}] names conditions not described: {unknown}")
        code = str(kind["code"])
        offered.append(ItemKind(code, _label(kind, lang, f"kind {code}"), str(kind.get("icon", "")),
                                tuple(named[c] for c in codes)))  # fmt: skip
    return offered


def _label(value: Any, lang: str, what: str) -> str:
    if not isinstance(value, Mapping):
        raise UnreadableKinds(f"{what}: expected an object with labels")
    labels = value.get("labels")
    for code in (lang, "en"):  # a language the back office has no label in: English's
        if isinstance(labels, Mapping) and str(labels.get(code, "")).strip():
            return str(labels[code])
    if str(value.get("label", "")).strip():
        return str(value["label"])  # a record from before labels per language
    raise UnreadableKinds(f"{what}: no label in {lang!r} and no 'label'")
