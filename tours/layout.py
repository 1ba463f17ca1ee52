"""The layout check (issue 12 §3): what a person at the screen would see as broken.

Run on the screen the kiosk shows, inside the Kivy process, it returns one line per
fault:

- *text*: a label or button whose text, laid out with its own font and wrapping, needs
  more room than the widget has (Kivy cuts such text, or draws it over its neighbours),
  or a word wider than its line (Kivy breaks it mid-word);
- *outside*: a widget drawn beyond its parent (a column of fixed heights taller than its
  box), except down a scrolling form, which is what the scroll is for;
- *small*: a touch target (button, field, key) narrower or lower than 9 mm at the
  panel's DPI: the size of a fingertip, as EN 301 549 and the platform guidelines ask.

The DPI is the one the kiosk is configured with (`[kiosk] screen_dpi`), not Kivy's
metrics: the check computes millimetres itself, so a wrong metric cannot hide a fault.
"""

from __future__ import annotations

from typing import Any

MIN_TARGET_MM = 9.0
SLACK_PX = 1.0  # rounding of Kivy's layout


def faults(root: Any, dpi: float) -> list[str]:
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.label import Label
    from kivy.uix.scrollview import ScrollView

    from kiosk.app.widgets.keyboard import KeyboardField

    min_px = MIN_TARGET_MM * dpi / 25.4
    found: list[str] = []

    def visit(widget: Any, scrolled: bool) -> None:
        if widget.opacity == 0 or widget.width <= 0 or widget.height <= 0:
            return  # not shown (a hidden button, a collapsed row)
        name = describe(widget)
        if isinstance(widget, Label) and widget.text.strip():
            found.extend(f"text: {name}: {why}" for why in text_faults(widget))
        if isinstance(widget, ButtonBehavior | KeyboardField):
            w_mm, h_mm = widget.width * 25.4 / dpi, widget.height * 25.4 / dpi
            if widget.width + SLACK_PX < min_px or widget.height + SLACK_PX < min_px:
                found.append(f"small: {name}: {w_mm:.1f}×{h_mm:.1f} mm")
        scrolls = scrolled or isinstance(widget, ScrollView)
        for child in widget.children:
            if child.opacity != 0 and child.width > 0 and child.height > 0:
                why = outside(child, widget, vertical=not scrolls)
                if why:
                    found.append(f"outside: {describe(child)} in {describe(widget)}: {why}")
            visit(child, scrolls)

    visit(root, False)
    return found


def text_faults(label: Any) -> list[str]:
    """The room the text needs, measured with a fresh core label of the same font."""
    from kivy.core.text import Label as CoreLabel
    from kivy.core.text.markup import MarkupLabel

    pad_x, pad_y = _padding(label)
    wrap = label.text_size[0] if label.text_size and label.text_size[0] else None
    options = {
        "font_size": label.font_size,
        "font_name": label.font_name,
        "bold": label.bold,
        "italic": label.italic,
        "line_height": label.line_height,
        "halign": label.halign,
    }
    core = (MarkupLabel if label.markup else CoreLabel)(
        text=label.text, text_size=(wrap, None), padding=(pad_x, pad_y), **options
    )
    core.refresh()
    need_w, need_h = core.content_size
    problems = []
    if label.shorten:
        problems.append("shortened with an ellipsis")
    if need_h > label.height + SLACK_PX:
        problems.append(f"needs {need_h:.0f} px high, has {label.height:.0f}")
    if need_w > label.width + SLACK_PX:
        problems.append(f"needs {need_w:.0f} px wide, has {label.width:.0f}")
    if wrap:  # every word on one line: Kivy cuts a word wider than the line
        plain = MarkupLabel(text=label.text).markup if label.markup else [label.text]
        words = {w for part in plain if not part.startswith("[") for w in part.split()}
        for word in sorted(words):
            probe = CoreLabel(text=word, **options)
            probe.refresh()
            if probe.content_size[0] > wrap - 2 * pad_x + SLACK_PX:
                problems.append(f"the word {word!r} is wider than its line")
    return problems


def outside(child: Any, parent: Any, *, vertical: bool) -> str:
    cx, cy = child.to_window(child.x, child.y)
    px, py = parent.to_window(parent.x, parent.y)
    cr, ct = cx + child.width, cy + child.height
    pr, pt = px + parent.width, py + parent.height
    sides = []
    if cx < px - SLACK_PX:
        sides.append(f"{px - cx:.0f} px left")
    if cr > pr + SLACK_PX:
        sides.append(f"{cr - pr:.0f} px right")
    if vertical and cy < py - SLACK_PX:
        sides.append(f"{py - cy:.0f} px below")
    if vertical and ct > pt + SLACK_PX:
        sides.append(f"{ct - pt:.0f} px above")
    return ", ".join(sides)


def describe(widget: Any) -> str:
    """Class, id and the first words of its text: enough to find it in the .kv file."""
    wid = ""
    owner = widget
    while owner is not None and not wid:
        ids = getattr(owner, "ids", {})
        wid = next((k for k, v in ids.items() if getattr(v, "__self__", v) is widget), "")
        owner = owner.parent if owner.parent is not owner else None
    text = str(getattr(widget, "text", "")).replace("\n", " ")[:30]
    return type(widget).__name__ + (f"#{wid}" if wid else "") + (f" {text!r}" if text else "")


def _padding(label: Any) -> tuple[float, float]:
    left, top, _right, _bottom = label.padding  # Kivy keeps a label's padding as four
    return float(left), float(top)
