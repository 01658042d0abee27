"""The probes that decide whether the PostgreSQL and Redis tests run: a port that answers is
not enough, a server that refuses the login makes them skip with the reason."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tests.services import postgres_problem, redis_problem

SSL_REQUEST = 80877103  # the code of PostgreSQL's SSLRequest message


@contextmanager
def fake_server(answer: Callable[[socket.socket], None]) -> Iterator[int]:
    """A loopback server on a free port that runs ``answer`` on each connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            answer(conn)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(15)


def wants_a_password(conn: socket.socket) -> None:
    """Answer as a PostgreSQL with password authentication does: ask for a clear-text password,
    refuse what comes."""
    conn.settimeout(10)
    length, code = struct.unpack("!II", conn.recv(8))
    if code == SSL_REQUEST:
        conn.sendall(b"N")  # no TLS here; the client goes on in plain text
        length, code = struct.unpack("!II", conn.recv(8))
    conn.recv(length - 8)
    conn.sendall(b"R" + struct.pack("!II", 8, 3))  # AuthenticationCleartextPassword
    conn.recv(4096)  # the client's (empty) password
    fields = b"SFATAL\0C28P01\0Mpassword authentication failed for user \"postgres\"\0\0"
    conn.sendall(b"E" + struct.pack("!I", 4 + len(fields)) + fields)


def wants_auth(conn: socket.socket) -> None:
    """Answer the first Redis command as a password-protected Redis does."""
    conn.settimeout(10)
    conn.recv(4096)
    conn.sendall(b"-NOAUTH Authentication required.\r\n")


def test_a_postgresql_that_wants_a_password_is_a_skip_with_the_reason():
    with fake_server(wants_a_password) as port:
        problem = postgres_problem(f"postgresql://postgres@127.0.0.1:{port}/postgres")
    assert problem is not None and "password" in problem.lower(), problem
    assert "trust" in problem  # says what the tests need


def test_an_unknown_role_or_closed_port_is_a_skip_with_the_reason():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, not listening: refused
        port = sock.getsockname()[1]
        assert "not usable" in postgres_problem(f"postgresql://postgres@127.0.0.1:{port}/x")
        assert "not usable" in redis_problem(f"redis://127.0.0.1:{port}/0")


def test_a_redis_that_wants_auth_is_a_skip_with_the_reason():
    with fake_server(wants_auth) as port:
        problem = redis_problem(f"redis://127.0.0.1:{port}/0")
    assert problem is not None and "Authentication required" in problem, problem
