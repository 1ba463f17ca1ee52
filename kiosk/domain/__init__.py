"""The shop's model: customers, service orders, billing, shifts, money.

Pure Python: no I/O, no clock reads (callers pass `now`), no Kivy, no hardware.
"""
