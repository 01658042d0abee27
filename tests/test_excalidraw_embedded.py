"""Excalidraw's "embed scene" PNG and SVG exports, imported (backend/export/embedded.py).

Fixtures ``tests/fixtures/interchange/diagram.excalidraw.png`` and ``.svg`` were built by
``tests/excalidraw_embed.py`` (its docstring says from which Excalidraw sources) around the
scene ``diagram.excalidraw``: the PNG as current Excalidraw writes it (the compressed
``encode`` wrapper in an iTXt chunk), the SVG with payload version 2.
``test_fixtures_hold_the_diagram_scene`` checks each still decodes to that scene. The older
forms (tEXt chunk, wrapper not compressed, the bare scene, payload version 1) and the hostile
variants are built by the same helpers in the tests.
"""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

import pytest

from backend.export.embedded import MAX_PNG_CHUNKS, embedded_scene
from backend.export.incoming import read_import
from backend.export.mapping import FileLimits, ImportRefused, ImportTooLarge
from tests.excalidraw_embed import (
    base_png,
    bomb,
    bomb_wrapper,
    chunk,
    itxt,
    scene_png,
    scene_svg,
    text_chunk,
    with_chunks,
    wrapper,
)
from tests.export_helpers import base_url, fetch, fetch_json, load_import_script

FIXTURES = Path(__file__).parent / "fixtures" / "interchange"
SCENE = (FIXTURES / "diagram.excalidraw").read_text()
LIMITS = FileLimits(10 * 1024 * 1024, 50_000_000, 64 * 1024 * 1024)
MIB = 1024 * 1024
CYAN_ID = "87d21ff5ceb0f9140c70642949986f381d3cd49a50edfe92b4016781177648c2"
"""The fileId of the diagram's one image (tests/test_excalidraw.py)."""


def test_fixtures_hold_the_diagram_scene():
    for name in ("diagram.excalidraw.png", "diagram.excalidraw.svg"):
        assert embedded_scene((FIXTURES / name).read_bytes(), LIMITS.max_scene_bytes) == \
            SCENE.encode("utf-8"), name
    assert embedded_scene(SCENE.encode(), LIMITS.max_scene_bytes) is None  # JSON: as it is


@pytest.mark.parametrize("raw", [
    scene_png(SCENE, legacy_text=True),  # older Excalidraw: tEXt
    with_chunks(base_png(), itxt(wrapper(SCENE, compressed=False))),
    with_chunks(base_png(), itxt(wrapper(SCENE), compress_text=True)),  # iTXt flag 1
    with_chunks(base_png(), text_chunk(json.dumps(json.loads(SCENE)))),  # the bare scene
    # Both chunks: the iTXt one wins, as in Excalidraw's reader.
    with_chunks(base_png(), text_chunk('{"type": "excalidraw", "elements": []}'),
                itxt(wrapper(SCENE))),
    scene_svg(SCENE, version=1).encode(),
    b"\xef\xbb\xbf\n" + scene_svg(SCENE).replace("<!-- payload-start -->",
                                                "<!-- payload-start -->\n  ").encode(),
], ids=["png-tEXt", "png-uncompressed", "png-iTXt-compressed", "png-bare-scene",
        "png-both-chunks", "svg-version-1", "svg-bom-and-spaces"])
def test_every_form_excalidraw_writes_is_read(raw):
    incoming = read_import(raw, LIMITS)
    assert incoming.kind == "excalidraw"
    assert len(incoming.board["elements"]) == 9
    assert len(incoming.files) == 1


@pytest.mark.gen_test(timeout=60)
async def test_png_and_svg_import_over_http_with_their_image(sb_server):
    server = await sb_server()
    base = base_url(server)
    for name in ("diagram.excalidraw.png", "diagram.excalidraw.svg"):
        board = name.split(".")[-1]
        code, answer = await fetch_json(f"{base}/api/boards/{board}/import", method="POST",
                                        body=(FIXTURES / name).read_bytes())
        assert code == 200, answer
        assert answer["kind"] == "excalidraw" and answer["elements"] == 9
        assert answer["report"].startswith("9 elements imported from an Excalidraw file")
        code, exported = await fetch_json(f"{base}/api/boards/{board}/export.json")
        by_id = {e["id"]: e for e in exported["elements"]}
        assert by_id["RectBox1aaaaaaaaaaaaa"]["label"] == "Client"
        assert by_id["Arrow1ccccccccccccccc"]["endBindId"] == "Ellipse1ddddddddddddd"
        image = next(e for e in exported["elements"] if e["type"] == "image")
        assert (await fetch(f"{base}/api/files/{image['fileId']}")).code == 200


def test_import_script_reads_an_embedded_scene_whatever_the_file_is_called(tmp_path):
    (tmp_path / "drawing.bin").write_bytes((FIXTURES / "diagram.excalidraw.png").read_bytes())
    url = f"sqlite+aiosqlite:///{tmp_path}/embedded.db"
    assert load_import_script().main([str(tmp_path / "drawing.bin"), "--db", url,
                                      "--board", "b"]) == 0


def hostile_cases() -> list[tuple[str, bytes, int, str, str]]:
    """(name, body, status, path, words in the detail)."""
    deep = '{"type": "excalidraw", "elements": ' + "[" * 10_000 + "]" * 10_000 + "}"
    not_zlib = json.dumps({"version": "1", "encoding": "bstring", "compressed": True,
                           "encoded": "not zlib at all"})
    lying = bytearray(with_chunks(base_png(), itxt(wrapper(SCENE))))
    lying[8:12] = (2**31 - 1).to_bytes(4, "big")  # IHDR claims 2 GiB
    bad_crc = bytearray(scene_png(SCENE))
    bad_crc[-13] ^= 0xFF  # the last byte of the iTXt chunk's CRC
    return [
        ("png-bomb", with_chunks(base_png(), itxt(bomb_wrapper(100 * MIB))), 413,
         "$.png.encoded", "inflates past 67108864 bytes"),
        ("itxt-bomb", with_chunks(base_png(), chunk(
            b"iTXt", b"application/vnd.excalidraw+json\0\x01\x00\0\0" + bomb(100 * MIB))),
         413, "$.png.iTXt", "inflates past 67108864 bytes"),
        ("svg-bomb", scene_svg("", payload=base64.b64encode(
            bomb_wrapper(100 * MIB).encode("latin-1")).decode()).encode(), 413,
         "$.svg.encoded", "inflates past 67108864 bytes"),
        ("chunk-count", with_chunks(base_png(), *[chunk(b"prVt", b"")] * (MAX_PNG_CHUNKS + 1),
                                    itxt(wrapper(SCENE))),
         400, "$.png", f"more than {MAX_PNG_CHUNKS} chunks"),
        ("chunk-past-end", bytes(lying), 400, "$.png", "past the end of the file"),
        ("bad-crc", bytes(bad_crc), 400, "$.png.iTXt", "CRC does not match"),
        ("plain-png", base_png(), 400, "$.png", "this PNG holds no Excalidraw scene"),
        ("plain-svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
         400, "$.svg", "holds no Excalidraw scene"),
        ("svg-no-end", scene_svg(SCENE).replace("<!-- payload-end -->", "").encode(), 400,
         "$.svg", "payload-start or payload-end comment missing"),
        ("svg-not-base64", scene_svg("", payload="%%% not base64 %%%").encode(), 400,
         "$.svg.payload", "not base64"),
        ("not-zlib", with_chunks(base_png(), itxt(not_zlib)), 400, "$.png.encoded",
         "not zlib data"),
        ("unknown-encoding", with_chunks(base_png(), itxt(json.dumps(
            {"encoding": "base64", "encoded": "e30=", "compressed": False}))), 400,
         "$.png.encoding", "unknown encoding 'base64'"),
        ("not-a-scene", with_chunks(base_png(), itxt(wrapper(json.dumps(
            {"schemaVersion": 2, "meta": {}, "elements": []})))), 400, "$",
         "is not an Excalidraw scene"),
        ("deep-scene", with_chunks(base_png(), itxt(wrapper(deep))), 400, "$",
         "nested deeper than 64 levels"),
        ("deep-wrapper", with_chunks(base_png(), itxt("[" * 10_000 + "]" * 10_000)), 400, "$",
         "nested deeper than 64 levels"),
    ]


@pytest.mark.gen_test(timeout=120)
async def test_hostile_embedded_scenes_are_refused_by_name_and_write_nothing(sb_server):
    server = await sb_server()
    base = base_url(server)
    for name, body, status, path, words in hostile_cases():
        code, answer = await fetch_json(f"{base}/api/boards/hostile/import", method="POST",
                                        body=body)
        assert (code, answer.get("path")) == (status, path), (name, answer)
        assert words in answer["detail"], (name, answer)
    assert (await fetch(f"{base}/api/boards/hostile/export.json")).code == 404
    # Several cases carry the diagram's image: none was stored.
    assert (await fetch(f"{base}/api/files/{CYAN_ID}")).code == 404


def test_a_bomb_is_cut_off_at_the_cap_not_inflated_whole():
    data = bomb(8 * MIB)
    with pytest.raises(ImportTooLarge, match="inflates past 1048576 bytes"):
        read_import(with_chunks(base_png(), itxt(json.dumps(
            {"version": "1", "encoding": "bstring", "compressed": True,
             "encoded": data.decode("latin-1")}, ensure_ascii=False))),
            FileLimits(LIMITS.max_file_bytes, LIMITS.max_image_pixels, 1 * MIB))
    cut = zlib.compress(SCENE.encode())[:-40].decode("latin-1")
    with pytest.raises(ImportRefused, match="zlib data is truncated"):
        read_import(with_chunks(base_png(), itxt(json.dumps(
            {"version": "1", "encoding": "bstring", "compressed": True, "encoded": cut}))),
            LIMITS)
