"""`python -m backoffice release …` (the repository, on the release machine, with the
offline keys) and `python -m backoffice rollout …` (which kiosks run what, on the
server's database). docs/updates.md "Releasing" has them in order."""

from __future__ import annotations

import argparse
import logging
import threading
from pathlib import Path

from backoffice.updates.repository import Repository, describe, load_signer
from backoffice.updates.rollout import set_rollout

log = logging.getLogger(__name__)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rel = sub.add_parser("release", help="the kiosks' update repository (TUF)")
    rel_sub = rel.add_subparsers(dest="release_command", metavar="ACTION", required=True)
    init = rel_sub.add_parser("init", help="a new repository and its four keys")
    init.add_argument("repository", type=Path)
    init.add_argument("--keys", type=Path, required=True, help="folder for the private keys")
    add = rel_sub.add_parser("add", help="publish a release archive (make release)")
    add.add_argument("repository", type=Path)
    add.add_argument("archive", type=Path)
    add.add_argument("--version", required=True)
    add.add_argument("--channel", default="stable")
    add.add_argument("--keys", type=Path, required=True, help="the targets, snapshot and "
                     "timestamp keys (root's is not needed)")  # fmt: skip
    ts = rel_sub.add_parser("timestamp", help="re-sign the timestamp (the server does it daily)")
    ts.add_argument("repository", type=Path)
    ts.add_argument("--key", type=Path, required=True, help="timestamp.pem")
    ts.add_argument("--force", action="store_true", help="even when far from expiry")
    rel_sub.add_parser("list", help="the releases published").add_argument("repository", type=Path)
    roll = sub.add_parser("rollout", help="which release a shop's kiosks (or one kiosk) run")
    roll.add_argument("--shop", type=int, required=True)
    roll.add_argument("--kiosk", default="", help="one kiosk's own choice (else: the shop's)")
    which = roll.add_mutually_exclusive_group(required=True)
    which.add_argument("--version", default="")
    which.add_argument("--channel", default="")
    roll.add_argument("--percent", type=int, default=100, help="a staged rollout: 0 to 100")


def release(args: argparse.Namespace) -> int:
    repo = Repository(args.repository)
    if args.release_command == "init":
        repo.init(args.keys)
        print(f"repository in {args.repository}, keys in {args.keys}")
        print(f"give kiosks {repo.metadata / '1.root.json'} as [updates] root")
    elif args.release_command == "add":
        name = repo.add(args.archive, args.version, args.channel, args.keys)
        print(f"published {name} on {args.channel}")
    elif args.release_command == "timestamp":
        renewed = repo.refresh_timestamp(load_signer(args.key), force=args.force)
        print("timestamp re-signed" if renewed else "timestamp still fresh: left as it is")
    else:
        print(describe(repo))
    return 0


def rollout(args: argparse.Namespace, sessions: object) -> int:
    set_rollout(
        sessions,  # type: ignore[arg-type]
        args.shop,
        kiosk_id=args.kiosk,
        version=args.version,
        channel=args.channel,
        percent=args.percent,
    )
    who = f"kiosk {args.kiosk}" if args.kiosk else "every kiosk"
    print(f"shop {args.shop}, {who}: {args.version or 'newest on ' + args.channel}"
          f" ({args.percent} %)")  # fmt: skip
    return 0


def keep_timestamp_fresh(repo: Repository, key: Path, every_s: float = 3600.0) -> None:
    """`serve --timestamp-key`: the only online key re-signs the timestamp before it
    expires (kiosks refuse an expired one), checked every hour."""
    signer = load_signer(key)

    def loop() -> None:
        stop = threading.Event()
        while True:
            try:
                if repo.refresh_timestamp(signer):
                    log.warning("update repository: timestamp re-signed")
            except Exception:  # a bad repository must not stop the server
                log.exception("update repository: timestamp not re-signed")
            stop.wait(every_s)

    threading.Thread(target=loop, name="timestamp", daemon=True).start()
