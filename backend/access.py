"""Access control: signed board tokens with roles, rotation, the server secret, origins.

A token names its board, its role and the board's token generation, signed with HMAC-SHA256
under the server secret: ``<board_id>.<e|v><generation>.<mac>`` (a board name outside the
app's id alphabet appears as ``~<base64url>``, see ``board_names.token_claim_name``). No token
table is needed; rotating a board's links increments its generation in the store, which
revokes every older token at once. Tokens travel in the URL fragment (``/b/<id>#t=<token>``),
which browsers never send to servers or referrers; the page hands them to the WebSocket as
``?token=`` and to HTTP calls as ``Authorization: Bearer``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from .board_names import token_claim_name

log = logging.getLogger(__name__)

SECRET_FILE = "secret.key"


class Role(Enum):
    """What a token lets its holder do on one board."""

    EDIT = "e"
    VIEW = "v"


@dataclass(frozen=True)
class Grant:
    """A verified token: its board, role and generation."""

    board_id: str
    role: Role
    generation: int


class AccessDenied(Exception):
    """A request is refused: ``status`` is 401 (no or bad token) or 403 (wrong board,
    revoked, not allowed); ``reason`` says which, for the JSON body or the close reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class TokenSigner:
    """Issues and verifies board tokens under one secret."""

    def __init__(self, secret: bytes, noun: str = "board") -> None:
        """``noun``: what the tokens name, for refusal reasons ("token is for another ...")."""
        self._secret = secret
        self._noun = noun

    def derive(self, purpose: str, noun: str) -> TokenSigner:
        """A signer for another kind of token (``purpose``, e.g. ``"space"``) under a key
        derived from this one: its tokens never verify as this signer's, nor the reverse."""
        key = hmac.new(self._secret, f"syncboard {purpose} tokens".encode(), hashlib.sha256)
        return TokenSigner(key.digest(), noun)

    def issue(self, board_id: str, role: Role, generation: int) -> str:
        """A token granting ``role`` on ``board_id`` until the board's links are rotated."""
        claim = f"{token_claim_name(board_id)}.{role.value}{generation}"
        return f"{claim}.{self._mac(claim)}"

    def verify(self, token: str | None, board_id: str, current_generation: int | None) -> Grant:
        """Check ``token`` for ``board_id`` whose current generation is ``current_generation``
        (None: the board does not exist). Raises ``AccessDenied``."""
        if not token:
            raise AccessDenied(401, "missing token")
        parts = token.split(".")
        if len(parts) != 3 or len(parts[1]) < 2 or parts[1][0] not in "ev" \
                or not parts[1][1:].isdigit():
            raise AccessDenied(401, "malformed token")
        token_board, role_gen, mac = parts
        # Bytes, not str: compare_digest raises on a non-ASCII str (a forged token is a 401).
        if not hmac.compare_digest(mac.encode(), self._mac(f"{token_board}.{role_gen}").encode()):
            raise AccessDenied(401, "invalid token signature")
        if token_board != token_claim_name(board_id):
            raise AccessDenied(403, f"token is for another {self._noun}")
        generation = int(role_gen[1:])
        if current_generation is None:
            raise AccessDenied(403, f"{self._noun} no longer exists")
        if generation != current_generation:
            raise AccessDenied(403, f"token revoked (the {self._noun}'s links were rotated)")
        return Grant(board_id, Role(role_gen[0]), generation)

    def _mac(self, claim: str) -> str:
        digest = hmac.new(self._secret, claim.encode(), hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def new_board_id() -> str:
    """A random, unguessable board id: 22 url-safe characters (128 random bits), never starting
    with ``-``, so that neither the id nor its tokens look like an option on a command line.
    (Existing ids that start with ``-`` stay valid; the scripts accept them too.)"""
    while True:
        board_id = secrets.token_urlsafe(16)
        if not board_id.startswith("-"):
            return board_id


def load_secret(configured: str, data_dir: str) -> bytes:
    """The configured secret, else the one kept in ``data_dir``, generated (mode 0600) on
    first start so that links survive restarts."""
    if configured:
        return configured.encode()
    path = Path(data_dir) / SECRET_FILE
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(secret + b"\n")
    log.info("generated a new server secret in %s", path)
    return secret


def admin_allowed(admin_token: str, presented: str | None) -> bool:
    """Whether ``presented`` is the configured admin token (never true when none is set)."""
    return bool(admin_token) and presented is not None and \
        hmac.compare_digest(admin_token.encode(), presented.encode())


def origin_allowed(origin: str | None, allowed: str, own_origins: set[str]) -> bool:
    """Whether a WebSocket upgrade from ``origin`` may proceed.

    ``allowed`` is the comma-separated ``--allowed-origin``; empty means only the server's own
    origin(s). A request without Origin is not from a browser page and cannot be hijacked.
    """
    if origin is None:
        return True
    configured = {o.strip().rstrip("/").lower() for o in allowed.split(",") if o.strip()}
    return origin.rstrip("/").lower() in (configured or own_origins)


class AccessPolicy:
    """Who may do what over HTTP: board tokens, the admin token, or ``--auth none``."""

    def __init__(self, signer: TokenSigner | None, admin_token: str, store) -> None:
        self.signer = signer
        self.admin_token = admin_token
        self._store = store

    @property
    def open(self) -> bool:
        """True with ``--auth none``: everyone may do everything."""
        return self.signer is None

    async def authorize(self, board_id: str, token: str | None, minimum: Role) -> Grant:
        """The grant ``token`` gives on ``board_id``; the admin token grants edit on all.

        Raises ``AccessDenied`` (401/403), also when a view token is used where ``minimum``
        is ``Role.EDIT``.
        """
        generation = await self._store.token_generation(board_id)
        if self.signer is None or admin_allowed(self.admin_token, token):
            return Grant(board_id, Role.EDIT, generation or 0)
        grant = self.signer.verify(token, board_id, generation)
        if minimum is Role.EDIT and grant.role is Role.VIEW:
            raise AccessDenied(403, "this token is view-only")
        return grant

    def is_admin(self, token: str | None) -> bool:
        """Whether ``token`` is the admin token (never with the admin API off)."""
        return admin_allowed(self.admin_token, token)

    def require_admin(self, token: str | None) -> None:
        """Raise ``AccessDenied`` unless ``token`` is the admin token (or auth is off)."""
        if self.signer is None or admin_allowed(self.admin_token, token):
            return
        if not self.admin_token:
            raise AccessDenied(403, "the admin API is off (start with --admin-token)")
        raise AccessDenied(401 if not token else 403, "admin token required")
