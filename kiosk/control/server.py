"""The control socket: `kiosk run` listens on a Unix socket (the file's owner and mode,
0660, are the authorisation: the kiosk user and its group), and answers the CLI's
commands that need the store with the store, devices and sync it already holds.

One request a connection: a JSON line `{"command": …, "args": {…}}`; one answer, a JSON
line `{"code": …, "out": …, "err": …}`. Every request is logged with the peer's uid and
pid (SO_PEERCRED)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import socket
import socketserver
import struct
import threading
from argparse import Namespace
from pathlib import Path
from typing import Any

from kiosk.config import Config
from kiosk.control.commands import COMMANDS
from kiosk.control.context import Context

log = logging.getLogger("kiosk.control")
MAX_REQUEST = 64 * 1024


def socket_path(config: Config) -> Path:
    return Path(config.kiosk.control_socket or config.data_path / "control.sock")


def answer(context: Context, request: dict[str, Any]) -> dict[str, Any]:
    """Run one command on the context; what it printed and its exit code."""
    name = request.get("command")
    handler = COMMANDS.get(str(name))
    if handler is None:
        return {"code": 2, "out": "", "err": f"kiosk: the running kiosk has no command {name!r}\n"}
    out, err = io.StringIO(), io.StringIO()
    args = Namespace(**dict(request.get("args") or {}))
    try:
        code = handler(context, args, out, err)
    except Exception as exc:  # the kiosk stays up; the technician sees why
        log.exception("control command %s failed", name)
        err.write(f"kiosk {name}: {exc}\n")
        code = 1
    return {"code": code, "out": out.getvalue(), "err": err.getvalue()}


class _Handler(socketserver.StreamRequestHandler):
    server: ControlServer

    def handle(self) -> None:
        uid, pid = self._peer()
        line = self.rfile.readline(MAX_REQUEST)
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            log.warning("control: unreadable request from uid %s pid %s: %s", uid, pid, exc)
            reply = {"code": 2, "out": "", "err": f"kiosk: unreadable request: {exc}\n"}
        else:
            shown = {
                k: ("***" if k == "pin" else v) for k, v in (request.get("args") or {}).items()
            }
            log.info("control: %s %s from uid %s pid %s", request.get("command"), shown, uid, pid)
            reply = answer(self.server.context, request)
        self.wfile.write(json.dumps(reply).encode() + b"\n")

    def _peer(self) -> tuple[int, int]:
        creds = self.request.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
        pid, uid, _gid = struct.unpack("3i", creds)
        return uid, pid


class ControlServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path, context: Context) -> None:
        self.path = path
        self.context = context
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a socket left by a kiosk that died: the store's lock says we own it
        old = os.umask(0o117)  # created 0660 (no window where others could connect)
        try:
            super().__init__(str(path), _Handler)
        finally:
            os.umask(old)
        os.chmod(path, 0o660)
        self._thread = threading.Thread(target=self.serve_forever, name="control", daemon=True)

    def start(self) -> ControlServer:
        self._thread.start()
        log.info("control socket %s", self.path)
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
