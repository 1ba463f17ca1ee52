# Door switches, read and debounced next to the doors. A switch closes to ground when
# its door is shut, with the pin's pull-up: a cut wire reads open, the safe reading.
import time

from machine import Pin


class PinDoors:
    def __init__(self, pins, closed_is_low=True):
        self._pins = [Pin(p, Pin.IN, Pin.PULL_UP) for p in pins]
        self._closed_is_low = closed_is_low
        self.count = len(self._pins)

    def read(self):
        """Raw readings, True for open."""
        if self._closed_is_low:
            return [pin.value() == 1 for pin in self._pins]
        return [pin.value() == 0 for pin in self._pins]


class Debouncer:
    """A reading counts once it has held for stable_ms."""

    def __init__(self, readings, stable_ms, now):
        self.stable_ms = stable_ms
        self.confirmed = list(readings)  # what the switches say at power-up
        self._raw = list(readings)
        self._since = [now] * len(readings)

    def sample(self, readings, now):
        for i, raw in enumerate(readings):
            if raw != self._raw[i]:
                self._raw[i] = raw
                self._since[i] = now
            elif (
                raw != self.confirmed[i] and time.ticks_diff(now, self._since[i]) >= self.stable_ms
            ):
                self.confirmed[i] = raw
