"""Claim codes: what a customer carries home on the ticket to collect an item.

Eight symbols of Crockford's base32 (no I, L, O or U: nothing to confuse on a worn
ticket or a touch keyboard) carry 40 random bits, followed by one Luhn mod 32 check
symbol that catches every single mistyped symbol and most swapped neighbours before the
kiosk even looks the code up. 40 bits make guessing hopeless, and pickup still asks for
the last digits of the phone on file, with a lockout after five wrong tries.
"""

from __future__ import annotations

from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# What people type for what they see: Crockford's decoding of look-alikes.
_LOOKALIKES = {"O": "0", "I": "1", "L": "1"}
DATA_LENGTH = 8
RANDOM_BYTES = 5  # 40 bits = 8 symbols of 5 bits


class InvalidClaimCode(ValueError):
    """What a customer typed or scanned is not a claim code, and why."""


def check_symbol(data: str) -> str:
    """Luhn mod N (N = 32) over the symbol values, right to left."""
    n = len(ALPHABET)
    factor = 2
    total = 0
    for ch in reversed(data):
        addend = factor * _VALUE[ch]
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return ALPHABET[(n - total % n) % n]


@dataclass(frozen=True, slots=True)
class ClaimCode:
    value: str  # nine symbols, no separators

    @classmethod
    def from_random(cls, random_bytes: bytes) -> ClaimCode:
        """Make a code from 5 bytes of a cryptographic source (secrets.token_bytes(5))."""
        if len(random_bytes) != RANDOM_BYTES:
            raise ValueError(f"a claim code needs {RANDOM_BYTES} random bytes")
        bits = int.from_bytes(random_bytes, "big")
        data = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(DATA_LENGTH)))
        return cls(data + check_symbol(data))

    @classmethod
    def parse(cls, raw: str) -> ClaimCode:
        """Accept what people type: any case, spaces or dashes, O for 0, I or L for 1."""
        cleaned = "".join(raw.split()).replace("-", "").upper()
        cleaned = "".join(_LOOKALIKES.get(ch, ch) for ch in cleaned)
        if not cleaned:
            raise InvalidClaimCode("no claim code was given")
        bad = sorted({ch for ch in cleaned if ch not in _VALUE})
        if bad:
            raise InvalidClaimCode(f"a claim code has no {', '.join(repr(b) for b in bad)}")
        if len(cleaned) != DATA_LENGTH + 1:
            raise InvalidClaimCode(
                f"a claim code has {DATA_LENGTH + 1} characters, this has {len(cleaned)}"
            )
        if check_symbol(cleaned[:-1]) != cleaned[-1]:
            raise InvalidClaimCode("that claim code has a typing mistake (check character)")
        return cls(cleaned)

    @property
    def display(self) -> str:
        """ "ABCD-EFGH-J": groups a person can read aloud and type back."""
        v = self.value
        return f"{v[0:4]}-{v[4:8]}-{v[8]}"

    def __str__(self) -> str:
        return self.display
