"""The peer of bench/ui.py's first frame: a bare Kivy app, started the same way."""

import os
import sys
import time

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
from kivy.app import App
from kivy.core.window import Window
from kivy.uix.label import Label


class Bare(App):
    def build(self) -> Label:
        Window.bind(on_flip=self.flipped)
        return Label(text="Bonjour")

    def flipped(self, *_args: object) -> None:
        Window.unbind(on_flip=self.flipped)
        with open(sys.argv[1], "w") as fh:
            fh.write(repr(time.time()))
        self.stop()


if __name__ == "__main__":
    Bare().run()
