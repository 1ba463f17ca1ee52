"""`make release`: the bundle (dist/kiosk, from `make bundle`) packed as a release
archive the update repository publishes (docs/updates.md, "Releasing"): RELEASE.json
(version, machine) and the bundle as bin/, so bin/kiosk is the program the launcher
starts. Prints the archive's path and the command that publishes it."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tarfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk import __version__  # noqa: E402


def pack(bundle: Path, out: Path, version: str, machine: str) -> Path:
    if not (bundle / "kiosk").is_file():
        raise SystemExit(f"{bundle}/kiosk: no bundle here (make bundle builds it)")
    out.mkdir(parents=True, exist_ok=True)
    archive = out / f"kiosk-{version}-{machine}.tar.gz"
    meta = json.dumps({"version": version, "machine": machine}).encode()
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("RELEASE.json")
        info.size, info.mode = len(meta), 0o644
        tar.addfile(info, BytesIO(meta))
        for path in sorted(bundle.rglob("*")):
            tar.add(path, arcname=f"bin/{path.relative_to(bundle)}", recursive=False)
    return archive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "kiosk")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--version", default=__version__)
    parser.add_argument("--machine", default=platform.machine(), help="the bundle's (aarch64)")
    args = parser.parse_args()
    archive = pack(args.bundle, args.out, args.version, args.machine)
    print(archive)
    print(f"publish: python -m backoffice release add REPOSITORY {archive} "
          f"--version {args.version} --keys KEYS")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
