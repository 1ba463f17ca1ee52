"""Provisioning's updates step (docs/updates.md): the launcher systemd starts, the
update repository's first trusted root, and the OS's own security updates.
Standard library only, as the rest of provisioning.

- The launcher (kiosk/updates/launcher.py) is copied to /opt/kiosk/bin/kiosk-launcher:
  it is the one part of the kiosk an update never replaces.
- The repository's root.json (made by `python -m backoffice release init`) becomes
  /etc/kiosk/update-root.json, which the kiosk's `[updates] root` names.
- Debian's security updates through unattended-upgrades: downloaded and installed in
  the night (apt-daily-upgrade at 02:30), a reboot they need only at `--reboot-at`,
  in the shop's closed hours. The firewall lets only apt's own downloads out
  (provisioning/hardening.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from settings import Settings
    from target import Target

LAUNCHER = "/opt/kiosk/bin/kiosk-launcher"
UPDATE_ROOT = "/etc/kiosk/update-root.json"

AUTO_UPGRADES = """// written by provisioning: lists refreshed and security updates installed daily
APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
APT::Periodic::AutocleanInterval "7";
"""


def unattended_conf(reboot_at: str) -> str:
    return f"""// written by provisioning: Debian's security updates only; a reboot they need
// waits for {reboot_at}, when the shop is closed (docs/updates.md, "The OS")
Unattended-Upgrade::Origins-Pattern {{
    "origin=Debian,codename=${{distro_codename}}-security,label=Debian-Security";
}};
Unattended-Upgrade::Automatic-Reboot "true";
Unattended-Upgrade::Automatic-Reboot-WithUsers "true";
Unattended-Upgrade::Automatic-Reboot-Time "{reboot_at}";
Unattended-Upgrade::Remove-Unused-Dependencies "true";
"""


# apt-daily-upgrade.timer runs at 06:00 plus up to an hour by default: inside opening
# hours. It runs in the night instead (the upgrade itself restarts nothing of the kiosk).
UPGRADE_TIMER = """# written by provisioning: security updates installed in the night
[Timer]
OnCalendar=
OnCalendar=*-*-* 02:30
RandomizedDelaySec=30m
"""


def apply(p: Target, settings: Settings, source: Path) -> None:
    s = p.step("updates: launcher, trusted root, OS security updates")
    p.write(s, LAUNCHER, (source / "kiosk" / "updates" / "launcher.py").read_text(), 0o755)
    if settings.update_root:
        p.write(s, UPDATE_ROOT, Path(settings.update_root).read_text(), 0o644)
    p.write(s, "/etc/apt/apt.conf.d/20auto-upgrades", AUTO_UPGRADES)
    p.write(s, "/etc/apt/apt.conf.d/52kiosk-unattended-upgrades",
            unattended_conf(settings.reboot_at))  # fmt: skip
    p.write(s, "/etc/systemd/system/apt-daily-upgrade.timer.d/kiosk.conf", UPGRADE_TIMER)
