"""Fetch the micropython-lib packages the firmware uses from the package index, checked
against pinned hashes, and unpack their modules into a folder (`make firmware-lib`).

micropython-lib's old releases (`micropython-logging`, `micropython-unittest`) were
published for upip, without a setup.py pip could build, so they are fetched as the
source archives they are rather than installed with pip.

    python firmware/host/fetch_lib.py build/firmware-lib
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

PACKAGES = {
    # name, version: sha256 of the sdist
    ("micropython-logging", "0.5.2"): (
        "4fe714775fa6cafc2466bac7fe28485c13610470d3ea2bddac956bcd89b4453d"
    ),
    ("micropython-unittest", "0.4"): (
        "83b4a65c44b2f6382bc3dd8fbbe002b5679dbfc3744b99eaa59802e6fd14cf67"
    ),
}
INDEX = "https://pypi.org/pypi/{name}/json"


def sdist(name: str, version: str) -> bytes:
    with urllib.request.urlopen(INDEX.format(name=name), timeout=30) as r:
        meta = json.load(r)
    (url,) = [u["url"] for u in meta["releases"][version] if u["packagetype"] == "sdist"]
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


def unpack(archive: bytes, target: Path) -> list[str]:
    """The archive's Python modules, without its top folder or packaging metadata."""
    written = []
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts[1:]
            if not member.isfile() or not parts or not parts[-1].endswith(".py"):
                continue
            if parts[0].endswith(".egg-info") or parts[-1] == "setup.py":
                continue
            out = target.joinpath(*parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            out.write_bytes(source.read())
            written.append(str(out.relative_to(target)))
    return written


def main(target: Path) -> int:
    target.mkdir(parents=True, exist_ok=True)
    stamp = target / "FETCHED"
    want = json.dumps(sorted(f"{n}=={v}" for n, v in PACKAGES))
    if stamp.exists() and stamp.read_text() == want:
        return 0
    for (name, version), sha256 in PACKAGES.items():
        archive = sdist(name, version)
        got = hashlib.sha256(archive).hexdigest()
        if got != sha256:
            print(f"{name} {version}: sha256 {got}, expected {sha256}", file=sys.stderr)
            return 1
        print(f"{name} {version}: {', '.join(unpack(archive, target))}")
    stamp.write_text(want)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/firmware-lib")))
