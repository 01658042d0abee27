"""The bundled font (shared/fonts/DejaVuSans.ttf) for an SVG export to carry: a subset holding
only the characters the drawing uses, as a CSS ``@font-face`` with a ``data:`` URL, so the
file draws its text with the metrics its lines were broken by (``text.py``) in any viewer.

The subset keeps the font's name table whole (its copyright and licence notices) and its
name, which the licence allows (shared/fonts/LICENSE: modified copies must not be called
"Bitstream" or "Vera"). Hinting and the layout tables are dropped: the SVG is scaled freely,
and neither side applies kerning or ligatures. A subset takes about 0.14 s on a loaded
machine; subsets are cached by character set, so exporting the same board again is free.
"""

from __future__ import annotations

import base64
import io
from functools import cache, lru_cache

from ..resources import bundled_font

FONT_FAMILY = "DejaVu Sans"


@cache
def _font_bytes() -> bytes:
    return bundled_font().read_bytes()


@lru_cache(maxsize=32)
def font_face_css(chars: str) -> str:
    """An ``@font-face`` rule for ``FONT_FAMILY`` whose font holds ``chars`` (sorted, unique;
    characters the font lacks are left to the viewer's fallback)."""
    from fontTools import subset  # here: only an SVG export with text needs fontTools, and
    from fontTools.ttLib import TTFont  # it slows every server start
    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.name_legacy = True
    options.hinting = False
    options.notdef_outline = True
    options.recalc_timestamp = False
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "MATH", "kern", "FFTM"]
    font = TTFont(io.BytesIO(_font_bytes()), recalcTimestamp=False, lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in chars])
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    data = base64.b64encode(out.getvalue()).decode("ascii")
    return (f'@font-face{{font-family:"{FONT_FAMILY}";'
            f'src:url(data:font/ttf;base64,{data}) format("truetype")}}')
