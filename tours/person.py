"""A person at the kiosk's panel: taps through the X server, eyes on the screen.

The kiosk runs as systemd starts it (`kiosk run --fullscreen`, no window manager) on
an X screen of the panel's size. A `Person` finds the kiosk's window with Xlib, reads
what is drawn from the probe (tours/probe.py), moves the pointer and presses through
XTEST (the X server's own input path, as a touchscreen's events arrive), and looks:
after each step, what a person needs must be on the screen at once:

- the window is the whole screen;
- the screen's title is on screen;
- the field being filled, with its label, is on screen, not under the keyboard, at
  least 9 mm tall, its words not cut;
- an error, when there is one, is on screen and not under the keyboard;
- a way forward (a primary button) is on screen, not under the keyboard, 9 mm tall;
- each tap landed in the widget it was aimed at.

Every fault is kept with the step and screen where it was seen; a journey goes on
where it can, so one run shows them all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image
from Xlib import X, display
from Xlib.ext import xtest

MIN_TARGET_MM = 9.0
CAPS = "\x0e"  # the Caps key's `key` (kiosk/app/widgets/keyboard.py SHIFT: no Kivy here)


class PersonStuck(AssertionError):
    """The person cannot go on: what they needed never appeared."""


@dataclass(frozen=True)
class Panel:
    """A panel the kiosk is sold with: its pixels and its real dots per inch."""

    name: str
    width: int
    height: int
    dpi: int

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


PANELS = {
    # the Raspberry Pi 7" display (154 × 86 mm active area)
    "800x480": Panel("pi-7in", 800, 480, 133),
    # 7" 1024×600 HDMI panels (154 × 86 mm)
    "1024x600": Panel("7in-1024", 1024, 600, 170),
    # the Raspberry Pi Touch Display 2, 7", in portrait (88 × 155 mm)
    "720x1280": Panel("touch-display-2", 720, 1280, 210),
}


@dataclass
class Widget:
    raw: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.raw[name]
        except KeyError:
            raise AttributeError(name) from None

    def get(self, name: str, default: Any = None) -> Any:
        return self.raw.get(name, default)


@dataclass
class Tree:
    raw: dict[str, Any]
    widgets: list[Widget] = field(init=False)

    def __post_init__(self) -> None:
        self.widgets = [Widget(w) for w in self.raw["widgets"]]

    @property
    def screen(self) -> str:
        return str(self.raw["screen"])

    def find(self, **wanted: Any) -> list[Widget]:
        return [w for w in self.widgets if all(w.get(k) == v for k, v in wanted.items())]

    def one(self, **wanted: Any) -> Widget:
        found = [w for w in self.find(**wanted) if not w.disabled]
        if not found:
            raise PersonStuck(f"on {self.screen}: nothing like {wanted}")
        return found[0]

    def keyboard(self) -> Widget | None:
        boards = [w for w in self.find(cls="OnScreenKeyboard") if w.box[3] > 1]
        return boards[0] if boards else None


@dataclass
class Fault:
    step: str
    screen: str
    what: str

    def __str__(self) -> str:
        return f"[{self.step} @ {self.screen}] {self.what}"


class Person:
    def __init__(self, panel: Panel, probe_dir: Path, shots: Path, display_name: str) -> None:
        self.panel = panel
        self.probe_dir = probe_dir
        self.shots = shots
        self.display = display.Display(display_name)
        self.root = self.display.screen().root
        self.faults: list[Fault] = []
        self.steps: list[str] = []
        self._asked = 0
        self.step = "start"

    # -- reading the screen --
    def tree(self, timeout: float = 60.0) -> Tree:
        self._asked += 1
        answer = self.probe_dir / f"tree-{self._asked}.json"
        (self.probe_dir / "ask").write_text(str(self._asked))
        deadline = time.monotonic() + timeout
        while not answer.exists():
            if time.monotonic() > deadline:
                raise PersonStuck("the kiosk's window does not answer (frozen, or not started)")
            time.sleep(0.02)
        tree = Tree(json.loads(answer.read_text()))
        answer.unlink()
        return tree

    def wait(self, until: Callable[[Tree], bool], what: str, timeout: float = 20.0) -> Tree:
        deadline = time.monotonic() + timeout
        while True:
            tree = self.tree()
            if until(tree):
                return tree
            if time.monotonic() > deadline:
                self.shot(f"stuck-{self.step}")
                raise PersonStuck(
                    f"[{self.step}] waited {timeout:.0f} s for {what}; on {tree.screen}"
                )
            time.sleep(0.1)

    def wait_screen(self, name: str, timeout: float = 20.0) -> Tree:
        return self.wait(
            lambda t: t.screen == name and not t.raw["busy"], f"screen {name}", timeout
        )

    def window(self) -> tuple[int, int, int, int]:
        """The kiosk's top-level window as the X server has it: x, y, width, height."""
        for child in self.root.query_tree().children:
            attrs = child.get_attributes()
            if attrs.map_state != X.IsViewable:
                continue
            geometry = child.get_geometry()
            at = child.translate_coords(self.root, 0, 0)
            return (-at.x, -at.y, geometry.width, geometry.height)
        raise PersonStuck("no window is shown on the screen")

    def to_screen(self, tree: Tree, x: float, y: float) -> tuple[float, float]:
        wx, wy, ww, wh = self.window()
        kw, kh = tree.raw["window"]
        return wx + x * ww / kw, wy + (kh - y) * wh / kh

    def rect(self, tree: Tree, box: list[float]) -> tuple[float, float, float, float]:
        """A widget's box in screen pixels: left, top, right, bottom."""
        left, top = self.to_screen(tree, box[0], box[1] + box[3])
        right, bottom = self.to_screen(tree, box[0] + box[2], box[1])
        return left, top, right, bottom

    def shot(self, name: str) -> Path:
        geometry = self.root.get_geometry()
        raw = self.root.get_image(0, 0, geometry.width, geometry.height, X.ZPixmap, 0xFFFFFFFF)
        image = Image.frombytes("RGB", (geometry.width, geometry.height), raw.data, "raw", "BGRX")
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{name}.png"
        image.save(path)
        return path

    # -- acting --
    def tap(self, tree: Tree, target: Widget) -> None:
        """Press and lift a finger at the middle of what can be seen of the widget."""
        seen = target.seen
        x, y = seen[0] + seen[2] / 2, seen[1] + seen[3] / 2
        sx, sy = self.to_screen(tree, x, y)
        width, height = self.panel.width, self.panel.height
        if not (0 <= sx < width and 0 <= sy < height):
            self.fault(tree, f"{_name(target)} is off the screen at ({sx:.0f}, {sy:.0f})")
            raise PersonStuck(f"[{self.step}] cannot reach {_name(target)}: off the screen")
        before = tree.raw["touch_count"]
        xtest.fake_input(self.display, X.MotionNotify, x=int(sx), y=int(sy))
        xtest.fake_input(self.display, X.ButtonPress, 1)
        self.display.sync()
        time.sleep(0.04)
        xtest.fake_input(self.display, X.ButtonRelease, 1)
        self.display.sync()
        deadline = time.monotonic() + 3.0
        after = self.tree()
        while after.raw["touch_count"] <= before and time.monotonic() < deadline:
            time.sleep(0.03)
            after = self.tree()
        touches = after.raw["touches"]
        if after.raw["touch_count"] <= before:
            self.fault(after, f"the tap on {_name(target)} reached no widget")
            return
        landed = touches[-1]
        box = target.box
        x_in = box[0] <= landed["x"] <= box[0] + box[2]
        inside = x_in and box[1] <= landed["y"] <= box[1] + box[3]
        if not inside:
            self.fault(
                after,
                f"the tap aimed at {_name(target)} landed at ({landed['x']:.0f}, "
                f"{landed['y']:.0f}) in the window, outside it",
            )

    def scroll_to(self, name: str, scroller: str = "scroll", tries: int = 8) -> Tree:
        """Drag the page up with a finger, as a person does, until widget `name` is
        wholly in sight."""
        for _ in range(tries):
            tree = self.tree()
            target = tree.one(id=name)
            if target.seen[3] >= target.box[3] - 1:
                return tree
            left, top, right, bottom = self.rect(tree, tree.one(id=scroller).seen)
            x = int((left + right) / 2)
            xtest.fake_input(self.display, X.MotionNotify, x=x, y=int(bottom - 10))
            xtest.fake_input(self.display, X.ButtonPress, 1)
            self.display.sync()
            for i in range(1, 13):
                y = bottom - 10 - (bottom - top - 20) * 0.6 * i / 12
                xtest.fake_input(self.display, X.MotionNotify, x=x, y=int(y))
                self.display.sync()
                time.sleep(0.02)
            xtest.fake_input(self.display, X.ButtonRelease, 1)
            self.display.sync()
            time.sleep(0.3)  # the scroll's own easing
        raise PersonStuck(f"[{self.step}] {name} not brought into sight by scrolling")

    def tap_id(self, name: str, screen: str | None = None) -> Tree:
        tree = self.wait_screen(screen) if screen else self.tree()
        self.tap(tree, tree.one(id=name))
        return tree

    def type(self, text: str) -> None:
        """Tap each key of the kiosk's keyboard; Caps first where the case differs."""
        for ch in text:
            tree = self.tree()
            key = self._key(tree, ch)
            board = tree.keyboard()
            shifted = bool(board.get("shifted")) if board else False
            has_caps = any(w.get("key") == CAPS for w in tree.find(cls="Key"))
            if has_caps and ch.isalpha() and ch.lower() != ch.upper() and ch.isupper() != shifted:
                self.tap(tree, self._key(tree, CAPS))
                tree = self.tree()
                key = self._key(tree, ch)
            self.tap(tree, key)

    def _key(self, tree: Tree, ch: str) -> Widget:
        for wanted in (ch, ch.lower(), ch.upper()):
            keys = [w for w in tree.find(cls="Key") if w.get("key") == wanted]
            if keys:
                return keys[0]
        raise PersonStuck(f"[{self.step}] no key for {ch!r} on {tree.screen}")

    # -- looking --
    def fault(self, tree: Tree, what: str) -> None:
        self.faults.append(Fault(self.step, tree.screen, what))

    def look(self, step: str, *, error: str | None = None) -> Tree:
        """After a step: what a person needs is on screen. `error`, when given, is text
        the screen must now show (a refusal) where the person is looking."""
        self.step = step
        self.steps.append(step)
        time.sleep(0.15)  # a frame for the layout to settle, as a person's eye takes
        tree = self.wait(lambda t: not t.raw["busy"], "the kiosk to finish its work")
        self.shot(f"{len(self.steps):02d}-{step}")
        self._geometry(tree)
        board = tree.keyboard()
        board_rect = self.rect(tree, board.box) if board else None
        titles = [w for w in tree.find(cls="Title") if w.get("text", "").strip()]
        for title in titles[:1]:
            self._on_screen(tree, title, "the title", board_rect, min_mm=0)
        for active in tree.find(cls="KeyboardField", active=True):
            self._on_screen(tree, active, "the field being filled", board_rect)
            if not (active.get("label") or active.get("hint")):
                self.fault(tree, f"the field {_name(active)} does not say what it is")
            for label in tree.find(cls="FieldLabel"):
                if label.get("text") == active.get("label"):
                    self._on_screen(tree, label, "the field's label", board_rect, min_mm=0)
        errors = [w for w in tree.find(id="error") if w.get("text", "").strip()]
        for shown in errors:
            self._on_screen(tree, shown, "the error", board_rect, min_mm=0)
        if error is not None and not any(error in w.text for w in errors):
            texts = [w.text for w in errors] or ["none"]
            self.fault(tree, f"expected the refusal {error!r} on screen; errors shown: {texts}")
        actions = [w for w in tree.find(cls="BigButton") if w.get("text") and not w.disabled]
        if actions and not any(self._visible(tree, a, board_rect, MIN_TARGET_MM) for a in actions):
            self.fault(tree, f"no way forward on screen: {[a.text for a in actions]} hidden")
        return tree

    def _geometry(self, tree: Tree) -> None:
        x, y, width, height = self.window()
        expected = (0, 0, self.panel.width, self.panel.height)
        if (x, y, width, height) != expected:
            self.fault(
                tree, f"the window is {width}x{height} at ({x}, {y}), not the screen {expected}"
            )

    def _visible(self, tree: Tree, widget: Widget, board: Any, min_mm: float) -> bool:
        return not self._why_not(tree, widget, board, min_mm)

    def _why_not(self, tree: Tree, widget: Widget, board: Any, min_mm: float) -> list[str]:
        why = []
        left, top, right, bottom = self.rect(tree, widget.box)
        s_left, s_top, s_right, s_bottom = self.rect(tree, widget.seen)
        if (s_right - s_left) < (right - left) - 1 or (s_bottom - s_top) < (bottom - top) - 1:
            why.append("partly scrolled out of view")
        if left < -1 or top < -1 or right > self.panel.width + 1 or bottom > self.panel.height + 1:
            why.append(f"outside the screen ({left:.0f}, {top:.0f})-({right:.0f}, {bottom:.0f})")
        if board is not None and _overlap((left, top, right, bottom), board):
            why.append("under the keyboard")
        tall_mm = (bottom - top) * 25.4 / self.panel.dpi
        if min_mm and tall_mm < min_mm - 0.05:
            why.append(f"{tall_mm:.1f} mm tall, under {min_mm:g} mm")
        texture = widget.get("texture")
        if texture and widget.get("text") and texture[1] > widget.box[3] + 1:
            why.append(f"its words need {texture[1]:.0f} px, it has {widget.box[3]:.0f}")
        return why

    def _on_screen(
        self, tree: Tree, widget: Widget, what: str, board: Any, min_mm: float = MIN_TARGET_MM
    ) -> None:
        why = self._why_not(tree, widget, board, min_mm)
        if why:
            self.fault(tree, f"{what} ({_name(widget)}) is {', '.join(why)}")

    def keys(self, events: Iterable[str]) -> None:
        """Keys of a keyboard plugged into the kiosk (each must do nothing)."""
        for name in events:
            code = self.display.keysym_to_keycode(_keysym(name))
            xtest.fake_input(self.display, X.KeyPress, code)
            xtest.fake_input(self.display, X.KeyRelease, code)
        self.display.sync()


def _keysym(name: str) -> int:
    from Xlib import XK

    return int(XK.string_to_keysym(name))


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1


def _name(widget: Widget) -> str:
    label = widget.get("id") or widget.get("text") or widget.get("hint") or ""
    return f"{widget.cls} {label!r}"[:80]
