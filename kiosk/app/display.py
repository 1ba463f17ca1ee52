"""The size of the display the kiosk fills, asked of SDL before the window exists.

Kivy's full screen (`fullscreen = auto`) asks SDL for a "desktop" full-screen window of
the configured size and leaves the resizing to a window manager. A kiosk has none: on
X11 the window kept the configured 1024×600 on an 800×480 screen, centred at (−112, −60),
the picture cropped and every tap off by that much. So the window is asked for at the
display's own size from the start. On KMS/DRM (the Pi without a desktop) SDL's answer is
the connector's current mode; on X11 the screen's size.

This module imports nothing of Kivy: it must run before Kivy's window is created.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from importlib.util import find_spec
from pathlib import Path

log = logging.getLogger(__name__)
SDL_INIT_VIDEO = 0x00000020


class _DisplayMode(ctypes.Structure):
    # SDL_DisplayMode (SDL_video.h): format, w, h, refresh_rate, driverdata
    _fields_ = [
        ("format", ctypes.c_uint32),
        ("w", ctypes.c_int),
        ("h", ctypes.c_int),
        ("refresh_rate", ctypes.c_int),
        ("driverdata", ctypes.c_void_p),
    ]


def _sdl_library() -> str | None:
    """The SDL2 that Kivy's window will use: its wheel's own copy, else the system's."""
    spec = find_spec("kivy")
    if spec is not None and spec.origin:
        libs = Path(spec.origin).parent.parent / "Kivy.libs"
        for candidate in sorted(libs.glob("libSDL2-2*.so*")):
            return str(candidate)
    return ctypes.util.find_library("SDL2")


def display_size(index: int = 0) -> tuple[int, int] | None:
    """The display's width and height in pixels, or None when SDL cannot say (no
    display at all, no SDL): the caller then keeps its configured size and logs it."""
    path = _sdl_library()
    if path is None:
        log.warning("no SDL2 library found: the window keeps its configured size")
        return None
    sdl = ctypes.CDLL(path)
    if sdl.SDL_InitSubSystem(SDL_INIT_VIDEO) != 0:
        sdl.SDL_GetError.restype = ctypes.c_char_p
        log.warning("SDL video did not start: %s", sdl.SDL_GetError().decode(errors="replace"))
        return None
    try:
        mode = _DisplayMode()
        if sdl.SDL_GetDesktopDisplayMode(index, ctypes.byref(mode)) != 0:
            return None
        return (mode.w, mode.h) if mode.w > 0 and mode.h > 0 else None
    finally:
        sdl.SDL_QuitSubSystem(SDL_INIT_VIDEO)
