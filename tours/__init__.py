"""Scripted journeys through the real touchscreen, for the UI tests, the demo tour and
the UI benchmark (`kiosk run --scenario NAME`): the demo shop's seed data, the
scenarios, and the driver that plays them with touch events. Not part of the kiosk's
package, so a kiosk in a shop never carries them; `kiosk run --scenario` finds them when
run from the source tree."""
