"""SMS through a gateway that only speaks HTTP: one POST per message with httpx, its
JSON body signed with the shop's secret (X-Kiosk-Signature: sha256=HMAC of the body) and
an Idempotency-Key the gateway can use to drop a repeat. 2xx is sent; 408, 429 and 5xx
are tried again; any other 4xx is permanent."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from backoffice.messages.queue import Outcome, Permanent, Sent, Transient
from backoffice.messages.settings import SmsSettings


def send(settings: SmsSettings, key: str, to: str, text: str, shop: str) -> Outcome:
    body = json.dumps({"id": key, "to": to, "text": text, "from": settings.source_addr or shop},
                      ensure_ascii=False).encode()  # fmt: skip
    mac = hmac.new(settings.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Kiosk-Signature": f"sha256={mac}",
               "Idempotency-Key": key}  # fmt: skip
    try:
        answer = httpx.post(
            settings.webhook_url, content=body, headers=headers, timeout=settings.timeout_s
        )
    except httpx.HTTPError as exc:
        return Transient(f"{type(exc).__name__}: {exc}"[:300])
    said = f"{answer.status_code} {answer.text[:200]}".strip()
    if answer.is_success:
        return Sent(said, answer.headers.get("X-Message-Id", ""))
    if answer.status_code in (408, 429) or answer.status_code >= 500:
        return Transient(said)
    return Permanent(said)
