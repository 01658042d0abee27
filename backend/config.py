"""Settings: every server option, its default, unit, environment variable and flag.

This is the only module that reads ``os.environ``. Each option is a field of the frozen
``Settings`` dataclass; ``--help`` is generated from the same fields, so the flag, the
``SYNCBOARD_*`` variable and the documented default can never disagree. Precedence:
flag > environment variable > default. A bad value stops start-up with a message naming
the option and the value.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import __version__
from .cli_args import ArgumentParser

ENV_PREFIX = "SYNCBOARD_"
MIB = 1024 * 1024


def _option(default: Any, help: str, minimum: float | None = None,
            choices: Sequence[str] | None = None,
            check: Callable[[Any], str | None] | None = None,
            repeatable: bool = False) -> Any:
    """``check``: returns why a value is wrong (stops start-up), or None. ``repeatable``: the
    flag may be given several times; the values are joined with spaces."""
    return field(default=default, metadata={"help": help, "minimum": minimum,
                                            "choices": choices, "check": check,
                                            "repeatable": repeatable})


def _ws_path_problem(path: str) -> str | None:
    if not path.startswith("/") or (path != "/" and path.endswith("/")):
        return "must start with / and not end with / (use / alone for the root)"
    if any(char in path for char in "?#%") or any(char.isspace() for char in path):
        return "must not contain ?, #, % or spaces"
    return None


@dataclass(frozen=True)
class Settings:
    """All options of one server process. Build with ``Settings()`` in tests or
    ``load_settings(argv)`` from the command line."""

    host: str = _option("127.0.0.1", "Address to listen on.")
    port: int = _option(8000, "TCP port to listen on (0 picks a free one).", minimum=0)
    db: str = _option(
        "sqlite+aiosqlite:///data/syncboard.db",
        "SQLAlchemy async database URL. SQLite files get their folder created.",
    )
    migrate: str = _option(
        "default", "What to do at start with a database whose schema revision is older than "
        "this code: 'auto' upgrades it (a SQLite file is first copied to <file>.bak-<revision>), "
        "'refuse' stops naming `python -m backend migrate`; 'default' is auto for SQLite, refuse "
        "for PostgreSQL. A database newer than the code is always refused (docs/operations.md).",
        choices=("default", "auto", "refuse"))
    max_message_bytes: int = _option(
        8 * MIB, "Largest WebSocket frame accepted; a larger one closes the peer with 1009.",
        minimum=1)
    ping_interval_s: float = _option(
        20.0, "Seconds between WebSocket pings to each peer; 0 turns pings off.", minimum=0)
    ping_timeout_s: float = _option(
        20.0, "Seconds without a pong after a ping before a peer is dropped as dead.",
        minimum=0.05)
    relay_delay_ms: float = _option(
        0.0, "Collect a board's updates and presence changes for this long, then relay them "
        "as one merged frame each (fewer frames per peer under load, at most this much added "
        "latency). 0: merge only what arrives within one event-loop turn.", minimum=0)
    flush_delay_ms: float = _option(
        50.0, "Longest time an update waits in the write queue before its group commit "
        "(bounds what a crash can lose before clients resend it).", minimum=0)
    compact_after_updates: int = _option(
        500, "Compact a board once its log holds this many updates.", minimum=1)
    compact_after_bytes: int = _option(
        4 * MIB, "Compact a board once its log holds this many bytes.", minimum=1)
    idle_unload_s: float = _option(
        60.0, "Seconds a board with no peers stays in memory before it is flushed and unloaded.",
        minimum=0)
    max_pending_bytes: int = _option(
        16 * MIB, "Unsent output a peer may build up before its connection is dropped "
        "(a client that stopped reading). A sync step 2 the peer asked for (a whole board "
        "for a fresh joiner) is not held against it while it drains at "
        "--min-read-bytes-per-s.", minimum=1)
    max_pending_bytes_total: int = _option(
        512 * MIB, "Unsent output over all peers of this process; past it the peers with the "
        "largest backlogs are dropped first. A whole-board step 2 shared by several joiners "
        "counts once.", minimum=1)
    min_read_bytes_per_s: int = _option(
        64 * 1024, "A peer with unsent output that takes less than this per "
        "--read-window-s (or less than it owed) is dropped as a slow reader; a big frame "
        "the peer sends us must also arrive at least this fast.", minimum=1)
    read_window_s: float = _option(
        10.0, "Window over which --min-read-bytes-per-s is judged.", minimum=0.1)
    write_retry_max_s: float = _option(
        5.0, "Longest pause between retries of a failed database write.", minimum=0.01)
    awareness_timeout_s: float = _option(
        30.0, "Presence not renewed for this long is dropped and its removal broadcast.",
        minimum=1)
    log_level: str = _option("INFO", "Logging level.",
                             choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    log_format: str = _option(
        "text", "'text': one human-readable line per event; 'json': one JSON object per line "
        "(time, level, logger, message, worker), for log collectors.", choices=("text", "json"))
    # Access control (see SECURITY.md).
    auth: str = _option(
        "token", "'token': every board needs a signed edit or view token; 'none': anyone who "
        "can reach the server reads and writes every board (trusted local use only).",
        choices=("token", "none"))
    secret: str = _option(
        "", "Key that signs board tokens. Empty: generated on first start and kept in "
        "DATA_DIR/secret.key (mode 0600) so links survive restarts.")
    data_dir: str = _option("data", "Folder for the generated secret (and the default database).")
    admin_token: str = _option(
        "", "Bearer token for the admin API (list and delete boards, export any board). "
        "Empty: the admin API is off.")
    allowed_origin: str = _option(
        "", "Comma-separated origins allowed to open WebSockets (e.g. https://board.example). "
        "Empty: only the server's own origin. Clients sending no Origin (non-browsers) pass.")
    allowed_hosts: str = _option(
        "", "Comma-separated host names a request's Host header may carry (others get 421: a "
        "DNS rebinding page sends its own name); '*' allows any. Empty: localhost, 127.0.0.1, "
        "::1 and --host when listening on a loopback address, else any. Set it to the public "
        "name(s) when the server is exposed (e.g. board.example).")
    # Abuse limits.
    rate_messages_per_s: float = _option(
        300.0, "Sustained frames per second one connection may send.", minimum=0.1)
    rate_burst_messages: int = _option(
        1000, "Frames one connection may send in a burst above the sustained rate.", minimum=1)
    rate_bytes_per_s: int = _option(
        2 * MIB, "Sustained bytes per second one connection may send.", minimum=1)
    rate_burst_bytes: int = _option(
        16 * MIB, "Bytes one connection may send in a burst (at least --max-message-bytes).",
        minimum=1)
    rate_grace_s: float = _option(
        2.0, "How long a connection may stay over its rate before it is closed with 4429 "
        "(meanwhile its frames are read only as fast as its rate allows).", minimum=0)
    max_step2_bytes: int = _option(
        65 * MIB, "Largest sync step 2 frame accepted (a client's offline edits or local copy "
        "arrive in one frame it cannot split); other frames keep --max-message-bytes. Read "
        "in chunks, checked against --max-board-bytes before it is read, and one per "
        "connection is exempt from the byte rate. A larger frame closes with 4413.",
        minimum=1)
    max_step2_bytes_total: int = _option(
        256 * MIB, "Bytes of large sync step 2 frames being received at once over all "
        "connections; one more waits outside (closed with 1013, the client retries).",
        minimum=1)
    precheck_worker_bytes: int = _option(
        128 * 1024, "Updates of at least this many bytes are pre-checked in a worker "
        "process instead of on the event loop (the pure-Python check takes about 0.2 s per "
        "MiB of small structs); what arrives for that board meanwhile waits behind it, other "
        "boards go on. 0: every update is checked on the event loop.", minimum=0)
    precheck_queue_jobs: int = _option(
        4, "Big pre-checks that may wait while one runs in the worker (each holds its update "
        "in memory); one more closes its peer with 1013 (the client retries).", minimum=0)
    precheck_timeout_s: float = _option(
        60.0, "Longest one pre-check may run in the worker process (counted once the job "
        "reaches a started worker, not while it waits): past it the worker is killed and "
        "replaced, that update refused (its connection closed with 1007, nothing stored) and "
        "the checks waiting behind it go on. A legitimate check takes about 0.2 s per MiB of "
        "small structs, some 15 s for one near --max-step2-bytes on an idle machine.",
        minimum=0.001)
    max_connections: int = _option(10000, "Connections over all boards.", minimum=1)
    max_connections_per_ip: int = _option(
        1000, "WebSocket connections from one client address, counted when the upgrade is "
        "admitted (429 beyond; the browser app says why). Users behind one NAT or proxy "
        "share an address. Behind a reverse proxy, start with --behind-proxy or every "
        "client counts as the proxy's address.", minimum=1)
    max_peers_per_board: int = _option(500, "Connections to one board.", minimum=1)
    max_boards_loaded: int = _option(
        5000, "Boards held in memory; a join that needs one more is refused (503) when idle "
        "boards cannot make room.", minimum=1)
    max_board_bytes: int = _option(
        64 * MIB, "Stored size cap of one board; an update that would pass it is refused "
        "with 4413 (deleting stays possible).", minimum=1)
    max_file_bytes: int = _option(
        10 * MIB, "Largest image upload (413 beyond); PNG, JPEG, GIF and WebP only (415).",
        minimum=1)
    max_import_bytes: int = _option(
        64 * MIB, "Largest JSON body accepted by the import endpoint (413 beyond).", minimum=1)
    import_worker_memory_bytes: int = _option(
        2048 * MIB, "Address-space cap (RLIMIT_AS) of the import worker process, which reads, "
        "validates and builds every import: a file needing more is refused with 413 and the "
        "worker replaced. The largest import the other limits let through (166,000 "
        "rectangles, 2 million values) peaks at 1,388 MiB (BENCHMARKS.md). 0: no cap.",
        minimum=0)
    max_sockets_per_ip: int = _option(
        1100, "Open TCP connections (HTTP and WebSocket together) from one peer address, "
        "checked when a connection is accepted, before a byte is read; more are closed at "
        "once. At most half the descriptor budget (the open-file limit less 128). Not "
        "applied with --behind-proxy (every connection then comes from the proxy).", minimum=1)
    header_timeout_s: float = _option(
        10.0, "Longest wait for a request's headers, and for the next request on an idle "
        "keep-alive connection; the connection is closed after it.", minimum=0.1)
    body_timeout_s: float = _option(
        120.0, "Longest time to receive one request body (an import or upload on a slow "
        "uplink needs its size divided by the upload speed).", minimum=0.1)
    create_boards_per_min: float = _option(
        10.0, "Boards one client address may create per minute, sustained (429 beyond; the "
        "admin token is exempt).", minimum=0.01)
    create_boards_burst: int = _option(
        60, "Boards one client address may create in a burst above that rate.", minimum=1)
    upload_bytes_per_min: int = _option(
        64 * MIB, "Image bytes one client address may upload per minute, sustained; each "
        "upload counts at least 64 KiB (429 beyond).", minimum=1)
    upload_burst_bytes: int = _option(
        256 * MIB, "Image bytes one client address may upload in a burst.", minimum=1)
    file_grace_s: float = _option(
        7 * 86400.0, "An uploaded image no board references is deleted after this long "
        "unreferenced (undo can bring an image back; an upload is kept this long until its "
        "board stores the image). 0 keeps files forever.", minimum=0)
    file_sweep_interval_s: float = _option(
        3600.0, "Seconds between searches for unreferenced images.", minimum=1)
    max_image_pixels: int = _option(
        50_000_000, "Largest image (width x height, read from its header, never decoded) "
        "accepted by the upload endpoint (413 beyond) and drawn in an export (left out "
        "beyond); 50 megapixels decode to 200 MB.", minimum=1)
    max_export_pixels: int = _option(
        64_000_000, "Largest PNG export (width x height); a larger request is scaled down "
        "to fit.", minimum=1)
    png_workers: int = _option(
        1, "Processes that rasterise PNG exports (resvg holds the GIL, so never in the "
        "server process). 1 suits 2 cores; use about half the cores on bigger machines.",
        minimum=1)
    png_queue_jobs: int = _option(
        4, "PNG exports that may wait for a worker; one more is refused with 503 and "
        "Retry-After.", minimum=0)
    png_timeout_s: float = _option(
        60.0, "Longest a PNG export may render; its worker is then killed and the request "
        "answered 422.", minimum=0.1)
    png_memory_bytes: int = _option(
        2048 * MIB, "Address-space cap (RLIMIT_AS) of each PNG worker; a render past it fails "
        "with 422 and the worker is replaced. 0: no cap.", minimum=0)
    presence_max_ids_per_peer: int = _option(
        4, "Presence client ids one connection may introduce (a browser tab has one); further "
        "ids are dropped.", minimum=1)
    presence_max_state_bytes: int = _option(
        8 * 1024, "Largest presence state (JSON bytes) of one client id; a larger one is "
        "dropped (the browser app trims its selection to stay below 6 KiB).", minimum=64)
    presence_max_ids_per_board: int = _option(
        1000, "Presence states one board holds; an awareness frame listing more than twice "
        "this closes with 1007 before it is decoded.", minimum=1)
    presence_max_board_bytes: int = _option(
        2 * MIB, "Presence bytes one board holds over all its states (every join receives "
        "them all: keep it well below --max-pending-bytes).", minimum=1024)
    # Transport.
    certfile: str = _option("", "TLS certificate (PEM) to serve HTTPS and WSS directly.")
    keyfile: str = _option("", "TLS private key (PEM) for --certfile.")
    ws_path: str = _option(
        "/ws", "URL path under which clients open boards: a y-websocket client's server URL "
        "is ws://HOST:PORT + this path, and the board name follows it (/ws/<board>). '/' "
        "serves boards at /<board> for apps whose URL is fixed; the browser app's pages, "
        "/static, /api, /healthz and /metrics keep working (only WebSocket upgrades are "
        "boards).", check=_ws_path_problem)
    refuse_clock_squatting: bool = _option(
        True, "Close (1007) a connection whose update writes new clocks of a Yjs client id "
        "that another live connection's presence uses (once that connection sent its sync "
        "step 2), or deletes clocks nobody wrote yet (issue 18, clock squatting; "
        "SECURITY.md). On by default; SYNCBOARD_REFUSE_CLOCK_SQUATTING=false turns it off.")
    behind_proxy: bool = _option(
        False, "Trust X-Forwarded-For / X-Real-Ip / X-Forwarded-Proto from a reverse proxy "
        "for client addresses and scheme.")
    # Scaling out (see docs/scaling.md).
    broker: str = _option(
        "", "Redis URL (redis://host:6379/0) that relays updates and presence between syncboard "
        "processes sharing one database. Empty: a single process, nothing relayed.")
    broker_stream_maxlen: int = _option(
        10000, "Entries kept per board in its Redis stream (trimmed approximately). A process "
        "cut off from Redis for longer than that reloads the board from the database.",
        minimum=1)
    workers: int = _option(
        1, "Processes serving the same port on this machine (forked at start). More than 1 "
        "needs --broker; SQLite is shared through its WAL, PostgreSQL scales further.",
        minimum=1)
    # Team spaces (issue 22): indexing, thumbnails and trash, all off the sync path.
    space_index_interval_s: float = _option(
        1.0, "Seconds between the space indexer's looks for changed space boards (their "
        "titles, search text and last editor are read then).", minimum=0.05)
    thumbnail_quiet_s: float = _option(
        2.0, "A space board's thumbnail is rendered again once the board has not changed for "
        "this long (rendered in a --png-workers process, like PNG exports).", minimum=0)
    thumbnail_width_px: int = _option(
        320, "Width of the box a board's thumbnail fits in (its height: 5/8 of it).",
        minimum=16)
    space_trash_days: float = _option(
        30.0, "Days a board deleted from a space stays in the space's trash (restorable) "
        "before it is deleted for good.", minimum=0)
    # Version history (issue 14; README "Version history").
    history_interval_s: float = _option(
        300.0, "At most one automatic version of a board per this many seconds while it is "
        "edited (plus one when an edited board unloads). 0 turns automatic versions off; "
        "named, before-restore and before-import versions are always recorded.", minimum=0)
    history_keep_all_s: float = _option(
        86400.0, "Keep every automatic version younger than this many seconds.", minimum=0)
    history_keep_hourly_s: float = _option(
        30 * 86400.0, "Up to this age (seconds), keep the newest automatic version of each "
        "hour; older ones, the newest of each day. Named versions are never dropped.",
        minimum=0)
    history_keep_daily_s: float = _option(
        0.0, "Up to this age (seconds), keep the newest automatic version of each day; older "
        "automatic versions are dropped. 0: keep one per day forever.", minimum=0)
    history_queue_jobs: int = _option(
        8, "Version previews, exports and restores that may wait while one rebuilds (each "
        "holds its version's rows in memory); one more is refused with 503 and Retry-After.",
        minimum=0)
    history_timeout_s: float = _option(
        60.0, "Longest one version rebuild or restore may take in the history worker "
        "process; the worker is then killed and replaced, and the request answered 504.",
        minimum=0.01)
    history_worker_memory_bytes: int = _option(
        2048 * MIB, "Address-space cap (RLIMIT_AS) of the history worker process, which "
        "rebuilds versions and builds restores: a job needing more is answered 422 and the "
        "worker replaced. A version of 166,000 rectangles (a 45 MiB board, the most an "
        "import makes) peaks at 1,384 MiB restored (BENCHMARKS.md). 0: no cap.", minimum=0)

    # Change feed and webhooks (issue 17, backend/events/; see README "Events out of a board").
    events_window_ms: int = _option(
        500, "Changes of one board are collected for this long and published as one event "
        "(a pen stroke is one event, not hundreds). 0 turns the change feed and webhooks off "
        "(no shadow copy of each board is kept).", minimum=0)
    events_backlog_s: float = _option(
        600.0, "How long events are kept for Last-Event-ID resumes; a client asking for an "
        "older one gets a 'reset' event.", minimum=1)
    events_backlog_events: int = _option(
        256, "Events kept per board for resumes (the feed over all boards keeps 40 times "
        "this); older ones are dropped even within --events-backlog-s. Memory: about 0.5 KB "
        "per event of a few elements.", minimum=1)
    events_max_clients: int = _option(
        1000, "Open change-feed (Server-Sent Events) connections per process (503 beyond).",
        minimum=1)
    webhook: str = _option(
        "", "URL that receives every board's events as signed POSTs; repeat the flag for "
        "several (the environment variable takes them separated by spaces).",
        repeatable=True)
    webhook_secret: str = _option(
        "", "Key signing the deliveries to the --webhook URLs (HMAC-SHA256; see README). "
        "Required with --webhook.")
    webhook_allow_host: str = _option(
        "", "Host names, addresses or networks (CIDR) webhooks may reach although they are "
        "loopback, private or link-local (refused otherwise); comma-separated, repeatable.",
        repeatable=True)
    webhook_timeout_s: float = _option(
        10.0, "Longest one webhook request may take (connect and response).", minimum=0.1)
    webhook_max_response_bytes: int = _option(
        65536, "Largest webhook response body read; a larger one fails the attempt.",
        minimum=1)
    webhook_retry_max_s: float = _option(
        600.0, "How long a failing delivery is retried (exponential backoff from 1 s, at most "
        "60 s apart); then it is given up and the hook is paused.", minimum=0)
    webhook_backoff_s: float = _option(
        1.0, "First pause between retries of a failing delivery; it doubles each attempt, "
        "up to 60 s.", minimum=0.01)
    webhook_queue_events: int = _option(
        1000, "Events one hook may have waiting; past it the oldest are dropped (and logged "
        "in its delivery log).", minimum=1)
    webhook_lease_s: float = _option(
        10.0, "With --broker: how long the Redis lease of the one process delivering webhooks "
        "lasts (it renews it every 0.3 of that); when that process dies, another takes the "
        "deliveries over within this long.", minimum=0.5)

    def option_names(self) -> list[str]:
        """Names of all options, in declaration order."""
        return [f.name for f in dataclasses.fields(self)]


def env_name(option: str) -> str:
    """The environment variable that sets ``option`` (``db`` -> ``SYNCBOARD_DB``)."""
    return ENV_PREFIX + option.upper()


def flag_name(option: str) -> str:
    """The flag that sets ``option`` (``max_message_bytes`` -> ``--max-message-bytes``)."""
    return "--" + option.replace("_", "-")


class SettingsError(ValueError):
    """An option has a value it cannot take."""


def load_settings(argv: Sequence[str] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Build ``Settings`` from flags, then ``SYNCBOARD_*`` variables, then defaults.

    Raises ``SystemExit`` (via argparse) with a message naming the option on a bad value.
    """
    environ = os.environ if environ is None else environ
    parser = build_parser()
    args = parser.parse_args(argv)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Settings):
        raw = getattr(args, f.name)
        if isinstance(raw, list):  # a repeatable flag
            raw = " ".join(raw)
        source = flag_name(f.name)
        if raw is None and env_name(f.name) in environ:
            raw, source = environ[env_name(f.name)], env_name(f.name)
        if raw is None:
            continue
        try:
            values[f.name] = _convert(f, raw)
        except SettingsError as exc:
            parser.error(f"option {source} has value {raw!r}: {exc}")
    return Settings(**values)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser behind ``python -m backend --help``."""
    parser = ArgumentParser(  # values may start with "-" (tokens, ids): see cli_args.py
        prog="python -m backend",
        description="syncboard: collaborative whiteboard server (y-websocket protocol).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Every option can also be set with its environment variable; "
               "a flag wins over the variable.",
    )
    parser.add_argument("--version", action="version", version=f"syncboard {__version__}")
    for f in dataclasses.fields(Settings):
        meta = f.metadata
        extra = f" Choices: {', '.join(meta['choices'])}." if meta.get("choices") else ""
        help_text = f"{meta['help']}{extra} Env: {env_name(f.name)}. Default: {f.default}."
        if _kind(f) is bool:
            parser.add_argument(flag_name(f.name), dest=f.name, default=None,
                                action="store_const", const="true", help=help_text)
        else:
            parser.add_argument(flag_name(f.name), dest=f.name, default=None,
                                action="append" if meta.get("repeatable") else "store",
                                metavar=f.name.upper(), help=help_text)
    return parser


def _kind(f: dataclasses.Field) -> type:
    if isinstance(f.type, type):
        return f.type
    return {"int": int, "float": float, "str": str, "bool": bool}[f.type]


def _convert(f: dataclasses.Field, raw: str) -> Any:
    kind = _kind(f)
    if kind is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError("expected true or false")
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"expected a {kind.__name__}") from None
    minimum = f.metadata.get("minimum")
    if minimum is not None and value < minimum:
        raise SettingsError(f"must be at least {minimum}")
    choices = f.metadata.get("choices")
    if choices:
        canonical = {choice.lower(): choice for choice in choices}
        if str(value).lower() not in canonical:
            raise SettingsError(f"must be one of {', '.join(choices)}")
        value = canonical[str(value).lower()]
    check = f.metadata.get("check")
    problem = check(value) if check is not None else None
    if problem is not None:
        raise SettingsError(problem)
    return value
