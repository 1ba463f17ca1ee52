"""What provisioning writes to close the OS around the kiosk (issue 16 §2), as text, so
each file can be checked by the tool that reads it (usbguard, nft, sshd) in the tests.
Standard library only, as the rest of provisioning.

- No way to another virtual terminal: logind spawns no getty (`NAutoVTs=0`) and keeps
  none in reserve (`ReserveVT=0`); the magic SysRq key is off (`kernel.sysrq = 0`).
- USB: usbguard allows hubs and the devices the kiosk was given (printer, terminal
  adapter, scanner, touchscreen, the lockers' adapter or co-processor), by vendor and
  product id; anything else plugged in (a keyboard, a network adapter, a storage stick)
  stays blocked. Staff can allow a replacement (`usbguard allow-device`).
- SSH: off, unless a public key is given; then keys only, for that user only, no root.
- nftables: inbound nothing but SSH from the shop's LAN ranges (when SSH is on);
  outbound the back office, DNS and NTP, and apt's downloads (its `_apt` user) for
  Debian's security updates (provisioning/updates.py).
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

from settings import USB_ID

if TYPE_CHECKING:
    from settings import Settings
    from target import Step, Target

LOGIND = """# written by provisioning: no login prompt on any virtual terminal, none kept in reserve
[Login]
NAutoVTs=0
ReserveVT=0
"""

SYSCTL = """# written by provisioning: the magic SysRq key does nothing
kernel.sysrq = 0
"""

# The kiosk's group may list devices and allow one permanently (usbguard-daemon.conf(5),
# IPC access control): what staff mode's Devices screen does, and nothing more.
USBGUARD_IPC = "Devices=list,modify\nPolicy=list,modify\n"


def usbguard_rules(devices: list[tuple[str, str]]) -> str:
    """Rules for usbguard's RuleFile: hubs, then each (name, VID:PID) device."""
    lines = [
        "# written by provisioning: the kiosk's own USB devices; anything else is blocked",
        "allow with-interface equals { 09:00:* }  # hubs (the Pi's own among them)",
    ]
    seen: set[str] = set()
    for name, usb in devices:
        usb = usb.lower()
        if not USB_ID.match(usb):
            raise ValueError(f"{name}: USB id {usb!r} is not VID:PID in hex")
        if usb in seen:
            continue
        seen.add(usb)
        lines.append(f'allow id {usb} label "{name}"')
    return "\n".join(lines) + "\n"


def sshd_config(user: str) -> str:
    if not re.match(r"^[a-z_][a-z0-9_-]{0,31}$", user):
        raise ValueError(f"--ssh-user {user!r} is not a user name")
    return f"""# written by provisioning: keys only, {user} only, never root
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
PubkeyAuthentication yes
AuthenticationMethods publickey
AllowUsers {user}
X11Forwarding no
AllowTcpForwarding no
"""


def nftables_conf(lan: list[str], backoffice: list[str], backoffice_port: int, ssh: bool) -> str:
    """The whole ruleset (`nft -f`): a table of its own, flushed and rebuilt each load."""
    nets = [ipaddress.ip_network(n, strict=False) for n in lan]
    v4 = [str(n) for n in nets if n.version == 4]
    v6 = [str(n) for n in nets if n.version == 6]
    hosts = [ipaddress.ip_address(a) for a in backoffice]
    h4 = [str(a) for a in hosts if a.version == 4]
    h6 = [str(a) for a in hosts if a.version == 6]
    inbound = []
    if ssh and v4:
        inbound.append(f"        ip saddr {{ {', '.join(v4)} }} tcp dport 22 accept")
    if ssh and v6:
        inbound.append(f"        ip6 saddr {{ {', '.join(v6)} }} tcp dport 22 accept")
    outbound = []
    if h4:
        outbound.append(
            f"        ip daddr {{ {', '.join(h4)} }} tcp dport {backoffice_port} accept"
        )
    if h6:
        outbound.append(
            f"        ip6 daddr {{ {', '.join(h6)} }} tcp dport {backoffice_port} accept"
        )
    if not hosts:  # the back office's address unknown at provisioning: its port, anywhere
        outbound.append(f"        tcp dport {backoffice_port} accept")
    return f"""#!/usr/sbin/nft -f
# written by provisioning: inbound only SSH from the shop's LAN; outbound the back
# office, DNS and NTP, and apt's own downloads (user _apt: Debian's security updates).
# Everything else is dropped (and counted).
table inet kiosk
delete table inet kiosk
table inet kiosk {{
    chain input {{
        type filter hook input priority filter; policy drop;
        iif lo accept
        ct state established,related accept
        ct state invalid drop
        ip protocol icmp icmp type {{ echo-request, destination-unreachable,
            time-exceeded }} limit rate 5/second accept
        ip6 nexthdr icmpv6 icmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert,
            nd-router-advert, echo-request, packet-too-big }} accept
        udp sport 67 udp dport 68 accept
{chr(10).join(inbound)}
        counter drop
    }}
    chain forward {{
        type filter hook forward priority filter; policy drop;
    }}
    chain output {{
        type filter hook output priority filter; policy drop;
        oif lo accept
        ct state established,related accept
        udp dport {{ 53, 123 }} accept
        tcp dport 53 accept
        udp dport 67 accept
        ip6 nexthdr icmpv6 accept
        ip protocol icmp accept
        meta skuid "_apt" tcp dport {{ 80, 443 }} accept
{chr(10).join(outbound)}
        counter drop
    }}
}}
"""


def backoffice_addresses(url: str, given: list[str]) -> tuple[list[str], int, str]:
    """(addresses, port, note) of the back office for the firewall: those given, else the
    URL's host resolved now; unresolvable, no address (the port then open to any)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if given:
        return [str(ipaddress.ip_address(a)) for a in given], port, ""
    host = parts.hostname or ""
    try:
        return [str(ipaddress.ip_address(host))], port, ""
    except ValueError:
        pass
    try:
        found = sorted(
            {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
        )
    except OSError as exc:
        note = (f"{host} could not be resolved ({exc}): outbound tcp/{port} allowed to any "
                "address; run again with --backoffice-address")  # fmt: skip
        return [], port, note
    return found, port, f"{host} resolved to {', '.join(found)} (run again if it moves)"


def mask(p: Target, step: Step, unit: str, masked: bool) -> None:
    """Mask (a link to /dev/null) or unmask a unit in the target tree, idempotently."""
    link = p.path(f"/etc/systemd/system/{unit}")
    is_masked = link.is_symlink() and str(link.readlink()) == "/dev/null"
    if is_masked == masked:
        return
    step.status = "would change" if p.dry_run else "changed"
    step.details.append(f"{'mask' if masked else 'unmask'} {unit}")
    if p.dry_run:
        return
    if masked:
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to("/dev/null")
    else:
        link.unlink()


def apply(p: Target, settings: Settings) -> None:
    """The provisioner's step: every file above written, the services switched."""
    s = p.step("closing the OS: terminals, SysRq, USB, SSH, firewall")
    write = p.write
    write(s, "/etc/systemd/logind.conf.d/kiosk.conf", LOGIND)
    write(s, "/etc/sysctl.d/90-kiosk.conf", SYSCTL)
    devices = [
        (name, usb)
        for name, usb in (
            ("printer", settings.printer_usb),
            ("terminal", settings.terminal_usb),
            ("lockers", settings.lockers_usb),
            ("scanner", settings.scanner_usb),
            ("touchscreen", settings.touch_usb),
        )
        if usb
    ]
    write(s, "/etc/usbguard/rules.conf", usbguard_rules(devices), 0o600)
    # staff mode lists the devices kept out and lets a replacement in (allow-device -p)
    write(s, "/etc/usbguard/IPCAccessControl.d/:kiosk", USBGUARD_IPC, 0o600)
    key, user = settings.ssh_key, settings.ssh_user
    for unit in ("ssh.service", "ssh.socket"):
        mask(p, s, unit, masked=not key)
    if key:
        write(s, "/etc/ssh/sshd_config.d/kiosk.conf", sshd_config(user))
        keys = p.path(f"/home/{user}/.ssh/authorized_keys")
        have = keys.read_text() if keys.exists() else ""
        if key not in have.splitlines():
            write(s, f"/home/{user}/.ssh/authorized_keys", have + key + "\n", 0o600)
    addresses, port, note = backoffice_addresses(
        settings.backoffice_url, settings.backoffice_addresses
    )
    if note:
        s.details.append(note)
    rules = nftables_conf(settings.lan, addresses, port, ssh=bool(key))
    write(s, "/etc/nftables.conf", rules, 0o755)
    if p.live and not p.dry_run:
        # restart, not just start: a daemon apt started has the package's own rules
        ssh = (["systemctl", "disable", "--now", "ssh.service", "ssh.socket"] if not key
               else ["systemctl", "reload-or-restart", "ssh"])  # fmt: skip
        for command in (
            ["sysctl", "--system"],
            ["systemctl", "enable", "nftables", "usbguard"],
            ["systemctl", "restart", "nftables", "usbguard"],
            ssh,
        ):
            p.run(s, command, check=False)
