"""E-mail through the shop's SMTP relay with the standard library's smtplib: submission
with STARTTLS and AUTH (587), implicit TLS (465), or a local relay without either. The
server's answer decides: its final 250 is the record; a 5xx, from any command, is
permanent; a 4xx, a dropped connection or a time-out is tried again later."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import getaddresses

from backoffice.messages.queue import Outcome, Permanent, Sent, Transient
from backoffice.messages.settings import EmailSettings


def _context(settings: EmailSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=settings.ca_file or None)


def _connect(settings: EmailSettings) -> smtplib.SMTP:
    if settings.security == "tls":
        return smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout_s, context=_context(settings)
        )
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
    if settings.security == "starttls":
        smtp.starttls(context=_context(settings))  # refuses a server without STARTTLS
    return smtp


def send(settings: EmailSettings, msg: EmailMessage) -> Outcome:
    sender = getaddresses([str(msg["From"])])[0][1]
    recipients = [addr for _, addr in getaddresses([str(msg["To"])])]
    try:
        smtp = _connect(settings)
        try:
            return _session(smtp, settings, msg, sender, recipients)
        finally:
            _goodbye(smtp)
    except smtplib.SMTPResponseException as exc:  # AUTH, STARTTLS, or a closing error
        return _refused(exc.smtp_code, exc.smtp_error, "the session")
    except ssl.SSLCertVerificationError as exc:
        return Permanent(f"the relay's certificate is not trusted: {exc.verify_message}")
    except smtplib.SMTPNotSupportedError as exc:
        return Permanent(f"the relay does not offer what the settings ask: {exc}")
    except (OSError, smtplib.SMTPException) as exc:  # dropped, refused, timed out
        return Transient(f"{type(exc).__name__}: {exc}"[:300])


def _session(
    smtp: smtplib.SMTP, settings: EmailSettings, msg: EmailMessage, sender: str, to: list[str]
) -> Outcome:
    smtp.ehlo_or_helo_if_needed()
    if settings.username:
        smtp.login(settings.username, settings.password)
    code, said = smtp.mail(sender)
    if code != 250:
        return _refused(code, said, "MAIL FROM")
    for rcpt in to:
        code, said = smtp.rcpt(rcpt)
        if code not in (250, 251):
            return _refused(code, said, f"RCPT TO {rcpt}")
    code, said = smtp.data(wire(msg))
    if code != 250:
        return _refused(code, said, "DATA")
    return Sent(f"{code} {said.decode(errors='replace')}", str(msg["Message-ID"]))


def wire(msg: EmailMessage) -> bytes:
    """The message as SMTP carries it. CRLF line ends: smtplib sends bytes as they are,
    and a server reads lines by CRLF. Headers folded only past RFC 5322's 998: Python
    3.11's folder, splitting a subject between two encoded-words, drops the space
    there ("réparation (Vélo" arrived as "réparation(Vélo"); the bodies are
    quoted-printable, in lines of 76."""
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n", max_line_length=998))


def _goodbye(smtp: smtplib.SMTP) -> None:
    """QUIT, whatever it answers: after a 250 nothing may turn the send into a failure
    (a retry would send the message twice)."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _refused(code: int, said: bytes | str, at: str) -> Outcome:
    text = said.decode(errors="replace") if isinstance(said, bytes) else said
    reason = f"{code} {text} (at {at})"
    return Permanent(reason) if 500 <= code < 600 else Transient(reason)
