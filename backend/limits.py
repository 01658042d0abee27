"""Abuse limits as pure arithmetic: token buckets and the per-connection rate limiter.

No I/O here: the frame reader (``ws_reader``) charges ``RateLimiter`` for every frame it
reads, control frames and continuation fragments included, pauses reading for as long as
``charge`` says, and closes the connection with 4429 when ``charge`` says the connection
stayed over its rate for longer than the grace period.
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

    def refilled_by_half(self) -> bool:
        """Whether at least half the burst is left: a sender paced to exactly the rate
        keeps the bucket near empty, one back within its rate lets it refill."""
        return (self.tokens or 0.0) >= self.burst / 2

    def debt_s(self) -> float:
        """Seconds until the debt (if any) is repaid, as of the last ``take``."""
        tokens = self.tokens or 0.0
        return -tokens / self.rate if tokens < 0 else 0.0


class RateLimiter:
    """Frames and bytes per second for one connection.

    ``charge`` accounts one frame and returns how long the reader must pause before it reads
    the next one: frames beyond the budget are not handled early, they wait (TCP then slows
    the sender down). A connection that needs a pause again more than ``grace_s`` after its
    first pause ended, without having come back within its rate in between (its buckets
    refilled to half their burst), is over its rate for good: ``charge`` returns ``None``
    and the caller closes it (4429).

    One sync step 2 per connection (the answer to the server's step 1, which carries a
    client's offline edits or whole local copy and cannot be split) may spend up to
    ``step2_allowance_bytes`` besides the byte budget.
    """

    __slots__ = ("_bytes", "_grace_s", "_messages", "_step2_allowance", "_throttled_since")

    def __init__(self, messages_per_s: float, burst_messages: int, bytes_per_s: float,
                 burst_bytes: int, grace_s: float, step2_allowance_bytes: int = 0) -> None:
        self._messages = TokenBucket(messages_per_s, burst_messages)
        self._bytes = TokenBucket(bytes_per_s, burst_bytes)
        self._grace_s = grace_s
        self._step2_allowance = step2_allowance_bytes
        self._throttled_since: float | None = None

    def charge(self, size_bytes: int, now: float, step2: bool = False) -> float | None:
        """Account one frame of ``size_bytes`` (header included) read at ``now``.

        Returns the seconds to pause before reading on (0.0 within the budget), or ``None``
        once the connection has been over its rate for longer than the grace period.
        """
        if step2 and self._step2_allowance:
            covered = min(size_bytes, self._step2_allowance)
            self._step2_allowance = 0  # once per connection
            size_bytes -= covered
        within = self._messages.take(1, now) & self._bytes.take(size_bytes, now)  # spend both
        if within:
            if self._messages.refilled_by_half() and self._bytes.refilled_by_half():
                self._throttled_since = None  # really back within its rate
            return 0.0
        pause_s = max(self._messages.debt_s(), self._bytes.debt_s())
        if self._throttled_since is None:
            self._throttled_since = now + pause_s
        elif now - self._throttled_since > self._grace_s:
            return None
        return pause_s
