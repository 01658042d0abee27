"""Every importer's entry: ``read_import(raw, limits)`` recognises a file by its content,
whatever it is called, and maps it onto the syncboard export form.

Recognised (first match wins): a syncboard bundle (``"type": "syncboard-bundle"``), an
Excalidraw scene (``"type": "excalidraw"``, or its clipboard form), a tldraw file
(``tldrawFileFormatVersion`` and ``records``), a syncboard JSON export form
(``schemaVersion``); and an Excalidraw PNG or SVG export with its scene embedded
(``embedded.py``: a PNG by its signature, markup by its leading ``<``). The result is
validated against shared/board.schema.json like any import; its images are checked as
uploads are. Used by ``POST /api/boards/<id>/import`` (``export_handlers``) and
``import_board.py``; pure: no I/O.
"""

from __future__ import annotations

from pycrdt import Doc, Map

from ..board_model import load_model, validate_board_json
from .bundle import is_bundle, read_bundle
from .embedded import embedded_scene
from .excalidraw import is_excalidraw, read_excalidraw
from .jsonread import check_structure, json_text, parse_json
from .mapping import FileLimits, ImportRefused, Incoming, keys_above
from .tldraw import is_tldraw, read_tldraw


def read_import(raw: bytes | bytearray | str, limits: FileLimits) -> Incoming:
    """The board, images and approximations of an import file. Raises ``ImportRefused``
    naming the JSON path and what is wrong (nothing has been written anywhere).

    A ``bytearray`` is consumed: emptied once its text is decoded (or its embedded scene taken
    out), so a big file is not held twice while it is parsed (BENCHMARKS.md, "Import of
    hostile files")."""
    raw = raw.encode("utf-8") if isinstance(raw, str) else raw
    scene = embedded_scene(raw, limits.max_scene_bytes)
    embedded = scene is not None
    if scene is not None:
        _consume(raw)
        raw = scene
    del scene
    check_structure(raw)
    text = json_text(raw)
    _consume(raw)
    del raw
    data = parse_json(text)
    del text
    if embedded and not is_excalidraw(data):
        raise ImportRefused("$", "the scene embedded in this PNG or SVG is not an Excalidraw "
                                 "scene (\"type\": \"excalidraw\" with \"elements\")")
    version = load_model().version
    if is_bundle(data):
        incoming = read_bundle(data, limits)
    elif is_excalidraw(data):
        incoming = read_excalidraw(data, limits, version)
    elif is_tldraw(data):
        incoming = read_tldraw(data, limits, version)
    elif isinstance(data, dict) and "schemaVersion" in data:
        incoming = Incoming("syncboard", data)
    else:
        raise ImportRefused("$", "expected a syncboard export "
                                 "(\"schemaVersion\"), a syncboard bundle, an Excalidraw "
                                 "scene (\"type\": \"excalidraw\") or a tldraw file "
                                 "(\"tldrawFileFormatVersion\")")
    violations = validate_board_json(incoming.board)
    if violations:
        where = "" if incoming.kind == "syncboard" else \
            f" (in the board made from {incoming.kind} content)"
        first = violations[0]
        path = "$.board" + first.path[1:] if incoming.kind == "bundle" else first.path
        # The validator quotes the value it refuses first: its start and the message's end
        # (what is wrong with it) are kept.
        message = first.message if len(first.message) <= 300 else \
            first.message[:200] + " ... " + first.message[-100:]
        raise ImportRefused(path, message + where)
    return incoming


def _consume(raw: bytes | bytearray) -> None:
    if isinstance(raw, bytearray):
        raw.clear()


FOREIGN_KINDS = frozenset({"excalidraw", "tldraw"})
"""Kinds drawn elsewhere: their elements go on top of what the board holds (``restack``)."""


def restack(incoming: Incoming, board_update: bytes | None) -> None:
    """Give a foreign drawing's elements ``z`` keys above the board's top element, keeping
    their order (a syncboard file or bundle keeps its own keys). ``board_update``: the board's
    current state (the server's own snapshot, already checked)."""
    if incoming.kind not in FOREIGN_KINDS or not board_update:
        return
    doc = Doc()
    doc.apply_update(board_update)
    top = None
    elements = doc.get("elements", type=Map)
    for element in elements.values():
        z = element.get("z") if isinstance(element, Map) else None
        if isinstance(z, str) and (top is None or z > top):
            top = z
    keys = keys_above(top, len(incoming.board["elements"]))
    for element, key in zip(incoming.board["elements"], keys, strict=True):
        element["z"] = key
