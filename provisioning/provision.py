#!/usr/bin/env python3
"""Turn a fresh Raspberry Pi OS Lite (Bookworm, 64-bit) into a kiosk, in one command:

    sudo python3 provisioning/provision.py --shop-name "Atelier Vélo" \\
        --backoffice-url https://pos.example.com --enrol-code 7H3K-99QX --kiosk-id K1

Standard library only: it runs on the OS's own python3, before anything is installed.
Every step looks before it changes anything, so a second run changes nothing; --dry-run
shows what would change and touches nothing; --root DIR works on a staged tree (an SD
card mounted on a laptop, or a chroot), where the steps that need the target's own
programs (apt, the venv, enrolment, doctor) run through chroot when DIR is a whole OS,
and are reported as skipped when it is not. It ends with `kiosk doctor` and a report,
also written to /var/lib/kiosk/provisioning-report.txt.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import hardening
import updates
from packages import PACKAGES, PI_PACKAGES
from settings import Settings, flags, render_config, settings_from
from target import DATA_DIR, SOURCE, USER, ProvisionError, Target
from udev import RULES_FILE, rules

APP_DIR = "/opt/kiosk"
VENV = f"{APP_DIR}/venv"
CONFIG = "/etc/kiosk/kiosk.toml"
GROUPS = ("gpio", "dialout", "lp", "input", "video", "render")
BOOT_DIRS = ("boot/firmware", "boot")  # Bookworm, then older images


class Provisioner(Target):
    """Each step of a kiosk's provisioning, on the target tree (target.py)."""

    def packages(self) -> None:
        s = self.step("system packages")
        if not self.is_whole_os():
            s.status = "skipped"
            s.details.append(f"{self.root} has no apt-get: install on the target")
            return
        installed = self.run(
            s,
            ["dpkg-query", "-W", "-f=${Package} ${Status}\\n", *PACKAGES, *PI_PACKAGES],
            check=False,
        )
        have = {
            line.split()[0] for line in installed.splitlines() if line.endswith(" ok installed")
        }
        wanted = list(PACKAGES)
        for extra in PI_PACKAGES:
            if self.run(s, ["apt-cache", "show", extra], check=False).strip():
                wanted.append(extra)
        missing = [p for p in wanted if p not in have]
        if not missing or (self.dry_run and not installed):
            if self.dry_run and not installed:
                s.details.append(f"would check and install: {' '.join(PACKAGES)}")
            return
        s.status = "would change" if self.dry_run else "changed"
        s.details.append(f"install {' '.join(missing)}")
        env_cmd = ["env", "DEBIAN_FRONTEND=noninteractive"]
        self.run(s, [*env_cmd, "apt-get", "update", "-q"])
        self.run(
            s, [*env_cmd, "apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
        )

    def _group_lines(self) -> dict[str, list[str]]:
        lines = self.path("/etc/group").read_text().splitlines()
        return {line.split(":")[0]: line.split(":") for line in lines if line.count(":") == 3}

    def user(self) -> None:
        s = self.step("kiosk user and groups")
        if not self.path("/etc/passwd").exists():
            raise ProvisionError(f"{self.path('/etc/passwd')} is missing: not an OS tree")
        root_opt = [] if self.live else ["--root", str(self.root)]
        groups = self._group_lines()
        for group in GROUPS:
            if group not in groups:
                s.status = "would change" if self.dry_run else "changed"
                s.details.append(f"add group {group}")
                self.local(s, ["groupadd", "--system", *root_opt, group])
        passwd = self.path("/etc/passwd").read_text()
        if not re.search(rf"^{USER}:", passwd, re.M):
            s.status = "would change" if self.dry_run else "changed"
            s.details.append(f"add system user {USER}")
            self.local(
                s,
                [
                    "useradd",
                    "--system",
                    *root_opt,
                    "--home-dir",
                    DATA_DIR,
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    "--user-group",
                    USER,
                ],
            )
        groups = self._group_lines() if not self.dry_run else groups
        missing = [g for g in GROUPS if USER not in (groups.get(g, ["", "", "", ""])[3].split(","))]
        if missing:
            s.status = "would change" if self.dry_run else "changed"
            s.details.append(f"put {USER} in {', '.join(missing)}")
            self.local(s, ["usermod", *root_opt, "--append", "--groups", ",".join(missing), USER])

    def data_dir(self, settings: Settings) -> None:
        s = self.step("data folder")
        for folder, mode in ((DATA_DIR, 0o750), (f"{DATA_DIR}/kivy", 0o750)):
            target = self.path(folder)
            if not target.is_dir() or (target.stat().st_mode & 0o777) != mode:
                s.status = "would change" if self.dry_run else "changed"
                s.details.append(f"create {folder} ({oct(mode)})")
                if not self.dry_run:
                    target.mkdir(parents=True, exist_ok=True)
                    target.chmod(mode)
            if not self.dry_run:
                self.chown(s, folder)
        if settings.data_device:
            line = f"{settings.data_device} {DATA_DIR} ext4 defaults,noatime,commit=5 0 2"
            fstab = self.path("/etc/fstab")
            text = fstab.read_text() if fstab.exists() else ""
            if line not in text.splitlines():
                self.write(s, "/etc/fstab", text.rstrip("\n") + "\n" + line + "\n")
        if settings.read_only_root:
            if self.path("/usr/bin/raspi-config").exists():
                if not self.path("/etc/overlayroot.local.conf").exists():
                    s.status = "would change" if self.dry_run else "changed"
                    s.details.append("read-only root: overlay file system on next boot")
                    self.run(s, ["raspi-config", "nonint", "do_overlayfs", "0"])
            else:
                s.details.append("read-only root asked for, but no raspi-config here: skipped")

    def app(self) -> None:
        s = self.step("application")
        if not self.is_whole_os():
            s.status = "skipped"
            s.details.append(f"{self.root} is not a whole OS: install {VENV} on the target")
            return
        version = _source_version(self.source)
        kiosk = self.path(f"{VENV}/bin/kiosk")
        if kiosk.exists() and not self.dry_run:
            current = self.run(s, [f"{VENV}/bin/kiosk", "--version"], check=False).strip()
            if current == f"kiosk {version}":
                s.details.append(f"kiosk {version} already installed")
                return
        s.status = "would change" if self.dry_run else "changed"
        s.details.append(f"install kiosk {version} into {VENV}")
        if not self.path(f"{VENV}/bin/python").exists():
            self.run(s, ["python3", "-m", "venv", VENV])
        # the source is copied in, so the chroot (or the Pi) installs from its own files
        staged = f"{APP_DIR}/src"
        if not self.dry_run:
            target = self.path(staged)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(
                self.source,
                target,
                ignore=shutil.ignore_patterns(
                    ".git",
                    ".venv",
                    "node_modules",  # the co-processor simulator's (tests only)
                    "build",
                    "demo-output",
                    "dist",
                    "__pycache__",
                    "*.egg-info",
                    ".mypy_cache",
                    ".ruff_cache",
                    ".pytest_cache",
                ),
            )
        self.run(s, [f"{VENV}/bin/pip", "install", "--quiet", f"{staged}[pi]"])
        docs = self.path(f"{APP_DIR}/docs")
        if not self.dry_run:
            shutil.rmtree(docs, ignore_errors=True)
            shutil.copytree(self.source / "docs", docs)

    def config(self, settings: Settings) -> None:
        s = self.step("configuration")
        self.write(s, CONFIG, render_config(settings), 0o640)
        if not self.dry_run and (ids := self.ids()) is not None:
            target = self.path(CONFIG)
            if target.stat().st_gid != ids[1]:
                os.chown(target, 0, ids[1])  # root writes it, the kiosk reads it
        # Kivy's own config lives in /var/lib/kiosk/kivy (KIVY_HOME, pinned by the unit and
        # by `kiosk run`); Kivy rewrites that file itself, and `kiosk run` sets what
        # matters at every start (full screen, no cursor, exactly one input path), so
        # it is not written here.
        if self.is_whole_os() and self.path(f"{VENV}/bin/kiosk").exists():
            self.run(s, [f"{VENV}/bin/kiosk", "--config", CONFIG, "config", "check"])

    def udev(self, settings: Settings) -> None:
        s = self.step("udev rules")
        before = self.path(RULES_FILE)
        old = before.read_text() if before.exists() else None
        self.write(s, RULES_FILE, rules(settings))
        if self.live and not self.dry_run and old != before.read_text():
            self.run(s, ["udevadm", "control", "--reload-rules"], check=False)
            self.run(s, ["udevadm", "trigger"], check=False)

    def screen_and_watchdog(self) -> None:
        s = self.step("screen, console and watchdog")
        boot = next((b for b in BOOT_DIRS if self.path(f"/{b}/cmdline.txt").exists()), None)
        if boot is None:
            s.details.append(
                "no /boot/firmware/cmdline.txt (not a Pi image): boot settings skipped"
            )
        else:
            cmdline = self.path(f"/{boot}/cmdline.txt").read_text().strip()
            tokens = cmdline.split()
            # no blanking, no blinking cursor on the console behind the kiosk
            for token in ("consoleblank=0", "vt.global_cursor_default=0", "logo.nologo"):
                if token not in tokens:
                    tokens.append(token)
            self.write(s, f"/{boot}/cmdline.txt", " ".join(tokens) + "\n", 0o755)
            config_txt = self.path(f"/{boot}/config.txt")
            text = config_txt.read_text() if config_txt.exists() else ""
            wanted = ["dtparam=watchdog=on", "dtoverlay=vc4-kms-v3d", "disable_splash=1"]
            missing = [line for line in wanted if line not in text.splitlines()]
            if missing:
                block = "\n# kiosk (provisioning)\n" + "\n".join(missing) + "\n"
                self.write(s, f"/{boot}/config.txt", text.rstrip("\n") + "\n" + block, 0o755)
        # systemd feeds the hardware watchdog: a hung kernel reboots the Pi
        self.write(
            s,
            "/etc/systemd/system.conf.d/kiosk-watchdog.conf",
            "[Manager]\nRuntimeWatchdogSec=15s\nRebootWatchdogSec=2min\n",
        )
        # nothing else on the screen: no login prompt on tty1
        link = self.path("/etc/systemd/system/getty@tty1.service")
        if not link.is_symlink():
            s.status = "would change" if self.dry_run else "changed"
            s.details.append("mask getty@tty1 (the kiosk owns the screen)")
            if not self.dry_run:
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to("/dev/null")

    def units(self) -> None:
        s = self.step("systemd units")
        for unit in ("kiosk.service", "backoffice.service"):
            text = (self.source / "systemd" / unit).read_text()
            self.write(s, f"/etc/systemd/system/{unit}", text)
        wants = self.path("/etc/systemd/system/multi-user.target.wants/kiosk.service")
        if not wants.is_symlink():
            s.status = "would change" if self.dry_run else "changed"
            s.details.append("enable kiosk.service")
            if not self.dry_run:
                wants.parent.mkdir(parents=True, exist_ok=True)
                wants.symlink_to("/etc/systemd/system/kiosk.service")
        if self.live and not self.dry_run and s.status == "changed":
            self.run(s, ["systemctl", "daemon-reload"], check=False)

    def enrol(self, settings: Settings) -> None:
        s = self.step("enrolment")
        if self.path(f"{DATA_DIR}/credential.json").exists():
            s.details.append("already enrolled")
            return
        if not settings.enrol_code:
            s.status = "skipped"
            s.details.append(
                "no --enrol-code: later, `sudo -u kiosk kiosk --config /etc/kiosk/kiosk.toml "
                "enroll URL CODE`"
            )
            return
        if not self.is_whole_os() or not self.path(f"{VENV}/bin/kiosk").exists():
            s.status = "skipped"
            s.details.append("the application is not installed here: enrol on the target")
            return
        s.status = "would change" if self.dry_run else "changed"
        s.details.append(f"enrol with {settings.backoffice_url}")
        self.run(
            s,
            [
                "runuser",
                "-u",
                USER,
                "--",
                f"{VENV}/bin/kiosk",
                "--config",
                CONFIG,
                "enroll",
                settings.backoffice_url,
                settings.enrol_code,
            ],
        )

    def coprocessor(self, settings: Settings) -> None:
        """The locker co-processor's firmware, flashed and its version checked by the kiosk
        itself (`kiosk firmware flash`): only on the Pi, where the Pico is plugged in."""
        if settings.lockers_backend != "pico":
            return
        s = self.step("locker co-processor firmware")
        command = ["runuser", "-u", USER, "--", f"{VENV}/bin/kiosk", "firmware", "flash",
                   settings.lockers_port]  # fmt: skip
        if not self.live:
            s.status = "skipped"
            s.details.append(f"on the Pi, with the Pico plugged in: {shlex.join(command)}")
            return
        out = self.run(s, command)
        s.details += out.splitlines()
        if out.startswith("flashed"):
            s.status = "changed"

    def doctor(self) -> None:
        s = self.step("kiosk doctor")
        if not self.is_whole_os() or not self.path(f"{VENV}/bin/kiosk").exists():
            s.status = "skipped"
            s.details.append("the application is not installed here")
            return
        command = ["runuser", "-u", USER, "--", f"{VENV}/bin/kiosk", "--config", CONFIG, "doctor"]
        if self.dry_run:
            s.details.append(f"would run: {shlex.join(command)}")
            return
        full = command if self.live else ["chroot", str(self.root), *command]
        done = subprocess.run(full, capture_output=True, text=True)
        s.details += (done.stdout + done.stderr).splitlines()
        if done.returncode != 0:  # a device not plugged in yet is for the technician to see
            s.details.append(f"doctor found problems (exit {done.returncode}): see above")

    def report(self, settings: Settings) -> str:
        lines = [
            f"kiosk provisioning report ({'dry run' if self.dry_run else 'applied'})",
            f"root: {self.root}",
            f"shop: {settings.shop_name}  kiosk: {settings.kiosk_id}",
            "",
        ]
        for step in self.steps:
            lines.append(f"[{step.status:>12}] {step.name}")
            lines += [f"               {d}" for d in step.details]
        changed = sum(s.status == "changed" for s in self.steps)
        lines += ["", f"{changed} steps changed something"]
        text = "\n".join(lines) + "\n"
        if not self.dry_run:
            target = self.path(f"{DATA_DIR}/provisioning-report.txt")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        return text


def _source_version(source: Path) -> str:
    text = (source / "kiosk" / "__init__.py").read_text()
    found = re.search(r'__version__\s*=\s*"([^"]+)"', text)
    if not found:
        raise ProvisionError(f"no __version__ in {source / 'kiosk/__init__.py'}")
    return found.group(1)


def main(argv: list[str] | None = None) -> int:
    args = flags(__doc__.split("\n\n")[0], str(SOURCE)).parse_args(argv)
    root = Path(args.root).resolve()
    if os.geteuid() != 0 and not args.dry_run:
        print("provisioning changes system files: run it with sudo (or --dry-run)", file=sys.stderr)
        return 2
    try:
        settings = settings_from(args)
        p = Provisioner(root, args.dry_run, Path(args.source))
        p.packages()
        p.user()
        p.app()
        p.data_dir(settings)
        p.config(settings)
        p.udev(settings)
        p.screen_and_watchdog()
        hardening.apply(p, settings)
        updates.apply(p, settings, Path(args.source))
        p.units()
        p.enrol(settings)
        p.coprocessor(settings)
        p.doctor()
    except ProvisionError as exc:
        print(f"provisioning failed: {exc}", file=sys.stderr)
        return 1
    print(p.report(settings), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
