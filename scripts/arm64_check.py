#!/usr/bin/env python3
"""`make arm64-check` (as root): the kiosk on the Pi's own architecture. An arm64 Debian
bookworm (Raspberry Pi OS's base) runs under qemu's user-mode emulation; provisioning
goes into it exactly as onto a Pi, then the kiosk is run there. Prints one JSON line:
each step's time and result (docs/provisioning.md, "Proven on arm64").

Steps: the host's tools (qemu-user-static, binfmt-support, debootstrap, Xvfb); the arm64
root (debootstrap, cached in build/arm64/); provisioning with GPIO lockers on lgpio (the
`pi` extra); `kiosk --version`, `config check`, `doctor` on the provisioned config (no
/dev/gpiochip in a chroot) and on the demo's simulated devices; the domain, storage and
driver tests and the journeys through the services, inside the root; `kiosk run` on an
800×480 X screen to its attract screen, screenshot taken; provisioning again with the
co-processor backend; the PyInstaller bundle built and started inside the root, its size
beside the x86-64 bundle's, built in the same run.

Slow (tens of minutes: everything arm64 is emulated); a second run reuses the base root
and the downloaded packages (build/arm64/). `KIOSK_DEBIAN_MIRROR` picks the mirror;
`ARM64_REUSE_ROOT=1` keeps the last run's provisioned root (provisioning then finds
little to change), for working on the later steps.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUILD = ROOT / "build" / "arm64"
CACHE = BUILD / "bookworm-arm64.tar"
TARGET = BUILD / "root"
MIRROR = os.environ.get("KIOSK_DEBIAN_MIRROR", "http://deb.debian.org/debian")
HOST_TOOLS = {  # program: Debian package
    "qemu-aarch64-static": "qemu-user-static",
    "update-binfmts": "binfmt-support",
    "debootstrap": "debootstrap",
    "Xvfb": "xvfb",
}
FLAGS = ["--non-interactive", "--shop-name", "Atelier Vélo", "--kiosk-id", "PI1",
         "--backoffice-url", "https://pos.example.com", "--printer", "network:192.0.2.10",
         "--terminal", "tcp:192.0.2.20:20007", "--scanner", "none"]  # fmt: skip
VENV = "/opt/kiosk/venv"
SRC = "/opt/kiosk/src"
# the domain and storage (tests/unit), the drivers, the journeys through the services
IN_ROOT_TESTS = ["tests/unit", "tests/drivers", "tests/services"]
# Two co-processor cases restart the simulated chip mid-request: its MicroPython boots
# again in Node, which qemu emulates instruction by instruction, slower than the driver's
# retry budget (measured: "no answer to request 5" three times). The driver is the same
# Python on both architectures and the cases run on the host in `make test`; a Pi runs
# no simulator.
SLOWER_THAN_EMULATION = [
    "test_a_restart_in_the_middle_of_an_open_does_not_pulse_twice",
    "test_a_restart_before_the_open_arrives_is_healed_by_hello",
]

results: dict[str, dict[str, Any]] = {}


class Failed(Exception):
    pass


@contextlib.contextmanager
def step(name: str) -> Iterator[dict[str, Any]]:
    entry: dict[str, Any] = {"ok": False}
    results[name] = entry
    started = time.monotonic()
    try:
        yield entry
        entry["ok"] = True
    finally:
        entry["s"] = round(time.monotonic() - started, 1)


def run(cmd: list[str], *, timeout: float = 3600, env: dict[str, str] | None = None,
        cwd: Path | None = None) -> str:  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip()[-1500:]
        raise Failed(f"{' '.join(cmd[:6])}… exited {done.returncode}: {tail}")
    return done.stdout


# This machine reaches PyPI through a proxy with its own CA (a Pi talks to PyPI
# directly): pip in the root is pointed at the host's bundle, copied in, whatever the
# host's own variables say about its paths.
CA_IN_ROOT = "/etc/host-ca.crt"
CA_VARIABLES = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


def in_root(*cmd: str, timeout: float = 3600, env: dict[str, str] | None = None) -> str:
    settings = {**dict.fromkeys(CA_VARIABLES, CA_IN_ROOT), **(env or {})}
    wrapped = ["chroot", str(TARGET), "env", *(f"{k}={v}" for k, v in settings.items())]
    return run([*wrapped, *cmd], timeout=timeout)


# -- the host and the root -------------------------------------------------------------


def host_tools() -> str:
    if not Path("/proc/sys/fs/binfmt_misc/register").exists():
        run(["mount", "-t", "binfmt_misc", "binfmt_misc", "/proc/sys/fs/binfmt_misc"])
    missing = [pkg for tool, pkg in HOST_TOOLS.items() if shutil.which(tool) is None]
    if missing:
        run(["apt-get", "update", "-qq"])
        run(["apt-get", "install", "-y", "-qq", *missing])
    if not Path("/proc/sys/fs/binfmt_misc/qemu-aarch64").exists():
        run(["update-binfmts", "--enable", "qemu-aarch64"])
    return run(["qemu-aarch64-static", "--version"]).splitlines()[0]


def unmount_leftovers() -> None:
    """A run that was killed may have left its mounts (the host's /dev among them): they
    go before the old root is removed, or removing it would reach into the host."""
    inside = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for where in sorted((m for m in inside if m.startswith(str(TARGET))), key=len, reverse=True):
        subprocess.run(["umount", "-l", where], check=False)
    left = [m for m in Path("/proc/self/mounts").read_text().split() if m.startswith(str(TARGET))]
    if left:
        raise Failed(f"still mounted under the old root, not removed: {left}")


def base_root() -> str:
    """A minimal arm64 bookworm with what Raspberry Pi OS Lite has out of the box."""
    unmount_leftovers()
    if os.environ.get("ARM64_REUSE_ROOT") == "1" and (TARGET / "usr/bin/python3").exists():
        pass
    elif CACHE.exists():
        shutil.rmtree(TARGET, ignore_errors=True)
        TARGET.mkdir(parents=True)
        run(["tar", "-xf", str(CACHE), "-C", str(TARGET)])
    else:
        shutil.rmtree(TARGET, ignore_errors=True)
        TARGET.mkdir(parents=True)
        run(["debootstrap", "--arch=arm64", "--foreign", "--variant=minbase",
             "--include=python3,python3-venv,systemd,udev,passwd,login,ca-certificates",
             "bookworm", str(TARGET), MIRROR])  # fmt: skip
        shutil.copy(shutil.which("qemu-aarch64-static") or "", TARGET / "usr/bin")
        in_root("/debootstrap/debootstrap", "--second-stage")
        run(["tar", "-cf", str(CACHE), "-C", str(TARGET), "."])
    return in_root("python3", "-c", "import platform; print(platform.machine(), "
                   "platform.python_version())").strip()  # fmt: skip


def prepared_root() -> dict[str, str]:
    """DNS, this machine's package proxy CA, a Pi's boot partition; the environment that
    pip in the root needs."""
    for name in ("resolv.conf", "pip.conf"):
        if Path(f"/etc/{name}").exists():
            shutil.copy(f"/etc/{name}", TARGET / "etc" / name)
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", TARGET / CA_IN_ROOT.lstrip("/"))
    boot = TARGET / "boot/firmware"
    boot.mkdir(parents=True, exist_ok=True)
    (boot / "cmdline.txt").write_text("console=tty1 root=/dev/mmcblk0p2 rootwait\n")
    (boot / "config.txt").write_text("[all]\narm_64bit=1\n")
    return {**os.environ, **dict.fromkeys(CA_VARIABLES, CA_IN_ROOT)}


@contextlib.contextmanager
def mounted() -> Iterator[None]:
    """proc and dev; the host's X sockets; caches of packages that outlive the root."""
    Path("/tmp/.X11-unix").mkdir(mode=0o1777, exist_ok=True)
    binds = [
        (["-t", "proc", "proc"], TARGET / "proc"),
        (["--bind", "/dev"], TARGET / "dev"),
        (["--bind", "/dev/pts"], TARGET / "dev/pts"),  # the simulators' ptys
        (["--bind", "/tmp/.X11-unix"], TARGET / "tmp/.X11-unix"),
        (["--bind", str(BUILD / "apt")], TARGET / "var/cache/apt/archives"),
        (["--bind", str(BUILD / "pip")], TARGET / "root/.cache/pip"),
    ]
    (BUILD / "apt" / "partial").mkdir(parents=True, exist_ok=True)
    (BUILD / "pip").mkdir(parents=True, exist_ok=True)
    done = []
    try:
        for how, where in binds:
            where.mkdir(parents=True, exist_ok=True)
            run(["mount", *how, str(where)])
            done.append(where)
        yield
    finally:
        for where in reversed(done):
            subprocess.run(["umount", "-l", str(where)], check=False)


def provision(env: dict[str, str], *lockers: str) -> str:
    out = run([sys.executable, str(ROOT / "provisioning/provision.py"), "--root", str(TARGET),
               *FLAGS, *lockers], env=env)  # fmt: skip
    failed = [line for line in out.splitlines() if line.startswith("[      failed]")]
    if failed:
        raise Failed("; ".join(failed))
    return out


# -- in the root -----------------------------------------------------------------------


def doctor(config: str) -> str:
    """Doctor's table; exit 1 (a device missing) is an answer here, not a failure."""
    done = subprocess.run(
        ["chroot", str(TARGET), f"{VENV}/bin/kiosk", "--config", config, "doctor"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "KIOSK_DEMO_DIR": "/tmp/arm64-demo"},
    )  # fmt: skip
    if done.returncode not in (0, 1) or "lockers" not in done.stdout:
        raise Failed(f"doctor exited {done.returncode}: {(done.stdout + done.stderr)[-1500:]}")
    return done.stdout


def tests_in_root() -> dict[str, str]:
    """The tests inside the root, the co-processor's among them: Debian's own Node (18 in
    bookworm) runs its MicroPython, whose npm package (WebAssembly and JavaScript, the
    same on every architecture) and micropython-lib modules come from this tree's
    `make install`."""
    src = TARGET / SRC.lstrip("/")
    if os.environ.get("ARM64_REUSE_ROOT") == "1":  # provisioning kept the old copy
        for folder in ("tests", "tours", "kiosk", "firmware"):
            shutil.rmtree(src / folder, ignore_errors=True)
            skip = shutil.ignore_patterns("__pycache__", "node_modules")
            shutil.copytree(ROOT / folder, src / folder, ignore=skip)
    for folder in ("firmware/host/node_modules", "build/firmware-lib"):
        shutil.rmtree(src / folder, ignore_errors=True)
        shutil.copytree(ROOT / folder, src / folder)
    in_root("apt-get", "install", "-y", "-qq", "nodejs", timeout=1800)
    in_root(f"{VENV}/bin/pip", "install", "--quiet", "pytest>=8,<9.2", "hypothesis>=6.100,<7")
    out = in_root(
        "sh", "-c",
        f"cd {SRC} && {VENV}/bin/python -m pytest -q -p no:cacheprovider "
        f"-m 'not slow and not postgres' -k 'not {' and not '.join(SLOWER_THAN_EMULATION)}' "
        + " ".join(IN_ROOT_TESTS),
        timeout=5400,
    )  # fmt: skip
    firmware = in_root(
        "sh", "-c",
        f"cd {SRC} && node firmware/host/run.mjs test build/firmware-lib "
        "firmware/locker_controller firmware/tests",
        timeout=1800,
    )  # fmt: skip
    return {"node": in_root("node", "--version").strip(),
            "pytest": out.strip().splitlines()[-1], "deselected": SLOWER_THAN_EMULATION,
            "firmware": firmware.strip().splitlines()[-1]}  # fmt: skip


def first_frame() -> dict[str, Any]:
    """`kiosk run --fullscreen` on an 800×480 X screen (the host's Xvfb, its socket bound
    into the root), watched through its probe: the attract screen drawn, then the kiosk
    ready for a customer (its devices and services open); a screenshot."""
    from tours.person import Panel, Person
    from tours.person_run import config_text
    from tours.xserver import XServer

    panel = Panel("pi-7in", 800, 480, 133)
    inside = Path("/tmp/arm64-run")
    here = TARGET / inside.relative_to("/")
    shutil.rmtree(here, ignore_errors=True)
    (here / "probe").mkdir(parents=True)
    (here / "kiosk.toml").write_text(config_text(panel, inside / "store"))
    x = XServer(panel.width, panel.height)
    env = [f"DISPLAY={x.display}", f"KIOSK_PROBE_DIR={inside / 'probe'}",
           f"PYTHONPATH={SRC}/tours/probe_site:{SRC}", "KIVY_NO_ARGS=1"]  # fmt: skip
    log = (BUILD / "kiosk-run.log").open("wb")
    started = time.monotonic()
    kiosk = subprocess.Popen(
        ["chroot", str(TARGET), "env", *env, f"{VENV}/bin/python", "-m", "kiosk",
         "--config", str(inside / "kiosk.toml"), "run", "--fullscreen"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        person = Person(panel, here / "probe", BUILD, x.display)
        person.wait(lambda t: t.screen == "attract", "the attract screen", 900)
        first = time.monotonic() - started
        person.wait(lambda t: t.raw["ready"] and t.screen == "attract", "the kiosk ready", 900)
        ready = time.monotonic() - started
        time.sleep(1)
        shot = person.shot("arm64-attract")
        window = person.window()
    finally:
        os.killpg(kiosk.pid, 15)
        try:
            kiosk.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(kiosk.pid, 9)
        log.close()
        x.stop()
    if window != (0, 0, panel.width, panel.height):
        raise Failed(f"the window is {window}, not the whole 800×480 screen")
    return {
        "attract_s": round(first, 1),
        "ready_s": round(ready, 1),
        "screenshot": str(shot.relative_to(ROOT)),
    }


def bundle_mb(folder: Path) -> float:
    files = [f for f in folder.rglob("*") if f.is_file() and not f.is_symlink()]
    return round(sum(f.stat().st_size for f in files) / 2**20, 1)


def bundle_in_root() -> dict[str, Any]:
    in_root(f"{VENV}/bin/pip", "install", "--quiet", f"{SRC}[bundle]")
    in_root("sh", "-c", f"cd {SRC} && {VENV}/bin/pyinstaller packaging/kiosk.spec --noconfirm "
            "--distpath /opt/kiosk/dist --workpath /tmp/pyinstaller --log-level WARN",
            timeout=5400)  # fmt: skip
    version = in_root("/opt/kiosk/dist/kiosk/kiosk", "--version").strip()
    table = in_root("/opt/kiosk/dist/kiosk/kiosk", "--config", "demo", "doctor",
                    env={"KIOSK_DEMO_DIR": "/tmp/arm64-bundle-demo"})  # fmt: skip
    return {"version": version, "doctor_lines": len(table.splitlines()),
            "mb": bundle_mb(TARGET / "opt/kiosk/dist/kiosk")}  # fmt: skip


def bundle_x86() -> float:
    run(["make", "bundle"], cwd=ROOT, timeout=1800)
    return bundle_mb(ROOT / "dist" / "kiosk")


# -- the run ---------------------------------------------------------------------------


def main() -> int:
    if os.geteuid() != 0:
        print("make arm64-check needs root (debootstrap, chroot, mount)", file=sys.stderr)
        return 2
    BUILD.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"host": platform.machine()}
    try:
        with step("host_tools") as s:
            s["qemu"] = host_tools()
        with step("root") as s:
            s["python"] = summary["root"] = base_root()
        env = prepared_root()
        with mounted():
            with step("provision_gpio_lgpio") as s:
                gpio = ["--lockers-backend", "gpio", "--lockers", "1:17:27,2:22:23"]
                out = provision(env, *gpio, "--dropoff-locker", "2")
                s["changed"] = out.count("[     changed]")
            with step("kiosk_version") as s:
                s["out"] = in_root(f"{VENV}/bin/kiosk", "--version").strip()
            with step("config_check") as s:
                s["out"] = in_root(f"{VENV}/bin/kiosk", "--config", "/etc/kiosk/kiosk.toml",
                                   "config", "check").strip()[-200:]  # fmt: skip
            with step("doctor_provisioned") as s:
                table = doctor("/etc/kiosk/kiosk.toml")
                s["lockers"] = [ln for ln in table.splitlines() if ln.startswith("lockers")]
            with step("doctor_demo") as s:
                table = doctor("demo")
                s["ready"] = sum(1 for ln in table.splitlines() if " ready " in ln)
            with step("tests_in_root") as s:
                s.update(tests_in_root())
            with step("first_frame") as s:
                s.update(first_frame())
            with step("provision_pico") as s:
                out = provision(env, "--lockers-backend", "pico", "--lockers", "1:1,2:2",
                                "--dropoff-locker", "2")  # fmt: skip
                s["firmware"] = [ln for ln in out.splitlines() if "firmware" in ln][:2]
                in_root(f"{VENV}/bin/kiosk", "--config", "/etc/kiosk/kiosk.toml", "config",
                        "check")  # fmt: skip
            with step("bundle_arm64") as s:
                s.update(bundle_in_root())
        with step("bundle_x86_64") as s:
            s["mb"] = bundle_x86()
    except (Failed, subprocess.TimeoutExpired, OSError) as exc:
        failed = next(name for name, entry in reversed(results.items()) if not entry["ok"])
        results[failed]["error"] = str(exc)[-1500:]
    summary["steps"] = results
    summary["ok"] = all(entry["ok"] for entry in results.values()) and "bundle_x86_64" in results
    print(json.dumps(summary, ensure_ascii=False))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
