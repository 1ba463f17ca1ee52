"""The CLI's side of the control socket: ask the running kiosk, or say nobody listens."""

from __future__ import annotations

import json
import socket
from argparse import Namespace
from dataclasses import dataclass
from typing import Any

from kiosk.config import Config
from kiosk.control.server import socket_path


@dataclass(frozen=True)
class Reply:
    code: int
    out: str
    err: str


def plain_args(args: Namespace) -> dict[str, Any]:
    """What of the parsed arguments a command reads (no handler, no config path)."""
    return {
        k: v
        for k, v in vars(args).items()
        if k not in ("handler", "config") and isinstance(v, str | int | float | bool | None)
    }


def ask(config: Config, command: str, args: Namespace, timeout_s: float = 120) -> Reply | None:
    """The running kiosk's answer, or None when no kiosk listens on the socket."""
    path = socket_path(config)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            return None
        sock.sendall(json.dumps({"command": command, "args": plain_args(args)}).encode() + b"\n")
        data = b""
        try:
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except TimeoutError:
            return Reply(1, "", f"kiosk {command}: no answer from the kiosk in {timeout_s:.1f} s\n")
    reply = json.loads(data)
    return Reply(int(reply["code"]), str(reply["out"]), str(reply["err"]))
