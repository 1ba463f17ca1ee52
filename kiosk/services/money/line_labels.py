"""A bill's lines in the session's language, on the screen and on the receipt alike.

Each line of a bill the kiosk made is one of the order's lines, and the catalogue names
its service in each language (`labels`); the order itself keeps the words of the
language it was made in. A bill the back office made otherwise (other lines) keeps its
own words, as does a service the catalogue has no label for in that language.
"""

from __future__ import annotations

from kiosk.domain.billing import Invoice
from kiosk.domain.orders import ServiceLine, ServiceOrder
from kiosk.storage.repositories import Repositories


def line_label(repos: Repositories, line: ServiceLine, lang: str) -> str:
    found = repos.settings.get(f"catalogue:{line.catalogue_id}")
    labels = found.get("labels") if isinstance(found, dict) else None
    if isinstance(labels, dict) and labels.get(lang):
        return str(labels[lang])
    return line.description


def bill_labels(
    repos: Repositories, order: ServiceOrder | None, bill: Invoice, lang: str
) -> list[str]:
    if order is None or len(order.lines) != len(bill.lines):
        return [line.description for line in bill.lines]
    return [line_label(repos, line, lang) for line in order.lines]
