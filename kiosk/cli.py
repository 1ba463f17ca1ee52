"""`kiosk`: the technician's and the service's command line.

Every command exits non-zero on a fault and prints what was wrong and where, so it can
be used from a shell over SSH, from systemd and from provisioning scripts alike.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from kiosk import __version__
from kiosk import config as config_module
from kiosk.config import Config, ConfigError
from kiosk.storage.store import StoreError

Handler = Callable[[argparse.Namespace], int]


def _now() -> datetime:
    return datetime.now(UTC)


def _config(args: argparse.Namespace) -> Config:
    return config_module.load(args.config)


def _routed(name: str) -> Handler:
    """A command that needs the store: the running kiosk answers it through its control
    socket; with no kiosk running, this process opens the store (and devices) itself."""

    def handler(args: argparse.Namespace) -> int:
        from kiosk.control.client import ask
        from kiosk.control.commands import COMMANDS
        from kiosk.control.context import Context

        cfg = _config(args)
        if name == "doctor" and args.security:  # the OS, read by this process: no kiosk
            from kiosk.services.machine.security import SecurityCheck, format_findings

            findings = SecurityCheck(data_dir=cfg.kiosk.data_dir).all()
            print(format_findings(findings))
            return 1 if any(f.state == "differs" for f in findings) else 0
        timeout_s = 120.0
        if name == "sync now":  # the kiosk is told how long is left of this command's time
            from kiosk.control.commands import sync_time_left_s

            args.within_s = sync_time_left_s(cfg)
            timeout_s = max(args.within_s, 0.1) + 0.2
        try:
            reply = ask(cfg, name, args, timeout_s)
        except PermissionError as exc:
            print(
                f"kiosk {name}: the running kiosk's control socket refused this user ({exc}):"
                " it answers the kiosk user and its group",
                file=sys.stderr,
            )
            return 2
        if reply is not None:
            sys.stdout.write(reply.out)
            sys.stderr.write(reply.err)
            return reply.code
        if name == "doctor":  # devices only: no store needed
            ctx = Context(cfg, repos=None)
        else:
            ctx = Context.open(cfg, salvage=getattr(args, "salvage", False))
        try:
            return COMMANDS[name](ctx, args, sys.stdout, sys.stderr)
        finally:
            ctx.close()

    return handler


def cmd_config_check(args: argparse.Namespace) -> int:
    cfg = config_module.load(args.file or args.config)
    print(f"{cfg.source}: OK")
    print(f"  shop      {cfg.shop.name} ({cfg.shop.currency}, {cfg.shop.locale})")
    print(f"  kiosk     {cfg.kiosk.id}, data in {cfg.kiosk.data_dir}")
    print(f"  sync      {cfg.sync.url or 'offline only (no [sync] url)'}")
    return 0


def cmd_config_example(args: argparse.Namespace) -> int:
    sys.stdout.write(config_module.example())
    return 0


def cmd_staff_add(args: argparse.Namespace) -> int:
    import getpass

    from kiosk.domain.staff import StaffError, check_pin

    if args.pin_stdin:  # for scripts: one line on stdin
        pin = sys.stdin.readline().strip()
    else:
        pin = getpass.getpass("PIN (4 to 8 digits): ")
        if getpass.getpass("the same PIN again: ") != pin:
            print("kiosk staff add: the two PINs differ", file=sys.stderr)
            return 2
    try:
        check_pin(pin)
    except StaffError as exc:
        print(f"kiosk staff add: {exc}", file=sys.stderr)
        return 2
    args.pin = pin
    return _routed("staff add")(args)


def cmd_firmware_flash(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kiosk.services.machine.firmware import FlashError, flash

    try:
        result = flash(args.port, board=Path(args.board) if args.board else None, force=args.force)
    except FlashError as exc:
        print(f"kiosk firmware flash: {exc}", file=sys.stderr)
        return 1
    print(f"{'flashed' if result.changed else 'unchanged'}: {result.detail}")
    return 0


def cmd_firmware_version(args: argparse.Namespace) -> int:
    from kiosk.services.machine.firmware import device_version, source_dir, source_version

    running = device_version(args.port)
    print(f"source   {source_version(source_dir())}")
    print(f"running  {running or 'nothing answers (no firmware, or in its REPL)'}")
    return 0 if running else 1


def cmd_enroll(args: argparse.Namespace) -> int:
    from kiosk.sync import credentials
    from kiosk.sync.client import SyncError, enroll

    cfg = _config(args)
    try:
        answer = enroll(
            args.url, args.code, timeout_s=cfg.sync.timeout_s, verify=cfg.sync.ca_file or True
        )
    except SyncError as exc:
        print(f"kiosk enroll: {exc}", file=sys.stderr)
        return 1
    cred = credentials.Credential(
        args.url, answer["kiosk_id"], int(answer["shop_id"]), answer["credential"]
    )
    path = credentials.save(cfg.data_path, cred)
    shop = answer.get("shop_name", cred.shop_id)
    print(f"enrolled as kiosk {cred.kiosk_id} of shop {shop}; credential in {path}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kiosk.app.runner import run

    cfg = _config(args)
    width, _, height = args.size.partition("x")
    return run(
        cfg,
        size=(int(width), int(height)),
        fullscreen=args.fullscreen,
        first_frame=Path(args.first_frame) if args.first_frame else None,
        ready_mark=Path(args.ready) if args.ready else None,
    )


def cmd_demo_seed(args: argparse.Namespace) -> int:
    from kiosk.services.context import open_kiosk_store
    from kiosk.services.demo_data import seed

    cfg = _config(args)
    repos = open_kiosk_store(cfg)
    try:
        if len(repos.customers) and not args.force:
            print(
                f"{cfg.data_path} already has {len(repos.customers)} customers; --force adds more"
            )
            return 0
        made = seed(repos, cfg, _now(), customers=args.customers)
    finally:
        repos.store.close()
    print(", ".join(f"{v} {k}" for k, v in made.items()) + f" written to {cfg.data_path}")
    return 0


def cmd_demo_guide(args: argparse.Namespace) -> int:
    from kiosk.services.context import open_kiosk_store
    from kiosk.services.demo_data import guide

    cfg = _config(args)
    repos = open_kiosk_store(cfg)
    try:
        for line in guide(repos):
            print(line)
    finally:
        repos.store.close()
    return 0


def cmd_demo_receipts(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kiosk.receipts.samples import write_samples

    for path in write_samples(Path(args.folder)):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk", description="Self-service kiosk for repair shops."
    )
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help=f"config file, or 'demo' for the built-in demo profile "
        f"(default: $KIOSK_CONFIG or {config_module.DEFAULT_PATH})",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    cfg = sub.add_parser("config", help="check or show the configuration")
    cfg_sub = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = cfg_sub.add_parser("check", help="validate a config file (exit 1 if wrong)")
    check.add_argument("file", nargs="?", help="file to check (default: --config)")
    check.set_defaults(handler=cmd_config_check)
    cfg_sub.add_parser("example", help="print a config file with every key").set_defaults(
        handler=cmd_config_example
    )

    outbox = sub.add_parser("outbox", help="operations waiting for the back office")
    outbox.add_argument("--json", action="store_true", help="one JSON object")
    outbox.set_defaults(handler=_routed("outbox"))

    store = sub.add_parser("store", help="the local database")
    store_sub = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    st_check = store_sub.add_parser("check", help="open (recovering if needed) and report")
    st_check.add_argument(
        "--salvage",
        action="store_true",
        help="if the journal is damaged mid-file, keep the damaged part aside and open",
    )
    st_check.set_defaults(handler=_routed("store check"))
    store_sub.add_parser("compact", help="fold the journal into a new snapshot").set_defaults(
        handler=_routed("store compact")
    )
    store_sub.add_parser(
        "prune", help="forget synced history older than [storage] retention_days"
    ).set_defaults(handler=_routed("store prune"))

    staff = sub.add_parser("staff", help="who may use staff mode")
    staff_sub = staff.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    st_add = staff_sub.add_parser("add", help="add a staff member; the PIN is asked for")
    st_add.add_argument("id", help="a short id, e.g. s1")
    st_add.add_argument("name", help="shown on screen and in the log")
    st_add.add_argument("--role", choices=["staff", "technician", "manager"], default="staff")
    st_add.add_argument("--card", default="", help="the staff card's code, as scanned")
    st_add.add_argument("--pin-stdin", action="store_true", help="read the PIN from stdin")
    st_add.add_argument("--replace", action="store_true", help="replace a member's PIN/card")
    st_add.set_defaults(handler=cmd_staff_add)
    staff_sub.add_parser("list", help="the staff members").set_defaults(
        handler=_routed("staff list")
    )

    enroll = sub.add_parser("enroll", help="exchange a one-time code for this kiosk's credential")
    enroll.add_argument("url", help="the back office, e.g. https://pos.example.com")
    enroll.add_argument("code", help="the enrolment code the back office gave")
    enroll.set_defaults(handler=cmd_enroll)

    sync = sub.add_parser("sync", help="the back office link")
    sync_sub = sync.add_subparsers(dest="sync_command", metavar="ACTION", required=True)
    status = sync_sub.add_parser(
        "status", help="queue depth, oldest pending, last success and error, cursor"
    )
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=_routed("sync status"))
    sync_sub.add_parser("now", help="run one sync round").set_defaults(handler=_routed("sync now"))

    update = sub.add_parser("update", help="releases: what runs, what waits (docs/updates.md)")
    up_sub = update.add_subparsers(dest="update_command", metavar="ACTION", required=True)
    up_status = up_sub.add_parser("status", help="running, previous, downloaded, failed")
    up_status.add_argument("--json", action="store_true")
    up_status.set_defaults(handler=_routed("update status"))
    up_sub.add_parser(
        "now", help="switch to the downloaded release at the next quiet moment, open or not"
    ).set_defaults(handler=_routed("update now"))
    up_sub.add_parser("rollback", help="go back to the previous release").set_defaults(
        handler=_routed("update rollback")
    )

    run = sub.add_parser("run", help="run the kiosk (touchscreen UI)")
    run.add_argument("--size", default="1024x600", help="window size WxH (ignored when fullscreen)")
    run.add_argument("--fullscreen", action="store_true", help="take the whole screen (the shop)")
    run.add_argument(
        "--first-frame", help=argparse.SUPPRESS
    )  # bench/ui.py: time of the first frame
    run.add_argument("--ready", help=argparse.SUPPRESS)  # bench/ui.py: when the kiosk is ready
    run.set_defaults(handler=cmd_run)

    doctor = sub.add_parser("doctor", help="test every configured device (exit 1 on a fault)")
    doctor.add_argument("--print-test", action="store_true", help="print a test page")
    doctor.add_argument("--open-locker", metavar="N", help="pulse locker N and watch its door")
    doctor.add_argument(
        "--security",
        action="store_true",
        help="instead: what provisioning closed (VTs, SysRq, USB, SSH, firewall), as it is now",
    )
    doctor.set_defaults(handler=_routed("doctor"))

    firmware = sub.add_parser("firmware", help="the locker co-processor's firmware (a Pico)")
    fw_sub = firmware.add_subparsers(dest="firmware_command", metavar="ACTION", required=True)
    fw_flash = fw_sub.add_parser("flash", help="copy the firmware onto the Pico (mpremote)")
    fw_flash.add_argument("port", help="the Pico's serial device, e.g. /dev/kiosk-lockers")
    fw_flash.add_argument("--board", help="a board.py with this bank's wiring")
    fw_flash.add_argument("--force", action="store_true", help="even if the version matches")
    fw_flash.set_defaults(handler=cmd_firmware_flash)
    fw_version = fw_sub.add_parser("version", help="the running firmware's version")
    fw_version.add_argument("port")
    fw_version.set_defaults(handler=cmd_firmware_version)

    demo = sub.add_parser("demo", help="demo data")
    demo_sub = demo.add_subparsers(dest="demo_command", metavar="ACTION", required=True)
    seed = demo_sub.add_parser("seed", help="write demo customers and orders")
    seed.add_argument("--customers", type=int, default=60)
    seed.add_argument("--force", action="store_true", help="seed even if there is data")
    seed.set_defaults(handler=cmd_demo_seed)
    guide_cmd = demo_sub.add_parser("guide", help="what to type at the demo's screen")
    guide_cmd.set_defaults(handler=cmd_demo_guide)
    receipts = demo_sub.add_parser("receipts", help="render every receipt kind to PNG")
    receipts.add_argument("folder", help="where to write the PNG files")
    receipts.set_defaults(handler=cmd_demo_receipts)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"kiosk: configuration error: {exc}", file=sys.stderr)
        return 1
    except StoreError as exc:
        print(f"kiosk: store error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
