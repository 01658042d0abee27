"""What every HTTP request must pass and every response carries (issue 18, items 8, 15-17).

- **Host** (DNS rebinding): ``SyncboardApplication`` answers 421 to a ``Host`` that is not one
  of the server's names (``allowed_host_names``), before any handler runs.
- **Cross-site writes**: ``cross_site_refusal`` refuses a state-changing POST that a foreign
  page could send without a CORS preflight (no or a CORS-safelisted ``Content-Type``, no
  ``X-Requested-With``): 415, so ``--auth none`` boards cannot be overwritten from another site.
- **Bodies**: the HTTP server reads at most ``SMALL_BODY_BYTES`` of any body (Tornado answers
  400 beyond, before reading it); ``CappedBody`` handlers (import, upload, selection export)
  stream theirs, refuse by ``Content-Length`` (413) and check the token before reading a byte;
  a body sent without a length (chunked) gets its 413 with the reason as soon as it passes the
  cap, and is then read (and dropped) up to ``REFUSED_BODY_DRAIN_BYTES`` more, so a client that
  sends all of its body before reading still reads the answer.
- **Headers**: ``SecureHeaders`` sends ``X-Content-Type-Options: nosniff`` everywhere, HSTS on
  HTTPS, and a ``Server`` header without the Tornado version.
- **Logs**: ``SecureHeaders.log_exception`` never writes a query string's token (``redact_uri``),
  and no log line carries more than ``LOGGED_URI_CHARS`` of a URI (``loggable_uri``): a refused
  ``?ids=`` can be 64 KiB long.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tornado import httputil
from tornado.httputil import HTTPServerRequest
from tornado.web import Application, HTTPError, RequestHandler

log = logging.getLogger(__name__)

SMALL_BODY_BYTES = 8 * 1024
"""Largest body of a request to any endpoint but import, upload and selection export (board
creation, rotation and the WebSocket upgrade take none)."""
REFUSED_BODY_DRAIN_BYTES = 64 * 1024 * 1024
"""How much of a chunked body past its cap is still read, and dropped, after its 413 was sent:
closing at once would reset the connection under a client still sending, and most clients
(urllib, requests) read no answer before their whole body is sent. Past it (or past the body
timeout) the connection is closed."""
_NO_TORNADO_LIMIT = 1 << 62
"""Tornado's own body limit for a chunked body: never reached, so ``CappedBody`` answers first
(Tornado checks each chunk's declared size before reading it and drops the connection with a
bare 400)."""
HSTS = "max-age=31536000"
SERVER_HEADER = "syncboard"
SAFELISTED_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded",
                              "multipart/form-data"})
"""Content types a cross-site page may POST without a CORS preflight (Fetch standard)."""
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
LOGGED_URI_CHARS = 200
"""Most characters of a request's URI (or path) one log line carries; the rest is cut and its
length said (a request head, and so a URI, may be 64 KiB)."""
LOGGED_MESSAGE_CHARS = 300
"""Most characters of a refusal's reason a log line carries (a reason may quote a value of the
query)."""


def allowed_host_names(configured: str, listen_host: str, behind_proxy: bool) -> set[str] | None:
    """The host names a request's ``Host`` may carry, or None for any.

    ``configured`` is ``--allowed-hosts`` (comma-separated; ``*`` = any). Empty: when the server
    listens on a loopback address, the loopback names and ``listen_host``; otherwise (exposed,
    or behind a proxy that routes by name) any.
    """
    names = {_bare_host(name) for name in configured.split(",") if name.strip()}
    if "*" in names:
        return None
    if names:
        return names
    if behind_proxy or not _is_loopback(listen_host):
        return None
    return {*LOOPBACK_NAMES, _bare_host(listen_host)}


def cross_site_refusal(request: HTTPServerRequest) -> str | None:
    """Why a state-changing request could come from a foreign page (None: it cannot).

    A POST is safe when the browser had to ask first (CORS preflight, which this server never
    grants): a non-safelisted ``Content-Type`` such as ``application/json``, or the custom
    ``X-Requested-With`` header; or when it has no body at all. DELETE and PUT always need a
    preflight.
    """
    if request.method != "POST" or "X-Requested-With" in request.headers:
        return None
    media_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if media_type and media_type not in SAFELISTED_TYPES:
        return None
    if request.headers.get("Content-Length", "0") == "0" and \
            "Transfer-Encoding" not in request.headers:
        return None  # no body (board creation, rotation): nothing a page could smuggle
    return ("send Content-Type: application/json (or an X-Requested-With header): a POST "
            "without one could come from another site")


def redact_uri(uri: str) -> str:
    """``uri`` with the value of every query parameter naming a token replaced by ``***``."""
    try:
        parts = urlsplit(uri)
        if not parts.query:
            return uri
        query = [(key, "***" if "token" in key.lower() else value)
                 for key, value in parse_qsl(parts.query, keep_blank_values=True)]
        return f"{parts.path}?{urlencode(query, safe='*')}"
    except ValueError:
        return uri.split("?", 1)[0] + "?***"


def loggable_uri(uri: str) -> str:
    """``uri`` as a log line may carry it: tokens redacted (``redact_uri``), then cut to
    ``LOGGED_URI_CHARS`` (``cut_for_log``)."""
    return cut_for_log(redact_uri(uri), LOGGED_URI_CHARS)


def cut_for_log(text: str, limit: int) -> str:
    """``text``, or its first ``limit`` characters and how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


class SecureHeaders(RequestHandler):
    """Base of every syncboard handler: security headers and token-free error logs."""

    def set_default_headers(self) -> None:
        self.set_header("Server", SERVER_HEADER)
        self.set_header("X-Content-Type-Options", "nosniff")
        if self.request.protocol == "https":
            self.set_header("Strict-Transport-Security", HSTS)

    def log_exception(self, typ: Any, value: BaseException | None, tb: Any) -> None:
        """Tornado's logging of uncaught exceptions, with tokens redacted from the URI, the URI
        and a refusal's reason cut to a bounded length, and without the request's headers
        (``Authorization`` carries tokens too)."""
        summary = f"{self.request.method} {loggable_uri(self.request.uri or '')} " \
                  f"({self.request.remote_ip})"
        if isinstance(value, HTTPError):
            if value.log_message:
                logging.getLogger("tornado.general").warning(
                    "%d %s: %s", value.status_code, summary,
                    cut_for_log(value.get_message(), LOGGED_MESSAGE_CHARS))
        else:
            logging.getLogger("tornado.application").error(
                "Uncaught exception %s", summary, exc_info=(typ, value, tb))


class CappedBody(RequestHandler):
    """Mixin for ``@stream_request_body`` handlers whose body has its own cap.

    Call ``self.start_body(cap, timeout)`` first in ``prepare`` (it answers 413 by
    ``Content-Length`` before anything is read), check the token next (still nothing read).
    First in the method, return if ``self.body_refused`` (a chunked body passed the cap: its
    413 is sent), then call ``self.take_body()``: it fills ``request.body``, ``request.files``
    and the body arguments as Tornado does for unstreamed handlers.
    """

    _chunks: list[bytes]
    _cap_bytes = 0
    _cap_name = ""
    _received = 0
    body_refused = False
    """True once a body sent without a length passed the cap (and its 413 was sent)."""

    def start_body(self, cap_bytes: int, timeout_s: float, cap_name: str = "") -> None:
        """Accept a body of at most ``cap_bytes`` arriving within ``timeout_s``; raise
        ``HTTPError(413)`` if ``Content-Length`` says more. ``cap_name``: the option that
        sets the cap, named in the 413's reason."""
        self._chunks = []
        self._cap_bytes, self._cap_name = cap_bytes, cap_name
        connection = self.request.connection
        declared = self.request.headers.get("Content-Length", "")
        size = int(declared) if declared.isdigit() else None
        if size is not None and size > cap_bytes:
            # Answer now. Raising Tornado's limit to the declared size keeps it from also
            # treating the request as malformed (a log line and a bare 400 per refusal); it
            # reads nothing more: the connection closes once the 413 is written.
            connection.set_max_body_size(size)
            raise HTTPError(413, f"body of {size} bytes is over the {cap_bytes}-byte cap")
        # A body of a declared length is read no further than that; one sent without a length
        # is counted in data_received.
        connection.set_max_body_size(cap_bytes if size is not None else _NO_TORNADO_LIMIT)
        connection.set_body_timeout(timeout_s)

    def data_received(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._received <= self._cap_bytes:
            self._chunks.append(chunk)
        elif not self.body_refused:
            self._refuse_body()
        elif self._received > self._cap_bytes + REFUSED_BODY_DRAIN_BYTES and \
                not self._finished:
            self.finish()  # closes the connection: the rest is never read

    def _refuse_body(self) -> None:
        """Answer 413 now, with the reason; the handler's method, run when the body ends,
        sends nothing more."""
        self._chunks = []
        self.body_refused = True
        named = f" ({self._cap_name})" if self._cap_name else ""
        answer = json.dumps({"error": "payload too large",
                             "detail": f"body over the {self._cap_bytes}-byte cap{named}, "
                                       "sent without a length; nothing was written"}).encode()
        self.set_status(413)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Content-Length", str(len(answer)))
        self.write(answer)
        self.flush()

    def take_body_buffer(self) -> bytearray:
        """The whole body as one buffer its reader may empty (``read_import`` does), for an
        endpoint that takes no form fields."""
        body = bytearray().join(self._chunks)
        self._chunks = []
        return body

    def take_body(self) -> bytes:
        """The whole body, also parsed into ``request.files``/arguments when it is a form."""
        body = b"".join(self._chunks)
        self._chunks = []
        self.request.body = body
        httputil.parse_body_arguments(self.request.headers.get("Content-Type", ""), body,
                                      self.request.body_arguments, self.request.files,
                                      self.request.headers)
        for name, values in self.request.body_arguments.items():
            self.request.arguments.setdefault(name, []).extend(values)
        return body


class SyncboardApplication(Application):
    """Tornado's Application, refusing requests for a host name that is not ours (421)."""

    def __init__(self, routes: list, allowed_hosts: set[str] | None, **settings: Any) -> None:
        super().__init__(routes, **settings)
        self.allowed_hosts = allowed_hosts

    def find_handler(self, request: HTTPServerRequest, **kwargs: Any):
        if self.allowed_hosts is not None and \
                _bare_host(request.host_name) not in self.allowed_hosts:
            return self.get_handler_delegate(request, RefusedHostHandler,
                                             {"allowed": sorted(self.allowed_hosts)})
        return super().find_handler(request, **kwargs)


class RefusedHostHandler(SecureHeaders):
    """421 for a ``Host`` the server does not answer to (a DNS rebinding page sends its own
    name)."""

    def initialize(self, allowed: Iterable[str]) -> None:
        self.allowed = list(allowed)

    def prepare(self) -> None:
        log.info("refused a request for host %s from %s (set --allowed-hosts to accept it)",
                 cut_for_log(repr(self.request.host_name), LOGGED_URI_CHARS),
                 self.request.remote_ip)
        self.set_status(421)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish({"error": "misdirected request",
                     "detail": f"this server answers to {', '.join(self.allowed)} "
                               "(see --allowed-hosts)"})


def _bare_host(name: str) -> str:
    name = name.strip().lower()
    return name[1:-1] if name.startswith("[") and name.endswith("]") else name


def _is_loopback(host: str) -> bool:
    host = _bare_host(host)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
