"""Scripted journeys through the real touchscreen, for the UI tests, the demo tour and
the UI benchmark (`python -m tours.play NAME`): the demo shop's seed data, the
scenarios, and the driver that plays them with touch events. Not part of the kiosk's
package, so a kiosk in a shop never carries them, and the kiosk never imports them:
tours/play.py hands `kiosk run`'s runner a `Script`."""
