#!/usr/bin/env python3
"""Decodes GapMap's vector tiles with mapbox-vector-tile (a decoder that
shares no code with GapMap's encoder) and checks them against the source
polygons, which it reads as GeoJSON from the OGC API items and projects to
Web Mercator itself (the formula below, not GapMap's):

- every tile is at most 500,000 bytes, has one layer named after the
  collection, extent 4096, and only whole coordinates within the clip buffer
  (-64 to 4160);
- exterior rings have positive area in tile coordinates (y down), holes
  negative (MVT 2.1);
- geometry within half a pixel (4 of 4096 units; MapLibre draws a tile as
  512 px) of the source: every decoded vertex and edge midpoint inside the
  tile lies within 4 units of the source outline, and every source vertex
  inside the tile lies within 4 units of the decoded outline (source parts
  under one square pixel may be left out);
- every source area with a part of two square pixels or more that reaches
  into the tile is in it, and nothing that does not reach the tile plus its
  buffer is;
- properties equal the map's GeoJSON layers (/web/api/lsoa-layer for both
  years) or the items' code and name (wards, districts).

usage: tiles_check.py BASE_URL   (prints one line per tile; exit 1 on failure)
"""
import json
import math
import random
import sys
import urllib.request

import mapbox_vector_tile
import numpy as np
import shapely
from shapely.geometry import shape

EXTENT = 4096
BUFFER = 64
HALF_PIXEL = 4.0
PIXEL_AREA = 64.0
MAX_BYTES = 500_000

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def get(base, path):
    with urllib.request.urlopen(base.rstrip("/") + path, timeout=300) as r:
        return r.status, r.read()


def get_json(base, path):
    status, body = get(base, path)
    assert status == 200, (path, status)
    return json.loads(body)


def items(base, collection):
    """Every feature of a collection (CRS84 GeoJSON), by code."""
    out = {}
    path = f"/collections/{collection}/items?limit=1000&f=json"
    while path:
        doc = get_json(base, path)
        for f in doc["features"]:
            code = f["properties"].get("code") or f["id"]
            out[code] = f
        nxt = [l["href"] for l in doc.get("links", []) if l.get("rel") == "next"]
        path = nxt[0][nxt[0].index("/collections"):] if nxt else None
    return out


def project(lon, lat, z, x, y):
    """CRS84 to the tile's grid (spherical Web Mercator, y down)."""
    n = 2.0 ** z
    lat = max(-85.0511287798, min(85.0511287798, lat))
    wx = (lon + 180.0) / 360.0 * n
    r = math.radians(lat)
    wy = (1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * n
    return ((wx - x) * EXTENT, (wy - y) * EXTENT)


def projected(geom, z, x, y):
    return shapely.transform(
        geom, lambda a: np.array([project(lon, lat, z, x, y) for lon, lat in a])
    )


def parts(geom):
    return list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]


def rings(poly):
    return [poly.exterior, *poly.interiors]


def tile_range(bounds, z):
    w, s, e, n = bounds
    def col(lon):
        return int((lon + 180.0) / 360.0 * 2 ** z)
    def row(lat):
        r = math.radians(lat)
        return int((1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * 2 ** z)
    return col(w), col(e), row(n), row(s)


def signed_area(ring):
    return sum(ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1] for i in range(len(ring) - 1)) / 2.0


def check_tile(base, collection, z, x, y, sources, props_expected):
    label = f"{collection} {z}/{x}/{y}"
    status, body = get(base, f"/collections/{collection}/tiles/WebMercatorQuad/{z}/{x}/{y}")
    if status != 200:
        fail(f"{label}: status {status}")
        return
    if len(body) > MAX_BYTES:
        fail(f"{label}: {len(body)} bytes > {MAX_BYTES}")
    decoded = mapbox_vector_tile.decode(body, default_options={"y_coord_down": True, "geojson": False})
    tile_box = shapely.box(0, 0, EXTENT, EXTENT)
    clip_box = shapely.box(-BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    # What should be there: source areas reaching into the tile.
    expected, optional = set(), set()
    projected_sources = {}
    for code, f in sources.items():
        g = shape(f["geometry"])
        lo = project(g.bounds[0], g.bounds[3], z, x, y)
        hi = project(g.bounds[2], g.bounds[1], z, x, y)
        if hi[0] < -BUFFER or lo[0] > EXTENT + BUFFER or hi[1] < -BUFFER or lo[1] > EXTENT + BUFFER:
            continue
        pg = projected(g, z, x, y)
        if not pg.intersects(clip_box):
            continue
        projected_sources[code] = pg
        largest = max(p.area for p in parts(pg))
        if largest >= 2 * PIXEL_AREA and pg.intersection(tile_box).area > 0.0:
            expected.add(code)
        else:
            optional.add(code)
    if not decoded:
        if expected:
            fail(f"{label}: empty tile, expected {len(expected)} features")
        print(f"{label}: empty ({len(body)} bytes)")
        return
    if list(decoded) != [collection]:
        fail(f"{label}: layers {list(decoded)}")
    layer = decoded[collection]
    if layer["extent"] != EXTENT:
        fail(f"{label}: extent {layer['extent']}")
    seen = set()
    worst_out, worst_in = 0.0, 0.0
    for feat in layer["features"]:
        props = feat["properties"]
        code = props.get("code")
        seen.add(code)
        if code not in projected_sources:
            fail(f"{label}: {code} is not a source area reaching the tile")
            continue
        want = props_expected.get(code)
        if want is not None and props != want:
            diff = {k: (props.get(k), want.get(k)) for k in set(props) | set(want) if props.get(k) != want.get(k)}
            fail(f"{label}: {code} properties differ (tile, source): {diff}")
        geom = feat["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        for poly in polys:
            for i, ring in enumerate(poly):
                for px, py in ring:
                    if not (isinstance(px, int) and isinstance(py, int)):
                        fail(f"{label}: {code} coordinate not whole: {px},{py}")
                    if not (-BUFFER <= px <= EXTENT + BUFFER and -BUFFER <= py <= EXTENT + BUFFER):
                        fail(f"{label}: {code} coordinate {px},{py} outside the clip buffer")
                        break
                a = signed_area(ring)
                if (i == 0) != (a > 0):
                    fail(f"{label}: {code} ring {i} has area {a} (exterior must be > 0, holes < 0)")
        src = projected_sources[code]
        src_outline = src.boundary
        # Decoded vertices and edge midpoints inside the tile: near the source outline.
        pts = []
        decoded_lines = []
        for poly in polys:
            for ring in poly:
                decoded_lines.append(shapely.LineString(ring))
                for (ax, ay), (bx, by) in zip(ring, ring[1:]):
                    pts.append((ax, ay))
                    pts.append(((ax + bx) / 2.0, (ay + by) / 2.0))
        inside = [p for p in pts if 0 <= p[0] <= EXTENT and 0 <= p[1] <= EXTENT]
        if inside:
            d = shapely.distance(src_outline, shapely.points(inside))
            worst_out = max(worst_out, float(d.max()))
            if d.max() > HALF_PIXEL:
                k = int(d.argmax())
                fail(f"{label}: {code} tile point {inside[k]} is {d.max():.2f} units from the source outline")
        # Source vertices inside the tile: near the decoded outline (parts and
        # holes under a pixel may be left out).
        out_lines = shapely.MultiLineString(decoded_lines)
        src_pts = []
        for p in parts(src):
            for r in rings(p):
                if shapely.Polygon(r).area < PIXEL_AREA:
                    continue
                src_pts.extend(c for c in r.coords if 0 <= c[0] <= EXTENT and 0 <= c[1] <= EXTENT)
        if src_pts:
            d = shapely.distance(out_lines, shapely.points(src_pts))
            worst_in = max(worst_in, float(d.max()))
            if d.max() > HALF_PIXEL:
                k = int(d.argmax())
                fail(f"{label}: {code} source vertex {src_pts[k]} is {d.max():.2f} units from the tile outline")
    missing = expected - seen
    if missing:
        fail(f"{label}: missing {sorted(missing)[:5]} ({len(missing)})")
    print(f"{label}: {len(layer['features'])} features, {len(body)} bytes, "
          f"worst distances {worst_out:.2f} (tile to source) / {worst_in:.2f} (source to tile) units", flush=True)


def main():
    base = sys.argv[1]
    rng = random.Random(14)
    lsoa25 = {f["properties"]["code"]: f["properties"] for f in get_json(base, "/web/api/lsoa-layer?year=2025")["features"]}
    lsoa19 = {f["properties"]["code"]: f["properties"] for f in get_json(base, "/web/api/lsoa-layer?year=2019")["features"]}

    def tile_props(layer_props, drop):
        # The tile leaves nulls out, and the GeoJSON layer's own extras
        # (fid, label point) are not tile properties.
        return {c: {k: v for k, v in p.items() if v is not None and k not in drop} for c, p in layer_props.items()}

    checks = {
        "lsoa": tile_props(lsoa25, {"fid", "lx", "ly"}),
        "lsoa-2011": tile_props(lsoa19, {"fid"}),
        "wards": None,
        "districts": None,
    }
    for collection, props in checks.items():
        sources = items(base, collection)
        if props is None:
            props = {c: {"code": c, "name": f["properties"]["name"]} for c, f in sources.items()}
        if collection == "lsoa-2011":
            # The tile adds the 2017 ward and the district to the map layer's properties.
            for c, p in props.items():
                src = sources.get(c, {}).get("properties", {})
                for k, item_key in (("ward17_code", "ward17"), ("district_code", "district")):
                    if src.get(item_key) is not None:
                        p[k] = src[item_key]
        bounds = [min(shape(f["geometry"]).bounds[i] for f in sources.values()) for i in (0, 1)] + \
                 [max(shape(f["geometry"]).bounds[i] for f in sources.values()) for i in (2, 3)]
        tiles = []
        for z in (7, 9, 11, 13, 14):
            x0, x1, y0, y1 = tile_range(bounds, z)
            all_tiles = [(z, tx, ty) for tx in range(x0, x1 + 1) for ty in range(y0, y1 + 1)]
            tiles += all_tiles if len(all_tiles) <= 4 else rng.sample(all_tiles, 4)
        if collection == "districts":
            tiles.append((14, 8132, 5408))  # Cherwell, from -38,115 to 82,062 before clipping
        for z, x, y in tiles:
            check_tile(base, collection, z, x, y, sources, props)
    if failures:
        print(f"{len(failures)} failures")
        sys.exit(1)
    print("all tiles agree")


if __name__ == "__main__":
    main()
