"""What a person test reads of the running kiosk: the widget tree, mapped to the window.

The person test (tests/ui/test_person.py) starts the kiosk exactly as systemd does and
drives it through the X server; it cannot reach into the process. This probe is loaded
into that process by `tours/probe_site/sitecustomize.py` only when `KIOSK_PROBE_DIR` is
set, and answers one question by files in that folder: the test writes `ask` holding a
number N, the probe writes `tree-N.json` (whole, by rename) on the Kivy thread. It also
notes every touch the window receives, so a test can tell where its tap landed.

Nothing here changes the app: it reads widgets and binds one more listener to the
window's touches.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

POLL_S = 0.03


def start(folder: Path) -> None:
    """Wait (on a thread of its own) for Kivy's app to run, then poll on its clock."""

    def wait_for_app() -> None:
        while True:
            # kivy.app may be half imported still: its App not yet defined
            app_class = getattr(sys.modules.get("kivy.app"), "App", None)
            app = app_class.get_running_app() if app_class is not None else None
            if app is not None and getattr(app, "root", None) is not None:
                from kivy.clock import Clock

                # a plain function: Kivy's clock holds bound methods only weakly
                Clock.schedule_once(lambda _dt, app=app: Probe(folder, app).install(), 0)
                return
            time.sleep(0.05)

    threading.Thread(target=wait_for_app, name="person-probe", daemon=True).start()


class Probe:
    def __init__(self, folder: Path, app: Any) -> None:
        self.folder = folder
        self.app = app
        self.touches: list[dict[str, Any]] = []

    def install(self) -> None:
        from kivy.clock import Clock
        from kivy.core.window import Window

        Window.bind(on_touch_down=self._touched)
        self.app.probe = self  # Kivy's clock holds bound methods weakly
        Clock.schedule_interval(self._poll, POLL_S)

    def _touched(self, _window: Any, touch: Any) -> None:
        self.touches.append({"x": touch.x, "y": touch.y, "screen": self.app.sm.current})

    def _poll(self, _dt: float) -> None:
        ask = self.folder / "ask"
        try:
            number = ask.read_text().strip()
        except FileNotFoundError:
            return
        if not number:
            return
        ask.unlink()
        tree = self.snapshot()
        tmp = self.folder / f".tree-{number}.json"
        tmp.write_text(json.dumps(tree, ensure_ascii=False))
        os.replace(tmp, self.folder / f"tree-{number}.json")

    def snapshot(self) -> dict[str, Any]:
        from kivy.core.window import Window
        from kivy.metrics import Metrics

        app = self.app
        return {
            "screen": app.sm.current,
            "ready": bool(app.ready),
            "busy": bool(app.busy),
            "lang": app.lang,
            "window": [Window.width, Window.height],
            "dpi": Metrics.dpi,
            "touch_count": len(self.touches),
            "touches": self.touches[-5:],
            "widgets": list(_widgets(Window)),
        }


def _names(root: Any) -> dict[int, str]:
    """Each widget's id in the kv rule that named it (a screen's, or a shared bar's)."""
    names: dict[int, str] = {}
    for widget in root.walk():
        for name, target in getattr(widget, "ids", {}).items():
            # kv keeps its ids as weak proxies; __self__ is the widget itself
            names.setdefault(id(getattr(target, "__self__", target)), name)
    return names


def _widgets(window: Any) -> Any:
    """Every widget drawn, with its box in window pixels (origin bottom left), the part
    of it its scrolling parents let be seen, and what a person reads or taps on it."""
    from kivy.uix.scrollview import ScrollView
    from kivy.uix.stencilview import StencilView

    for top in list(window.children):
        names = _names(top)
        stack: list[tuple[Any, float, tuple[float, float, float, float] | None]] = [
            (top, 1.0, None)
        ]
        while stack:
            widget, alpha, clip = stack.pop()
            alpha *= float(getattr(widget, "opacity", 1.0))
            x0, y0 = widget.to_window(widget.x, widget.y)
            x1, y1 = widget.to_window(widget.right, widget.top)
            box = (x0, y0, x1 - x0, y1 - y0)
            if alpha > 0.01 and box[2] > 0 and box[3] > 0:
                yield _describe(widget, names.get(id(widget), ""), box, clip)
            if alpha <= 0.01:
                continue
            child_clip = clip
            if isinstance(widget, ScrollView | StencilView):
                child_clip = _intersect(clip, box)
            children = widget.children
            # a ScreenManager draws only its current screen
            current = getattr(widget, "current_screen", None)
            if current is not None:
                children = [current]
            for child in children:
                stack.append((child, alpha, child_clip))


def _intersect(a: Any, b: tuple[float, float, float, float]) -> tuple[float, ...]:
    if a is None:
        return b
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    return (x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0))


def _describe(widget: Any, name: str, box: Any, clip: Any) -> dict[str, Any]:
    seen = _intersect(clip, box) if clip is not None else box
    texture = getattr(widget, "texture_size", None)
    out: dict[str, Any] = {
        "cls": type(widget).__name__,
        "id": name,
        "box": [round(v, 1) for v in box],
        "seen": [round(v, 1) for v in seen],
        "disabled": bool(getattr(widget, "disabled", False)),
    }
    for attr in ("text", "key", "value", "label", "hint", "kind", "state", "selected", "shifted"):
        value = getattr(widget, attr, None)
        if isinstance(value, str | bool):
            out[attr] = value
    if hasattr(widget, "active") and type(widget).__name__ == "KeyboardField":
        out["active"] = bool(widget.active)
    if texture is not None:
        out["texture"] = [float(texture[0]), float(texture[1])]
    out["tappable"] = hasattr(widget, "trigger_action") or out["cls"] == "KeyboardField"
    return out
