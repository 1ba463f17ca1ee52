"""A virtual X screen (Xvfb) for a test or a tour: it picks a free display number
itself (`-displayfd`), so any number of them may start at once, from parallel test
workers too (`xvfb-run -a` looks for a free number and then starts the server: two
starting together may pick the same one)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


class XServer:
    def __init__(self, width: int, height: int) -> None:
        read, write = os.pipe()
        self.process = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-nolisten", "tcp",
             "-screen", "0", f"{width}x{height}x24"],
            pass_fds=(write,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@contextmanager
def screen(size: str) -> Iterator[str]:
    """`with screen("1920x1080") as display:` the DISPLAY of a screen that size."""
    width, height = (int(n) for n in size.split("x"))
    x = XServer(width, height)
    try:
        yield x.display
    finally:
        x.stop()
