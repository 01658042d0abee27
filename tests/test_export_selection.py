"""Export of a selection (``ids=``, ``--ids``) and of a frame (``frame=``): the SVG and PDF
hold only those elements, however many others overlap their box (backend/export/frames.py).

The board: two labelled shapes joined by a labelled arrow bound at both ends, a frame holding
one note, and unselected elements lying across the selection's box and inside the frame's box
(not held by it). Each output is parsed: SVG by ElementTree (its ``data-id`` groups), PDF by
pypdf (its text and its fill colours)."""

from __future__ import annotations

import asyncio
import io
import json
import time
import xml.etree.ElementTree as ET

import pytest
from pypdf import PdfReader

from backend.board_model import build_import_update, read_update
from backend.export import ExportOptions, export_file
from backend.export.__main__ import main as export_main
from backend.export.raster_pool import RasterPool
from tests.export_helpers import base_url, fetch, fetch_json, load_import_script

SELECTED = {"shapeA", "shapeB", "arrowAB"}
LOOP_GAP_BOUND_S = 0.5
"""Longest the event loop may go without a turn while the selection of a board of
``bound_elbows(5000, 20_000)`` is exported as PNG (``export_file``). Cutting the part out
routes every connector of the board first: 1.4 to 1.7 s when that ran on the loop (0.11 to
0.16 s since it runs in a thread)."""

BOARD = {"schemaVersion": 2, "meta": {"title": "selection", "background": "#ffffff"},
         "elements": [
             {"id": "shapeA", "type": "rect", "x": 0, "y": 0, "w": 100, "h": 60, "z": "a0",
              "fill": "#ffffff", "label": "Alpha"},
             {"id": "shapeB", "type": "ellipse", "x": 300, "y": 0, "w": 100, "h": 60,
              "z": "a1", "fill": "#ffffff", "label": "Beta"},
             {"id": "arrowAB", "type": "arrow", "x": 100, "y": 30, "z": "a2",
              "points": [0, 0, 200, 0], "arrowEnd": True, "startBindId": "shapeA",
              "endBindId": "shapeB", "label": "calls"},
             # Unselected, lying across the selection's box (under and over it).
             {"id": "across", "type": "rect", "x": 50, "y": 10, "w": 300, "h": 40, "z": "Zz",
              "fill": "#ff00ff", "label": "Intruder"},
             {"id": "noteIn", "type": "text", "x": 150, "y": 5, "w": 80, "h": 20, "z": "Zy",
              "text": "Stray words", "fontSize": 14},
             {"id": "frame1", "type": "frame", "x": 0, "y": 200, "w": 400, "h": 200,
              "z": "b0", "name": "Plan"},
             {"id": "held", "type": "sticky", "x": 20, "y": 240, "w": 120, "h": 80, "z": "b1",
              "fill": "#ffee00", "text": "Held note", "frameId": "frame1"},
             # Inside the frame's box, but not held by the frame.
             {"id": "loose", "type": "diamond", "x": 200, "y": 250, "w": 100, "h": 80,
              "z": "b2", "fill": "#00ff00", "label": "Loose"},
         ]}


def bound_elbows(shapes: int, arrows: int) -> dict:
    """A board of ``shapes`` rectangles and ``arrows`` elbow arrows, each bound at both ends."""
    elements = [{"id": f"s{i}", "type": "rect", "x": (i % 100) * 150, "y": (i // 100) * 150,
                 "w": 100, "h": 60, "z": f"a{i:05d}"} for i in range(shapes)]
    elements += [{"id": f"c{i}", "type": "arrow", "x": 0, "y": 0, "z": f"b{i:05d}",
                  "points": [0, 0, 10, 10], "startBindId": f"s{i % shapes}",
                  "endBindId": f"s{(i * 37 + 11) % shapes}", "routing": "elbow"}
                 for i in range(arrows)]
    return {"schemaVersion": 2, "meta": {}, "elements": elements}


def svg_ids(body: bytes) -> set[str]:
    return {node.get("data-id") for node in ET.fromstring(body).iter()
            if node.get("data-id")}


def drawn(body: bytes, element_id: str) -> bytes:
    """The markup of one element's group."""
    group = next(n for n in ET.fromstring(body).iter() if n.get("data-id") == element_id)
    return ET.tostring(group)


def pdf_page(body: bytes):
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    return page.extract_text(), page.get_contents().get_data()


async def board_url(sb_server) -> str:
    """A server holding BOARD as board ``sel``; its API URL."""
    server = await sb_server()
    base = base_url(server)
    code, answer = await fetch_json(f"{base}/api/boards/sel/import", method="POST",
                                    body=json.dumps(BOARD))
    assert code == 200, answer
    return f"{base}/api/boards/sel"


@pytest.mark.gen_test(timeout=60)
async def test_selection_svg_and_pdf_hold_only_the_selected_elements(sb_server):
    url = await board_url(sb_server)
    ids = ",".join(sorted(SELECTED))
    whole = await fetch(f"{url}/export.svg?region=-20,-20,440,100")
    assert {"across", "noteIn"} <= svg_ids(whole.body)  # what the box alone would show
    svg = await fetch(f"{url}/export.svg?ids={ids}")
    assert svg.code == 200, svg.body
    assert svg_ids(svg.body) == SELECTED
    text = "".join(ET.fromstring(svg.body).itertext())
    assert "Alpha" in text and "Beta" in text and "calls" in text and "Intruder" not in text
    # Fitted to the selection: A's left edge to B's right edge (and half their strokes),
    # with the 32-unit margin.
    x, _, w, _ = (float(v) for v in ET.fromstring(svg.body).get("viewBox").split())
    assert -40 <= x <= -32 and 400 + 64 <= w <= 400 + 80
    region = await fetch(f"{url}/export.svg?ids={ids}&region=-20,-20,440,100")
    assert svg_ids(region.body) == SELECTED
    assert ET.fromstring(region.body).get("viewBox") == "-20 -20 440 100"
    # The arrow is drawn along the same route as on the whole board (bound to both outlines),
    # also when a shape it is bound to is left out.
    assert drawn(region.body, "arrowAB") == drawn(whole.body, "arrowAB")
    half = await fetch(f"{url}/export.svg?ids=shapeA,arrowAB&region=-20,-20,440,100")
    assert svg_ids(half.body) == {"shapeA", "arrowAB"}
    assert drawn(half.body, "arrowAB") == drawn(whole.body, "arrowAB")

    pdf = await fetch(f"{url}/export.pdf?ids={ids}&region=-20,-20,440,100")
    assert pdf.code == 200 and pdf.body.startswith(b"%PDF")
    words, stream = pdf_page(pdf.body)
    assert "Alpha" in words and "Beta" in words and "calls" in words
    assert "Intruder" not in words and "Stray" not in words
    assert b"1 0 1 rg" not in stream  # the magenta fill of the rectangle across
    whole_words, whole_stream = pdf_page(
        (await fetch(f"{url}/export.pdf?region=-20,-20,440,100")).body)
    assert "Intruder" in whole_words and b"1 0 1 rg" in whole_stream


@pytest.mark.gen_test(timeout=60)
async def test_frame_svg_and_pdf_hold_the_frame_and_what_it_holds_only(sb_server):
    url = await board_url(sb_server)
    svg = await fetch(f"{url}/export.svg?frame=frame1")
    assert svg.code == 200
    assert svg_ids(svg.body) == {"frame1", "held"}
    assert ET.fromstring(svg.body).get("viewBox") == "0 200 400 200"
    words, stream = pdf_page((await fetch(f"{url}/export.pdf?frame=frame1")).body)
    assert "Held" in words and "Loose" not in words
    assert b"0 1 0 rg" not in stream  # the green diamond inside the frame's box


@pytest.mark.gen_test(timeout=60)
async def test_bad_selections_are_refused_by_name(sb_server):
    url = await board_url(sb_server)
    missing = await fetch(f"{url}/export.svg?ids=nope1,nope2")
    assert missing.code == 404 and b"none of the 2 selected elements" in missing.body
    bad = await fetch(f"{url}/export.svg?ids=shapeA,%3Cscript%3E")
    assert bad.code == 400 and b"is not an element id" in bad.body
    both = await fetch(f"{url}/export.pdf?ids=shapeA&frame=frame1")
    assert both.code == 400 and b"frame and ids exclude each other" in both.body
    many = await fetch(f"{url}/export.svg?ids=" + ",".join(f"e{i}" for i in range(2001)))
    assert many.code == 400 and b"more than 2000 elements" in many.body


@pytest.fixture
def raster(io_loop):
    pool = RasterPool(workers=1, queue_jobs=2, timeout_s=60, memory_bytes=2 << 30)
    yield pool
    io_loop.run_sync(pool.close)


@pytest.mark.gen_test(timeout=120)
async def test_a_png_of_a_big_boards_selection_is_cut_out_off_the_event_loop(raster):
    content = read_update(build_import_update(bound_elbows(5000, 20_000)))
    gaps: list[float] = []
    exporting, ticking = True, asyncio.Event()

    async def tick() -> None:
        last = time.monotonic()
        ticking.set()
        while exporting:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now
    ticker = asyncio.ensure_future(tick())
    await ticking.wait()
    png = await export_file(content, "png", raster, ExportOptions(ids=frozenset({"s1", "c1"})))
    exporting = False
    await ticker
    print(f"longest event-loop gap during the export: {max(gaps):.3f} s")
    assert png.startswith(b"\x89PNG")
    assert max(gaps) < LOOP_GAP_BOUND_S


def test_script_ids_option_exports_the_selection_only(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/sel.db"
    (tmp_path / "board.json").write_text(json.dumps(BOARD))
    assert load_import_script().main([str(tmp_path / "board.json"), "--db", url,
                                      "--board", "sel"]) == 0
    for fmt in ("svg", "pdf"):
        out = tmp_path / f"sel.{fmt}"
        assert export_main(["--db", url, "--board", "sel", "--format", fmt, "--ids",
                            "shapeA,arrowAB,shapeB", "--out", str(out)]) == 0
        if fmt == "svg":
            assert svg_ids(out.read_bytes()) == SELECTED
        else:
            words, _ = pdf_page(out.read_bytes())
            assert "Alpha" in words and "Intruder" not in words
    assert export_main(["--db", url, "--board", "sel", "--format", "svg", "--ids", "gone",
                        "--out", str(tmp_path / "gone.svg")]) == 1
    assert not (tmp_path / "gone.svg").exists()
