import os
import time

__version__ = "0.1.0"
# when this process began to be the kiosk (or its CLI), on time.monotonic()'s scale: a
# command's deadline counts from here, the interpreter's start and imports included
STARTED_AT = time.monotonic()


def _process_start() -> float:
    """The process's start from the kernel (/proc/self/stat, field 22, in clock ticks
    since boot), so the interpreter's own start counts too; the first import elsewhere."""
    try:
        with open("/proc/self/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - started
    except (OSError, ValueError, IndexError):
        return STARTED_AT
    return STARTED_AT - max(0.0, age)


STARTED_AT = _process_start()
