"""Driving the real UI as a person would: touches on widgets, waiting for screens,
screenshots. Used by the UI tests and by the demo tour, inside the Kivy process.

A scenario is a generator function `scenario(ui)`. Each `ui` step yields either a
number (seconds to wait) or a predicate (wait until it is true); the driver advances
the scenario on the Kivy clock, so the app keeps drawing and its worker threads keep
reporting while the scenario waits.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.tests.common import UnitTestTouch

from kiosk.app.widgets.keyboard import DONE, SHIFT

Step = Generator[Any, None, None]

# A step that yields 0 resumes on the driver's next tick: by then Kivy has run what the
# step scheduled (layout, bindings) and drawn the frame, in the same loop turn. The
# scripted driver waits for what it needs to see, not for a person's pace (tours/person.py
# is the one that taps at a person's pace, through the X server).
NEXT_FRAME = 0.0


class ScenarioFailed(AssertionError):
    pass


def picture(app: Any, path: Path) -> None:
    """The window's widgets as a PNG, on the window's own background: Kivy draws a
    widget's picture on a transparent ground, and the screens' background is the
    window's clear colour (kiosk/app/main.py), so it is put under them while drawing."""
    from kivy.graphics import Color, InstructionGroup, Rectangle

    root = app.root
    ground = InstructionGroup()
    ground.add(Color(*app.colors["bg"]))
    ground.add(Rectangle(pos=root.pos, size=root.size))
    root.canvas.before.add(ground)  # under the children, whose canvases follow `before`
    try:
        root.export_to_png(str(path))
    finally:
        root.canvas.before.remove(ground)
    _over(root, path)


def _over(root: Any, path: Path) -> None:
    """What is open over the screens (a list the language button opened: a ModalView on
    the window, not a child of the root), drawn onto the picture over the page, which its
    overlay darkens, as it is on the screen."""
    from kivy.core.window import Window
    from PIL import Image, ImageEnhance

    above = [w for w in reversed(Window.children) if w is not root]
    if not above:
        return
    picture_ = ImageEnhance.Brightness(Image.open(path).convert("RGB")).enhance(0.4)
    part = path.with_suffix(".over.png")
    for widget in above:
        widget.export_to_png(str(part))
        with Image.open(part) as drawn:
            layer = drawn.convert("RGBA")
        picture_.paste(layer, (int(widget.x), int(root.height - widget.top)), layer)
    part.unlink()
    picture_.save(path)


class UI:
    def __init__(self, app: Any, out: Path) -> None:
        self.app = app
        self.out = out
        self.shots: list[str] = []
        self.screens_seen: list[str] = []
        # called with a screen's name once a visit to it is laid out, and at each
        # screenshot (the walk's Looker)
        self.watchers: list[Callable[[str], None]] = []
        self._watched = -1  # the visit (index in screens_seen) the watchers last had
        self.notes: dict[str, Any] = {}
        app.on_screen_change.append(self._seen)

    def _seen(self, name: str) -> None:
        if not self.screens_seen or self.screens_seen[-1] != name:
            self.screens_seen.append(name)

    # -- finding things --
    def widget(self, screen: str, wid: str) -> Any:
        return self.app.screen(screen).ids[wid]

    def current(self) -> str:
        return str(self.app.sm.current)

    # -- acting --
    def tap_widget(self, widget: Any) -> Step:
        yield from self.tap_at(*widget.to_window(*widget.center))

    def tap(self, screen: str, wid: str) -> Step:
        yield from self.wait_screen(screen)
        widget = self.widget(screen, wid)
        if widget.disabled or widget.opacity == 0:
            raise ScenarioFailed(f"{screen}.{wid} cannot be tapped (disabled or hidden)")
        yield from self.scroll_into_view(widget)
        yield from self.tap_widget(widget)

    def scroll_into_view(self, widget: Any) -> Step:
        """As a person scrolls a form to reach a field below its fold: a tap aimed at a
        widget the scroll view hides would land on whatever is drawn there."""
        from kivy.uix.scrollview import ScrollView

        parent, seen = widget.parent, 0
        while parent is not None and not isinstance(parent, ScrollView) and seen < 40:
            parent, seen = parent.parent, seen + 1  # (the window is its own parent)
        if not isinstance(parent, ScrollView):
            return
        x, y = widget.to_window(*widget.center)
        if parent.collide_point(*parent.to_widget(x, y)):
            return
        parent.scroll_to(widget, padding=10, animate=False)
        yield 0.2

    def tap_at(self, x: float, y: float) -> Step:
        """A tap at window coordinates (a hidden gesture has no widget to aim at)."""
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        yield NEXT_FRAME
        touch.touch_up()
        yield NEXT_FRAME

    def tap_text(self, screen: str, text: str) -> Step:
        """Tap the button showing `text` (those of a shared bar have no id on the screen)."""
        yield from self.wait_screen(screen)
        for widget in self.app.screen(screen).walk():
            if getattr(widget, "text", None) == text and hasattr(widget, "trigger_action"):
                yield from self.tap_widget(widget)
                return
        raise ScenarioFailed(f"no button {text!r} on {screen}")

    def type(self, screen: str, field: str, text: str) -> Step:
        """Tap the field, then tap each key of the on-screen keyboard as a person would:
        Shift first when the letter's case is not the one the keyboard shows."""
        yield from self.tap(screen, field)
        keyboard = self.widget(screen, "keyboard")
        for ch in text:
            key = self._key(keyboard, ch)
            letter = len(key.key) == 1 and key.key.isalpha()
            shift_decides = keyboard.layout in ("text", "name") and letter
            if shift_decides and keyboard.shifted != ch.isupper():
                yield from self.tap_widget(self._key(keyboard, SHIFT))
            yield from self.tap_widget(key)

    def done_typing(self, screen: str) -> Step:
        """The OK key of a keyboard that folds away (where typing is optional); then
        wait for the form to be laid out again, as a person waits to see it."""
        keyboard = self.widget(screen, "keyboard")
        yield from self.tap_widget(self._key(keyboard, DONE))
        yield lambda: keyboard.height == 0
        yield 0.2

    @staticmethod
    def _key(keyboard: Any, ch: str) -> Any:
        """The key that types ch ("\\b" is backspace), in either case."""
        for wanted in (ch, ch.lower(), ch.upper()):
            for row in keyboard.children:
                for button in row.children:
                    if getattr(button, "key", None) == wanted:
                        return button
        raise ScenarioFailed(f"no key {ch!r} on the {keyboard.layout} keyboard")

    def swipe(self, widget: Any, points: list[tuple[float, float]]) -> Step:
        """Draw with a finger: positions relative to the widget (0–1)."""

        def at(p: tuple[float, float]) -> tuple[float, float]:
            return widget.to_window(widget.x + p[0] * widget.width, widget.y + p[1] * widget.height)

        touch = UnitTestTouch(*at(points[0]))
        touch.touch_down()
        for p in points[1:]:
            yield 0.02
            touch.touch_move(*at(p))
        touch.touch_up()
        yield 0.1

    # -- waiting and looking --
    def wait_screen(self, name: str, timeout: float = 10.0) -> Step:
        deadline = time.monotonic() + timeout
        yield lambda: self.current() == name or time.monotonic() > deadline
        if self.current() != name:
            raise ScenarioFailed(
                f"expected screen {name!r}, still on {self.current()!r} after {timeout} s"
            )
        yield NEXT_FRAME
        # and laid out, as a person sees it before tapping: on a loaded machine a frame
        # may come late, and a tap aimed at a widget not placed yet lands on nothing
        settled = time.monotonic() + 5.0
        yield lambda: self.laid_out(name) or time.monotonic() > settled
        if self._watched != len(self.screens_seen) and self.current() == name:
            self._watched = len(self.screens_seen)
            for watch in self.watchers:
                watch(name)

    def laid_out(self, name: str) -> bool:
        """No widget of the screen is still where Kivy puts it before any layout."""
        screen = self.app.screen(name)
        return not any(
            tuple(w.pos) == (0, 0) and tuple(w.size) == (100, 100) and w.opacity > 0
            for w in screen.walk(restrict=True)
            if w is not screen
        )

    def wait(self, seconds: float) -> Step:
        yield seconds

    def shot(self, name: str) -> Step:
        yield NEXT_FRAME  # laid out: the picture is drawn from the widgets as they are
        for watch in self.watchers:  # and looked at, as it is in the picture
            watch(self.current())
        path = self.out / f"{len(self.shots) + 1:02d}-{name}.png"
        picture(self.app, path)
        self.shots.append(path.name)

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            raise ScenarioFailed(message)

    def text(self, screen: str, wid: str) -> str:
        return str(self.widget(screen, wid).text)


class Driver:
    """Plays a scenario on the Kivy clock.

    With `draws` false the window draws its first frame and then none: the scenario's
    pictures are drawn from the widgets (`picture`), and what it checks is read from
    the widget tree, so a frame drawn between two pictures is seen by no one. Without a
    GPU each frame is drawn by the CPU (about 50 ms of it at 1920×1080); the walks and
    screen scenarios spent most of their time drawing frames nobody looked at. Layout,
    text and touch all run as before: Kivy lays out on its clock, not when it draws.
    The scenarios that time frames or are watched draw them all (DRAWN in tours/play.py), and
    tests/ui/test_person.py sees the real window through the X server."""

    def __init__(
        self,
        app: Any,
        scenario: Callable[[UI], Iterator[Any]],
        out: Path,
        *,
        draws: bool = True,
    ) -> None:
        self.ui = UI(app, out)
        self.app = app
        self.out = out
        self.draws = draws
        self._drew_one = False
        self._gen = scenario(self.ui)
        self._waiting: Any = None
        self._until = 0.0
        self._running = False
        self.failure = ""

    def install(self) -> None:
        Clock.schedule_once(self._begin, 0.5)

    def _begin(self, _dt: float) -> None:
        if not self.draws:
            from kivy.core.window import Window

            # bound last, so called first: returning True ends the event there
            Window.bind(on_draw=self._no_draw, on_flip=self._no_flip)
        Clock.schedule_interval(self._tick, 0)  # every frame

    def _no_draw(self, *_args: object) -> bool:
        return self._drew_one

    def _no_flip(self, *_args: object) -> bool:
        """One frame goes through (the runner starts the kiosk at its first frame)."""
        if self._drew_one:
            return True
        self._drew_one = True
        return False

    def _tick(self, _dt: float) -> bool:
        if self._running:  # a step made Kivy run its clock: never re-enter the scenario
            return True
        self._running = True
        try:
            return self._step()
        finally:
            self._running = False

    def _step(self) -> bool:
        if callable(self._waiting) and not self._waiting():
            return True
        if isinstance(self._waiting, int | float) and time.monotonic() < self._until:
            return True
        try:
            self._waiting = next(self._gen)
            if isinstance(self._waiting, int | float):
                self._until = time.monotonic() + float(self._waiting)
        except StopIteration:
            self._finish()
            return False
        except Exception:
            self.failure = traceback.format_exc()
            try:
                picture(self.app, self.out / "failure.png")
            finally:
                self._finish()
            return False
        return True

    def _finish(self) -> None:
        result = {
            "ok": not self.failure,
            "failure": self.failure,
            "screens": self.ui.screens_seen,
            "shots": self.ui.shots,
            "notes": self.ui.notes,
        }
        (self.out / "result.json").write_text(json.dumps(result, indent=1, default=str))
        self.app.stop()
