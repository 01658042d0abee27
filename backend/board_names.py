"""Board names: which room names a y-websocket client may open, and how a name is made safe
wherever it leaves the database (token claims, file names, download headers).

A stock ``WebsocketProvider(serverUrl, roomname)`` connects to ``serverUrl + '/' + roomname``
without escaping the name; the browser's URL parser then percent-encodes spaces, non-ASCII
and control characters, keeps ``/`` and ``:``, and cuts the name at ``?`` or ``#``. The server
URL-decodes the path after the WebSocket prefix, so ``doc.1``, ``org:42``, ``my doc``, ``Zoë``
and ``prosemirror-demo-2024/06`` are all boards (an app that wants ``?`` or ``#`` in a name
passes ``encodeURIComponent(name)``). The browser app's own boards keep their ids
(``BOARD_ID_PATTERN``: 22 random url-safe characters from ``POST /api/boards``).

Refused (``board_name_problem`` says why): the empty name, more than ``MAX_BOARD_NAME_CHARS``
characters, bytes that are not UTF-8, and control or line-separator characters (NUL cannot be
stored in PostgreSQL; the others would break log lines, headers and file names).
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from urllib.parse import quote

from .protocol import BOARD_ID_PATTERN

MAX_BOARD_NAME_CHARS = 255
"""Longest board name, in characters (the id columns of ``store/schema.py`` hold 255)."""
_APP_BOARD_ID = re.compile(BOARD_ID_PATTERN)
_REFUSED_CATEGORIES = {"Cc": "a control character", "Cs": "bytes that are not UTF-8",
                       "Zl": "a line separator", "Zp": "a paragraph separator"}
_MAX_FILENAME_STEM = 160  # bytes of a file name stem before it is cut and hashed (NAME_MAX 255)


def board_name_problem(name: str) -> str | None:
    """Why ``name`` (URL-decoded; undecodable bytes as surrogates) cannot be a board, or None.
    """
    if not name:
        return "the board name is empty"
    if len(name) > MAX_BOARD_NAME_CHARS:
        return f"the board name has {len(name)} characters; at most {MAX_BOARD_NAME_CHARS}"
    for char in name:
        what = _REFUSED_CATEGORIES.get(unicodedata.category(char))
        if what is not None:
            return f"the board name holds {what} (U+{ord(char):04X})"
    return None


def is_app_board_id(name: str) -> bool:
    """Whether ``name`` has the form of the browser app's own board ids (``/b/<id>`` pages)."""
    return _APP_BOARD_ID.fullmatch(name) is not None


def decode_path_name(raw: bytes) -> str:
    """A URL-decoded path segment as text; bytes that are not UTF-8 become surrogates, which
    ``board_name_problem`` refuses (Tornado itself would answer 400 before the upgrade, a
    refusal the stock client retries forever)."""
    return raw.decode("utf-8", "surrogateescape")


def token_claim_name(name: str) -> str:
    """The board part of a token (``access.TokenSigner``): an app board id as it is (tokens
    of the app's boards are unchanged), any other name as ``~`` + unpadded base64url of its
    UTF-8, so a token stays one ASCII word without dots, safe in a header and a URL."""
    if is_app_board_id(name):
        return name
    return "~" + base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")


def safe_filename(name: str, extension: str) -> str:
    """A file name for board ``name``: app ids unchanged; otherwise percent-encoded (no ``/``,
    no leading dot, ASCII only), cut and suffixed with a hash when long. Distinct names give
    distinct file names."""
    stem = quote(name, safe="")
    if stem.startswith("."):
        stem = "%2E" + stem[1:]  # quote never writes %2E itself, so this stays unambiguous
    if len(stem) > _MAX_FILENAME_STEM:
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        stem = f"{stem[:_MAX_FILENAME_STEM - 17]}~{digest}"
    return f"{stem}.{extension}"


def content_disposition(name: str, extension: str) -> str:
    """A ``Content-Disposition: attachment`` value naming the download after the board
    (RFC 6266: an ASCII ``filename`` and the exact name as UTF-8 ``filename*``)."""
    fallback = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:_MAX_FILENAME_STEM].lstrip(".") or "board"
    plain = f"attachment; filename=\"{fallback}.{extension}\""
    if fallback == name:  # app board ids and other plain names: the header as it always was
        return plain
    return f"{plain}; filename*=UTF-8''{quote(f'{name}.{extension}', safe='')}"
