"""`kiosk doctor --security` (issue 16 §4) against trees as provisioning leaves them, with
systemctl, sshd and nft answering as they would on the Pi: a provisioned tree is ok
everywhere; an unprovisioned one, or one where a service is off, says what differs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kiosk.services.machine.security import SecurityCheck
from tests.system.test_provisioning import needs_root, provision, staged_root

ROOT = Path(__file__).resolve().parents[2]


def answers(**given: tuple[int, str]):
    def run(command):
        return given.get(" ".join(command[:2]), (0, ""))

    return run


RUNNING = answers(**{
    "systemctl is-active": (0, "active"),
    "nft list": (0, "table inet kiosk { chain input { policy drop; } }"),
    "sshd -T": (0, "passwordauthentication no\npermitrootlogin no\n"
                   "kbdinteractiveauthentication no\nallowusers tech"),
})  # fmt: skip


def states(check: SecurityCheck) -> dict[str, str]:
    return {f.check: f.state for f in check.all()}


@needs_root
def test_a_provisioned_tree_is_ok_everywhere(tmp_path):
    root = staged_root(tmp_path)
    assert provision(root).returncode == 0
    (root / "proc/sys/kernel").mkdir(parents=True)
    (root / "proc/sys/kernel/sysrq").write_text("0\n")
    found = states(SecurityCheck(root, RUNNING, data_dir="/var/lib/kiosk"))
    assert found == {
        "virtual terminals": "ok",
        "SysRq key": "ok",
        "USB devices": "ok",
        "SSH": "ok",
        "firewall": "ok",
        "data folder": "ok",
    }


def test_an_unprovisioned_system_differs_and_says_where(tmp_path):
    (tmp_path / "proc/sys/kernel").mkdir(parents=True)
    (tmp_path / "proc/sys/kernel/sysrq").write_text("176\n")
    findings = {f.check: f for f in SecurityCheck(tmp_path, answers(**{
        "systemctl is-active": (3, "inactive"),
        "nft list": (1, "Error: No such file or directory"),
        "sshd -T": (1, "Permission denied"),
    })).all()}  # fmt: skip
    assert {name: f.state for name, f in findings.items()} == {
        "virtual terminals": "differs",
        "SysRq key": "differs",
        "USB devices": "differs",
        "SSH": "ok",  # inactive
        "firewall": "differs",
    }
    assert "kernel.sysrq = 176" in findings["SysRq key"].detail


@needs_root
def test_ssh_with_passwords_or_usbguard_stopped_differs(tmp_path):
    root = staged_root(tmp_path)
    assert provision(root).returncode == 0
    loose = answers(
        **{"systemctl is-active": (0, "active"), "sshd -T": (0, "passwordauthentication yes")}
    )
    ssh = {f.check: f for f in SecurityCheck(root, loose).all()}["SSH"]
    assert ssh.state == "differs" and "passwordauthentication yes" in ssh.detail
    stopped = answers(**{"systemctl is-active": (3, "inactive")})
    usb = {f.check: f for f in SecurityCheck(root, stopped).all()}["USB devices"]
    assert usb.state == "differs" and "inactive" in usb.detail


def test_the_command_exits_1_when_something_differs():
    done = subprocess.run([sys.executable, "-m", "kiosk", "--config", "demo", "doctor",
                           "--security"], cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert done.stdout.startswith("CHECK")
    assert done.returncode == (1 if " differs " in done.stdout else 0)
