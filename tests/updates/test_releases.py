"""Release archives: `make release`'s packing (scripts/release.py) unpacked as the
kiosk unpacks a verified download, and archives that must never be unpacked."""

from __future__ import annotations

import io
import json
import platform
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from kiosk.updates.releases import BadArchive, Releases
from tests.updates.releases import ROOT, archive


def hostile(path: Path, name: str, *, link: str = "", kind: bytes = tarfile.REGTYPE) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        meta = json.dumps({"version": "2.0.0"}).encode()
        info = tarfile.TarInfo("RELEASE.json")
        info.size = len(meta)
        tar.addfile(info, io.BytesIO(meta))
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, link
        tar.addfile(info, io.BytesIO(b"") if kind == tarfile.REGTYPE else None)
    return path


def test_make_release_packs_the_bundle_as_the_kiosk_unpacks_it(tmp_path: Path) -> None:
    bundle = tmp_path / "dist" / "kiosk"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "kiosk").write_text("#!/bin/sh\necho bundle\n")
    (bundle / "kiosk").chmod(0o755)
    (bundle / "_internal" / "base_library.zip").write_bytes(b"PK")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/release.py"), "--bundle", str(bundle),
         "--out", str(tmp_path), "--version", "2.0.0"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    made = Path(done.stdout.splitlines()[0])
    assert made.name == f"kiosk-2.0.0-{platform.machine()}.tar.gz"
    assert "release add REPOSITORY" in done.stdout
    folder = Releases(tmp_path / "releases").install(made, "2.0.0")
    assert subprocess.run([folder / "bin" / "kiosk"], capture_output=True,
                          text=True).stdout == "bundle\n"  # fmt: skip
    assert (folder / "bin" / "_internal" / "base_library.zip").read_bytes() == b"PK"
    assert Releases(tmp_path / "releases").installed() == ["2.0.0"]


@pytest.mark.parametrize(
    ("name", "link", "kind", "why"),
    [
        ("../../etc/cron.d/evil", "", tarfile.REGTYPE, "points outside the release"),
        ("/etc/passwd", "", tarfile.REGTYPE, "points outside the release"),
        ("bin/kiosk", "../../../bin/sh", tarfile.SYMTYPE, "links outside the release"),
        ("bin/kiosk", "/bin/sh", tarfile.SYMTYPE, "links outside the release"),
        ("bin/tty", "", tarfile.CHRTYPE, "is a device or a pipe"),
    ],
)
def test_an_archive_reaching_outside_is_refused(tmp_path: Path, name, link, kind, why) -> None:
    path = hostile(tmp_path / "bad.tar.gz", name, link=link, kind=kind)
    with pytest.raises(BadArchive, match=why):
        Releases(tmp_path / "releases").install(path, "2.0.0")
    assert not any((tmp_path / "releases").iterdir())  # nothing left half unpacked


def test_an_archive_for_another_machine_or_version_is_refused(tmp_path: Path) -> None:
    other = "armv7l" if platform.machine() != "armv7l" else "x86_64"
    path = tmp_path / "other.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        meta = json.dumps({"version": "2.0.0", "machine": other}).encode()
        info = tarfile.TarInfo("RELEASE.json")
        info.size = len(meta)
        tar.addfile(info, io.BytesIO(meta))
    with pytest.raises(BadArchive, match=f"built for {other}"):
        Releases(tmp_path / "releases").install(path, "2.0.0")
    good = archive(tmp_path / "k.tar.gz", "2.0.0", "good")
    with pytest.raises(BadArchive, match=r"holds version 2\.0\.0 .* version 2\.1\.0"):
        Releases(tmp_path / "releases").install(good, "2.1.0")
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"\x1f\x8b not really")
    with pytest.raises(BadArchive, match="not a readable release archive"):
        Releases(tmp_path / "releases").install(garbage, "2.0.0")
