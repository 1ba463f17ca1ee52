# Chips the firmware drives, modelled from their datasheets for the tests and the
# simulator: a chain of 74HC595 shift registers (data sampled on SRCLK's rising edge,
# the storage register loaded on RCLK's rising edge, outputs high-impedance while /OE is
# high).
class Hc595Chain:
    def __init__(self, data, clock, latch, count, enable=None, on_change=None):
        self.pins = {"data": data, "clock": clock, "latch": latch, "enable": enable}
        self.count = count
        self.shift = [0] * count
        self.latched = [0] * count
        self.levels = {data: 0, clock: 0, latch: 0, enable: 1}
        self.on_change = on_change

    def outputs(self):
        """What each output drives: 0 while /OE is high."""
        enabled = self.pins["enable"] is None or self.levels.get(self.pins["enable"]) == 0
        return [bit if enabled else 0 for bit in self.latched]

    def pin_changed(self, number, level):
        if number not in self.levels:
            return
        before = self.outputs()
        rising = level == 1 and self.levels[number] == 0
        self.levels[number] = level
        if number == self.pins["clock"] and rising:
            # Q0 takes the data pin, every other stage its neighbour's bit.
            self.shift = [self.levels[self.pins["data"]]] + self.shift[:-1]
        elif number == self.pins["latch"] and rising:
            self.latched = list(self.shift)
        after = self.outputs()
        if self.on_change is not None:
            for i in range(self.count):
                if before[i] != after[i]:
                    self.on_change(i, after[i])
