"""A signature drawn with a finger, kept as PNG bytes with the order."""

from __future__ import annotations

import io

from kivy.core.image import Image as CoreImage
from kivy.graphics import Color, Line
from kivy.properties import BooleanProperty
from kivy.uix.widget import Widget


class SignaturePad(Widget):
    signed = BooleanProperty(False)

    def on_touch_down(self, touch: object) -> bool:
        if not self.collide_point(*touch.pos):  # type: ignore[attr-defined]
            return bool(super().on_touch_down(touch))
        with self.canvas:
            Color(0.05, 0.1, 0.3, 1)
            touch.ud["line"] = Line(points=list(touch.pos), width=2.5)  # type: ignore[attr-defined]
        touch.grab(self)  # type: ignore[attr-defined]
        return True

    def on_touch_move(self, touch: object) -> bool:
        if touch.grab_current is self and "line" in touch.ud:  # type: ignore[attr-defined]
            touch.ud["line"].points += list(touch.pos)  # type: ignore[attr-defined]
            self.signed = len(touch.ud["line"].points) > 8  # type: ignore[attr-defined]
            return True
        return bool(super().on_touch_move(touch))

    def on_touch_up(self, touch: object) -> bool:
        if touch.grab_current is self:  # type: ignore[attr-defined]
            touch.ungrab(self)  # type: ignore[attr-defined]
            return True
        return bool(super().on_touch_up(touch))

    def clear(self) -> None:
        self.canvas.clear()
        self.signed = False

    def png(self) -> bytes:
        texture = self.export_as_image().texture
        buf = io.BytesIO()
        CoreImage(texture).save(buf, fmt="png")
        return buf.getvalue()
