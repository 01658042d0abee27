"""tldraw files (``.tldr``) mapped onto the syncboard export form.

A ``.tldr`` file is ``{"tldrawFileFormatVersion", "schema", "records": [...]}``; each record
has a ``typeName``: ``shape`` (``type`` geo, draw, arrow, text, note, frame, image, line,
group, ...; ``x, y, rotation, index, parentId, opacity, isLocked, props``), ``asset`` (an
image's ``props.src`` data URL), ``binding`` (an arrow end bound to a shape: ``fromId`` the
arrow, ``toId`` the target, ``props.terminal`` and ``props.normalizedAnchor``), plus pages,
the document and camera state. A shape's ``x, y`` are in its parent's frame (a page, a frame
or a group). Older files keep an arrow's binding inside ``props.start`` / ``props.end``
(``{"type": "binding", "boundShapeId", "normalizedAnchor"}``), and draw segments' points as a
list where newer ones keep a base64 ``path`` (``_decode_path``); all are read. Colours and
sizes are tldraw's named styles, mapped to its light theme (shared/BOARD.md, "tldraw").
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
from typing import Any

from .mapping import (
    MAX_POINTS_PER_ELEMENT,
    FileLimits,
    IdMap,
    ImportRefused,
    Incoming,
    decode_image,
    max_point_numbers,
    name,
    number,
    pieces_group,
    points_box,
    split_points,
    text,
    z_key,
)

COLOURS = {"black": "#1d1d1d", "grey": "#9fa8b2", "light-violet": "#e085f4",
           "violet": "#ae3ec9", "blue": "#4465e9", "light-blue": "#4ba1f1",
           "yellow": "#f1ac4b", "orange": "#e16919", "green": "#099268",
           "light-green": "#4cb05e", "light-red": "#f87777", "red": "#e03131",
           "white": "#ffffff"}
NOTE_FILLS = {"black": "#fcfcfc", "grey": "#eef0f2", "light-violet": "#f5d8fb",
              "violet": "#eed8f4", "blue": "#dce1f8", "light-blue": "#ddedfa",
              "yellow": "#fff3a3", "orange": "#fbe4d7", "green": "#d3e9e3",
              "light-green": "#dbf0e0", "light-red": "#f4dadb", "red": "#f4dadb",
              "white": "#ffffff"}
STROKE_WIDTHS = {"s": 2, "m": 3.5, "l": 5, "xl": 10}
FONT_SIZES = {"s": 18, "m": 24, "l": 36, "xl": 44}
DASHES = {"draw": "solid", "solid": "solid", "dashed": "dashed", "dotted": "dotted"}
GEO_TYPES = {"rectangle": "rect", "ellipse": "ellipse", "oval": "ellipse", "diamond": "diamond"}
ALIGNS = {"start": "left", "middle": "center", "end": "right", "start-legacy": "left",
          "middle-legacy": "center", "end-legacy": "right"}
MAX_RECORDS = 200_000
_POINT_CHARS = 8
"""Base64 characters per point in a draw segment's ``path`` (three Float16s, six bytes)."""


def is_tldraw(data: Any) -> bool:
    """Whether parsed JSON is a tldraw file."""
    return isinstance(data, dict) and "tldrawFileFormatVersion" in data and \
        isinstance(data.get("records"), list)


def read_tldraw(data: dict[str, Any], limits: FileLimits, schema_version: int) -> Incoming:
    """The shapes of every page as one board (pages side by side are not kept apart: a note
    counts them). Raises ``ImportRefused`` for too many records or points, or an image asset
    that is not an accepted image."""
    records = data["records"]
    if len(records) > MAX_RECORDS:
        raise ImportRefused("$.records", f"has {len(records)} records, over {MAX_RECORDS}")
    incoming = Incoming("tldraw", {"schemaVersion": schema_version, "meta": {},
                                   "elements": []})
    _Reader(incoming, records, limits).read()
    return incoming


class _Reader:
    def __init__(self, incoming: Incoming, records: list[Any], limits: FileLimits) -> None:
        self.incoming = incoming
        self.limits = limits
        self.note = incoming.approximations
        self.ids = IdMap()
        self.shapes: dict[str, dict[str, Any]] = {}
        self.index_of: dict[str, int] = {}
        self.assets: dict[str, tuple[int, dict[str, Any]]] = {}
        self.bindings: dict[tuple[str, str], dict[str, Any]] = {}
        pages = 0
        for index, record in enumerate(records):
            if not isinstance(record, dict):
                continue
            kind = record.get("typeName")
            rid = record.get("id")
            if kind == "shape" and isinstance(rid, str):
                self.shapes[rid] = record
                self.index_of[rid] = index
            elif kind == "asset" and isinstance(rid, str):
                self.assets[rid] = (index, record)
            elif kind == "binding" and record.get("type") == "arrow":
                props = record.get("props") if isinstance(record.get("props"), dict) else {}
                self.bindings[(str(record.get("fromId")), str(props.get("terminal")))] = {
                    "toId": record.get("toId"), "normalizedAnchor": props.get("normalizedAnchor")}
            elif kind == "page":
                pages += 1
        if pages > 1:
            self.note["pages drawn on one board"] += pages
        self.decoded: dict[str, str] = {}

    def read(self) -> None:
        for shape_id in self.shapes:
            self.ids(shape_id.removeprefix("shape:"))
        # Paint order: tldraw orders siblings by their fractional ``index``; a child is drawn
        # above its parent. Sort by the chain of indexes from the page down.
        ordered = sorted(self.shapes, key=self._order_key)
        out = self.incoming.board["elements"]
        for shape_id in ordered:
            shape = self.shapes[shape_id]
            path = f"$.records[{self.index_of[shape_id]}]"
            for element in self._shape(shape, path):
                _about_centre(element)
                element["z"] = z_key(len(out))
                out.append(element)

    def _order_key(self, shape_id: str) -> list[str]:
        chain: list[str] = []
        seen: set[str] = set()
        current: str | None = shape_id
        while current in self.shapes and current not in seen and len(chain) < 64:
            seen.add(current)
            index = self.shapes[current].get("index")
            chain.append(index if isinstance(index, str) else "")
            current = name(self.shapes[current].get("parentId"))
        return list(reversed(chain))

    def _page_transform(self, shape: dict[str, Any]) -> tuple[float, float, float]:
        """The shape's origin on the page and its rotation, through frames and groups."""
        x, y, angle = number(shape.get("x")), number(shape.get("y")), \
            number(shape.get("rotation"), 0, -1000, 1000)
        parent = self.shapes.get(name(shape.get("parentId")))
        depth = 0
        while parent is not None and depth < 64:
            rotation = number(parent.get("rotation"), 0, -1000, 1000)
            cos, sin = math.cos(rotation), math.sin(rotation)
            x, y = number(parent.get("x")) + x * cos - y * sin, \
                number(parent.get("y")) + x * sin + y * cos
            angle += rotation
            parent = self.shapes.get(name(parent.get("parentId")))
            depth += 1
        return x, y, angle

    def _groups(self, shape: dict[str, Any]) -> tuple[list[str], str]:
        groups, frame, depth = [], "", 0
        parent = self.shapes.get(name(shape.get("parentId")))
        while parent is not None and depth < 64:
            pid = self.ids(str(parent.get("id")).removeprefix("shape:"))
            if parent.get("type") == "group":
                groups.append(pid)
            elif parent.get("type") == "frame" and not frame:
                frame = pid
            parent = self.shapes.get(name(parent.get("parentId")))
            depth += 1
        return groups, frame

    def _shape(self, shape: dict[str, Any], path: str) -> list[dict[str, Any]]:
        kind = shape.get("type")
        props = shape.get("props") if isinstance(shape.get("props"), dict) else {}
        if kind == "group":
            return []
        x, y, angle = self._page_transform(shape)
        groups, frame = self._groups(shape)
        colour = COLOURS.get(name(props.get("color")), "#1d1d1d")
        base: dict[str, Any] = {
            "id": self.ids(str(shape.get("id")).removeprefix("shape:")), "x": x, "y": y,
            "w": number(props.get("w"), 0, 0, 1e9), "h": number(props.get("h"), 0, 0, 1e9),
            "angle": angle, "stroke": colour, "fill": "transparent",
            "strokeWidth": STROKE_WIDTHS.get(name(props.get("size")), 2),
            "opacity": number(shape.get("opacity"), 1, 0, 1),
            "strokeStyle": DASHES.get(name(props.get("dash")), "solid"),
            "groupIds": groups[:32], "locked": shape.get("isLocked") is True, "frameId": frame,
        }
        if props.get("dash") == "draw":
            self.note["hand-drawn outlines drawn clean"] += 1
        if kind == "geo":
            return [self._geo(base, props, colour)]
        if kind in ("draw", "highlight"):
            return self._draw(base, props, path)
        if kind in ("arrow", "line"):
            return [self._linear(kind, base, props, path, str(shape.get("id")))]
        if kind in ("text", "note"):
            return [self._text(kind, base, props)]
        if kind == "frame":
            return [{**base, "type": "frame", "stroke": "#1d1d1d",
                     "name": text(props.get("name"), 200) or "Frame"}]
        if kind == "image":
            return [self._image(base, props)]
        self.note["shapes of unknown type skipped"] += 1
        return []

    def _fill(self, props: dict[str, Any], colour: str) -> str:
        fill = props.get("fill", "none")
        if fill in ("none", None):
            return "transparent"
        if fill == "pattern":
            self.note["pattern fills drawn solid"] += 1
        if fill == "semi":
            return NOTE_FILLS.get(name(props.get("color")), "#f5f5f5")
        return colour

    def _geo(self, base: dict[str, Any], props: dict[str, Any], colour: str) -> dict[str, Any]:
        geo = name(props.get("geo", "rectangle")) or "rectangle"
        if geo not in GEO_TYPES:
            self.note[f"{text(geo, 30)} shapes drawn as rectangles"] += 1
        out = {**base, "type": GEO_TYPES.get(geo, "rect"), "fill": self._fill(props, colour)}
        label = _rich_text(props)
        if label:
            out.update(label=label, fontSize=FONT_SIZES.get(name(props.get("size")), 24),
                       align=ALIGNS.get(name(props.get("align")), "center"))
        return out

    def _draw(self, base: dict[str, Any], props: dict[str, Any],
              path: str) -> list[dict[str, Any]]:
        points: list[float] = []
        segments = props.get("segments") if isinstance(props.get("segments"), list) else []
        for segment in segments:
            if not isinstance(segment, dict):
                continue
            raw, encoded = segment.get("points"), segment.get("path")
            count = len(raw) if isinstance(raw, list) else \
                len(encoded) // _POINT_CHARS if isinstance(encoded, str) else 0
            if len(points) // 2 + count > MAX_POINTS_PER_ELEMENT:
                raise ImportRefused(f"{path}.props.segments", "has more than "
                                    f"{MAX_POINTS_PER_ELEMENT} points")
            if isinstance(raw, list):
                for point in raw:
                    if isinstance(point, dict):
                        points += [number(point.get("x")), number(point.get("y"))]
            elif isinstance(encoded, str):
                points += _decode_path(encoded, f"{path}.props.segments")
        if not points:
            return []
        if props.get("isClosed") and len(points) >= 4:
            points += points[:2]
        pieces = split_points(points, max_point_numbers())
        if len(pieces) > 1:
            self.note["long freehand lines split"] += 1
        out = []
        for n, piece in enumerate(pieces):
            _, _, w, h = points_box(piece)
            out.append({**base, "id": base["id"] if n == 0 else f"{base['id'][:56]}-{n}",
                        "type": "stroke", "w": w, "h": h, "points": piece,
                        "groupIds": (([pieces_group(base["id"])] if len(pieces) > 1 else [])
                                     + base["groupIds"])[:32]})
        return out

    def _linear(self, kind: str, base: dict[str, Any], props: dict[str, Any], path: str,
                shape_id: str) -> dict[str, Any]:
        if kind == "line":
            handles = props.get("points") or props.get("handles") or {}
            items = list(handles.values()) if isinstance(handles, dict) else \
                handles if isinstance(handles, list) else []
            if len(items) > MAX_POINTS_PER_ELEMENT:
                raise ImportRefused(f"{path}.props.points", "has more than "
                                    f"{MAX_POINTS_PER_ELEMENT} points")
            items = [p for p in items if isinstance(p, dict)]
            items.sort(key=lambda p: str(p.get("index", "")))
            points = [v for p in items for v in (number(p.get("x")), number(p.get("y")))]
            points = points[:max_point_numbers()] or [0, 0, 0, 0]
            if props.get("spline") == "cubic":
                self.note["curved lines drawn straight"] += 1
            _, _, w, h = points_box(points)
            return {**base, "type": "line", "w": w, "h": h, "points": points}
        start = props.get("start") if isinstance(props.get("start"), dict) else {}
        end = props.get("end") if isinstance(props.get("end"), dict) else {}
        points = [number(start.get("x")), number(start.get("y")),
                  number(end.get("x")), number(end.get("y"))]
        if number(props.get("bend")) != 0:
            self.note["bent arrows drawn straight"] += 1
        _, _, w, h = points_box(points)
        out = {**base, "type": "arrow", "w": w, "h": h, "points": points,
               "arrowStart": props.get("arrowheadStart", "none") != "none",
               "arrowEnd": props.get("arrowheadEnd", "arrow") != "none",
               "routing": "elbow" if props.get("kind") == "elbow" else "straight"}
        label = _rich_text(props)
        if label:
            out.update(label=label, fontSize=FONT_SIZES.get(name(props.get("size")), 24),
                       align="center")
        for terminal, legacy in (("start", start), ("end", end)):
            binding = self.bindings.get((shape_id, terminal))
            if binding is None and legacy.get("type") == "binding":
                binding = {"toId": legacy.get("boundShapeId"),
                           "normalizedAnchor": legacy.get("normalizedAnchor")}
            target = name(binding.get("toId")) if binding else None
            if target in self.shapes:
                anchor = binding.get("normalizedAnchor")
                anchor = anchor if isinstance(anchor, dict) else {}
                out.update({f"{terminal}BindId": self.ids(str(target).removeprefix("shape:")),
                            f"{terminal}AnchorX": number(anchor.get("x"), 0.5, 0, 1),
                            f"{terminal}AnchorY": number(anchor.get("y"), 0.5, 0, 1)})
            else:
                out[f"{terminal}BindId"] = ""
        return out

    def _text(self, kind: str, base: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
        value = _rich_text(props)
        size = FONT_SIZES.get(name(props.get("size")), 24) * \
            number(props.get("scale"), 1, 0.1, 10)
        align = ALIGNS.get(name(props.get("textAlign", props.get("align"))), "left")
        if kind == "note":
            return {**base, "type": "sticky", "w": 200, "h": 200, "stroke": "#1d1d1d",
                    "fill": NOTE_FILLS.get(name(props.get("color")), "#fff3a3"), "text": value,
                    "fontSize": min(max(size, 4), 400),
                    "align": ALIGNS.get(name(props.get("align")), "center")}
        lines = value.split("\n")
        return {**base, "type": "text", "text": value, "fontSize": min(max(size, 4), 400),
                "align": align,
                "w": base["w"] or max(len(line) for line in lines) * size * 0.55,
                "h": len(lines) * size * 1.25}

    def _image(self, base: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
        asset_id = name(props.get("assetId"))
        if asset_id not in self.decoded and asset_id in self.assets:
            index, asset = self.assets[asset_id]
            src = (asset.get("props") or {}).get("src") if isinstance(asset.get("props"),
                                                                        dict) else None
            if isinstance(src, str) and src.startswith("data:"):
                sha, mime, data = decode_image(src, f"$.records[{index}].props.src",
                                               self.limits)
                self.incoming.files[sha] = (mime, data)
                self.decoded[asset_id] = sha
        if asset_id not in self.decoded:
            self.note["images without their file"] += 1
        return {**base, "type": "image", "fileId": self.decoded.get(asset_id, "")}


def _decode_path(encoded: str, path: str) -> list[float]:
    """A draw segment's ``path`` (tldraw 4+): base64 of little-endian Float16 triples
    ``x, y, pressure``, the first point absolute and each next one the offset from the one
    before. Non-finite points are dropped."""
    try:
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ImportRefused(path, "a segment's path is not valid base64") from None
    count = len(raw) // 6
    values = struct.unpack(f"<{count * 3}e", raw[:count * 6])
    out: list[float] = []
    x = y = 0.0
    for index in range(count):
        dx, dy = values[3 * index], values[3 * index + 1]
        x, y = (dx, dy) if index == 0 else (x + dx, y + dy)
        if math.isfinite(x) and math.isfinite(y):
            out += [number(x), number(y)]
    return out


def _about_centre(element: dict[str, Any]) -> None:
    """tldraw rotates a shape about its top-left corner (``x, y``), syncboard about the
    centre of its frame: move the box so its centre lands where tldraw draws it; a point
    type gets its points rotated instead (angle 0)."""
    angle = element["angle"]
    if not angle:
        return
    cos, sin = math.cos(angle), math.sin(angle)
    if "points" in element:
        pts = element["points"]
        element["points"] = [v for i in range(0, len(pts) - 1, 2)
                             for v in (pts[i] * cos - pts[i + 1] * sin,
                                       pts[i] * sin + pts[i + 1] * cos)]
        element.update(angle=0, w=points_box(element["points"])[2],
                       h=points_box(element["points"])[3])
        return
    half_w, half_h = element["w"] / 2, element["h"] / 2
    element["x"] += half_w * cos - half_h * sin - half_w
    element["y"] += half_w * sin + half_h * cos - half_h


def _rich_text(props: dict[str, Any]) -> str:
    """A shape's text: ``props.text`` (older files) or the plain text of ``props.richText``
    (a TipTap document: paragraphs become lines)."""
    if isinstance(props.get("text"), str):
        return props["text"][:100_000]
    rich = props.get("richText")
    if not isinstance(rich, dict):
        return ""
    lines: list[str] = []
    stack: list[tuple[Any, int]] = [(rich, 0)]
    current: list[str] = []
    # Depth-first, in document order: a paragraph-level node starts a new line.
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict) or depth > 64:
            continue
        if node.get("type") == "paragraph" and (current or lines):
            lines.append("".join(current))
            current = []
        if isinstance(node.get("text"), str):
            current.append(node["text"])
        if node.get("type") == "hardBreak":
            current.append("\n")
        children = node.get("content")
        if isinstance(children, list):
            stack.extend((child, depth + 1) for child in reversed(children))
    lines.append("".join(current))
    return "\n".join(lines)[:100_000]
