"""Excalidraw scene files (``.excalidraw``) both ways: ``read_excalidraw`` maps a scene onto
the syncboard export form, ``render_excalidraw`` writes a board as a scene Excalidraw's
``restore`` accepts. The mapping, field by field, is in shared/BOARD.md ("Excalidraw").

The scene format: ``{"type": "excalidraw", "version": 2, "source", "elements", "appState",
"files"}``; elements carry ``x, y, width, height, angle, strokeColor, backgroundColor,
fillStyle, strokeWidth, strokeStyle, roughness, opacity`` (0-100), ``groupIds, frameId,
boundElements, isDeleted, locked``; arrows ``points`` (relative), ``startBinding`` /
``endBinding`` and arrowheads; a text with ``containerId`` is its container's label; images
name ``files[fileId].dataURL``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ..board_model import BoardContent
from .mapping import (
    MAX_POINTS_PER_ELEMENT,
    FileLimits,
    IdMap,
    ImportRefused,
    Incoming,
    colour,
    data_url,
    decode_image,
    group_ids,
    max_point_numbers,
    name,
    number,
    pieces_group,
    points_box,
    split_points,
    text,
    z_key,
)
from .routing import with_routed_geometry

SHAPES = {"rectangle": "rect", "ellipse": "ellipse", "diamond": "diamond"}
LABELLED = frozenset({"rectangle", "ellipse", "diamond", "arrow", "line"})
STROKE_STYLES = frozenset({"solid", "dashed", "dotted"})
ALIGNS = frozenset({"left", "center", "right"})
HELVETICA = 2
"""Excalidraw's ``fontFamily`` for its plain sans-serif ("Normal"), the nearest to ours."""
LINE_HEIGHT = 1.25


def is_excalidraw(data: Any) -> bool:
    """Whether parsed JSON is an Excalidraw scene (or Excalidraw's clipboard content). Scenes
    written by hand or by other tools often leave out ``type``: ``elements`` plus ``appState``
    (which a syncboard file never has) say the same, as Excalidraw's own loader accepts."""
    if not isinstance(data, dict):
        return False
    return data.get("type") in ("excalidraw", "excalidraw/clipboard") or (
        "schemaVersion" not in data and isinstance(data.get("elements"), list) and
        isinstance(data.get("appState"), dict))


def read_excalidraw(scene: dict[str, Any], limits: FileLimits,
                    schema_version: int) -> Incoming:
    """The scene as a syncboard board. Deleted elements are skipped; what has no syncboard
    equivalent is drawn the nearest way and counted in ``Incoming.approximations``. Raises
    ``ImportRefused`` for a scene that cannot be read (wrong shapes of the top-level fields,
    too many points, an embedded file that is not an accepted image)."""
    elements = scene.get("elements")
    if not isinstance(elements, list):
        raise ImportRefused("$.elements", "is not a list of elements")
    files = scene.get("files") or {}
    if not isinstance(files, dict):
        raise ImportRefused("$.files", "is not an object of files")
    app_state = scene.get("appState") if isinstance(scene.get("appState"), dict) else {}
    meta: dict[str, Any] = {"background": colour(app_state.get("viewBackgroundColor"),
                                                 "#ffffff")}
    if isinstance(app_state.get("name"), str) and app_state["name"]:
        meta["title"] = text(app_state["name"], 200)
    incoming = Incoming("excalidraw", {"schemaVersion": schema_version, "meta": meta,
                                       "elements": []})
    _Reader(incoming, files, limits).read(elements)
    return incoming


def render_excalidraw(content: BoardContent,
                      images: Mapping[str, tuple[str, bytes]] | None = None) -> bytes:
    """The board as an Excalidraw scene (UTF-8 JSON, one element per line), images embedded
    as data URLs, lines and arrows with their points as drawn (as in the JSON export). Each
    piece goes through the C encoder (``indent`` would force the pure-Python one)."""
    scene = _Writer(content, images or {}).scene()

    def dump(value: object) -> str:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)

    elements = ",\n".join("  " + dump(element) for element in scene["elements"])
    files = ",\n".join(f"  {dump(key)}: {dump(value)}" for key, value in scene["files"].items())
    text = (f'{{"type": "excalidraw", "version": 2, "source": "syncboard",\n'
            f'"elements": [\n{elements}\n],\n"appState": {dump(scene["appState"])},\n'
            f'"files": {{\n{files}\n}}}}\n')
    return text.encode("utf-8")


class _Reader:
    """One scene's elements read into ``incoming.board["elements"]``."""

    def __init__(self, incoming: Incoming, files: dict[str, Any], limits: FileLimits) -> None:
        self.incoming = incoming
        self.files = files
        self.limits = limits
        self.ids = IdMap()
        self.decoded: dict[str, str] = {}  # Excalidraw fileId -> sha256
        self.note = incoming.approximations

    def read(self, elements: list[Any]) -> None:
        live = [(i, e) for i, e in enumerate(elements) if isinstance(e, dict) and
                not e.get("isDeleted") and e.get("type") != "selection"]
        self.by_id = {str(e.get("id")): e for _, e in live if isinstance(e.get("id"), str)}
        for index, element in live:
            self.ids(element.get("id") if isinstance(element.get("id"), str) else f"#{index}")
        self.labels: dict[str, dict[str, Any]] = {}
        for _, element in live:
            container = self.by_id.get(str(element.get("containerId")))
            if element.get("type") == "text" and container is not None and \
                    name(container.get("type")) in LABELLED:
                self.labels.setdefault(str(element["containerId"]), element)
        # Frames first: Excalidraw draws a frame behind its children.
        ordered = sorted(live, key=lambda item: item[1].get("type") not in ("frame",
                                                                             "magicframe"))
        out = self.incoming.board["elements"]
        for index, element in ordered:
            if element.get("type") == "text" and \
                    self.labels.get(str(element.get("containerId"))) is element:
                continue  # drawn as its container's label
            for converted in self._element(index, element):
                converted["z"] = z_key(len(out))
                out.append(converted)

    def _element(self, index: int, e: dict[str, Any]) -> list[dict[str, Any]]:
        kind = name(e.get("type"))
        path = f"$.elements[{index}]"
        base = self._base(index, e)
        if kind in SHAPES:
            return [{**base, "type": SHAPES[kind], **self._label(e)}]
        if kind in ("frame", "magicframe"):
            return [{**base, "type": "frame", "fill": "transparent",
                     "name": text(e.get("name"), 200) or "Frame"}]
        if kind in ("line", "arrow"):
            return [self._linear(base, e, path)]
        if kind == "freedraw":
            return self._freedraw(base, e, path)
        if kind == "text":
            self._font(e)
            return [{**base, "type": "text", "fill": "transparent", "text": text(e.get("text")),
                     "fontSize": number(e.get("fontSize"), 20, 4, 400),
                     "align": _align(e, "left")}]
        if kind == "image":
            return [self._image(base, e)]
        if kind in ("embeddable", "iframe"):
            self.note["embeds drawn as boxes"] += 1
            return [{**base, "type": "rect", "label": text(e.get("link"), 2000)}]
        self.note["elements of unknown type skipped"] += 1
        return []

    def _base(self, index: int, e: dict[str, Any]) -> dict[str, Any]:
        if number(e.get("roughness"), 0) > 0:
            self.note["sketchy outlines drawn clean"] += 1
        fill = colour(e.get("backgroundColor"), "transparent")
        if fill != "transparent" and e.get("fillStyle", "solid") != "solid":
            self.note[f"{text(e.get('fillStyle'), 20)} fills drawn solid"] += 1
        style = name(e.get("strokeStyle"))
        return {
            "id": self.ids(e.get("id") if isinstance(e.get("id"), str) else f"#{index}"),
            "x": number(e.get("x")), "y": number(e.get("y")),
            "w": abs(number(e.get("width"))), "h": abs(number(e.get("height"))),
            "angle": number(e.get("angle"), 0, -1000, 1000),
            "stroke": colour(e.get("strokeColor"), "#1e1e1e"), "fill": fill,
            "strokeWidth": number(e.get("strokeWidth"), 2, 0, 100),
            "opacity": number(e.get("opacity"), 100, 0, 100) / 100,
            "strokeStyle": style if style in STROKE_STYLES else "solid",
            "groupIds": group_ids(e.get("groupIds")),
            "locked": e.get("locked") is True,
            "frameId": self.ids.known(e["frameId"]) if name(e.get("frameId")) in self.by_id
            else "",
        }

    def _label(self, container: dict[str, Any]) -> dict[str, Any]:
        label = self.labels.get(str(container.get("id")))
        if label is None:
            return {}
        self._font(label)
        return {"label": text(label.get("text")),
                "fontSize": number(label.get("fontSize"), 20, 4, 400),
                "align": _align(label, "center")}

    def _font(self, e: dict[str, Any]) -> None:
        if e.get("fontFamily", HELVETICA) != HELVETICA:
            self.note["texts set in the board's font"] += 1

    def _points(self, e: dict[str, Any], path: str) -> list[float]:
        raw = e.get("points")
        if not isinstance(raw, list):
            return []
        if len(raw) > MAX_POINTS_PER_ELEMENT:
            raise ImportRefused(f"{path}.points", f"has {len(raw)} points, over the "
                                                  f"{MAX_POINTS_PER_ELEMENT}-point limit")
        flat: list[float] = []
        for point in raw:
            if isinstance(point, list) and len(point) >= 2:
                flat += [number(point[0]), number(point[1])]
        return flat

    def _linear(self, base: dict[str, Any], e: dict[str, Any], path: str) -> dict[str, Any]:
        points = self._points(e, path) or [0, 0, base["w"], base["h"]]
        cap = max_point_numbers()
        if len(points) > cap:
            self.note["long lines shortened"] += 1
            points = points[:cap - 2] + points[-2:]
        _, _, w, h = points_box(points)
        out = {**base, "type": e["type"], "w": w, "h": h, "points": points, **self._label(e)}
        if e["type"] == "line":
            return out
        start = e.get("startArrowhead")
        end = e.get("endArrowhead", "arrow")
        if any(head not in (None, "arrow") for head in (start, end)):
            self.note["arrowheads of other shapes drawn as arrows"] += 1
        out.update(arrowStart=start is not None, arrowEnd=end is not None,
                   routing="elbow" if e.get("elbowed") is True else "straight")
        for end_name, binding, point in (("start", e.get("startBinding"), points[:2]),
                                         ("end", e.get("endBinding"), points[-2:])):
            out.update(self._binding(end_name, binding, base, point))
        return out

    def _binding(self, end: str, binding: Any, base: dict[str, Any],
                 point: list[float]) -> dict[str, Any]:
        target = self.by_id.get(str(binding.get("elementId"))) \
            if isinstance(binding, dict) else None
        if target is None:
            return {f"{end}BindId": ""}
        fixed = binding.get("fixedPoint")
        if isinstance(fixed, list) and len(fixed) == 2:
            ax, ay = number(fixed[0], 0.5, 0, 1), number(fixed[1], 0.5, 0, 1)
        else:  # legacy focus/gap binding: anchor where the end is drawn now
            tw, th = number(target.get("width"), 1) or 1, number(target.get("height"), 1) or 1
            ax = number((base["x"] + point[0] - number(target.get("x"))) / tw, 0.5, 0, 1)
            ay = number((base["y"] + point[1] - number(target.get("y"))) / th, 0.5, 0, 1)
        return {f"{end}BindId": self.ids.known(target.get("id")), f"{end}AnchorX": ax,
                f"{end}AnchorY": ay}

    def _freedraw(self, base: dict[str, Any], e: dict[str, Any],
                  path: str) -> list[dict[str, Any]]:
        points = self._points(e, path)
        if not points:
            return []
        pieces = split_points(points, max_point_numbers())
        if len(pieces) > 1:
            self.note["long freehand lines split"] += 1
            base = {**base, "groupIds": [pieces_group(base["id"]), *base["groupIds"]][:32]}
        out = []
        for n, piece in enumerate(pieces):
            _, _, w, h = points_box(piece)
            out.append({**base, "id": base["id"] if n == 0 else f"{base['id'][:56]}-{n}",
                        "type": "stroke", "fill": "transparent", "w": w, "h": h,
                        "points": piece})
        return out

    def _image(self, base: dict[str, Any], e: dict[str, Any]) -> dict[str, Any]:
        file_id = str(e.get("fileId"))
        if file_id not in self.decoded and isinstance(self.files.get(file_id), dict):
            sha, mime, data = decode_image(self.files[file_id].get("dataURL"),
                                           f"$.files[{json.dumps(file_id[:100])}].dataURL",
                                           self.limits)
            self.incoming.files[sha] = (mime, data)
            self.decoded[file_id] = sha
        if file_id not in self.decoded:
            self.note["images without their file"] += 1
        scale = e.get("scale")
        if isinstance(scale, list) and any(number(s, 1) < 0 for s in scale):
            self.note["flipped images shown unflipped"] += 1
        if isinstance(e.get("crop"), dict):
            self.note["cropped images shown whole"] += 1
        return {**base, "type": "image", "fill": "transparent",
                "fileId": self.decoded.get(file_id, "")}


def _align(e: dict[str, Any], default: str) -> str:
    align = name(e.get("textAlign"))
    return align if align in ALIGNS else default


class _Writer:
    """A board written as Excalidraw elements."""

    def __init__(self, content: BoardContent, images: Mapping[str, tuple[str, bytes]]) -> None:
        self.content = content
        self.images = images
        self.out: dict[str, dict[str, Any]] = {}
        self.files: dict[str, Any] = {}

    def scene(self) -> dict[str, Any]:
        elements = with_routed_geometry(self.content.elements)  # linear points as drawn
        for element in elements:
            self._element(element)
        for element in elements:
            for end in ("start", "end"):
                self._bind(element, end)
        scene = list(self.out.values())
        for n, element in enumerate(scene):
            element["index"] = z_key(n)
        meta = self.content.meta
        return {"type": "excalidraw", "version": 2, "source": "syncboard",
                "elements": scene,
                "appState": {"viewBackgroundColor": meta.get("background", "#ffffff"),
                             "gridSize": meta.get("gridSize", 20),
                             "gridModeEnabled": bool(meta.get("gridEnabled"))},
                "files": self.files}

    def _element(self, el: dict[str, Any]) -> None:
        kind = el["type"]
        base = self._base(el)
        if kind in ("rect", "sticky"):
            base.update(type="rectangle", roundness={"type": 3})
        elif kind in ("ellipse", "diamond"):
            base.update(type=kind)
        elif kind == "frame":
            base.update(type="frame", name=el.get("name", "Frame"), backgroundColor="transparent")
        elif kind in ("line", "arrow"):
            self._linear(base, el)
        elif kind == "stroke":
            self._points(base, el)
            base.update(type="freedraw", pressures=[], simulatePressure=True,
                        backgroundColor="transparent")
        elif kind == "text":
            base.update(self._text(el, el.get("text", ""), None), type="text")
        elif kind == "image":
            base.update(type="image", fileId=el.get("fileId") or None, status="saved",
                        scale=[1, 1], crop=None)
            if el.get("fileId") in self.images:
                mime, data = self.images[el["fileId"]]
                self.files[el["fileId"]] = {"mimeType": mime, "id": el["fileId"],
                                            "dataURL": data_url(mime, data), "created": 1,
                                            "lastRetrieved": 1}
        else:
            return
        self.out[el["id"]] = base
        label = el.get("text") if kind == "sticky" else el.get("label")
        if isinstance(label, str) and label:
            text_el = {**self._base(el), "type": "text", "id": f"{el['id']}-label",
                       "angle": 0 if kind in ("line", "arrow") else el["angle"],
                       "backgroundColor": "transparent", "groupIds": base["groupIds"],
                       **self._text(el, label, el["id"])}
            base["boundElements"].append({"type": "text", "id": text_el["id"]})
            self.out[text_el["id"]] = text_el

    def _base(self, el: dict[str, Any]) -> dict[str, Any]:
        seed = int.from_bytes(hashlib.sha256(el["id"].encode()).digest()[:4], "big") >> 1
        frame_id = el.get("frameId") or None
        return {
            "id": el["id"], "type": el["type"], "x": el["x"], "y": el["y"],
            "width": el["w"], "height": el["h"], "angle": el["angle"],
            "strokeColor": el["stroke"], "backgroundColor": el["fill"], "fillStyle": "solid",
            "strokeWidth": el["strokeWidth"],
            "strokeStyle": name(el.get("strokeStyle")) if name(el.get("strokeStyle"))
            in STROKE_STYLES else "solid",
            "roughness": 0, "opacity": round(el["opacity"] * 100),
            "groupIds": [g for g in el.get("groupIds", []) if isinstance(g, str)]
            if isinstance(el.get("groupIds"), list) else [],
            "frameId": frame_id if isinstance(frame_id, str) else None,
            "index": None, "roundness": None, "seed": seed, "version": 1, "versionNonce": 0,
            "isDeleted": False, "boundElements": [], "updated": 1, "link": None,
            "locked": el.get("locked") is True,
        }

    def _text(self, el: dict[str, Any], value: str, container: str | None) -> dict[str, Any]:
        size = number(el.get("fontSize"), 20, 4, 400)  # a label's fields may be anything yet
        align = name(el.get("align"))
        lines = value.split("\n")
        width = max(len(line) for line in lines) * size * 0.55
        height = len(lines) * size * LINE_HEIGHT
        x, y = el["x"], el["y"]
        if container is not None:  # centred in the container; restore re-measures it
            x, y = x + (el["w"] - width) / 2, y + (el["h"] - height) / 2
        return {"x": x, "y": y, "width": width if container else max(width, el["w"]),
                "height": height if container else max(height, el["h"]),
                "strokeColor": el["stroke"] if el["type"] != "sticky" else "#1e1e1e",
                "text": value, "originalText": value, "fontSize": size,
                "fontFamily": HELVETICA,
                "textAlign": align if align in ALIGNS else "center" if container else "left",
                "verticalAlign": "middle" if container else "top", "containerId": container,
                "autoResize": True, "lineHeight": LINE_HEIGHT}

    def _points(self, base: dict[str, Any], el: dict[str, Any]) -> None:
        """Excalidraw's points start at (0, 0): move the origin to the first point."""
        pts = el["points"]
        x0, y0 = pts[0], pts[1]
        base.update(x=el["x"] + x0, y=el["y"] + y0,
                    points=[[pts[i] - x0, pts[i + 1] - y0] for i in range(0, len(pts) - 1, 2)])
        xs = [p[0] for p in base["points"]]
        ys = [p[1] for p in base["points"]]
        base.update(width=max(xs) - min(xs), height=max(ys) - min(ys))

    def _linear(self, base: dict[str, Any], el: dict[str, Any]) -> None:
        self._points(base, el)
        base.update(type=el["type"], startBinding=None, endBinding=None,
                    lastCommittedPoint=None, backgroundColor="transparent",
                    roundness={"type": 2} if el["type"] == "arrow" else None)
        if el["type"] == "arrow":
            base.update(startArrowhead="arrow" if el.get("arrowStart") else None,
                        endArrowhead="arrow" if el.get("arrowEnd", True) else None,
                        elbowed=el.get("routing") == "elbow")
        else:
            base.update(startArrowhead=None, endArrowhead=None, polygon=False)

    def _bind(self, el: dict[str, Any], end: str) -> None:
        target_id = el.get(f"{end}BindId")
        arrow, target = self.out.get(el["id"]), self.out.get(target_id) \
            if isinstance(target_id, str) else None
        if arrow is None or target is None or arrow.get("type") != "arrow":
            return
        anchor = [number(el.get(f"{end}AnchorX"), 0.5, 0, 1),
                  number(el.get(f"{end}AnchorY"), 0.5, 0, 1)]
        # Both binding forms: focus/gap for older Excalidraw, fixedPoint/mode for newer.
        arrow[f"{end}Binding"] = {"elementId": target_id, "focus": 0, "gap": 0,
                                  "fixedPoint": anchor, "mode": "orbit"}
        if not any(b["id"] == el["id"] for b in target["boundElements"]):
            target["boundElements"].append({"type": "arrow", "id": el["id"]})
