"""Per-address rates for creating things: boards and uploaded files (issue 18.14).

Creating a board needs no credential, so one address could create thousands a second and fill
the database. ``AddressRate`` keeps a token bucket per client address (IPv6 addresses grouped
by /64, which is what one household or LAN gets); an empty bucket answers 429 with
``Retry-After``. Pure arithmetic plus a bounded table: no I/O.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

MAX_TRACKED = 50_000
"""Addresses remembered at once; beyond it, full buckets (the same as unknown) are forgotten
first, then the stalest."""


def address_key(remote_ip: str) -> str:
    """The rate-limit key of a client address: the address itself, or its /64 for IPv6."""
    try:
        address = ipaddress.ip_address(remote_ip)
    except ValueError:
        return remote_ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class AddressRate:
    """``per_min`` units per minute per address, up to ``burst`` at once."""

    def __init__(self, per_min: float, burst: float) -> None:
        self.rate_per_s = per_min / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, _Bucket] = {}

    def spend(self, remote_ip: str, amount: float, now: float) -> float:
        """Spend ``amount`` for ``remote_ip`` at ``now`` (seconds). Returns 0 when allowed
        (spent), else the seconds until it would be (nothing spent)."""
        key = address_key(remote_ip)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED:
                self._forget(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate_per_s)
        bucket.updated = now
        amount = min(amount, self.burst)  # one request bigger than the burst may pass alone
        if bucket.tokens >= amount:
            bucket.tokens -= amount
            return 0.0
        return (amount - bucket.tokens) / self.rate_per_s

    def _forget(self, now: float) -> None:
        full = [key for key, b in self._buckets.items()
                if b.tokens + (now - b.updated) * self.rate_per_s >= self.burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= MAX_TRACKED:
            stalest = sorted(self._buckets, key=lambda k: self._buckets[k].updated)
            for key in stalest[: len(stalest) // 10 + 1]:
                del self._buckets[key]


@dataclass(frozen=True)
class CreationLimits:
    """The per-address creation rates of one server: boards and upload bytes."""

    boards: AddressRate
    uploads: AddressRate

    UPLOAD_MIN_COST = 64 * 1024
    """Bytes an upload counts at least (a flood of tiny files costs rows too)."""
