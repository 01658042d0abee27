"""Whether the local services some tests use (PostgreSQL, Redis) are reachable."""

from __future__ import annotations

import socket


def reachable(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
