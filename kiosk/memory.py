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
