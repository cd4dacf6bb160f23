"""QGIS (headless, its OAPIF provider) against a running GapMap server.

For every collection: the layer loads, and QGIS reads the same features as
a plain HTTP client does (fetched here with urllib, following `next`
links): the same ids, every attribute value and every coordinate. Then a
bbox request (QgsFeatureRequest.setFilterRect with exact intersection) and
a layer filter (setSubsetString, QGIS's expression syntax) each select what
GDAL's OGR geometry engine and plain Python select from the plain features.

Run with Debian's python3 (python3-qgis) and QT_QPA_PLATFORM=offscreen:

    python3 qgis_check.py http://127.0.0.1:PORT/

Prints one line per collection and 'qgis ok' at the end; exits non-zero on
the first failed check.
"""

import json
import math
import sys
import urllib.parse
import urllib.request
from datetime import datetime

from osgeo import ogr
from qgis.core import (
    QgsApplication,
    QgsDataSourceUri,
    QgsFeatureRequest,
    QgsRectangle,
    QgsVectorLayer,
)

BBOX = (-1.30, 51.70, -1.20, 51.78)  # central Oxford


def fetch(url):
    with urllib.request.urlopen(url) as r:
        return json.load(r)


def plain_features(base, cid):
    out, url = [], f"{base}collections/{cid}/items?limit=1000"
    while url:
        page = fetch(url)
        out.extend(page["features"])
        url = next((l["href"] for l in page["links"] if l["rel"] == "next"), None)
    return out


def is_null(v):
    return v is None or (hasattr(v, "isNull") and v.isNull())


def same(q, p):
    """A QGIS attribute value equals the served JSON value."""
    if p is None:
        return is_null(q)
    if is_null(q):
        return False
    if hasattr(q, "toMSecsSinceEpoch"):  # QDateTime from an RFC 3339 string
        want = datetime.fromisoformat(p.replace("Z", "+00:00"))
        # QGIS parses the fraction through a float: allow a millisecond.
        return abs(q.toMSecsSinceEpoch() - round(want.timestamp() * 1000)) <= 1
    if isinstance(p, bool):
        return q is p or q in (0, 1) and bool(q) == p
    if isinstance(p, (int, float)):
        # QGIS 3.22 guesses field types from the first features: a column
        # null there becomes String, and its numbers arrive as text.
        qv = float(q) if isinstance(q, str) else q
        return math.isclose(qv, p, rel_tol=1e-12, abs_tol=1e-12)
    return q == p


def coords(geom_json):
    """Every vertex of a GeoJSON geometry, in order."""
    def walk(c):
        if c and isinstance(c[0], (int, float)):
            yield (c[0], c[1])
        else:
            for x in c:
                yield from walk(x)
    return list(walk(geom_json["coordinates"]))


def layer(base, cid):
    uri = QgsDataSourceUri()
    uri.setParam("url", base)
    uri.setParam("typename", cid)
    lyr = QgsVectorLayer(uri.uri(False), cid, "OAPIF")
    assert lyr.isValid(), f"{cid}: QGIS cannot load the layer: {lyr.error().summary()}"
    return lyr


def qgis_ids(lyr, request=None):
    return sorted(f["id"] for f in lyr.getFeatures(request or QgsFeatureRequest()))


def check_collection(base, cid):
    plain = plain_features(base, cid)
    by_id = {f["id"]: f for f in plain}
    lyr = layer(base, cid)
    names = [f.name() for f in lyr.fields()]
    seen = 0
    for qf in lyr.getFeatures():
        fid = qf["id"]
        assert fid in by_id, f"{cid}: QGIS read {fid}, not served"
        pf = by_id[fid]
        for k, v in pf["properties"].items():
            assert k in names, f"{cid}: QGIS has no field {k}"
            assert same(qf[k], v), f"{cid}/{fid}.{k}: QGIS {qf[k]!r}, served {v!r}"
        if pf["geometry"] is None:
            assert qf.geometry().isNull(), (cid, fid)
        else:
            got = [(p.x(), p.y()) for p in qf.geometry().vertices()]
            want = coords(pf["geometry"])
            assert len(got) == len(want), f"{cid}/{fid}: {len(got)} vertices, served {len(want)}"
            err = max(max(abs(a[0] - b[0]), abs(a[1] - b[1])) for a, b in zip(got, want))
            assert err < 1e-9, f"{cid}/{fid}: coordinates differ by {err}"
        seen += 1
    assert seen == len(plain), f"{cid}: QGIS read {seen} features, served {len(plain)}"

    # bbox: QGIS sends it to the server and tests exact intersection.
    ring = ogr.CreateGeometryFromWkt(
        "POLYGON(({0} {1},{2} {1},{2} {3},{0} {3},{0} {1}))".format(*BBOX))
    want = sorted(f["id"] for f in plain if f["geometry"] and ogr.CreateGeometryFromJson(json.dumps(f["geometry"])).Intersects(ring))
    req = QgsFeatureRequest().setFilterRect(QgsRectangle(*BBOX)).setFlags(QgsFeatureRequest.ExactIntersect)
    got = qgis_ids(lyr, req)
    assert got == want, f"{cid}: bbox: QGIS {len(got)}, expected {len(want)}"
    in_bbox = len(want)

    # A layer filter on the first string attribute with a value.
    filtered = "no string value"
    for f in plain:
        k = next((k for k, v in f["properties"].items() if isinstance(v, str) and k not in ("id", "code") and "'" not in v), None)
        if k:
            v = f["properties"][k]
            assert lyr.setSubsetString(f"\"{k}\" = '{v}'"), f"{cid}: subset string refused"
            want = sorted(g["id"] for g in plain if g["properties"].get(k) == v)
            got = qgis_ids(lyr)
            assert got == want, f"{cid}: filter {k} = {v!r}: QGIS {len(got)}, expected {len(want)}"
            # The same as an expression on a feature request, with the bbox.
            lyr.setSubsetString("")
            in_box = set(sorted(g["id"] for g in plain if g["geometry"] and ogr.CreateGeometryFromJson(json.dumps(g["geometry"])).Intersects(ring)))
            req = QgsFeatureRequest().setFilterExpression(f"\"{k}\" <> '{v}'").setFilterRect(QgsRectangle(*BBOX)).setFlags(QgsFeatureRequest.ExactIntersect)
            got2 = qgis_ids(lyr, req)
            want2 = sorted(g["id"] for g in plain if g["id"] in in_box and g["properties"].get(k) is not None and g["properties"][k] != v)
            assert got2 == want2, f"{cid}: expression {k} <> {v!r} in bbox: QGIS {len(got2)}, expected {len(want2)}"
            filtered = f"{k} = {v!r}: {len(want)}; <> in bbox: {len(want2)}"
            break
    print(f"{cid}: {seen} features, bbox {in_bbox}; filter {filtered}", flush=True)
    return seen


def main():
    base = sys.argv[1]
    if not base.endswith("/"):
        base += "/"
    app = QgsApplication([], False)
    app.initQgis()
    try:
        ids = [c["id"] for c in fetch(base + "collections")["collections"]]
        assert len(ids) >= 5, ids
        total = sum(check_collection(base, cid) for cid in ids)
        print(f"qgis ok: {len(ids)} collections, {total} features")
    finally:
        app.exitQgis()


if __name__ == "__main__":
    main()
