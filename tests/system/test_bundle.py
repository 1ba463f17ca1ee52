"""`make bundle`: the one-folder PyInstaller bundle runs `kiosk --version` and
`kiosk doctor` on the demo config, and leaves the OS's graphics stack and C++ runtime
alone. Slow (a minute and a half): `pytest -m slow tests/system/test_bundle.py`."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "dist" / "kiosk"


@pytest.mark.slow
def test_the_bundle_builds_and_runs(tmp_path):
    built = subprocess.run(["make", "bundle"], cwd=ROOT, capture_output=True, text=True)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-3000:]
    files = [f for f in BUNDLE.rglob("*") if f.is_file() and not f.is_symlink()]
    size_mb = sum(f.stat().st_size for f in files) / 2**20
    print(f"bundle: {size_mb:.1f} MB in {BUNDLE}")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["KIOSK_DEMO_DIR"] = str(tmp_path / "store")
    version = subprocess.run([str(BUNDLE / "kiosk"), "--version"], capture_output=True,
                             text=True, env=env, cwd=tmp_path)  # fmt: skip
    assert re.fullmatch(r"kiosk \d+\.\d+\.\d+\n", version.stdout), version.stderr
    doctor = subprocess.run([str(BUNDLE / "kiosk"), "--config", "demo", "doctor"],
                            capture_output=True, text=True, env=env, cwd=tmp_path)  # fmt: skip
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    for device in ("printer", "terminal", "scanner", "lockers"):
        assert re.search(rf"^{device}\s.*\sready\s", doctor.stdout, re.M), doctor.stdout
    left_to_the_os = [
        f.name for f in BUNDLE.rglob("*")
        if re.match(r"(libGL|libEGL|libGLES|libgbm|libdrm|libstdc\+\+)", f.name)
    ]  # fmt: skip
    assert left_to_the_os == []
