import os
import time

__version__ = "0.1.0"


def _process_start() -> float:
    """When this process began, on time.monotonic()'s scale: from the kernel
    (/proc/self/stat, field 22, in clock ticks since boot), so the interpreter's own
    start counts too; where that cannot be read, now (the first import)."""
    now = time.monotonic()
    try:
        with open("/proc/self/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - started
    except (OSError, ValueError, IndexError):
        return now
    return now - max(0.0, age)


# a command's deadline counts from here, the interpreter's start and imports included
STARTED_AT = _process_start()


def release() -> str:
    """The release running: the launcher names it (kiosk/updates/launcher.py); a kiosk
    started without it runs the version it was installed as."""
    return os.environ.get("KIOSK_RELEASE") or __version__
