"""The walk (issue 12 §2–§4): every screen, customer and staff, in both languages, with
speech on; on each screen it keeps what the screen shows, what it would say and what
the layout check finds, and sends it the keys of tours/keys.py (issue 16 §1).
tests/ui/conftest.py runs it at four window sizes.

Speech is written down instead of played (a test machine has no sound card); the
screenshots are the ones docs/screens is made from (`make screens`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kiosk.services.journeys.item_kinds import SETTING as ITEM_KINDS
from tours import journeys, layout, staff_journeys
from tours.keys import press_all


class Recorder:
    """A speaker that writes down what it would say, and on which screen."""

    available = True

    def __init__(self) -> None:
        self.said: list[tuple[str, str, str]] = []
        self.screen = ""

    def say(self, text: str, lang: str) -> None:
        self.said.append((self.screen, lang, text))

    def stop(self) -> None:
        pass


class Looker:
    """Looks at each screen once it is filled: its texts and its layout faults."""

    def __init__(self, ui: Any, dpi: float) -> None:
        self.ui = ui
        self.dpi = dpi
        self.shown: list[tuple[str, str, str]] = []
        self.drivers_words: list[str] = []
        self.faults: dict[str, list[str]] = {}  # fault → the screens (and language) it was on
        self.looked: list[str] = []
        self.keys: dict[str, list[str]] = {}  # screen → the keys sent to it
        self.keys_broken: list[str] = []

    def look(self, name: str) -> None:
        from kivy.uix.label import Label

        app = self.ui.app
        if app.sm.current != name:
            return  # already gone
        where = f"{name} ({app.lang})"
        self.looked.append(where)
        for w in app.sm.current_screen.walk(restrict=True):
            if isinstance(w, Label) and w.opacity > 0 and w.text.strip():
                self.shown.append((name, app.lang, w.text))
                if type(w).__name__ == "DeviceDetail":  # what a driver says, in its words
                    self.drivers_words.append(w.text)
        for fault in layout.faults(app.root, self.dpi):
            screens = self.faults.setdefault(fault, [])
            if where not in screens:
                screens.append(where)
        if name not in self.keys:  # once a screen: they change nothing, by design
            self.keys[name], broken = press_all(app)
            self.keys_broken += broken


def walk(ui: Any) -> Iterator[Any]:
    yield from walk_in(ui, ("fr", "en"))


def walk_de(ui: Any) -> Iterator[Any]:
    """The same walk in German (a shop offering German, English and French)."""
    yield from walk_in(ui, ("de",))


def walk_in(ui: Any, langs: tuple[str, ...]) -> Iterator[Any]:
    from kivy.metrics import Metrics

    recorder = Recorder()
    looker = Looker(ui, ui.app.kiosk_config.kiosk.screen_dpi or Metrics.dpi)

    def entered(name: str) -> None:
        recorder.screen = name

    ui.app.speaker = recorder
    ui.app.on_screen_change.append(entered)
    # each screen looked at once the tour has it laid out, and again at each picture
    # the tour takes (a field typed into, a list filled)
    ui.watchers.append(looker.look)
    ui.app.speech_default = ui.app.speech_on = True  # as [kiosk] speech = true does
    yield from journeys.tour(ui, langs)
    for lang in langs:
        yield from staff_screens(ui, looker, lang)
    yield 0.5
    repos = ui.app.services.repos
    ui.notes.update(
        said=recorder.said,
        shown=looker.shown,
        drivers_words=looker.drivers_words,
        faults=looker.faults,
        looked=looker.looked,
        keys=looker.keys,
        keys_broken=looker.keys_broken,
        dpi=looker.dpi,
        catalogue={
            key: value.get("labels", {})
            for key, value in repos.settings.with_prefix("catalogue:").items()
        },
        item_kinds=repos.settings.get(ITEM_KINDS),
        # the items the tour left, each in the words of its drop-off's language
        dropped=[
            (i.name, i.condition) for o in repos.orders.all() if o.submission for i in o.items
        ],
        # words people wrote, in whatever language they wrote them: not the kiosk's
        proper_names=[ui.app.kiosk_config.shop.name]
        + [item.name for order in repos.orders.all() for item in order.items],
    )


def staff_screens(ui: Any, looker: Looker, lang: str) -> Iterator[Any]:
    """The manager (every task allowed) opens each staff screen from the menu, with
    something on it: a dead letter to retry, today's payments found."""
    ui.app.lang = lang
    outbox, now = ui.app.services.repos.outbox, ui.app.services.clock()
    note = {"number": "K1-2611-00077", "text": "?", "at": now.isoformat(), "author": "kiosk"}
    op_id = outbox.enqueue("staff.note", note, key=f"note-{lang}", now=now)
    outbox.dead_letter(op_id, "unknown order K1-2611-00077", now)
    yield from staff_journeys.sign_in(ui, "maud")
    yield from ui.shot(f"staff-menu-{lang}")
    for task, screen in (("lockers", "staff_lockers"), ("shift", "staff_shift"),
                         ("search", "staff_search"), ("unlock", "staff_scan"),
                         ("sync", "staff_sync"), ("payments", "staff_payments"),
                         ("devices", "staff_devices")):  # fmt: skip
        yield from ui.tap("staff_menu", task)
        yield from ui.wait_screen(screen)
        if screen == "staff_search":
            yield from ui.tap("staff_search", "today")
            yield lambda: "reprint_0" in ui.app.screen("staff_search").ids
        yield from ui.shot(f"{screen.replace('_', '-')}-{lang}")
        yield from staff_journeys.menu(ui, screen)
    yield from staff_journeys.sign_out(ui, "staff_menu")
