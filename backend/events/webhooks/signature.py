"""The ``Syncboard-Signature`` header of a webhook delivery (as Stripe signs its webhooks).

``Syncboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`` under the
hook's secret. A receiver recomputes it over the raw body, compares in constant time, and
refuses a ``t`` too far from its clock (replays); see the README for the ten lines.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Syncboard-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance_s: float = 300) -> bool:
    """Whether ``header`` signs ``body`` under ``secret`` within ``tolerance_s`` of ``now``."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not fields.get("t", "").isdigit() or abs(now - int(fields["t"])) > tolerance_s:
        return False
    expected = sign(secret, int(fields["t"]), body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))
