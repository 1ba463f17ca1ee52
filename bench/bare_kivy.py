"""The peer of bench/ui.py's first frame: a bare Kivy app, started the same way."""

import os
import sys
import time

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.label import Label


class Bare(App):
    """argv[1]: where to write the first frame's time; with argv[2], stay up 1.5 s and
    write the resident memory there (the peer of the kiosk's rss_mb)."""

    def build(self) -> Label:
        Window.bind(on_flip=self.flipped)
        return Label(text="Bonjour")

    def flipped(self, *_args: object) -> None:
        Window.unbind(on_flip=self.flipped)
        with open(sys.argv[1], "w") as fh:
            fh.write(repr(time.time()))
        if len(sys.argv) > 2:
            Clock.schedule_once(self.memory, 1.5)
        else:
            self.stop()

    def memory(self, _dt: float) -> None:
        from kiosk.memory import rss_mb, software_gl_rss_mb  # stdlib only: nothing of the kiosk

        with open(sys.argv[2], "w") as fh:
            fh.write(f"{rss_mb()} {software_gl_rss_mb()}")
        self.stop()


if __name__ == "__main__":
    Bare().run()
