"""Abuse limits as pure arithmetic: token buckets and the per-connection rate limiter.

No I/O here: the socket handler asks ``RateLimiter.admit`` for each frame and closes the
connection with 4429 when it says so.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)  # two per connection: keep them small
class TokenBucket:
    """``rate`` tokens per second refill a bucket holding at most ``burst``.

    Taking always succeeds in spending: the bucket may go into debt (down to ``-burst``), so
    a sender far above the rate stays in debt instead of slipping through every time a
    token trickles in; it is back within its rate once the debt is repaid.
    """

    rate: float
    burst: float
    tokens: float | None = None
    updated: float = 0.0

    def take(self, amount: float, now: float) -> bool:
        """Spend ``amount`` tokens at time ``now`` (seconds); False while in debt."""
        if self.tokens is None:
            self.tokens, self.updated = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens = max(-self.burst, self.tokens - amount)
        return self.tokens >= 0


class RateLimiter:
    """Frames and bytes per second for one connection, with a grace period.

    A connection over its rate is tolerated for ``grace_s`` (its frames are still handled:
    dropping them would lose strokes); if it is still over after that, ``admit`` returns False
    and the caller closes it.
    """

    __slots__ = ("_bytes", "_grace_s", "_messages", "_over_since")

    def __init__(self, messages_per_s: float, burst_messages: int, bytes_per_s: float,
                 burst_bytes: int, grace_s: float) -> None:
        self._messages = TokenBucket(messages_per_s, burst_messages)
        self._bytes = TokenBucket(bytes_per_s, burst_bytes)
        self._grace_s = grace_s
        self._over_since: float | None = None

    def admit(self, size_bytes: int, now: float) -> bool:
        """Account one frame of ``size_bytes`` at ``now``; False once over for too long."""
        within = self._messages.take(1, now) & self._bytes.take(size_bytes, now)  # spend both
        if within:
            self._over_since = None
            return True
        if self._over_since is None:
            self._over_since = now
        return now - self._over_since <= self._grace_s
