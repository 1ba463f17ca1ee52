"""Resident memory of this process, and how much of it is a software OpenGL renderer.

On this project's build machines Kivy draws through Mesa's llvmpipe (no GPU): LLVM's
JIT and the swrast driver then live in the process, tens of MB a Raspberry Pi with its
V3D GPU never maps. bench/ui.py reports both, for the kiosk and for a bare Kivy app.
"""

from __future__ import annotations

import re

SOFTWARE_GL = re.compile(r"libLLVM|swrast_dri|kms_swrast|libgallium|llvmpipe|softpipe")


def rss_mb() -> float:
    """This process's resident memory (Linux)."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024


def software_gl_rss_mb() -> float:
    """Resident memory in the mappings of a software GL renderer (0 on real GPUs)."""
    total_kb, counting = 0, False
    with open("/proc/self/smaps") as fh:
        for line in fh:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                counting = bool(SOFTWARE_GL.search(line))
            elif counting and line.startswith("Rss:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def large_blocks_from_mmap(threshold: int = 1 << 20) -> bool:
    """Serve allocations of `threshold` bytes or more with mmap, so they go back to the
    OS when freed. glibc otherwise raises its threshold after the first big free and
    keeps later big blocks in the heap for good: each PIN check's scrypt work area
    (16 MB) stayed resident for the life of the kiosk. Called once by `kiosk run`;
    False where glibc is absent."""
    try:
        import ctypes

        return bool(ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, threshold))
    except (OSError, AttributeError):
        return False
