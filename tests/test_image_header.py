"""image_header: declared sizes of real PNG, JPEG, GIF and WebP files, and refusals of images
that declare more pixels than allowed (never decoded)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import png
import pytest

from backend.image_header import (
    ImageHeaderError,
    ImageSize,
    ImageTooLarge,
    check_image,
    read_image_size,
)

IMAGES = Path(__file__).parent / "images"


@pytest.mark.parametrize(("name", "size"), [
    # Encoded by headless Chromium (canvas.toDataURL) and from CPython's imghdr test data.
    ("opaque.png", ("image/png", 123, 45)),
    ("opaque.jpg", ("image/jpeg", 123, 45)),
    ("opaque-lossy.webp", ("image/webp", 123, 45)),
    ("opaque-lossless.webp", ("image/webp", 123, 45)),
    ("alpha-lossy.webp", ("image/webp", 77, 300)),
    ("python.gif", ("image/gif", 16, 16)),
    ("python.jpg", ("image/jpeg", 16, 16)),
    ("python-raw.jpg", ("image/jpeg", 16, 16)),
    ("python.webp", ("image/webp", 16, 16)),
])
def test_real_files_report_their_size(name, size):
    assert read_image_size((IMAGES / name).read_bytes()) == ImageSize(*size)


def simple_webp(name: str) -> bytes:
    """The VP8 or VP8L chunk of a Chromium file (which wraps it in VP8X) as a simple WebP."""
    data = (IMAGES / name).read_bytes()
    pos = 12
    while pos < len(data):
        fourcc, length = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if fourcc in (b"VP8 ", b"VP8L"):
            chunk = data[pos:pos + 8 + length + (length & 1)]
            return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk
        pos += 8 + length + (length & 1)
    raise AssertionError("no VP8/VP8L chunk")


@pytest.mark.parametrize("name", ["opaque-lossy.webp", "opaque-lossless.webp"])
def test_simple_webp_headers_are_read(name):
    data = simple_webp(name)
    assert data[12:16] in (b"VP8 ", b"VP8L")
    assert read_image_size(data) == ImageSize("image/webp", 123, 45)


def test_a_png_written_by_pypng_reports_its_size():
    out = io.BytesIO()
    png.Writer(300, 7, greyscale=True).write(out, [[0] * 300] * 7)
    assert read_image_size(out.getvalue()) == ImageSize("image/png", 300, 7)


def test_a_38_byte_webp_declaring_a_giant_canvas_is_refused():
    # VP8X canvas of 22,000 x 22,000 (1.9 GB decoded), as in issue 18.
    canvas = (22000 - 1).to_bytes(3, "little") * 2
    data = b"RIFF" + struct.pack("<I", 30) + b"WEBP" + b"VP8X" + struct.pack("<I", 10) \
        + b"\x00\x00\x00\x00" + canvas
    assert len(data) == 30
    with pytest.raises(ImageTooLarge, match="22000 x 22000"):
        check_image(data + b"\x00" * 8, max_pixels=50_000_000)


def test_a_small_png_declaring_34000_squared_pixels_is_refused_without_decoding():
    ihdr = struct.pack(">IIBBBBB", 34000, 34000, 8, 6, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(
        ">I", zlib.crc32(b"IHDR" + ihdr))
    data = b"\x89PNG\r\n\x1a\n" + chunk + b"\x00" * 1000
    with pytest.raises(ImageTooLarge, match="1,156,000,000 pixels"):
        check_image(data, max_pixels=50_000_000)
    assert check_image(data, max_pixels=34000 * 34000).pixels == 34000 * 34000


def test_a_gif_frame_larger_than_its_screen_counts():
    data = bytearray((IMAGES / "python.gif").read_bytes())
    descriptor = data.index(b"\x2c", 13)
    data[descriptor + 5:descriptor + 9] = struct.pack("<HH", 60000, 60000)
    assert read_image_size(bytes(data)) == ImageSize("image/gif", 60000, 60000)


@pytest.mark.parametrize("data", [
    b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0\x00", b"GIF89a\x01",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"<svg/>", (IMAGES / "python.jpg").read_bytes()[:100],
])
def test_cut_or_foreign_headers_are_errors(data):
    with pytest.raises(ImageHeaderError):
        check_image(data, max_pixels=10)
