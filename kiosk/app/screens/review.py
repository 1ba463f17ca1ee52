"""The drop-off read back before the terms: who, what, which work, each with Change.

Nothing is signed before the customer has seen what the ticket will say; a change
goes back to that screen with every answer kept, and comes straight back here."""

from __future__ import annotations

from kiosk.app.main import KioskScreen
from kiosk.services.journeys.dropoff import DropOffError, check_new_customer


class ReviewScreen(KioskScreen):
    def refresh(self) -> None:
        app, ids, session = self.app, self.ids, self.app.session
        ids.error.text = session.pop("review_error", "")
        new = session.get("new_customer")
        known = session.get("customer")
        if new is not None:
            contact = new.email if new.email else new.phone
            told = (
                app.tr("by email") if new.contact_preference.value == "email" else app.tr("by SMS")
            )
            ids.who.text = f"{new.first_name} {new.last_name}".strip() + f"\n{contact}, {told}"
        else:
            ids.who.text = known.masked_name if known else ""
        ids.who.font_name = app.font_for(ids.who.text)
        ids.who.text = app.shown(ids.who.text)
        ids.change_who.disabled = new is None
        ids.change_who.opacity = 0 if new is None else 1
        item = session.get("item") or {}
        previous = session.get("previous_item")
        if previous is not None:
            what = f"{previous.name} {previous.serial_number}".strip()
        else:
            what = " · ".join(
                part
                for part in (
                    item.get("item_kind", ""),
                    item.get("brand_model", ""),
                    item.get("serial_number", ""),
                    ", ".join(item.get("condition_checks", ())),
                )
                if part
            )
        ids.what.text = what
        work = session.get("work") or {}
        labels = {c.code: c.label for c in app.services.dropoff.catalogue(app.lang)}
        wanted = [labels.get(code, code) for code in work.get("services", ())]
        if work.get("described_work"):
            wanted.append(work["described_work"])
        when = work.get("preferred_date")
        ids.work.text = (
            ", ".join(wanted)
            + "\n"
            + (app.tr("As soon as possible") if when is None else app.date(when))
        )

    def change(self, screen: str) -> None:
        self.app.go(screen, keep=True)

    def submit(self) -> None:
        """The answers once more against the domain, before anything is signed."""
        new = self.app.session.get("new_customer")
        if new is not None:
            try:
                self.app.session["new_customer"] = check_new_customer(new)
            except DropOffError:
                self.app.go("customer", keep=True)
                return
        self.app.go("terms")
