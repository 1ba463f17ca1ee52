"""The touchscreen's speed, against a bare Kivy app in the same run.

first_frame_s: from starting `kiosk run` (demo config, simulated devices) to its first
frame on the screen; bare_kivy_first_frame_s: the same for a one-label Kivy app (median
of 5 starts each, alternating). transition_p95_ms: tap → the next screen drawn, 200
transitions between two screens; rss_mb: resident memory after them. All under Xvfb.

    python bench/ui.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _x(command: list[str]) -> list[str]:
    if shutil.which("xvfb-run"):
        return ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", *command]
    return command


def first_frame(command: list[str], env: dict[str, str], mark: Path) -> float:
    mark.unlink(missing_ok=True)
    started = time.time()
    subprocess.run(
        _x([*command, str(mark)]), env=env, cwd=ROOT, capture_output=True, timeout=120, check=True
    )
    return float(mark.read_text()) - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="(always) one JSON line last")
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    env = {
        **os.environ,
        "KIOSK_DEMO_DIR": str(folder / "store"),
        "PYTHONPATH": str(ROOT),
        "KIVY_HOME": str(folder / "kivy-bare"),
    }
    if not shutil.which("xvfb-run"):
        env["SDL_VIDEODRIVER"] = "offscreen"
    kiosk = [
        sys.executable,
        "-m",
        "kiosk",
        "--config",
        "demo",
        "run",
        "--size",
        "1024x600",
        "--first-frame",
    ]
    bare = [sys.executable, str(ROOT / "bench" / "bare_kivy.py")]
    first_frame(kiosk, env, folder / "warm")  # the first start creates the store and caches
    kiosk_s, bare_s = [], []
    for _ in range(args.starts):
        kiosk_s.append(first_frame(kiosk, env, folder / "kiosk-frame"))
        bare_s.append(first_frame(bare, env, folder / "bare-frame"))
    print(f"first frame: kiosk {kiosk_s}, bare {bare_s}", file=sys.stderr)

    out = folder / "transitions"
    env["KIOSK_DEMO_DIR"] = str(folder / "store-transitions")
    subprocess.run(
        _x(
            [
                sys.executable,
                "-m",
                "kiosk",
                "--config",
                "demo",
                "run",
                "--size",
                "1024x600",
                "--scenario",
                "transitions",
                "--out",
                str(out),
            ]
        ),
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=300,
        check=True,
    )
    notes = json.loads((out / "result.json").read_text())["notes"]
    transitions = notes["transitions_ms"]
    p95 = statistics.quantiles(transitions, n=100, method="inclusive")[94]
    print(
        f"transitions: n={len(transitions)} median {statistics.median(transitions):.1f} ms",
        file=sys.stderr,
    )
    print(
        json.dumps(
            {
                "first_frame_s": round(statistics.median(kiosk_s), 3),
                "bare_kivy_first_frame_s": round(statistics.median(bare_s), 3),
                "first_frame_ratio": round(
                    statistics.median(kiosk_s) / statistics.median(bare_s), 2
                ),
                "transition_p95_ms": round(p95, 1),
                "transition_median_ms": round(statistics.median(transitions), 1),
                "transitions": len(transitions),
                "rss_mb": round(notes["rss_mb"], 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
