"""Release folders and archives for the update tests: `bin/kiosk` programs that behave
as a release may (start and confirm, crash, hang, ask for a switch), and archives of
them in the format `make release` builds (RELEASE.json + bin/kiosk)."""

from __future__ import annotations

import io
import json
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Each program logs its starts to $RELEASE_LOG: "<version> <what>".
PROGRAMS = {
    # the real kiosk, from this checkout, as the release's version
    "kiosk": f'#!/bin/sh\nexport PYTHONPATH="{ROOT}${{PYTHONPATH:+:$PYTHONPATH}}"\n'
    f'echo "${{KIOSK_RELEASE:-factory}} start" >> "$RELEASE_LOG"\n'
    f'exec {sys.executable} -m kiosk "$@"\n',
    # a release that starts, confirms itself at once and runs until stopped (SIGUSR1:
    # leaves as the kiosk does once it has left a request for the launcher)
    "good": '#!/bin/sh\necho "$KIOSK_RELEASE start" >> "$RELEASE_LOG"\n'
    'printf \'{"version": "%s"}\' "$KIOSK_RELEASE" > "$KIOSK_UPDATE_DIR/healthy.json"\n'
    "trap 'exit 0' TERM\ntrap 'exit 75' USR1\nwhile :; do sleep 0.1; done\n",
    # a release that dies at start
    "crash": '#!/bin/sh\necho "$KIOSK_RELEASE start" >> "$RELEASE_LOG"\nexit 3\n',
    # a release that runs and never becomes healthy
    "hang": '#!/bin/sh\necho "$KIOSK_RELEASE start" >> "$RELEASE_LOG"\n'
    "trap 'exit 0' TERM\nwhile :; do sleep 0.1; done\n",
}


def program(kind: str) -> str:
    return PROGRAMS[kind]


def make_release(folder: Path, version: str, kind: str, text: str = "") -> Path:
    """A release folder as a kiosk has it unpacked."""
    (folder / "bin").mkdir(parents=True, exist_ok=True)
    kiosk = folder / "bin" / "kiosk"
    kiosk.write_text(text or PROGRAMS[kind])
    kiosk.chmod(0o755)
    (folder / "RELEASE.json").write_text(json.dumps({"version": version}))
    return folder


def archive(path: Path, version: str, kind: str = "", text: str = "") -> Path:
    """The release as `make release` packs it: a .tar.gz of RELEASE.json and bin/kiosk."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data, mode in (
            ("RELEASE.json", json.dumps({"version": version}).encode(), 0o644),
            ("bin/kiosk", (text or PROGRAMS[kind]).encode(), 0o755),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return path
