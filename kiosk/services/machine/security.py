"""`kiosk doctor --security`: what provisioning closed (provisioning/hardening.py), read
back from the running system: virtual terminals, SysRq, USB policy, SSH, the firewall,
and the kiosk's own files. Each check says ok, differs (from the policy) or unknown (it
needs root to look, or the tool is missing), and why.

Everything is read under `root` (a staged tree in the tests, `/` on the Pi); commands go
through `run`, so a test can answer for systemctl, nft and sshd.
"""

from __future__ import annotations

import stat
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kiosk.sync.credentials import FILE_NAME

Run = Callable[[Sequence[str]], tuple[int, str]]


def _run(command: Sequence[str]) -> tuple[int, str]:
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, str(exc)
    return done.returncode, (done.stdout + done.stderr).strip()


@dataclass(frozen=True)
class Finding:
    check: str
    state: str  # ok | differs | unknown
    detail: str


def _settings(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs if not k.strip().startswith("#")}


class SecurityCheck:
    def __init__(self, root: Path = Path("/"), run: Run = _run, data_dir: str = "") -> None:
        self.root = root
        self.run = run
        self.data_dir = data_dir

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def service(self, unit: str) -> str | None:
        """active, inactive, failed…; None when systemd cannot be asked here."""
        code, out = self.run(["systemctl", "is-active", unit])
        lines = out.splitlines()
        if code == 127 or not lines or " " in lines[0]:  # no systemctl, or no systemd
            return None
        return lines[0]

    def all(self) -> list[Finding]:
        return [
            self.terminals(),
            self.sysrq(),
            self.usb(),
            self.ssh(),
            self.firewall(),
            *self.files(),
        ]

    def terminals(self) -> Finding:
        conf = self.path("/etc/systemd/logind.conf.d/kiosk.conf")
        values = _settings(conf.read_text()) if conf.exists() else {}
        if values.get("NAutoVTs") == "0" and values.get("ReserveVT") == "0":
            return Finding("virtual terminals", "ok", "no getty on any VT, none reserved")
        detail = f"{conf} does not set NAutoVTs=0 and ReserveVT=0"
        return Finding("virtual terminals", "differs", detail)

    def sysrq(self) -> Finding:
        live = self.path("/proc/sys/kernel/sysrq")
        conf = self.path("/etc/sysctl.d/90-kiosk.conf")
        configured = conf.exists() and _settings(conf.read_text()).get("kernel.sysrq") == "0"
        now = live.read_text().strip() if live.exists() else "?"
        if configured and now in ("0", "?"):
            return Finding("SysRq key", "ok", f"off (kernel.sysrq = {now})")
        where = f"{conf} {'sets 0' if configured else 'missing'}"
        return Finding("SysRq key", "differs", f"kernel.sysrq = {now}; {where}")

    def usb(self) -> Finding:
        rules = self.path("/etc/usbguard/rules.conf")
        if not rules.exists():
            return Finding("USB devices", "differs", f"no usbguard policy ({rules})")
        allowed = [line for line in rules.read_text().splitlines() if line.startswith("allow id")]
        state = self.service("usbguard")
        if state is None:
            detail = f"policy with {len(allowed)} devices; systemd cannot be asked here"
            return Finding("USB devices", "unknown", detail)
        if state != "active":
            return Finding("USB devices", "differs", f"usbguard is {state}")
        if stat.S_IMODE(rules.stat().st_mode) != 0o600:
            return Finding("USB devices", "differs", f"{rules} is readable by others")
        return Finding("USB devices", "ok", f"usbguard active; {len(allowed)} devices allowed")

    def ssh(self) -> Finding:
        active = self.service("ssh")
        if active is None:
            return Finding("SSH", "unknown", "systemd cannot be asked here")
        if active != "active":
            return Finding("SSH", "ok", "off")
        code, effective = self.run(["sshd", "-T"])
        if code != 0:  # sshd -T reads host keys: root only
            drop_in = self.path("/etc/ssh/sshd_config.d/kiosk.conf")
            if not drop_in.exists():
                return Finding("SSH", "differs", "on, without provisioning's key-only settings")
            return Finding("SSH", "unknown", "on; its effective settings need root (sshd -T)")
        settings = dict(line.split(" ", 1) for line in effective.splitlines() if " " in line)
        wrong = [
            f"{key} {settings.get(key)}"
            for key, want in (
                ("passwordauthentication", "no"),
                ("permitrootlogin", "no"),
                ("kbdinteractiveauthentication", "no"),
            )
            if settings.get(key) != want
        ]
        if wrong:
            return Finding("SSH", "differs", "on, with " + ", ".join(wrong))
        return Finding("SSH", "ok", f"on, keys only, for {settings.get('allowusers', '?')}")

    def firewall(self) -> Finding:
        code, ruleset = self.run(["nft", "list", "table", "inet", "kiosk"])
        if code == 0:
            drops = "policy drop" in ruleset
            detail = "table inet kiosk loaded" + ("" if drops else " without drop policy")
            return Finding("firewall", "ok" if drops else "differs", detail)
        conf = self.path("/etc/nftables.conf")
        if not conf.exists() or "table inet kiosk" not in conf.read_text():
            return Finding("firewall", "differs", "no kiosk ruleset in /etc/nftables.conf")
        if "Operation not permitted" in ruleset or code == 127:
            return Finding("firewall", "unknown", "ruleset written; loading it needs root to see")
        return Finding("firewall", "differs", "ruleset written but not loaded (nftables service)")

    def files(self) -> list[Finding]:
        if not self.data_dir:
            return []
        data = self.path(self.data_dir)
        found = []
        if data.exists():
            mode = stat.S_IMODE(data.stat().st_mode)
            state = "ok" if not mode & 0o007 else "differs"
            found.append(Finding("data folder", state, f"{self.data_dir} mode {mode:o}"))
        credential = data / FILE_NAME
        if credential.exists():
            mode = stat.S_IMODE(credential.stat().st_mode)
            state = "ok" if not mode & 0o077 else "differs"
            found.append(Finding("kiosk credential", state, f"mode {mode:o}"))
        return found


def format_findings(findings: list[Finding]) -> str:
    width = max(len(f.check) for f in findings)
    lines = [f"{'CHECK'.ljust(width)}  STATE    DETAIL"]
    lines += [f"{f.check.ljust(width)}  {f.state.ljust(7)}  {f.detail}" for f in findings]
    return "\n".join(lines)
