"""Connector routing for the exporters (shared/BOARD.md, "Connectors").

The points an arrow or line is drawn with, from its stored points, its per-end bindings and its
targets' current geometry: the same function as ``frontend/src/render/routing.js``, checked
against the same fixtures (``shared/fixtures/routing.json``), so an export draws an arrow where
the browser does. Works on elements as ``board_model.normalize_element`` returns them.

``routed_elements`` gives the drawing exporters (SVG, PNG, PDF) each connector along its route;
``with_routed_geometry`` and ``routed_geometry`` give readers that do not route (the JSON and
Excalidraw exports, the change feed, a frame's or selection's part: ``frames.py``) a
connector's geometry as drawn, in the export form.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from itertools import pairwise
from typing import Any

from ..board_model import BoardModel, normalize_values

BIND_GAP = 4.0
"""Distance between a bound end and its target's outline, in board units."""
ELBOW_STUB = 20.0
"""How far an elbow may run straight out of a bound side before turning (to go around)."""
BINDABLE_TYPES = frozenset({"rect", "ellipse", "diamond", "sticky", "text", "image"})
CONNECTOR_TYPES = frozenset({"line", "arrow"})
ROUTED_TOLERANCE = 1e-6
"""How far, in board units, a stored point may lie from its routed place and still count as
routed (``routed_geometry``): a route written to a file and read back differs by rounding."""

_CENTRE_ZONE = 0.25
_EPS = 1e-9

Point = tuple[float, float]
Element = Mapping[str, Any]


def route_points(arrow: Element, target_of: Callable[[str], Element | None]) -> list[Point] | None:
    """The drawn points of a connector in board units, or None when its stored points stand
    as they are (straight routing and no usable binding)."""
    start = _bind_target(arrow, arrow.get("startBindId"), target_of)
    end = _bind_target(arrow, arrow.get("endBindId"), target_of)
    elbow = arrow.get("routing") == "elbow"
    if start is None and end is None and not elbow:
        return None
    pts = _world_points(arrow)
    if len(pts) < 2:
        return None
    n = len(pts)
    a_s = _anchor_point(start, arrow.get("startAnchorX"), arrow.get("startAnchorY")) \
        if start is not None else pts[0]
    a_e = _anchor_point(end, arrow.get("endAnchorX"), arrow.get("endAnchorY")) \
        if end is not None else pts[-1]
    if not elbow:
        out = list(pts)
        if start is not None:
            out[0] = _approach(start, pts[1] if n > 2 else a_e, a_s)
        if end is not None:
            out[-1] = _approach(end, pts[-2] if n > 2 else a_s, a_e)
        return out
    s, e = a_s, a_e
    hs = he = None
    if start is not None:
        hs = _side_heading(start, arrow.get("startAnchorX"), arrow.get("startAnchorY"), a_e)
        s = _exit_point(start, a_s, hs)
    if end is not None:
        he = _side_heading(end, arrow.get("endAnchorX"), arrow.get("endAnchorY"), a_s)
        e = _exit_point(end, a_e, he)
    if hs is None:
        hs = _axis_of(e[0] - s[0], e[1] - s[1])
    if he is None:
        he = _axis_of(s[0] - e[0], s[1] - e[1])
    return _elbow_route(s, hs, e, he, start, end)


def routed_elements(elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The elements with each routed connector replaced by a copy drawn along its route
    (``x, y`` the top-left of the route, ``points`` relative to it, ``angle`` 0)."""
    by_id = {element["id"]: element for element in elements}
    out = []
    for element in elements:
        if element["type"] in CONNECTOR_TYPES:
            route = route_points(element, by_id.get)
            if route is not None:
                element = _along(element, route)
        out.append(element)
    return out


def _along(element: dict[str, Any], route: list[Point]) -> dict[str, Any]:
    x0 = min(x for x, _ in route)
    y0 = min(y for _, y in route)
    points = [v for x, y in route for v in (x - x0, y - y0)]
    return {**element, "x": x0, "y": y0, "angle": 0, "points": points,
            "w": max(x for x, _ in route) - x0, "h": max(y for _, y in route) - y0}


def with_routed_geometry(elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The elements as a reader that does not route needs them (the JSON and Excalidraw
    exports): each connector through ``routed_geometry`` against the elements given, every
    other element the same object. One routing pass over the board, as the SVG's."""
    by_id = {element["id"]: element for element in elements}
    return [routed_geometry(e, by_id.get) if e["type"] in CONNECTOR_TYPES else e
            for e in elements]


def routed_geometry(connector: dict[str, Any], target_of: Callable[[str], Element | None],
                    model: BoardModel | None = None) -> dict[str, Any]:
    """A connector in export form whose ``x, y, w, h, angle, points`` are where the board draws
    it now (shared/BOARD.md, "JSON export form").

    The same object when it has no route (straight, no usable binding) or when its stored
    points already are its route to within ``ROUTED_TOLERANCE``: a route exported, imported
    and exported again comes out as it went in, byte for byte. Otherwise a copy: ``x, y`` its
    first routed point, ``points`` relative to it (so they start at 0, 0, as Excalidraw's do),
    ``w, h`` their box, ``angle`` 0, read through the schema's rules (clamped, integral
    numbers as integers) as an import of it would be; bindings and anchors stay."""
    route = route_points(connector, target_of)
    if route is None or _same_points(route, _world_points(connector)):
        return connector
    x0, y0 = route[0]
    points = [v for x, y in route for v in (x - x0, y - y0)]
    xs, ys = points[0::2], points[1::2]
    drawn = {"x": x0, "y": y0, "w": max(xs) - min(xs), "h": max(ys) - min(ys), "angle": 0,
             "points": points}
    return {**connector, **normalize_values(connector["type"], drawn, model)}


def _same_points(a: list[Point], b: list[Point]) -> bool:
    return len(a) == len(b) and all(
        abs(ax - bx) <= ROUTED_TOLERANCE and abs(ay - by) <= ROUTED_TOLERANCE
        for (ax, ay), (bx, by) in zip(a, b, strict=True))


def _bind_target(arrow: Element, target_id: Any, target_of: Callable[[str], Element | None]
                 ) -> Element | None:
    if not isinstance(target_id, str) or target_id == "" or target_id == arrow.get("id"):
        return None
    target = target_of(target_id)
    if target is None or target.get("type") not in BINDABLE_TYPES:
        return None
    if not all(_finite(target.get(k)) for k in ("x", "y", "w", "h")):
        return None
    return target


def _world_points(arrow: Element) -> list[Point]:
    p = arrow["points"]
    out = [(arrow["x"] + p[i], arrow["y"] + p[i + 1]) for i in range(0, len(p) - 1, 2)]
    angle = arrow.get("angle") if _finite(arrow.get("angle")) else 0
    if not angle or not out:
        return out
    cx = (min(x for x, _ in out) + max(x for x, _ in out)) / 2
    cy = (min(y for _, y in out) + max(y for _, y in out)) / 2
    return [_rotate(x, y, cx, cy, angle) for x, y in out]


def _anchor_point(target: Element, ax: Any, ay: Any) -> Point:
    u = _clamp01(ax) if _finite(ax) else 0.5
    v = _clamp01(ay) if _finite(ay) else 0.5
    cx, cy = target["x"] + target["w"] / 2, target["y"] + target["h"] / 2
    return _rotate(target["x"] + u * target["w"], target["y"] + v * target["h"], cx, cy,
                   target.get("angle") or 0)


def _approach(target: Element, start: Point, anchor: Point) -> Point:
    """Where the segment from ``start`` to ``anchor`` first meets the outline, BIND_GAP short."""
    dx, dy = anchor[0] - start[0], anchor[1] - start[1]
    length = math.hypot(dx, dy)
    if length < _EPS:
        return anchor
    if _inside_local(target, *_to_local(target, *start)):
        return anchor
    hits = [t for t in _outline_hits(target, start, (dx, dy)) if -_EPS <= t <= 1 + _EPS]
    if not hits:
        return anchor
    k = max(0.0, min(hits) - BIND_GAP / length)
    return (start[0] + dx * k, start[1] + dy * k)


def _exit_point(target: Element, anchor: Point, heading: Point) -> Point:
    """Where a ray from ``anchor`` along ``heading`` leaves the outline, plus BIND_GAP."""
    t = max([0.0, *_outline_hits(target, anchor, heading)])
    return (anchor[0] + heading[0] * (t + BIND_GAP), anchor[1] + heading[1] * (t + BIND_GAP))


def _side_heading(target: Element, ax: Any, ay: Any, toward: Point) -> Point:
    dx = (_clamp01(ax) if _finite(ax) else 0.5) - 0.5
    dy = (_clamp01(ay) if _finite(ay) else 0.5) - 0.5
    if abs(dx) < _CENTRE_ZONE and abs(dy) < _CENTRE_ZONE:
        cx, cy = target["x"] + target["w"] / 2, target["y"] + target["h"] / 2
        return _axis_of(toward[0] - cx, toward[1] - cy)
    local = (math.copysign(1, dx) if dx else 0.0, 0.0) if abs(dx) >= abs(dy) else \
        (0.0, math.copysign(1, dy) if dy else 0.0)
    return _axis_of(*_rotate(local[0], local[1], 0, 0, target.get("angle") or 0))


def _axis_of(dx: float, dy: float) -> Point:
    """The unit axis vector nearest to (dx, dy); ties and zero go horizontal."""
    if abs(dx) >= abs(dy):
        return (-1.0 if dx < 0 else 1.0, 0.0)
    return (0.0, -1.0 if dy < 0 else 1.0)


def _elbow_route(s: Point, hs: Point, e: Point, he: Point, start: Element | None,
                 end: Element | None) -> list[Point]:
    """The elbow from exit point ``s`` (heading ``hs``) to ``e`` (``he``): the plain elbow when
    it crosses no bound target, else the path that crosses them least, then has the fewest
    points, then is shortest, of: the plain elbow, and the ones that first run ``ELBOW_STUB``
    straight out of each bound side, turning at a corner, halfway, or around both targets
    (first found wins a tie)."""
    targets = [t for t in (start, end) if t is not None]
    best = _simplify(_elbow_path(s, hs, e, he))
    if not targets:
        return best
    boxes = [_bounds(t) for t in targets]
    best_score = _elbow_score(best, targets, boxes)
    if best_score[0] == 0:  # the plain elbow crosses nothing: it stays
        return best
    s1 = (s[0] + hs[0] * ELBOW_STUB, s[1] + hs[1] * ELBOW_STUB) if start is not None else s
    e1 = (e[0] + he[0] * ELBOW_STUB, e[1] + he[1] * ELBOW_STUB) if end is not None else e
    xs = [(s1[0] + e1[0]) / 2, min(b[0] for b in boxes) - ELBOW_STUB,
          max(b[2] for b in boxes) + ELBOW_STUB]
    ys = [(s1[1] + e1[1]) / 2, min(b[1] for b in boxes) - ELBOW_STUB,
          max(b[3] for b in boxes) + ELBOW_STUB]
    middles = [[s1, (e1[0], s1[1]), e1], [s1, (s1[0], e1[1]), e1]]
    middles += [[s1, (x, s1[1]), (x, e1[1]), e1] for x in xs]
    middles += [[s1, (s1[0], y), (e1[0], y), e1] for y in ys]
    for middle in middles:
        path = _simplify([s, *middle, e])
        score = _elbow_score(path, targets, boxes)
        if score < best_score:
            best, best_score = path, score
    return best


def _elbow_score(path: list[Point], targets: list[Element],
                 boxes: list[tuple[float, float, float, float]]) -> tuple[int, int, float]:
    """(segments crossing a target, points, length): lower is better."""
    crossings = sum(1 for a, b in pairwise(path) for t, box in zip(targets, boxes, strict=True)
                    if _crosses(t, box, a, b))
    length = sum(abs(b[0] - a[0]) + abs(b[1] - a[1]) for a, b in pairwise(path))
    return (crossings, len(path), length)


def _crosses(target: Element, box: tuple[float, float, float, float], a: Point,
             b: Point) -> bool:
    """Whether the segment a-b runs through the target's inside (touching it does not count);
    ``box`` is the target's ``_bounds``, to skip segments that cannot reach it."""
    if max(a[0], b[0]) <= box[0] or min(a[0], b[0]) >= box[2] or \
            max(a[1], b[1]) <= box[1] or min(a[1], b[1]) >= box[3]:
        return False
    d = (b[0] - a[0], b[1] - a[1])
    if abs(d[0]) < _EPS and abs(d[1]) < _EPS:
        return False
    cuts = sorted([0.0, 1.0, *(t for t in _outline_hits(target, a, d) if 0 < t < 1)])
    for t0, t1 in pairwise(cuts):
        if t1 - t0 > _EPS:
            k = (t0 + t1) / 2
            if _inside_local(target, *_to_local(target, a[0] + d[0] * k, a[1] + d[1] * k)):
                return True
    return False


def _bounds(target: Element) -> tuple[float, float, float, float]:
    """The axis-aligned box of the target's (rotated) frame: min x, min y, max x, max y."""
    if not target.get("angle"):
        return (target["x"], target["y"], target["x"] + target["w"], target["y"] + target["h"])
    cx, cy = target["x"] + target["w"] / 2, target["y"] + target["h"] / 2
    corners = [_rotate(x, y, cx, cy, target.get("angle") or 0)
               for x in (target["x"], target["x"] + target["w"])
               for y in (target["y"], target["y"] + target["h"])]
    return (min(x for x, _ in corners), min(y for _, y in corners),
            max(x for x, _ in corners), max(y for _, y in corners))


def _elbow_path(s: Point, hs: Point, e: Point, he: Point) -> list[Point]:
    s_horizontal, e_horizontal = hs[0] != 0, he[0] != 0
    if s_horizontal and e_horizontal:
        mx = (s[0] + e[0]) / 2
        return [s, (mx, s[1]), (mx, e[1]), e]
    if not s_horizontal and not e_horizontal:
        my = (s[1] + e[1]) / 2
        return [s, (s[0], my), (e[0], my), e]
    return [s, (e[0], s[1]), e] if s_horizontal else [s, (s[0], e[1]), e]


def _simplify(pts: list[Point]) -> list[Point]:
    """Drop repeated points and middle points on a straight run."""
    out: list[Point] = []
    for p in pts:
        if out and abs(out[-1][0] - p[0]) < 1e-6 and abs(out[-1][1] - p[1]) < 1e-6:
            continue
        if len(out) >= 2:
            a, last = out[-2], out[-1]
            cross = (last[0] - a[0]) * (p[1] - a[1]) - (last[1] - a[1]) * (p[0] - a[0])
            if abs(cross) < 1e-6:
                out.pop()
        out.append(p)
    return out


def _outline_hits(target: Element, p: Point, d: Point) -> list[float]:
    """Parameters t where the line p + t*d crosses the target's outline."""
    px, py = _to_local(target, *p)
    dx, dy = _rotate(d[0], d[1], 0, 0, -(target.get("angle") or 0))
    hw, hh = target["w"] / 2, target["h"] / 2
    if target["type"] == "ellipse" and hw > _EPS and hh > _EPS:
        a = dx * dx / (hw * hw) + dy * dy / (hh * hh)
        b = 2 * (px * dx / (hw * hw) + py * dy / (hh * hh))
        c = px * px / (hw * hw) + py * py / (hh * hh) - 1
        disc = b * b - 4 * a * c
        if a <= _EPS or disc < 0:
            return []
        root = math.sqrt(disc)
        return [(-b - root) / (2 * a), (-b + root) / (2 * a)]
    corners = ([(hw, 0), (0, hh), (-hw, 0), (0, -hh)] if target["type"] == "diamond"
               else [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)])
    hits = []
    for i in range(4):
        ax, ay = corners[i]
        bx, by = corners[(i + 1) % 4]
        ex, ey = bx - ax, by - ay
        denom = dx * ey - dy * ex
        if abs(denom) < _EPS:
            continue
        t = ((ax - px) * ey - (ay - py) * ex) / denom
        u = ((ax - px) * dy - (ay - py) * dx) / denom
        if -_EPS <= u <= 1 + _EPS:
            hits.append(t)
    return hits


def _to_local(target: Element, px: float, py: float) -> Point:
    cx, cy = target["x"] + target["w"] / 2, target["y"] + target["h"] / 2
    return _rotate(px - cx, py - cy, 0, 0, -(target.get("angle") or 0))


def _inside_local(target: Element, lx: float, ly: float) -> bool:
    hw, hh = target["w"] / 2, target["h"] / 2
    if hw <= _EPS or hh <= _EPS:
        return False
    if target["type"] == "ellipse":
        return lx * lx / (hw * hw) + ly * ly / (hh * hh) < 1 - 1e-9
    if target["type"] == "diamond":
        return abs(lx) / hw + abs(ly) / hh < 1 - 1e-9
    return abs(lx) < hw and abs(ly) < hh


def _rotate(x: float, y: float, cx: float, cy: float, angle: float) -> Point:
    if not angle:
        return (x, y)
    cos, sin = math.cos(angle), math.sin(angle)
    return (cx + (x - cx) * cos - (y - cy) * sin, cy + (x - cx) * sin + (y - cy) * cos)


def _clamp01(value: float) -> float:
    return min(1.0, max(0.0, value))


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
