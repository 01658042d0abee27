#!/usr/bin/env python3
"""Write shared/font-metrics.json: the advance widths of shared/fonts/DejaVuSans.ttf.

The browser (frontend/src/render/textmetrics.js) and the exporters (backend/export/text.py)
wrap labels and sticky notes with these numbers instead of measuring with whatever font they
have, so both break lines at the same places (shared/BOARD.md, "Text metrics"). Run it again
only when the bundled font changes; ``--check`` fails when the file is out of date (tests).

The file holds ``unitsPerEm``, the font's name and the SHA-256 of the TTF it was read from,
``fallback`` (the advance of any code point the font lacks: one em) and ``runs``: ``[first
code point, [advance, ...]]`` for each stretch of consecutive code points the font maps. A tab
advances as a space (the canvas draws it as one).
"""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent),
                str(Path(__file__).resolve().parent / "lib")]
from project_venv import use_project_venv  # noqa: E402  (stdlib only)

use_project_venv("requirements.txt")  # before any third-party import

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402

from fontTools.ttLib import TTFont  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FONT = ROOT / "shared" / "fonts" / "DejaVuSans.ttf"
OUT = ROOT / "shared" / "font-metrics.json"


def metrics(font_path: Path) -> dict:
    """The metrics document for the TTF at ``font_path``."""
    font = TTFont(font_path, lazy=True)
    advances = {code: font["hmtx"][glyph][0] for code, glyph in font.getBestCmap().items()}
    advances[0x09] = advances[0x20]
    runs: list[list] = []
    for code in sorted(advances):
        if runs and runs[-1][0] + len(runs[-1][1]) == code:
            runs[-1][1].append(advances[code])
        else:
            runs.append([code, [advances[code]]])
    name = font["name"]
    return {
        "font": f"{name.getDebugName(4)} {name.getDebugName(5)}",
        "sha256": hashlib.sha256(font_path.read_bytes()).hexdigest(),
        "unitsPerEm": font["head"].unitsPerEm,
        "fallback": font["head"].unitsPerEm,
        "runs": runs,
    }


def render(document: dict) -> str:
    """The file's text: one run per line, so a font change reads as a small diff."""
    head = {key: value for key, value in document.items() if key != "runs"}
    lines = [json.dumps(run, separators=(",", ":")) for run in document["runs"]]
    body = json.dumps(head, indent=1)[:-2]
    return body + ',\n "runs": [\n' + ",\n".join(lines) + "\n ]\n}\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if shared/font-metrics.json is not what would be written")
    args = parser.parse_args()
    text = render(metrics(FONT))
    if args.check:
        if not OUT.is_file() or OUT.read_text() != text:
            print(f"{OUT} is out of date: run scripts/gen_font_metrics.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
