#!/usr/bin/env python3
"""Builds north-america.geojson, the basemap of northbound's report maps.

Inputs (public domain Natural Earth data, see README.md):
  countries-50m.json   from the npm package world-atlas 2.0.2
                       (`npm pack world-atlas@2.0.2`, then `tar xzf`: package/countries-50m.json)
  lakes-110m.json      beside this script: the North and Central American
                       lakes of Natural Earth's ne_110m_lakes, as published

Output: north-america.geojson beside this script, a GeoJSON FeatureCollection
of three layers (property "layer"): "land" (a Polygon or MultiPolygon per
country: its outline is the coast where no border runs), "lake" and
"border" (country borders: TopoJSON arcs shared by two countries), clipped to the box
BOX, simplified (Douglas-Peucker, TOLERANCE degrees) and rounded to 0.01°.

Usage: python3 make.py path/to/countries-50m.json
Standard library only.
"""
import json
import math
import sys
from pathlib import Path

BOX = (-170.0, -8.0, -50.0, 66.0)  # lon0, lat0, lon1, lat1
TOLERANCE = 0.03  # degrees
MIN_RING_AREA = 0.02  # square degrees: smaller islands are dropped
HERE = Path(__file__).resolve().parent


def decode_arcs(topo):
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        arcs.append(pts)
    return arcs


def ring_points(arcs, ring):
    pts = []
    for i in ring:
        a = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        pts.extend(a if not pts else a[1:])
    return pts


def polygons_of(geom):
    if geom["type"] == "Polygon":
        return [geom["arcs"]]
    if geom["type"] == "MultiPolygon":
        return geom["arcs"]
    return []


def simplify(pts, tol):
    """Douglas-Peucker, iterative."""
    if len(pts) < 3:
        return pts
    keep = [False] * len(pts)
    keep[0] = keep[-1] = True
    stack = [(0, len(pts) - 1)]
    while stack:
        a, b = stack.pop()
        (x0, y0), (x1, y1) = pts[a], pts[b]
        dx, dy = x1 - x0, y1 - y0
        norm = math.hypot(dx, dy)
        best, at = -1.0, -1
        for i in range(a + 1, b):
            x, y = pts[i]
            if norm == 0:
                d = math.hypot(x - x0, y - y0)
            else:
                d = abs(dy * x - dx * y + x1 * y0 - y1 * x0) / norm
            if d > best:
                best, at = d, i
        if best > tol:
            keep[at] = True
            stack.append((a, at))
            stack.append((at, b))
    return [p for p, k in zip(pts, keep) if k]


def inside(p, edge):
    x, y = p
    lon0, lat0, lon1, lat1 = BOX
    return {"l": x >= lon0, "r": x <= lon1, "b": y >= lat0, "t": y <= lat1}[edge]


def cross(p, q, edge):
    lon0, lat0, lon1, lat1 = BOX
    (x0, y0), (x1, y1) = p, q
    if edge in "lr":
        x = lon0 if edge == "l" else lon1
        t = (x - x0) / (x1 - x0)
        return (x, y0 + t * (y1 - y0))
    y = lat0 if edge == "b" else lat1
    t = (y - y0) / (y1 - y0)
    return (x0 + t * (x1 - x0), y)


def clip_ring(pts):
    """Sutherland-Hodgman against the box (a closed ring in, closed out)."""
    out = pts[:-1] if pts and pts[0] == pts[-1] else pts[:]
    for edge in "lrbt":
        src, out = out, []
        for i, q in enumerate(src):
            p = src[i - 1]
            if inside(q, edge):
                if not inside(p, edge):
                    out.append(cross(p, q, edge))
                out.append(q)
            elif inside(p, edge):
                out.append(cross(p, q, edge))
        if not out:
            return []
    return out + [out[0]]


def clip_line(pts):
    """The parts of a polyline inside the box (points outside are cut at the edge)."""
    lon0, lat0, lon1, lat1 = BOX
    ok = lambda p: lon0 <= p[0] <= lon1 and lat0 <= p[1] <= lat1
    parts, cur = [], []
    for i, p in enumerate(pts):
        if ok(p):
            if not cur and i > 0:
                cur.append(edge_point(pts[i - 1], p))
            cur.append(p)
        elif cur:
            cur.append(edge_point(p, cur[-1]))
            parts.append(cur)
            cur = []
    if len(cur) > 1:
        parts.append(cur)
    return [c for c in parts if len(c) > 1]


def edge_point(out_p, in_p):
    """Where the segment from an inside point to an outside point leaves the box."""
    p = out_p
    for edge in "lrbt":
        if not inside(p, edge):
            p = cross(in_p, p, edge)
    return p


def area(ring):
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:])) / 2.0


def rnd(pts):
    out = []
    for x, y in pts:
        q = [round(x, 2), round(y, 2)]
        if not out or out[-1] != q:
            out.append(q)
    return out


def ring_out(pts, exterior):
    r = rnd(clip_ring(simplify(pts, TOLERANCE)))
    if len(r) < 4 or abs(area(r)) < MIN_RING_AREA:
        return None
    if r[0] != r[-1]:
        r.append(r[0])
    # RFC 7946: exterior rings counterclockwise, holes clockwise.
    if (area(r) > 0) != exterior:
        r.reverse()
    return r


def main():
    topo = json.load(open(sys.argv[1]))
    arcs = decode_arcs(topo)
    countries = topo["objects"]["countries"]["geometries"]
    uses = [0] * len(arcs)
    for g in countries:
        for poly in polygons_of(g):
            for ring in poly:
                for i in ring:
                    uses[i if i >= 0 else ~i] += 1
    lon0, lat0, lon1, lat1 = BOX
    features = []
    chosen_arcs = set()
    for g in countries:
        polys = []
        for poly in polygons_of(g):
            rings = [ring_points(arcs, r) for r in poly]
            ext = ring_out(rings[0], True)
            if ext is None:
                continue
            holes = [h for h in (ring_out(r, False) for r in rings[1:]) if h]
            polys.append([ext] + holes)
            for r in poly:
                chosen_arcs.update(i if i >= 0 else ~i for i in r)
        if polys:
            geom = {"type": "Polygon", "coordinates": polys[0]} if len(polys) == 1 else {
                "type": "MultiPolygon", "coordinates": polys}
            features.append({"type": "Feature", "properties": {
                "layer": "land", "name": g.get("properties", {}).get("name", ""), "iso_n3": g.get("id", "")},
                "geometry": geom})
    lakes = json.load(open(HERE / "lakes-110m.json"))["lakes"]
    for lake in lakes:
        rings = [ring_out([tuple(p) for p in r], i == 0) for i, r in enumerate(lake["coordinates"])]
        if rings[0]:
            features.append({"type": "Feature", "properties": {"layer": "lake", "name": lake["name"]},
                             "geometry": {"type": "Polygon", "coordinates": [r for r in rings if r]}})
    for layer, want in (("border", 2),):
        lines = []
        for i in sorted(chosen_arcs):
            if uses[i] != want:
                continue
            for part in clip_line(simplify(arcs[i], TOLERANCE)):
                r = rnd(part)
                if len(r) < 2:
                    continue
                closed = r[0] == r[-1]
                if closed and (len(r) < 4 or abs(area(r)) < MIN_RING_AREA):
                    continue
                lines.append(r)
        features.append({"type": "Feature", "properties": {"layer": layer},
                         "geometry": {"type": "MultiLineString", "coordinates": lines}})
    out = {
        "type": "FeatureCollection",
        "attribution": "Made with Natural Earth: free vector and raster map data @ naturalearthdata.com "
                       "(public domain). Countries 1:50m via world-atlas 2.0.2 (Natural Earth 4.1.0); "
                       "lakes 1:110m (ne_110m_lakes).",
        "bbox": [lon0, lat0, lon1, lat1],
        "features": features,
    }
    text = json.dumps(out, separators=(",", ":"))
    (HERE / "north-america.geojson").write_text(text + "\n")
    print(f"{len(features)} features, {len(text)} bytes")


if __name__ == "__main__":
    main()
