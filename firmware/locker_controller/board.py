# How this controller is wired: edit for the locker bank at hand (docs/hardware.md,
# "Co-processor wiring"). OUTPUTS picks the lock driver; DOOR_PINS lists the door
# switches in locker order (locker 1 first).
OUTPUTS = "pins"  # "pins", "74hc595" or "mcp23017"
LOCK_PINS = (2, 3, 4, 5, 6, 7, 8, 9)  # "pins": one GPIO per lock
SHIFT_PINS = {"data": 2, "clock": 3, "latch": 4, "enable": 5, "count": 24}  # "74hc595"
# "mcp23017": its /RESET on `reset`, with 10 kΩ from that pin to GND (docs/hardware.md)
I2C = {"id": 0, "sda": 0, "scl": 1, "reset": 18, "address": 0x20, "count": 16}
DOOR_PINS = (10, 11, 12, 13, 14, 15, 16, 17)
DOOR_CLOSED_IS_LOW = True
DEBOUNCE_MS = 30
WATCHDOG_MS = 2000
