"""PDF export (backend/export/pdf.py): vector pages, text as text, one page per frame."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from backend import import_board as importer
from backend.export import __main__ as exporter
from tests.export_helpers import base_url, fetch

FIXTURE = Path(__file__).parent / "fixtures" / "interchange" / "diagram.excalidraw"


def page_sizes(reader: PdfReader) -> list[tuple[float, float]]:
    return [(round(float(p.mediabox.width)), round(float(p.mediabox.height)))
            for p in reader.pages]


@pytest.mark.gen_test(timeout=60)
async def test_pdf_keeps_text_as_text_and_gives_each_frame_a_page(sb_server):
    server = await sb_server()
    base = base_url(server)
    await fetch(f"{base}/api/boards/pdf/import", method="POST", body=FIXTURE.read_bytes())
    whole = await fetch(f"{base}/api/boards/pdf/export.pdf")
    assert whole.code == 200 and whole.headers["Content-Type"] == "application/pdf"
    assert whole.headers["Content-Disposition"] == 'attachment; filename="pdf.pdf"'
    reader = PdfReader(io.BytesIO(whole.body))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for words in ("Client", "calls", "Free text", "second line", "Overview"):
        assert words in text, text
    content = reader.pages[0].get_contents().get_data()
    assert b" re" in content and b" l" in content and b" c" in content  # paths: box, line, curve
    assert [i.image.size for i in reader.pages[0].images] == [(4, 4)]  # the image, as stored
    # Fitted to the content: the frame (760 x 420 at -40, -60), the image (to x 684), 32 margin
    width, height = page_sizes(reader)[0]
    assert 760 + 64 <= width <= 860 and 420 + 64 <= height <= 520
    framed = PdfReader(io.BytesIO((await fetch(f"{base}/api/boards/pdf/export.pdf"
                                               "?pages=frames")).body))
    assert page_sizes(framed) == [(760, 420)]
    assert "Client" in framed.pages[0].extract_text()
    bad = await fetch(f"{base}/api/boards/pdf/export.pdf?pages=all")
    assert bad.code == 400 and b"pages 'all' must be one of content, frames" in bad.body


def test_script_writes_a_pdf_page_per_frame(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/pdf.db"
    scene = json.loads(FIXTURE.read_text())
    second = dict(scene["elements"][0], id="SecondFrame000000000", x=1000, width=300,
                  height=200, name="Second")
    scene["elements"].append(second)
    (tmp_path / "two-frames").write_text(json.dumps(scene))  # no extension: told by content
    assert importer.main([str(tmp_path / "two-frames"), "--db", url, "--board", "b"]) == 0
    assert exporter.main(["--db", url, "--board", "b", "--format", "pdf", "--pages",
                          "frames", "--out", str(tmp_path / "b.pdf")]) == 0
    reader = PdfReader(tmp_path / "b.pdf")
    assert page_sizes(reader) == [(760, 420), (300, 200)]
