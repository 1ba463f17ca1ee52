"""Releases side by side on the kiosk's disk: `<releases>/<version>/`, each whole, each
with `bin/kiosk` and `RELEASE.json`. An archive is unpacked into a temporary folder
and renamed into place only once complete, so a release folder that exists is whole;
nothing in an archive may land outside it (absolute names, `..`, links out, devices).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tarfile
from pathlib import Path, PurePosixPath


class BadArchive(Exception):
    """A release archive that is not one: what is wrong, and where."""


def _check_member(member: tarfile.TarInfo, archive: Path) -> None:
    name = PurePosixPath(member.name)
    where = f"{archive.name}: {member.name!r}"
    if name.is_absolute() or ".." in name.parts:
        raise BadArchive(f"{where} points outside the release")
    if member.isdev() or member.isfifo():
        raise BadArchive(f"{where} is a device or a pipe")
    if member.issym() or member.islnk():
        target = PurePosixPath(member.linkname)
        resolved = target if member.islnk() else name.parent / target
        if target.is_absolute() or ".." in PurePosixPath(os.path.normpath(resolved)).parts:
            raise BadArchive(f"{where} links outside the release ({member.linkname})")


def release_meta(folder: Path) -> dict[str, str]:
    """RELEASE.json: the version, and the machine a bundle was built for."""
    meta = folder / "RELEASE.json"
    try:
        found = json.loads(meta.read_text(encoding="utf-8"))
        return {"version": str(found["version"]), "machine": str(found.get("machine", ""))}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadArchive(f"{meta}: no readable version ({exc})") from None


def _unpack(archive: Path, staging: Path) -> None:
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, archive)
            if hasattr(tarfile, "data_filter"):  # Python ≥ 3.11.4: the library's own check
                tar.extractall(staging, members, filter="data")
            else:
                tar.extractall(staging, members)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BadArchive(f"{archive.name}: not a readable release archive ({exc})") from exc


def _check_unpacked(staging: Path, archive: Path, version: str) -> None:
    meta = release_meta(staging) if (staging / "RELEASE.json").exists() else {}
    found, machine = meta.get("version", ""), meta.get("machine", "")
    if machine and machine != platform.machine():
        raise BadArchive(f"{archive.name}: built for {machine}, this kiosk is {platform.machine()}")
    program = staging / "bin" / "kiosk"
    if found != version or not program.is_file() or not os.access(program, os.X_OK):
        raise BadArchive(
            f"{archive.name}: holds version {found or 'none'} with "
            f"{'an' if program.is_file() else 'no'} executable bin/kiosk; "
            f"version {version} with an executable bin/kiosk was expected"
        )


class Releases:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, version: str) -> Path:
        return self.root / version

    def installed(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir() if not p.name.startswith(".") and p.is_dir()
        )

    def install(self, archive: Path, version: str) -> Path:
        """Unpack `archive` as release `version` (already verified by its hashes)."""
        target = self.path(version)
        if (target / "bin" / "kiosk").is_file():
            return target
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".unpacking-{version}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            _unpack(archive, staging)
            _check_unpacked(staging, archive, version)
        except BaseException:  # nothing half unpacked stays behind
            shutil.rmtree(staging, ignore_errors=True)
            raise
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
        return target

    def prune(self, keep: set[str]) -> list[str]:
        """Remove every release but those kept (current, previous, the one downloaded)."""
        gone = []
        for version in self.installed():
            if version not in keep:
                shutil.rmtree(self.path(version), ignore_errors=True)
                gone.append(version)
        return gone
