"""Code pages: the printer's table numbers (from python-escpos's capability profile) and
the Python codecs that read and write them. A code page is chosen explicitly in config,
so é, à, ç and € come out as the printer draws them."""

from __future__ import annotations

import codecs

from escpos import capabilities

DEFAULT_PROFILE = "TM-T20II"
DEFAULT_CODEPAGE = "CP858"  # Latin-1 with €: French and English receipts


class CodePageError(ValueError):
    pass


def encoding_for(name: str) -> str:
    """Python codec for a python-escpos code page name ('CP858', 'ISO_8859-15'…)."""
    candidate = name.lower().replace("iso_", "iso").replace("-", "_")
    try:
        return codecs.lookup(candidate).name
    except LookupError:
        return "cp437"


def profile_codepages(profile: str) -> dict[int, str]:
    """Table number → code page name for a printer profile."""
    try:
        data = capabilities.get_profile(profile).profile_data
    except Exception as exc:  # python-escpos raises its own NotSupported/KeyError kinds
        raise CodePageError(f"unknown printer profile {profile!r}: {exc}") from exc
    return {int(k): v for k, v in data["codePages"].items()}


def check_codepage(profile: str, codepage: str) -> None:
    if codepage not in profile_codepages(profile).values():
        known = ", ".join(sorted(set(profile_codepages(profile).values()) - {"Unknown"}))
        raise CodePageError(f"printer profile {profile} has no code page {codepage!r} ({known})")
