"""The kiosks' update repository, in The Update Framework's format, made and signed with
the `tuf` library (docs/updates.md "Keys" and "Releasing").

A folder holds `metadata/` (1.root.json…, N.targets.json, N.snapshot.json,
timestamp.json: consistent snapshots, so a kiosk reading during a release never mixes
two) and `targets/` (each archive as `<sha256>.kiosk-<version>.tar.gz`). Each role has its
own ed25519 key in a PEM file: root, targets and snapshot are kept offline (the release
machine or a USB stick); only the timestamp's key lives on the server, which re-signs
the timestamp before it expires (`refresh_timestamp`). Each target carries its version
and channel as custom metadata, signed with it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from packaging.version import Version
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

ROLES = ("root", "targets", "snapshot", "timestamp")
EXPIRY = {
    "root": timedelta(days=365),
    "targets": timedelta(days=365),
    "snapshot": timedelta(days=365),
    "timestamp": timedelta(days=1),
}
TIMESTAMP_REFRESH_BEFORE = timedelta(hours=12)


class RepositoryError(Exception):
    """The repository cannot do what was asked: what and why."""


def target_name(version: str) -> str:
    return f"kiosk-{version}.tar.gz"


def load_signer(path: Path) -> CryptoSigner:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise RepositoryError(f"{path}: not a readable private key ({exc})") from exc
    return CryptoSigner(key)


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class Repository:
    def __init__(self, folder: Path, now: Any = None) -> None:
        self.folder = folder
        self.metadata = folder / "metadata"
        self.targets_dir = folder / "targets"
        self.now = now or (lambda: datetime.now(UTC))

    # -- reading --
    def _load(self, name: str) -> Metadata[Any]:
        path = self.metadata / name
        if not path.exists():
            raise RepositoryError(f"{path}: missing (make the repository with `release init`)")
        return Metadata.from_file(str(path))

    def root(self) -> Metadata[Root]:
        versions = [int(p.name.split(".")[0]) for p in self.metadata.glob("*.root.json")]
        if not versions:
            raise RepositoryError(f"{self.metadata}: no root (make it with `release init`)")
        return self._load(f"{max(versions)}.root.json")

    def timestamp(self) -> Metadata[Timestamp]:
        return self._load("timestamp.json")

    def snapshot(self) -> Metadata[Snapshot]:
        return self._load(f"{self.timestamp().signed.snapshot_meta.version}.snapshot.json")

    def targets(self) -> Metadata[Targets]:
        return self._load(f"{self.snapshot().signed.meta['targets.json'].version}.targets.json")

    def releases(self) -> list[dict[str, str]]:
        """Every release, oldest first: version, channel, target name."""
        found = [
            {
                "version": str(t.custom.get("version", "")),
                "channel": str(t.custom.get("channel", "")),
                "target": name,
            }
            for name, t in self.targets().signed.targets.items()
        ]
        return sorted(found, key=lambda r: Version(r["version"]))

    # -- writing --
    def _sign_write(self, md: Metadata[Any], signer: CryptoSigner, name: str) -> None:
        md.signed.expires = self.now().replace(microsecond=0) + EXPIRY[md.signed.type]
        md.signatures.clear()
        md.sign(signer)
        _write(self.metadata / name, md.to_bytes(JSONSerializer(compact=False)))

    def _check_signer(self, role: str, signer: CryptoSigner) -> None:
        keyids = self.root().signed.roles[role].keyids
        if signer.public_key.keyid not in keyids:
            raise RepositoryError(f"that key is not the {role} key this repository trusts")

    def init(self, keys: Path) -> None:
        """A new repository and its four keys (PEM files, 0600, in `keys`)."""
        if self.metadata.exists() and any(self.metadata.iterdir()):
            raise RepositoryError(f"{self.metadata} already holds a repository")
        self.metadata.mkdir(parents=True, exist_ok=True)
        self.targets_dir.mkdir(parents=True, exist_ok=True)
        keys.mkdir(parents=True, exist_ok=True)
        signers = {}
        for role in ROLES:
            path = keys / f"{role}.pem"
            if path.exists():
                raise RepositoryError(f"{path} exists: keys are never overwritten")
            signer = CryptoSigner.generate_ed25519()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(signer.private_bytes)
            signers[role] = signer
        root = Metadata(Root(consistent_snapshot=True))
        for role in ROLES:
            root.signed.add_key(signers[role].public_key, role)
        self._sign_write(root, signers["root"], "1.root.json")
        targets = Metadata(Targets())
        self._sign_write(targets, signers["targets"], "1.targets.json")
        self._snapshot_and_timestamp(1, signers["snapshot"], signers["timestamp"])

    def _snapshot_and_timestamp(
        self, targets_version: int, snapshot_key: CryptoSigner, timestamp_key: CryptoSigner
    ) -> None:
        try:
            snapshot = self.snapshot()
            snapshot.signed.version += 1
        except RepositoryError:
            snapshot = Metadata(Snapshot())
        snapshot.signed.meta["targets.json"] = MetaFile(version=targets_version)
        name = f"{snapshot.signed.version}.snapshot.json"
        self._sign_write(snapshot, snapshot_key, name)
        data = (self.metadata / name).read_bytes()
        try:
            timestamp = self.timestamp()
            timestamp.signed.version += 1
        except RepositoryError:
            timestamp = Metadata(Timestamp())
        timestamp.signed.snapshot_meta = MetaFile(
            version=snapshot.signed.version,
            length=len(data),
            hashes={"sha256": hashlib.sha256(data).hexdigest()},
        )
        self._sign_write(timestamp, timestamp_key, "timestamp.json")

    def add(self, archive: Path, version: str, channel: str, keys: Path) -> str:
        """Publish `archive` as release `version` on `channel`; returns its target name."""
        Version(version)  # a version number, or InvalidVersion
        signers = {role: load_signer(keys / f"{role}.pem") for role in ROLES[1:]}
        for role, signer in signers.items():
            self._check_signer(role, signer)
        targets = self.targets()
        name = target_name(version)
        if name in targets.signed.targets:
            raise RepositoryError(f"{name} is already published: a release is never replaced")
        info = TargetFile.from_file(name, str(archive), ["sha256"])
        info.unrecognized_fields["custom"] = {"version": version, "channel": channel}
        self.targets_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(archive, self.targets_dir / f"{info.hashes['sha256']}.{name}")
        targets.signed.targets[name] = info
        targets.signed.version += 1
        self._sign_write(targets, signers["targets"], f"{targets.signed.version}.targets.json")
        self._snapshot_and_timestamp(
            targets.signed.version, signers["snapshot"], signers["timestamp"]
        )
        return name

    def refresh_timestamp(self, timestamp_key: CryptoSigner, *, force: bool = False) -> bool:
        """A new timestamp (same snapshot) when the current one nears its expiry."""
        self._check_signer("timestamp", timestamp_key)
        timestamp = self.timestamp()
        if not force and timestamp.signed.expires - self.now() > TIMESTAMP_REFRESH_BEFORE:
            return False
        timestamp.signed.version += 1
        self._sign_write(timestamp, timestamp_key, "timestamp.json")
        return True

    def file(self, kind: str, name: str) -> Path:
        """A file to serve: `kind` metadata or targets, `name` one plain file name."""
        folder = {"metadata": self.metadata, "targets": self.targets_dir}.get(kind)
        if folder is None or "/" in name or name.startswith(".") or not name:
            raise FileNotFoundError(name)
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(name)
        return path


def describe(repo: Repository) -> str:
    ts = repo.timestamp().signed
    lines = [f"timestamp v{ts.version}, expires {ts.expires.isoformat()}"]
    lines += [f"{r['version']:<12} {r['channel']:<10} {r['target']}" for r in repo.releases()]
    return "\n".join(lines)
