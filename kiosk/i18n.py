"""Translations and locale formatting for screens and receipts.

Messages are English msgids; `kiosk/locale/<lang>/LC_MESSAGES/kiosk.po` holds the other
languages. The .po files are the source: they are compiled in memory at first use with
Babel, so there is no build step to forget. Money and dates are formatted by Babel for
the language's locale.
"""

from __future__ import annotations

import gettext
import io
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.core import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

from kiosk.domain.money import Money

LOCALE_DIR = Path(__file__).with_name("locale")


@dataclass(frozen=True)
class Language:
    """One language the kiosk speaks, as kiosk/locale/languages.toml describes it."""

    code: str
    locale: str
    name: str  # in its own words
    start: str  # the attract screen's button
    welcome: str  # the attract screen's line
    keyboard: tuple[str, str, str]  # rows of letters
    accents: str
    email: str  # the e-mail keyboard's domain key
    voice: str  # espeak-ng's


def _languages() -> dict[str, Language]:
    with (LOCALE_DIR / "languages.toml").open("rb") as fh:
        tables = tomllib.load(fh)
    found = {}
    for code, t in tables.items():
        rows = tuple(t["keyboard"])
        if len(rows) != 3:
            raise ValueError(f"languages.toml [{code}] keyboard: three rows of letters")
        found[code] = Language(code, t["locale"], t["name"], t["start"], t["welcome"],
                               (rows[0], rows[1], rows[2]), t["accents"], t["email"],
                               t["voice"])  # fmt: skip
    return found


LANGUAGES = _languages()
LOCALES = {code: language.locale for code, language in LANGUAGES.items()}


@cache
def translations(lang: str) -> gettext.NullTranslations:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "kiosk.po"
    if lang == "en" or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


class Lang:
    """One language's words and formats."""

    def __init__(self, lang: str, timezone: str = "Europe/Paris") -> None:
        if lang not in LOCALES:
            raise ValueError(f"unsupported language {lang!r} ({', '.join(LOCALES)})")
        self.code = lang
        self.locale = Locale.parse(LOCALES[lang])
        self.tz = ZoneInfo(timezone)
        self._t = translations(lang)

    def _(self, message: str, **values: object) -> str:
        text = self._t.gettext(message)
        return text.format(**values) if values else text

    def n_(self, singular: str, plural: str, n: int, **values: object) -> str:
        """A message that agrees with n, by the language's plural rule (gettext)."""
        return self._t.ngettext(singular, plural, n).format(n=n, **values)

    def money(self, amount: Money) -> str:
        return format_currency(amount.amount, amount.currency, locale=self.locale)

    def number(self, value: object) -> str:
        return format_decimal(value, locale=self.locale)  # type: ignore[arg-type]

    def percent(self, rate_percent: object) -> str:
        """A rate in per cent as the language writes it: "20%" in English, "20 %" in
        French (Babel's pattern for the locale; 5.5 stays 5.5, not rounded)."""
        value = Decimal(str(rate_percent)) / 100
        return format_percent(value, locale=self.locale, decimal_quantization=False)

    def date(self, value: date | datetime) -> str:
        if isinstance(value, datetime):
            value = value.astimezone(self.tz).date()
        return format_date(value, format="medium", locale=self.locale)

    def datetime(self, value: datetime) -> str:
        return format_datetime(value, format="short", tzinfo=self.tz, locale=self.locale)
