"""Text widths and line breaks from the bundled font's advance widths (shared/BOARD.md, "Text
metrics"): the Python twin of frontend/src/render/textmetrics.js, tested against the same
cases (shared/fixtures/wrapping.json), so an exported label or sticky note breaks its lines
exactly where the browser does.

Widths are sums of integer advances (font units, from shared/font-metrics.json), scaled once:
``units * font_size / units_per_em``, the same floating-point operations as in JavaScript.
Kerning is not applied on either side. Text is split into paragraphs at ``\\n`` and into words
at runs of spaces and tabs only; a word wider than the line is cut between code points.
"""

from __future__ import annotations

import json
import re
from functools import cache

from ..resources import shared_file

_BREAKS = re.compile(r"([ \t]+)")
_SPACES = " \t"


@cache
def _metrics() -> tuple[dict[int, int], int, int]:
    document = json.loads(shared_file("font-metrics.json").read_text(encoding="utf-8"))
    advances = {first + offset: advance for first, run in document["runs"]
                for offset, advance in enumerate(run)}
    return advances, int(document["fallback"]), int(document["unitsPerEm"])


def text_units(text: str) -> int:
    """The advance of ``text`` in font units (code points the font lacks: one em each)."""
    advances, fallback, _ = _metrics()
    return sum(advances.get(ord(char), fallback) for char in text)


def text_width(text: str, font_size: float) -> float:
    """The advance of ``text`` at ``font_size`` (board units)."""
    return text_units(text) * font_size / _metrics()[2]


def wrap_text(text: str, width: float, font_size: float) -> list[str]:
    """Split ``text`` into lines no wider than ``width`` (0 = at newlines only)."""
    upm = _metrics()[2]

    def fits(units: int) -> bool:
        return units * font_size / upm <= width

    lines: list[str] = []
    for paragraph in text.split("\n"):
        if width <= 0:
            lines.append(paragraph)
            continue
        line, units = "", 0
        for token in _BREAKS.split(paragraph):
            if not token:
                continue
            token_units = text_units(token)
            if token[0] in _SPACES:  # spaces hang at the end of a line, never break it
                line, units = line + token, units + token_units
                continue
            if line.strip(_SPACES) and not fits(units + token_units):
                lines.append(line.rstrip(_SPACES))
                line, units = token, token_units
            else:
                line, units = line + token, units + token_units
            while len(line) > 1 and not fits(units):  # a word wider than the line is cut
                cut, taken = _longest_fitting_prefix(line, fits)
                lines.append(line[:cut])
                line, units = line[cut:], units - taken
        lines.append(line)
    return lines


def _longest_fitting_prefix(line: str, fits) -> tuple[int, int]:
    """How many code points of ``line`` fit (at least one) and their advance in units."""
    advances, fallback, _ = _metrics()
    count, units = 0, 0
    for char in line:
        advance = advances.get(ord(char), fallback)
        if count and not fits(units + advance):
            break
        count, units = count + 1, units + advance
    return count, units
