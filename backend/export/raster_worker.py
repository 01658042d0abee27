"""One PNG rasterising process: ``python raster_worker.py MEMORY_BYTES [FONT_FILE]``.

resvg holds the GIL for the whole render (a 64-megapixel export took 2.4 s, six at once
froze the server for 17.7 s), so it runs here, in a process of its own that the server's
``RasterPool`` starts, feeds and kills. The address space is capped at ``MEMORY_BYTES``
(``RLIMIT_AS``; 0 = no cap): past it an allocation fails and the process ends, which the
pool reports and answers with a fresh worker. It runs at nice 10, so on a busy machine the
server's event loop is scheduled before it.

Protocol on stdin/stdout: the worker writes ``READY`` once it has started, then answers one
job at a time: the request is ``>dQ`` (zoom, SVG length) and the UTF-8 SVG; the answer is
``>BQ`` (0 = PNG follows, 1 = error text follows, length) and the bytes. The process exits
when stdin closes. It is started as a script (not ``-m``), so it imports nothing of the
server: only the standard library and resvg. ``FONT_FILE`` (the bundled DejaVu Sans, which the
SVG's text was broken into lines by) is loaded beside the system's fonts.
"""

from __future__ import annotations

import os
import resource
import struct
import sys
from typing import BinaryIO

import resvg_py

REQUEST = struct.Struct(">dQ")
ANSWER = struct.Struct(">BQ")
OK, FAILED = 0, 1
READY = b"R"


def serve(source: BinaryIO, sink: BinaryIO, font_files: list[str] | None = None) -> None:
    """Answer jobs from ``source`` on ``sink`` until ``source`` ends."""
    sink.write(READY)
    sink.flush()
    while True:
        head = source.read(REQUEST.size)
        if len(head) < REQUEST.size:
            return
        zoom, length = REQUEST.unpack(head)
        svg = source.read(length)
        try:
            status, body = OK, bytes(resvg_py.svg_to_bytes(svg_string=svg.decode("utf-8"),
                                                           zoom=zoom, font_files=font_files))
        except (ValueError, UnicodeDecodeError, MemoryError) as exc:
            status, body = FAILED, f"resvg could not render the SVG: {exc}".encode()
        sink.write(ANSWER.pack(status, len(body)) + body)
        sink.flush()


def main(argv: list[str]) -> None:
    memory_bytes = int(argv[0]) if argv else 0
    font_files = argv[1:2] or None
    os.nice(10)  # batch work: the server's event loop gets the CPU first
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # Answers go to a private copy of stdout; anything a library prints goes to stderr.
    sink = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, sink, font_files)


if __name__ == "__main__":
    main(sys.argv[1:])
