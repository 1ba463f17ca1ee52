"""Shop staff at the kiosk: who they are, what their role lets them do, and their PIN,
kept only as a scrypt hash with its own salt.

A PIN is 4 to 8 digits. scrypt (n=2**14, r=8, p=1: about 16 MB and a few tens of
milliseconds on a Pi 4) makes trying every 4-digit PIN against a stolen SD card slow, and
the per-PIN salt stops one table from serving every kiosk. The kiosk also locks staff
mode after repeated wrong PINs (kiosk.services.staff_mode.staff).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from enum import StrEnum

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
PIN_LENGTHS = range(4, 9)


class StaffError(ValueError):
    pass


class Role(StrEnum):
    STAFF = "staff"
    TECHNICIAN = "technician"
    MANAGER = "manager"


class Permission(StrEnum):
    LOCKERS = "lockers"  # load, empty, see what is in them
    SHIFT = "shift"  # open and close a shift, print its report
    SEARCH = "search"  # find transactions, reprint receipts
    UNLOCK_CLAIM = "unlock_claim"  # lift a claim code's lock after wrong tries
    SYNC = "sync"  # see the queue; retry or discard dead letters
    DEVICES = "devices"  # device status, recent log, test print
    REFUND = "refund"  # give a card payment back
    PAYMENTS = "payments"  # see payments left unconfirmed and have them resolved now


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.STAFF: frozenset(
        {
            Permission.LOCKERS,
            Permission.SHIFT,
            Permission.SEARCH,
            Permission.UNLOCK_CLAIM,
            Permission.PAYMENTS,
        }
    ),
    Role.TECHNICIAN: frozenset(
        {
            Permission.LOCKERS,
            Permission.SEARCH,
            Permission.SYNC,
            Permission.DEVICES,
            Permission.PAYMENTS,
        }
    ),
    Role.MANAGER: frozenset(Permission),
}


def check_pin(pin: str) -> str:
    if not pin.isdigit() or len(pin) not in PIN_LENGTHS:
        raise StaffError("a PIN is 4 to 8 digits")
    return pin


def hash_pin(pin: str, salt: bytes) -> str:
    digest = hashlib.scrypt(
        check_pin(pin).encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return digest.hex()


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    name: str
    role: Role
    pin_salt: str  # hex
    pin_hash: str  # hex scrypt digest
    card: str = ""  # the staff card's code, as the scanner reads it
    active: bool = True

    def __post_init__(self) -> None:
        if not self.staff_id.strip() or not self.name.strip():
            raise StaffError("a staff member needs an id and a name")

    @classmethod
    def create(cls, staff_id: str, name: str, role: Role, pin: str, card: str = "") -> StaffMember:
        salt = os.urandom(16)
        return cls(staff_id, name, role, salt.hex(), hash_pin(pin, salt), card)

    def pin_matches(self, pin: str) -> bool:
        try:
            candidate = hash_pin(pin, bytes.fromhex(self.pin_salt))
        except StaffError:
            return False
        return hmac.compare_digest(candidate, self.pin_hash)

    def with_pin(self, pin: str) -> StaffMember:
        salt = os.urandom(16)
        return StaffMember(
            self.staff_id,
            self.name,
            self.role,
            salt.hex(),
            hash_pin(pin, salt),
            self.card,
            self.active,
        )

    def may(self, permission: Permission) -> bool:
        return self.active and permission in PERMISSIONS[self.role]
