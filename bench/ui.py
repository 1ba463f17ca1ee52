"""The touchscreen's speed, against a bare Kivy app in the same run.

first_frame_s: from starting `kiosk run` (demo config, simulated devices) to its first
frame on the screen (the attract screen, "Starting…"); ready_s: to the moment its store,
devices and use cases are open and the start buttons work; bare_kivy_first_frame_s: the
first frame of a one-label Kivy app (median of 5 starts each, alternating).
transition_p95_ms: tap → the next screen drawn, 200 transitions between two screens;
rss_mb: resident memory after them, beside a bare Kivy app's (bare_kivy_rss_mb: the
software GL of a machine without a GPU weighs on both). All under Xvfb.

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


def first_frame(
    command: list[str], env: dict[str, str], mark: Path, ready: Path | None = None
) -> tuple[float, float]:
    """Seconds from the spawn to the first frame, and to ready (the kiosk only)."""
    mark.unlink(missing_ok=True)
    extra = ["--ready", str(ready)] if ready is not None else []
    started = time.time()
    subprocess.run(
        _x([*command, str(mark), *extra]),
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=True,
    )
    ready_s = float(ready.read_text()) - started if ready is not None else 0.0
    return float(mark.read_text()) - started, ready_s


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
    first_frame(
        kiosk, env, folder / "warm", folder / "warm-ready"
    )  # the first start makes the store
    kiosk_s, ready_s, bare_s = [], [], []
    for _ in range(args.starts):
        frame, ready = first_frame(kiosk, env, folder / "kiosk-frame", folder / "kiosk-ready")
        kiosk_s.append(frame)
        ready_s.append(ready)
        bare_s.append(first_frame(bare, env, folder / "bare-frame")[0])
    print(f"first frame: kiosk {kiosk_s} (ready {ready_s}), bare {bare_s}", file=sys.stderr)

    out = folder / "transitions"
    env["KIOSK_DEMO_DIR"] = str(folder / "store-transitions")
    subprocess.run(
        _x(
            [
                sys.executable,
                "-m",
                "tours.play",
                "transitions",
                "--size",
                "1024x600",
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
    subprocess.run(
        _x([*bare, str(folder / "bare-frame"), str(folder / "bare-rss")]),
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=True,
    )
    bare_rss, bare_gl = map(float, (folder / "bare-rss").read_text().split())
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
                "ready_s": round(statistics.median(ready_s), 3),
                "transition_p95_ms": round(p95, 1),
                "transition_median_ms": round(statistics.median(transitions), 1),
                "transitions": len(transitions),
                "rss_mb": round(notes["rss_mb"], 1),
                "bare_kivy_rss_mb": round(bare_rss, 1),
                # llvmpipe's share (LLVM JIT, swrast): absent on a Pi's V3D GPU
                "software_gl_rss_mb": round(notes["software_gl_rss_mb"], 1),
                "bare_kivy_software_gl_rss_mb": round(bare_gl, 1),
                "rss_without_software_gl_mb": round(
                    notes["rss_mb"] - notes["software_gl_rss_mb"], 1
                ),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
