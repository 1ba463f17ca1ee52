"""What is wrong with a catalogue for a set of msgids: missing, fuzzy, or with other
placeholders than the msgid's (the screens' words: tests/ui/test_screens.py; the back
office's: tests/messages/test_catalogue.py)."""

from __future__ import annotations

import re

from babel.messages.catalog import Catalog

PLACEHOLDER = re.compile(r"\{(\w*)\}")


def problems(catalog: Catalog, wanted: set[str]) -> list[str]:
    out = []
    for msgid in sorted(wanted):
        message = catalog.get(msgid)
        if message is None or not message.string:
            out.append(f"missing: {msgid!r}")
        elif message.fuzzy:
            out.append(f"fuzzy: {msgid!r}")
        elif set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(str(message.string))):
            out.append(f"placeholders differ: {msgid!r} → {message.string!r}")
    return out
