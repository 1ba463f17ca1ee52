"""This kiosk's back office credential: written once by `kiosk enroll`, 0600, beside the
store. Anyone who can read it can act as this kiosk, so it is never logged."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from kiosk.storage.files import fsync_dir

FILE_NAME = "credential.json"


class CredentialError(Exception):
    pass


@dataclass(frozen=True)
class Credential:
    url: str
    kiosk_id: str
    shop_id: int
    token: str

    def __repr__(self) -> str:  # never print the token
        return f"Credential(url={self.url!r}, kiosk_id={self.kiosk_id!r}, shop_id={self.shop_id})"


def save(data_dir: Path, credential: Credential) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / FILE_NAME
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"url": credential.url, "kiosk_id": credential.kiosk_id,
                   "shop_id": credential.shop_id, "token": credential.token}, fh)  # fmt: skip
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(data_dir)
    return path


def load(data_dir: Path) -> Credential:
    path = data_dir / FILE_NAME
    try:
        mode = path.stat().st_mode & 0o777
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise CredentialError(
            f"{path}: this kiosk is not enrolled (kiosk enroll URL CODE)"
        ) from None
    except (OSError, ValueError) as exc:
        raise CredentialError(f"{path}: unreadable: {exc}") from None
    if mode & 0o077:
        raise CredentialError(f"{path}: readable by others (mode {mode:o}); chmod 600 it")
    try:
        return Credential(
            str(raw["url"]), str(raw["kiosk_id"]), int(raw["shop_id"]), str(raw["token"])
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CredentialError(f"{path}: missing or bad field {exc}") from None
