"""Which addresses webhooks may reach: no loopback, private, link-local or otherwise special
address unless ``--webhook-allow-host`` names the host, the address or its network.

A hook URL is checked when it is created (its host resolved now) and again at every
connection: ``CheckedResolver`` is the resolver of the webhook HTTP client, so the address
actually connected to is the one checked (a DNS answer that changes between the two checks,
DNS rebinding, is refused too).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from tornado.netutil import DefaultLoopResolver, Resolver

MAX_URL_CHARS = 2000


class RefusedAddress(OSError):
    """A hook URL or the address it resolves to is not allowed."""


class AddressPolicy:
    """The allow list of ``--webhook-allow-host`` (names, addresses, CIDR networks)."""

    def __init__(self, allow: str) -> None:
        entries = [e.strip().lower() for e in allow.replace(" ", ",").split(",") if e.strip()]
        self.names = {e for e in entries if not _network(e)}
        self.networks = [n for n in map(_network, entries) if n is not None]

    def url_problem(self, url: str) -> str | None:
        """Why ``url`` cannot be a hook (scheme, host, length), before any lookup."""
        if len(url) > MAX_URL_CHARS:
            return f"URL longer than {MAX_URL_CHARS} characters"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "URL must be http:// or https:// with a host"
        if parts.username or parts.password:
            return "URL must not hold credentials"
        try:
            parts.port  # noqa: B018 (raises ValueError for a bad port)
        except ValueError:
            return "URL has a bad port"
        return None

    def address_problem(self, host: str, address: str) -> str | None:
        """Why ``address`` (which ``host`` resolved to) may not be reached, or None."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if host.lower().strip("[]") in self.names or any(ip in n for n in self.networks):
            return None
        if ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or \
                ip.is_reserved or ip.is_unspecified or not ip.is_global:
            return (f"{host} resolves to {ip}, a loopback, private, link-local or reserved "
                    "address (allow it with --webhook-allow-host)")
        return None

    async def check(self, url: str) -> None:
        """Raise ``RefusedAddress`` unless ``url`` may be a hook now (resolves its host)."""
        problem = self.url_problem(url)
        if problem is not None:
            raise RefusedAddress(problem)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        await CheckedResolver(self).resolve(parts.hostname or "", port)


class CheckedResolver(Resolver):
    """Tornado resolver that refuses hosts resolving to an address the policy refuses."""

    def initialize(self, policy: AddressPolicy) -> None:  # type: ignore[override]
        self.policy = policy
        self._resolver = DefaultLoopResolver()

    async def resolve(self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
                      ) -> list[tuple[int, object]]:
        try:
            answers = await self._resolver.resolve(host, port, family)
        except OSError as exc:
            raise RefusedAddress(f"cannot resolve {host}: {exc}") from exc
        for _family, address in answers:
            problem = self.policy.address_problem(host, str(address[0]))
            if problem is not None:
                raise RefusedAddress(problem)
        return answers


def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(entry.strip("[]"), strict=False)
    except ValueError:
        return None
