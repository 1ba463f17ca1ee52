"""Every message the screens show, found in the sources, so a test can insist that each
language's catalogue translates all of them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from kiosk.app import questions
from kiosk.app.steps import PLACES
from kiosk.domain.orders import STATE_WORDS
from kiosk.drivers.terminal.apdu import INTERMEDIATE_TEXT
from kiosk.services.journeys import item_kinds

APP = Path(__file__).parent
_KV_TR = re.compile(r'app\.(?:tr|in_each)\("((?:[^"\\]|\\.)*)"')


def _python_messages(path: Path) -> set[str]:
    """First string argument of tr(...) and of show_message(title, body, …)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            count = {"tr": 1, "show_message": 2}.get(node.func.attr, 0)
            for arg in node.args[:count]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
    return found


def ui_messages() -> set[str]:
    found: set[str] = set()
    for path in APP.rglob("*.kv"):
        found |= set(_KV_TR.findall(path.read_text(encoding="utf-8")))
    for path in APP.rglob("*.py"):
        found |= _python_messages(path)
    found |= set(STATE_WORDS.values()) | set(INTERMEDIATE_TEXT.values())
    found |= set(PLACES.values())
    found |= questions.messages()
    found |= {label for _code, label, _icon, _conditions in item_kinds.KINDS}
    found |= set(item_kinds.CONDITIONS.values())
    found |= {
        "Payment",
        "Opening your locker",
        "Printing your ticket",
        "Please wait",
        "Space",
        "Delete",
        "Caps",
        "OK",
    }
    return {m for m in found if m}
