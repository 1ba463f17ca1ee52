"""The Kivy application: the view-model and the navigation; the screens are layout.

The App's Kivy properties are the view-model (language, contrast, the customer's
session, what the terminal says); screens bind to them in their `.kv`. Each screen is
one class and one `.kv` file, loaded when first shown. Work that blocks (the card
terminal, a locker) runs on a worker thread and comes back with
`Clock.schedule_once`: no widget is ever touched from another thread.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.metrics import dp, mm
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

from kiosk.app import icons
from kiosk.app.screens import SCREENS
from kiosk.app.speech import Speaker, screen_prompt
from kiosk.app.steps import step_of
from kiosk.app.theme import PALETTES
from kiosk.config import Config
from kiosk.domain.money import Money
from kiosk.domain.text import right_to_left, visual
from kiosk.i18n import Lang

if TYPE_CHECKING:  # opened after the first frame, on a worker thread
    from kiosk.services.kiosk import KioskServices

HERE = Path(__file__).parent
RECOVERY_RETRY_S = 60.0
WIDE_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
log = logging.getLogger(__name__)


class KioskScreen(Screen):  # type: ignore[misc]
    """Base of every screen: reach the app, translate, move on."""

    @property
    def app(self) -> KioskApp:
        return App.get_running_app()  # type: ignore[no-any-return]

    keep = False  # entered again to change an answer (Back, Change): keep what it holds

    def on_pre_enter(self, *args: Any) -> None:
        if self.keep:
            self.keep = False
            self.came_back()
            return
        self.refresh()

    def came_back(self) -> None:
        """Entered again with its answers kept (override to refresh what depends on others)."""

    def refresh(self) -> None:
        """Fill the screen from the app's session (override)."""


class KioskApp(App):  # type: ignore[misc]
    use_kivy_settings = False
    locked = True  # in the shop: no close request is obeyed (the runner opens a demo window)
    lang = StringProperty("fr")
    high_contrast = BooleanProperty(False)
    colors = DictProperty(PALETTES[False])
    font_scale = NumericProperty(1.0)
    busy = BooleanProperty(False)  # a payment or locker is in progress: idle must wait
    terminal_text = StringProperty("")
    progress_title = StringProperty("Please wait")
    shop_name = StringProperty("")
    idle_left = NumericProperty(0)
    session = DictProperty({})
    languages = ListProperty(["fr", "en"])
    services = ObjectProperty(None, allownone=True)
    ready = BooleanProperty(False)  # the store, devices and use cases are open
    out_of_order = StringProperty("")
    updates = ObjectProperty(None, allownone=True)  # kiosk/app/updating.py, when taken
    staff = ObjectProperty(None, allownone=True)  # the signed-in staff member, if any
    staff_label = StringProperty("")
    help_called = BooleanProperty(False)  # this customer pressed "Call staff"
    speech_on = BooleanProperty(False)  # every screen is read aloud (Listen, or [kiosk] speech)
    speech_available = BooleanProperty(False)
    step = StringProperty("")  # "Step 2 of 5" while a journey runs (kiosk/app/steps.py)

    def __init__(self, cfg: Config, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kiosk_config = cfg
        self.speaker = Speaker()
        self.speech_available = self.speaker.available
        self.speech_default = cfg.kiosk.speech and self.speaker.available  # each session
        self.speech_on = self.speech_default
        self.shop_name = cfg.shop.name
        self.languages = list(cfg.kiosk.languages)
        self.lang = self.languages[0]
        self._langs = {code: Lang(code) for code in self.languages}
        self.idle_timeout = cfg.kiosk.idle_timeout_s
        self.idle_warning = cfg.kiosk.idle_warning_s
        self._last_touch = time.monotonic()
        self._last_recovery = time.monotonic()  # start-up has just run one
        self._recovering = False
        self.on_screen_change: list[Callable[[str], None]] = []

    # -- words and numbers --
    def tr(self, message: str, *_bind: Any, **values: Any) -> str:
        """Translate; kv passes app.lang as an extra argument so the text follows it."""
        return self._langs[self.lang]._(message, **values)

    def in_each(self, message: str, languages: list[str]) -> str:
        """A message shown before anyone chose a language (the attract screen): in
        each of the shop's languages, once each, joined by " / "."""
        said: list[str] = []
        for code in languages:
            text = self._langs[code]._(message)
            if text not in said:
                said.append(text)
        return " / ".join(said)

    def trn(self, singular: str, plural: str, n: int, **values: Any) -> str:
        return self._langs[self.lang].n_(singular, plural, n, **values)

    def money(self, amount: Money, *_bind: Any) -> str:
        return self._langs[self.lang].money(amount).replace("\u202f", " ")

    def date(self, value: Any, *_bind: Any) -> str:
        return self._langs[self.lang].date(value)

    def when(self, value: Any, *_bind: Any) -> str:
        return self._langs[self.lang].datetime(value)

    def shown(self, text: str, *_bind: Any) -> str:
        """A line with a name in it as a label must draw it: right-to-left words in
        drawing order (kiosk/domain/text.py), one line at a time."""
        return "\n".join(visual(line) for line in text.split("\n"))

    def font_for(self, text: str, *_bind: Any) -> str:
        """Kivy's Roboto has no Arabic or Hebrew letters: such a name is drawn in DejaVu
        Sans, which has them (fonts-dejavu-core, installed with the kiosk)."""
        return WIDE_FONT if right_to_left(text) and Path(WIDE_FONT).exists() else "Roboto"

    def on_lang(self, *_args: Any) -> None:
        """The words that are not a kv binding follow the language: the step."""
        sm = getattr(self, "sm", None)
        at = step_of(str(self.session.get("journey", "")), sm.current) if sm else None
        self.step = self.tr("Step {number} of {total}", number=at[0], total=at[1]) if at else ""

    def toggle_language(self) -> None:
        """Two languages: the other one. More: the list (kiosk/app/widgets/languages.py)."""
        from kiosk.app.widgets.languages import choose

        self.language_picker = choose(self)

    def toggle_contrast(self) -> None:
        self.high_contrast = not self.high_contrast
        self.colors = PALETTES[self.high_contrast]
        self.font_scale = 1.25 if self.high_contrast else 1.0

    def on_colors(self, _app: Any, colors: dict[str, Any]) -> None:
        # the background is the window's clear colour, not a rectangle under every page:
        # a layer less over every pixel of every frame (docs/ui.md, "Drawing")
        Window.clearcolor = colors["bg"]

    def short(self, *_bind: Any) -> bool:
        """A panel under 110 mm tall: the 7-inch ones (800×480 and 1024×600 are both
        about 90 mm). Measured in millimetres at the panel's DPI, not in pixels, so a
        1024×600 panel of 7 inches is as short as the Pi's own."""
        return float(Window.height) / float(mm(1)) < 110

    def u(self, millimetres: float, *_bind: Any) -> float:
        """A length in mm, a fifth shorter on a short panel: bars and fields, never the
        keys, which keep their own 9.5 mm at least."""
        return float(mm(millimetres * (0.8 if self.short() else 1.0)))

    def fs(self, base: float, *_bind: Any) -> float:
        """A font size that grows with the window and with large-text mode."""
        fit = min(Window.width / 1024, Window.height / 600)  # portrait: the width decides
        return float(dp(base) * self.font_scale * max(0.75, min(1.6, fit)))

    # -- no way out (issue 16 §1) --
    def open_settings(self, *_args: Any) -> bool:
        """Kivy's settings panel (F1, the Menu key) is never for the public: not opened."""
        return False

    def _key(self, _window: Any, key: int, *_args: Any) -> bool:
        """A keyboard plugged into the kiosk, or a scanner programmed with function keys,
        does nothing: every key stops here, before Kivy's own (Escape, F1…). The screens
        take touches only; the scanner is read by its own driver."""
        log.debug("key %d ignored on %s", key, self.sm.current)
        return True

    def _close_requested(self, *_args: Any, **_kwargs: Any) -> bool:
        """Alt+F4 or a window manager's close: refused in the shop (systemd stops the
        kiosk with SIGTERM, which leaves the loop by app.stop())."""
        return bool(self.locked)

    # -- navigation --
    def build(self) -> FloatLayout:
        icons.register()
        self.on_colors(self, self.colors)
        Builder.load_file(str(HERE / "widgets" / "common.kv"))
        self.sm = ScreenManager(transition=NoTransition())
        self.go("attract")
        Window.bind(on_touch_down=self._touched)
        Window.bind(on_keyboard=self._key, on_request_close=self._close_requested)
        Clock.schedule_interval(self._idle_tick, 1.0)
        root = FloatLayout()
        root.add_widget(self.sm)
        root.add_widget(Factory.IdleOverlay())  # over every screen, while it counts down
        return root

    def attach(self, services: KioskServices | BaseException, hold: bool = False) -> None:
        """The use cases are open (they are opened off the Kivy thread, so the attract
        screen is up at once): customers may start. A failure shows "out of order".
        `hold`: a new release not yet confirmed healthy; customers wait ("Starting…")
        until it is (kiosk/app/updating.py)."""
        if isinstance(services, BaseException):
            self.out_of_order = f"{type(services).__name__}: {services}"
            return
        self.services = services
        # staff mode shows the recent log; the kiosk's own INFO lines must reach it (the
        # root logger's WARNING would drop the devices' events before any handler)
        kiosk_log = logging.getLogger("kiosk")
        kiosk_log.addHandler(services.staff.recent_log)
        if kiosk_log.getEffectiveLevel() > logging.INFO:
            kiosk_log.setLevel(logging.INFO)
        scanner = services.devices.scanner
        if scanner is not None:
            scanner.start(lambda code: Clock.schedule_once(lambda _dt: self.scanned(code)))
        self.ready = not hold

    def screen(self, name: str) -> KioskScreen:
        if not self.sm.has_screen(name):
            module_name, cls_name = SCREENS[name].rsplit(".", 1)
            Builder.load_file(str(HERE / "screens" / f"{module_name}.kv"))
            module = importlib.import_module(f"kiosk.app.screens.{module_name}")
            self.sm.add_widget(getattr(module, cls_name)(name=name))
        return self.sm.get_screen(name)  # type: ignore[no-any-return]

    def go(self, name: str, keep: bool = False) -> None:
        """Show a screen; `keep` returns to one with its answers as they were."""
        self.screen(name).keep = keep and self.sm.current != name
        self.sm.current = name
        self.on_lang()
        for listener in self.on_screen_change:
            listener(name)
        if self.speech_on:
            # once filled (refresh() ran as it was entered, kv's bindings with it), and
            # before the next frame: before any further tap, however quick, can change it
            Clock.schedule_once(lambda _dt: self.speak_screen(), -1)

    # -- speech --
    def listen(self) -> None:
        """The Listen button: speech on for this customer (or off again)."""
        self.speech_on = not self.speech_on
        if self.speech_on:
            self.speak_screen()
        else:
            self.speaker.stop()

    def speak_screen(self) -> None:
        if self.speech_on:
            words = screen_prompt(self.sm.current_screen, self.step, self.tr("Choose"))
            self.speaker.say(words, self.lang)

    def announce_key(self, name: str) -> None:
        """A key of the on-screen keyboard says its name as it is pressed."""
        if self.speech_on:
            self.speaker.say(name, self.lang)

    def show_message(self, title: str, body: str, next_screen: str = "home", **values: Any) -> None:
        self.session["message"] = {
            "title": title,
            "body": body,
            "next": next_screen,
            "values": values,
        }
        self.go("message")

    def reset_session(self) -> None:
        """Forget everything about the customer (idle, done, cancel); staff are signed
        out too, so a kiosk left in staff mode locks itself."""
        self.session = {}
        self.terminal_text = ""
        self.help_called = False
        self.speech_on = self.speech_default
        self.sign_out()

    def call_staff(self) -> None:
        """ "Call staff": the call waits in staff mode and reaches the back office."""
        if self.services is None or self.help_called:
            return
        self.services.help_calls.call(self.sm.current, self.lang)
        self.help_called = True  # the top bar says staff is coming

    # -- staff mode --
    def enter_staff_mode(self, card: str = "") -> None:
        self.session = {"journey": "staff", "staff_card": card}
        self.go("staff_pin")

    def signed_in(self, member: Any) -> None:
        self.staff = member
        self.staff_label = f"{member.name} ({self.tr(member.role.value.capitalize())})"
        self.go("staff_menu")

    def sign_out(self) -> None:
        self.staff = None
        self.staff_label = ""

    def staff_may(self, permission: str, *_bind: Any) -> bool:
        from kiosk.domain.staff import Permission

        return self.staff is not None and bool(self.staff.may(Permission(permission)))

    # -- background work --
    def in_background(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self.busy = True

        def run() -> None:
            try:
                result: Any = work()
            except Exception as exc:  # reported on screen, never lost in a thread
                result = exc
            Clock.schedule_once(lambda _dt: self._finished(done, result))

        threading.Thread(target=run, name="kiosk-work", daemon=True).start()

    def _finished(self, done: Callable[[Any], None], result: Any) -> None:
        self.busy = False
        self._last_touch = time.monotonic()
        done(result)

    def terminal_says(self, text: str) -> None:
        """Called on the terminal's thread: hop to Kivy's."""
        Clock.schedule_once(lambda _dt: setattr(self, "terminal_text", text))

    # -- the scanner --
    def scanned(self, code: str) -> None:
        self._last_touch = time.monotonic()
        if self.busy or not self.ready:
            return
        if self.sm.current.startswith("staff_"):
            handler = getattr(self.sm.current_screen, "scanned", None)
            if handler is not None:
                handler(code)
            return
        if self.services.staff.is_staff_card(code):
            self.enter_staff_mode(card=code)
            return
        claim = self.screen("claim")
        if self.sm.current not in ("claim",):
            self.session = {"journey": "pickup"}
            self.go("claim")
        claim.submit(code)  # type: ignore[attr-defined]

    # -- idle --
    def _touched(self, *_args: Any) -> None:
        self._last_touch = time.monotonic()
        if self.idle_left:
            self.idle_left = 0

    def _idle_tick(self, _dt: float) -> None:
        if self.sm.current == "attract":
            self._retry_recovery()
        if self.sm.current == "attract" or self.busy:
            self.idle_left = 0
            return
        idle = time.monotonic() - self._last_touch
        if idle < self.idle_timeout:
            self.idle_left = 0
            return
        left = self.idle_timeout + self.idle_warning - idle
        if left > 0:
            self.idle_left = int(left) + 1
            return
        self.idle_left = 0
        self.reset_session()
        self.go("attract")

    def _retry_recovery(self) -> None:
        """Payments left open (the terminal did not answer) are resolved as soon as it
        answers again: asked every RECOVERY_RETRY_S while nobody is at the screen."""
        now = time.monotonic()
        if not self.ready or self._recovering or now - self._last_recovery < RECOVERY_RETRY_S:
            return
        self._last_recovery, self._recovering = now, True
        recovery = self.services.recovery

        def run() -> None:
            try:
                if recovery.unresolved():
                    report = recovery.run()
                    for line in report.done:
                        log.warning("recovery: %s", line)
            except Exception:  # the next tick tries again; nothing else depends on it
                log.exception("recovery retry failed")
            finally:
                self._recovering = False

        threading.Thread(target=run, name="kiosk-recovery", daemon=True).start()
