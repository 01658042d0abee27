"""Image dimensions read from the file header, without decoding a pixel.

A few bytes can declare an image that decodes to gigabytes (a 38-byte WebP claiming
22,000 x 22,000, an 875 KB PNG of 34,000 x 34,000 zeros), so uploads and exports check the
declared size here first (``check_image``) and never hand a too-large image to a decoder.
Formats: PNG (IHDR), GIF (logical screen and every frame), JPEG (the first SOF segment before
the scan) and WebP (``VP8 ``, ``VP8L`` and the ``VP8X`` canvas). The signatures are those of
``export.mapping.sniff_image_mime``.
"""

from __future__ import annotations

from dataclasses import dataclass

_PNG = b"\x89PNG\r\n\x1a\n"
# Start-of-frame markers (baseline, extended, progressive, lossless, arithmetic); not DHT
# (C4), JPG (C8) or DAC (CC), which share the range.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_NO_LENGTH = frozenset(range(0xD0, 0xDA)) | {0x01}  # RSTn, SOI, EOI, TEM
_JPEG_SOS = 0xDA


class ImageHeaderError(ValueError):
    """The header is missing, cut short or inconsistent (the message says where)."""


class ImageTooLarge(ValueError):
    """The image declares more pixels than allowed (the message gives both numbers)."""


@dataclass(frozen=True)
class ImageSize:
    """Declared dimensions of an image, in pixels."""

    mime: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def read_image_size(data: bytes) -> ImageSize:
    """The declared size of PNG, JPEG, GIF or WebP ``data``.

    Raises ``ImageHeaderError`` for another format or a header that cannot be read.
    """
    if data.startswith(_PNG):
        return _png(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg(data)
    if data.startswith((b"GIF87a", b"GIF89a")):
        return _gif(data)
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    raise ImageHeaderError("not a PNG, JPEG, GIF or WebP image")


def check_image(data: bytes, max_pixels: int) -> ImageSize:
    """``read_image_size(data)``, refused when it declares more than ``max_pixels`` pixels.

    Raises ``ImageHeaderError`` (unreadable header) or ``ImageTooLarge``.
    """
    size = read_image_size(data)
    if size.width <= 0 or size.height <= 0:
        raise ImageHeaderError(f"image declares {size.width} x {size.height} pixels")
    if size.pixels > max_pixels:
        raise ImageTooLarge(f"image is {size.width} x {size.height} = {size.pixels:,} pixels, "
                            f"over the limit of {max_pixels:,} (--max-image-pixels)")
    return size


def _png(data: bytes) -> ImageSize:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise ImageHeaderError("PNG without an IHDR chunk first")
    return ImageSize("image/png", _be(data, 16, 4), _be(data, 20, 4))


def _gif(data: bytes) -> ImageSize:
    """The logical screen, grown to hold every frame (decoders size their canvas so)."""
    if len(data) < 13:
        raise ImageHeaderError("GIF header cut short")
    width, height = _le(data, 6, 2), _le(data, 8, 2)
    pos = 13 + _color_table_bytes(data[10])
    while pos < len(data):
        block = data[pos]
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: label, then sub-blocks
            pos = _skip_sub_blocks(data, pos + 2)
        elif block == 0x2C:  # image descriptor: left, top, width, height, flags
            if pos + 10 > len(data):
                raise ImageHeaderError("GIF image descriptor cut short")
            left, top = _le(data, pos + 1, 2), _le(data, pos + 3, 2)
            width = max(width, left + _le(data, pos + 5, 2))
            height = max(height, top + _le(data, pos + 7, 2))
            pos = _skip_sub_blocks(data, pos + 10 + _color_table_bytes(data[pos + 9]) + 1)
        else:
            raise ImageHeaderError(f"GIF block 0x{block:02x} at byte {pos} is unknown")
    return ImageSize("image/gif", width, height)


def _color_table_bytes(flags: int) -> int:
    return 3 * 2 ** ((flags & 0x07) + 1) if flags & 0x80 else 0


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    while True:
        if pos >= len(data):
            raise ImageHeaderError("GIF data cut short")
        length = data[pos]
        pos += 1 + length
        if length == 0:
            return pos


def _jpeg(data: bytes) -> ImageSize:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ImageHeaderError(f"JPEG marker expected at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _JPEG_NO_LENGTH:
            pos += 2
            continue
        length = _be(data, pos + 2, 2)
        if marker in _JPEG_SOF:
            if length < 7 or pos + 9 > len(data):
                raise ImageHeaderError("JPEG frame header cut short")
            return ImageSize("image/jpeg", _be(data, pos + 7, 2), _be(data, pos + 5, 2))
        if marker == _JPEG_SOS:
            break
        pos += 2 + length
    raise ImageHeaderError("JPEG without a frame header before its scan")


def _webp(data: bytes) -> ImageSize:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        return ImageSize("image/webp", 1 + _le(data, 24, 3), 1 + _le(data, 27, 3))
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = _le(data, 21, 4)
        return ImageSize("image/webp", 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF))
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        return ImageSize("image/webp", _le(data, 26, 2) & 0x3FFF, _le(data, 28, 2) & 0x3FFF)
    raise ImageHeaderError("WebP without a readable VP8, VP8L or VP8X header")


def _be(data: bytes, pos: int, size: int) -> int:
    return int.from_bytes(data[pos:pos + size], "big")


def _le(data: bytes, pos: int, size: int) -> int:
    return int.from_bytes(data[pos:pos + size], "little")
