"""Servers no one here wrote, on loopback, for the message tests: aiosmtpd's SMTP server
(STARTTLS or implicit TLS with a certificate openssl makes, AUTH), the npm `smpp`
package's SMPP server (smpp_server/server.mjs), an HTTP webhook receiver
(the standard library's http.server), and a TCP relay that can cut a session in the
middle of DATA or hold it there."""

from __future__ import annotations

import json
import select
import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope

HERE = Path(__file__).parent
USER, PASSWORD = "atelier", "s3cret-relay"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (openssl, as a shop's relay
    with a private CA would have)."""
    cert, key = folder / "relay.crt", folder / "relay.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Inbox:
    """aiosmtpd's handler: what the server accepted, or the answer it is told to give."""

    received: list[Envelope] = field(default_factory=list)
    answer: str = ""  # e.g. "550 5.1.1 no such mailbox": given to DATA instead of 250
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        if self.answer:
            return self.answer
        self.received.append(envelope)
        return f"250 2.0.0 Ok: queued as Q{len(self.received)}"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = data.login == USER.encode() and data.password == PASSWORD.encode()
        self.logins.append(f"{mechanism}:{data.login.decode()}:{ok}")
        return AuthResult(success=ok)


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox
    cafile: Path
    controller: Controller

    def stop(self) -> None:
        self.controller.stop()


def smtp_server(
    cert: Path, key: Path, *, implicit_tls: bool = False, plain: bool = False
) -> SmtpServer:
    """STARTTLS required and AUTH required over it (submission, 587); or implicit TLS
    (465); or `plain`: neither (a relay on the shop's own network)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    port = free_port()
    options: dict[str, Any] = {}
    if implicit_tls:
        options = {
            "ssl_context": context,
            "authenticator": inbox.authenticate,
            "auth_required": True,
            "auth_require_tls": False,
        }
    elif not plain:
        options = {
            "tls_context": context,
            "require_starttls": True,
            "authenticator": inbox.authenticate,
            "auth_required": True,
        }
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    if implicit_tls:  # its readiness check speaks TLS to itself: trust our certificate
        controller.ssl_context.check_hostname = False
    controller.start()
    return SmtpServer(port, inbox, cert, controller)


class Relay:
    """A TCP relay between a sender and the SMTP server. After the client's DATA it lets
    the message's header through and then, per `mode`: "cut" closes both sides (the
    server has a partial message and drops it), "hold" stops forwarding and sets
    `held` (a test kills the sender then). Only the first session is touched."""

    def __init__(self, target_port: int, mode: str) -> None:
        self.target = target_port
        self.mode = mode
        self.port = free_port()
        self.held = threading.Event()
        self.held_bytes = b""
        self.sessions = 0
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.sessions += 1
            touched = self.sessions == 1
            threading.Thread(target=self._pipe, args=(client, touched), daemon=True).start()

    def _pipe(self, client: socket.socket, touched: bool) -> None:
        server = socket.create_connection(("127.0.0.1", self.target))
        seen = b""
        in_data = False
        try:
            while True:
                ready, _, _ = select.select([client, server], [], [], 30)
                if not ready:
                    return
                if server in ready:
                    chunk = server.recv(65536)
                    if not chunk:
                        return
                    client.sendall(chunk)
                    asked = b"DATA\r\n" in seen.upper()  # smtplib writes "data"
                    in_data = in_data or (asked and chunk.startswith(b"354"))
                if client in ready:
                    chunk = client.recv(65536)
                    if not chunk:
                        return
                    seen += chunk
                    body = seen[seen.upper().index(b"DATA\r\n") + 6 :] if in_data else b""
                    if touched and b"\r\n\r\n" in body:
                        head, _, _rest = chunk.partition(b"\r\n\r\n")
                        server.sendall(head + b"\r\n\r\n")  # the header, not the end
                        self.held_bytes = seen
                        if self.mode == "cut":
                            return
                        self.held.set()
                        while client.recv(65536):
                            pass  # until the sender dies
                        return
                    server.sendall(chunk)
        except OSError:
            return
        finally:
            client.close()
            server.close()

    def close(self) -> None:
        self._listener.close()


class SmppServer:
    """`node smpp_server/server.mjs`: the npm smpp package's server; every PDU it took
    is a JSON line in `pdus()`."""

    def __init__(self, system_id: str, password: str, refuse: str = "") -> None:
        node = shutil.which("node")
        if node is None or not (HERE / "smpp_server/node_modules/smpp").is_dir():
            raise RuntimeError("the SMPP server needs Node and its package: run `make install`")
        self.process = subprocess.Popen(
            [node, "server.mjs", system_id, password, refuse],
            cwd=HERE / "smpp_server",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        if not first:
            raise RuntimeError(f"the SMPP server did not start: {self.process.stderr.read()}")  # type: ignore[union-attr]
        self.port = int(json.loads(first)["listening"])
        self._lines: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.append(json.loads(line))

    def pdus(
        self, kind: str = "submit_sm", *, wait_for: int = 0, timeout: float = 5
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = [p for p in self._lines if p.get("pdu") == kind]
            if len(found) >= wait_for or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(5)
