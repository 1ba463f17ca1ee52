"""provisioning/provision.py against a staged root (fast), and inside a Debian chroot
made with debootstrap, x86-64 and arm64 (slow: `pytest -m slow
tests/system/test_provisioning.py`)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROVISION = ROOT / "provisioning" / "provision.py"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="useradd --root needs root")
FLAGS = ["--non-interactive", "--shop-name", "Atelier Vélo", "--kiosk-id", "K7",
         "--backoffice-url", "https://pos.example.com", "--printer", "usb:04b8:0202",
         "--terminal", "serial:/dev/kiosk-terminal", "--terminal-usb", "0403:6001",
         "--scanner", "none", "--lockers", "1:17:27,2:22:23", "--dropoff-locker", "2",
         "--backoffice-address", "203.0.113.10"]  # fmt: skip


def staged_root(tmp_path: Path) -> Path:
    """What an SD card's root looks like before provisioning, as far as the files go."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    for name in ("passwd", "group", "shadow", "gshadow", "login.defs"):
        shutil.copy(f"/etc/{name}", root / "etc" / name)
    boot = root / "boot" / "firmware"
    boot.mkdir(parents=True)
    (boot / "cmdline.txt").write_text("console=tty1 root=PARTUUID=abcd-02 rootwait\n")
    (boot / "config.txt").write_text("[all]\narm_64bit=1\n")
    return root


def provision(root: Path, *extra: str, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, str(PROVISION), "--root", str(root), *FLAGS, *extra],
        capture_output=True, text=True, env=env,
    )  # fmt: skip


def snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    """Every file, link and folder: content hash (or link target), mode, mtime."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        if path.is_symlink():
            what = "-> " + os.readlink(path)
        elif path.is_file():
            what = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            what = "dir"
        out[str(path.relative_to(root))] = (what, st.st_mode, st.st_mtime_ns)
    return out


@needs_root
def test_a_staged_root_becomes_a_kiosk(tmp_path):
    root = staged_root(tmp_path)
    done = provision(root)
    assert done.returncode == 0, done.stderr
    report = done.stdout
    assert "[     skipped] system packages" in report  # no apt in a bare staged tree
    assert "[     changed] kiosk user and groups" in report
    passwd = (root / "etc/passwd").read_text()
    assert "kiosk:x:" in passwd and ":/var/lib/kiosk:/usr/sbin/nologin" in passwd
    groups = {line.split(":")[0]: line.split(":")[3] for line in
              (root / "etc/group").read_text().splitlines()}  # fmt: skip
    for group in ("gpio", "dialout", "lp", "input", "video", "render"):
        assert "kiosk" in groups[group].split(","), group
    config = (root / "etc/kiosk/kiosk.toml").read_text()
    assert 'name = "Atelier Vélo"' in config and "usb_vendor = 0x04b8" in config
    assert (root / "etc/kiosk/kiosk.toml").stat().st_mode & 0o777 == 0o640
    check = subprocess.run([sys.executable, "-m", "kiosk", "--config",
                            str(root / "etc/kiosk/kiosk.toml"), "config", "check"],
                           cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    rules = (root / "etc/udev/rules.d/99-kiosk.rules").read_text()
    assert 'SYMLINK+="kiosk-printer"' in rules and 'SYMLINK+="kiosk-terminal"' in rules
    cmdline = (root / "boot/firmware/cmdline.txt").read_text().split()
    assert {"consoleblank=0", "vt.global_cursor_default=0"} <= set(cmdline)
    assert "root=PARTUUID=abcd-02" in cmdline  # what was there stays
    assert "dtparam=watchdog=on" in (root / "boot/firmware/config.txt").read_text()
    assert (
        "RuntimeWatchdogSec=15s"
        in (root / "etc/systemd/system.conf.d/kiosk-watchdog.conf").read_text()
    )
    assert (root / "var/lib/kiosk/kivy").is_dir()  # KIVY_HOME, pinned by the unit
    wants = root / "etc/systemd/system/multi-user.target.wants/kiosk.service"
    assert os.readlink(wants) == "/etc/systemd/system/kiosk.service"
    assert (root / "etc/systemd/system/kiosk.service").read_text() == (
        ROOT / "systemd/kiosk.service"
    ).read_text()
    assert (root / "var/lib/kiosk/provisioning-report.txt").read_text() == report
    # updates (docs/updates.md): the launcher the unit starts, the OS's security updates
    launcher = root / "opt/kiosk/bin/kiosk-launcher"
    assert launcher.read_text() == (ROOT / "kiosk/updates/launcher.py").read_text()
    assert launcher.stat().st_mode & 0o777 == 0o755
    assert (
        "/opt/kiosk/bin/kiosk-launcher" in (root / "etc/systemd/system/kiosk.service").read_text()
    )
    apt = (root / "etc/apt/apt.conf.d/52kiosk-unattended-upgrades").read_text()
    assert 'Automatic-Reboot-Time "03:30";' in apt and "Debian-Security" in apt
    assert 'Unattended-Upgrade "1";' in (root / "etc/apt/apt.conf.d/20auto-upgrades").read_text()
    timer = (root / "etc/systemd/system/apt-daily-upgrade.timer.d/kiosk.conf").read_text()
    assert "OnCalendar=*-*-* 02:30" in timer
    assert 'opening_hours = ["08:00-20:00"]' in config and "update-root" not in config


@needs_root
def test_updates_on_with_the_repository_root_and_the_shop_hours(tmp_path):
    from backoffice.updates.repository import Repository

    repo = Repository(tmp_path / "repository")
    repo.init(tmp_path / "keys")
    root = staged_root(tmp_path)
    done = provision(
        root, "--update-root", str(repo.metadata / "1.root.json"),
        "--opening-hours", "09:00-12:30,14:00-19:00", "--reboot-at", "02:15",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (root / "etc/kiosk/update-root.json").read_bytes() == (
        repo.metadata / "1.root.json"
    ).read_bytes()
    config = (root / "etc/kiosk/kiosk.toml").read_text()
    assert 'root = "/etc/kiosk/update-root.json"' in config
    assert 'opening_hours = ["09:00-12:30", "14:00-19:00"]' in config
    check = subprocess.run([sys.executable, "-m", "kiosk", "--config",
                            str(root / "etc/kiosk/kiosk.toml"), "config", "check"],
                           cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    apt = (root / "etc/apt/apt.conf.d/52kiosk-unattended-upgrades").read_text()
    assert 'Automatic-Reboot-Time "02:15";' in apt
    for bad, said in (("--opening-hours", "9-19"), ("--reboot-at", "25:00"),
                      ("--update-root", str(tmp_path / "none.json"))):  # fmt: skip
        refused = provision(root, bad, said)
        assert refused.returncode == 1 and f"{bad} " in refused.stderr, refused.stderr


@needs_root
@pytest.mark.parametrize(
    ("backend", "spec", "expected"),
    [
        ("cu16", "1:0:1,2:0:2,17:1:1", ['backend = "cu16"', "board = 1", "lock = 1"]),
        ("cu48", "1:0:1,48:0:48", ['backend = "cu48"', "board = 0", "lock = 48"]),
        ("modbus", "1:1:1,2:1:2,3:9:200", ['backend = "modbus"', "board = 9", "lock = 200"]),
        ("pico", "1:1,2:2,3:24", ['backend = "pico"', "channel = 24"]),
    ],
)
def test_a_locker_bank_on_a_bus_or_a_co_processor(tmp_path, backend, spec, expected):
    root = staged_root(tmp_path)
    done = provision(root, "--lockers-backend", backend, "--lockers", spec,
                     "--lockers-usb", "1a86:7523")  # fmt: skip
    assert done.returncode == 0, done.stderr
    config = root / "etc/kiosk/kiosk.toml"
    text = config.read_text()
    assert all(line in text for line in expected), text
    assert 'port = "/dev/kiosk-lockers"' in text
    check = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), "config",
                            "check"], cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    rules = (root / "etc/udev/rules.d/99-kiosk.rules").read_text()
    assert 'ATTRS{idVendor}=="1a86", ATTRS{idProduct}=="7523"' in rules
    assert 'SYMLINK+="kiosk-lockers"' in rules
    if backend == "pico":  # flashed from the Pi itself, where the Pico is plugged in
        assert "[     skipped] locker co-processor firmware" in done.stdout
        assert "kiosk firmware flash /dev/kiosk-lockers" in done.stdout
    bad = provision(tmp_path / "none", "--dry-run", "--lockers-backend", backend,
                    "--lockers", "1:2:3:4")  # fmt: skip
    assert bad.returncode == 1 and "expected ID:" in bad.stderr and backend in bad.stderr


def _tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        pytest.fail(
            f"{name} is needed: `make install` installs it (usbguard, nftables, openssh-server)"
        )
    return path


@needs_root
def test_the_os_is_closed_and_each_file_passes_its_own_tool(tmp_path):
    root = staged_root(tmp_path)
    done = provision(root, "--scanner-usb", "05E0:1200")
    assert done.returncode == 0, done.stderr
    logind = (root / "etc/systemd/logind.conf.d/kiosk.conf").read_text()
    assert "NAutoVTs=0" in logind and "ReserveVT=0" in logind
    assert "kernel.sysrq = 0" in (root / "etc/sysctl.d/90-kiosk.conf").read_text()
    rules = root / "etc/usbguard/rules.conf"
    assert rules.stat().st_mode & 0o777 == 0o600  # usbguard refuses a policy others can read
    text = rules.read_text()
    for device in ("04b8:0202", "0403:6001", "05e0:1200"):
        assert f"allow id {device}" in text
    ipc = root / "etc/usbguard/IPCAccessControl.d/:kiosk"  # staff mode's allow-device
    assert ipc.read_text() == "Devices=list,modify\nPolicy=list,modify\n"
    parsed = subprocess.run([_tool("usbguard-rule-parser"), "-f", str(rules)],
                            capture_output=True, text=True)  # fmt: skip
    assert parsed.returncode == 0, parsed.stdout + parsed.stderr
    nft = subprocess.run([_tool("nft"), "-c", "-f", str(root / "etc/nftables.conf")],
                         capture_output=True, text=True)  # fmt: skip
    assert nft.returncode == 0, nft.stderr
    ruleset = (root / "etc/nftables.conf").read_text()
    assert "tcp dport 22" not in ruleset  # no key: no SSH, not even from the LAN
    assert "ip daddr { 203.0.113.10 } tcp dport 443 accept" in ruleset
    assert 'meta skuid "_apt" tcp dport { 80, 443 } accept' in ruleset  # security updates
    for unit in ("ssh.service", "ssh.socket"):
        assert os.readlink(root / "etc/systemd/system" / unit) == "/dev/null"


@needs_root
def test_ssh_with_a_key_is_keys_only_from_the_lan(tmp_path):
    root = staged_root(tmp_path)
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb6Qk2Jx0c3tWq7gq5cY1m0Yl6d2oQm6R3J0v4 tech@laptop"
    flags = ("--ssh-key", key, "--ssh-user", "tech", "--lan", "192.168.1.0/24,fd00::/8")
    done = provision(root, *flags)
    assert done.returncode == 0, done.stderr
    assert not (root / "etc/systemd/system/ssh.service").exists()
    assert key in (root / "home/tech/.ssh/authorized_keys").read_text().splitlines()
    drop_in = root / "etc/ssh/sshd_config.d/kiosk.conf"
    host_key = tmp_path / "host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
    config = tmp_path / "sshd_config"
    config.write_text(f"Include {drop_in}\nHostKey {host_key}\nPidFile {tmp_path}/sshd.pid\n")
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd -t wants its privilege-separation folder
    checked = subprocess.run(
        [_tool("sshd"), "-t", "-f", str(config)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    effective = subprocess.run(
        [_tool("sshd"), "-T", "-f", str(config)], capture_output=True, text=True
    )
    settings = dict(line.split(" ", 1) for line in effective.stdout.splitlines() if " " in line)
    assert settings["passwordauthentication"] == "no" and settings["permitrootlogin"] == "no"
    assert settings["allowusers"] == "tech" and settings["authenticationmethods"] == "publickey"
    ruleset = (root / "etc/nftables.conf").read_text()
    assert "ip saddr { 192.168.1.0/24 } tcp dport 22 accept" in ruleset
    assert "ip6 saddr { fd00::/8 } tcp dport 22 accept" in ruleset
    assert (
        subprocess.run([_tool("nft"), "-c", "-f", str(root / "etc/nftables.conf")]).returncode == 0
    )
    again = provision(root, *flags)
    assert again.returncode == 0 and "0 steps changed something" in again.stdout
    no_lan = provision(tmp_path / "none", "--dry-run", "--ssh-key", key)
    assert no_lan.returncode == 1 and "--ssh-key needs --lan" in no_lan.stderr


@needs_root
def test_a_second_run_changes_nothing(tmp_path):
    root = staged_root(tmp_path)
    assert provision(root).returncode == 0
    before = snapshot(root)
    again = provision(root)
    assert again.returncode == 0, again.stderr
    assert "0 steps changed something" in again.stdout
    after = snapshot(root)
    after.pop("var/lib/kiosk/provisioning-report.txt")
    before.pop("var/lib/kiosk/provisioning-report.txt")
    assert after == before


@needs_root
def test_dry_run_touches_nothing_and_says_what_it_would_do(tmp_path):
    root = staged_root(tmp_path)
    before = snapshot(root)
    done = provision(root, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert snapshot(root) == before
    assert "would run: useradd --system" in done.stdout
    assert "create /etc/kiosk/kiosk.toml" in done.stdout
    assert "[would change] systemd units" in done.stdout


def test_bad_flags_are_refused_with_the_reason(tmp_path):
    root = staged_root(tmp_path)
    done = subprocess.run(
        [sys.executable, str(PROVISION), "--root", str(root), "--dry-run", *FLAGS,
         "--lockers", "1:17"], capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 1
    assert "--lockers '1:17': expected ID:LOCK_PIN:DOOR_PIN" in done.stderr
    done = subprocess.run(
        [sys.executable, str(PROVISION), "--root", str(root), "--dry-run", "--non-interactive",
         "--shop-name", "X"], capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 1 and "--backoffice-url is needed" in done.stderr


# -- the real thing, slow: a Debian Bookworm chroot --

DEBIAN_MIRROR = os.environ.get("KIOSK_DEBIAN_MIRROR", "http://deb.debian.org/debian")
CHROOT_CACHE = ROOT / "build" / "chroot-bookworm.tar"


def _debootstrap(target: Path) -> None:
    """A minimal Bookworm with what Raspberry Pi OS Lite has out of the box (python3,
    systemd, udev); cached as a tarball in build/ so a second run skips the download."""
    if CHROOT_CACHE.exists():
        subprocess.run(["tar", "-xf", str(CHROOT_CACHE), "-C", str(target)], check=True)
        return
    subprocess.run(
        ["debootstrap", "--variant=minbase", "--include=python3,systemd,udev,passwd,login",
         "bookworm", str(target), DEBIAN_MIRROR], check=True, capture_output=True,
    )  # fmt: skip
    CHROOT_CACHE.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-cf", str(CHROOT_CACHE), "-C", str(target), "."], check=True)


@pytest.mark.slow
@needs_root
def test_provisioning_inside_a_debian_chroot(tmp_path):
    """apt installs the packages, the venv gets the kiosk from this source tree, the
    config passes `kiosk config check`, doctor runs; then a second run changes nothing.
    The test installs debootstrap where it is missing (as root, like the arm64 check)."""
    if shutil.which("debootstrap") is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "debootstrap"], check=True)
    target = tmp_path / "bookworm"
    target.mkdir()
    _debootstrap(target)
    for name in ("resolv.conf", "pip.conf"):
        if Path(f"/etc/{name}").exists():
            shutil.copy(f"/etc/{name}", target / "etc" / name)
    # this machine reaches PyPI through a proxy with its own CA: pip in the chroot needs
    # it (a Pi talks to PyPI directly); apt installing ca-certificates must not undo it
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", target / "etc" / "host-ca.crt")
    env = {**os.environ, "PIP_CERT": "/etc/host-ca.crt", "REQUESTS_CA_BUNDLE": "/etc/host-ca.crt"}
    (target / "boot/firmware").mkdir(parents=True, exist_ok=True)
    (target / "boot/firmware/cmdline.txt").write_text("console=tty1 root=/dev/mmcblk0p2\n")
    mounts = [("proc", target / "proc", ["-t", "proc", "proc"]),
              ("dev", target / "dev", ["--bind", "/dev"])]  # fmt: skip
    for _name, where, how in mounts:
        subprocess.run(["mount", *how, str(where)], check=True)
    try:
        first = provision(target, "--printer", "network:192.0.2.10", "--lockers", "", env=env)
        assert first.returncode == 0, first.stdout + first.stderr
        print(first.stdout)
        assert "[     changed] system packages" in first.stdout
        assert "[     changed] application" in first.stdout
        kiosk = target / "opt/kiosk/venv/bin/kiosk"
        version = subprocess.run(["chroot", str(target), "/opt/kiosk/venv/bin/kiosk",
                                  "--version"], capture_output=True, text=True)  # fmt: skip
        assert kiosk.exists() and version.stdout.startswith("kiosk "), version.stderr
        # doctor's table made it into the report: no printer at that address, no terminal
        assert re.search(r"printer\s+network\s+192.0.2.10:9100\s+(unknown|fault)", first.stdout)
        assert re.search(r"terminal\s+serial\s+/dev/kiosk-terminal\s+fault", first.stdout)
        # the closed OS, checked by the tools the chroot's own packages brought
        for check in (["usbguard-rule-parser", "-f", "/etc/usbguard/rules.conf"],
                      ["nft", "-c", "-f", "/etc/nftables.conf"]):  # fmt: skip
            done = subprocess.run(["chroot", str(target), *check], capture_output=True, text=True)
            assert done.returncode == 0, (check, done.stdout + done.stderr)
        second = provision(target, "--printer", "network:192.0.2.10", "--lockers", "", env=env)
        assert second.returncode == 0, second.stderr
        print(second.stdout)
        assert "0 steps changed something" in second.stdout
    finally:
        for _name, where, _how in reversed(mounts):
            subprocess.run(["umount", "-l", str(where)], check=False)


# -- the Pi's own architecture, slow: arm64 bookworm under qemu --


@pytest.mark.slow
@needs_root
def test_provisioning_and_the_kiosk_on_arm64():
    """`make arm64-check` (scripts/arm64_check.py): it installs qemu, binfmt-support and
    debootstrap itself, provisions an arm64 bookworm root as a Pi, and runs the kiosk
    there (doctor, tests, a first frame, the bundle); every step must pass."""
    done = subprocess.run(["make", "--no-print-directory", "arm64-check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=7200)  # fmt: skip
    line = (done.stdout.strip().splitlines() or ["{}"])[-1]
    print(line)
    result = json.loads(line)
    assert done.returncode == 0 and result.get("ok"), line + done.stderr[-2000:]
    assert result["root"].startswith("aarch64 3.11")
    assert all(step["ok"] for step in result["steps"].values())
