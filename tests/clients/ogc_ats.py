"""The OGC abstract test suites, run against a running GapMap server.

Every abstract test of every conformance class the server declares at
/conformance is run and reported under its ATS identifier, from the
`opengeospatial/ogcapi-features` repository:

- Part 1 Core, GeoJSON, HTML, OAS 3.0: core/standard/abstract_tests;
- Part 2 CRS: extensions/crs/standard/abstract_tests;
- Part 3 Queryables, Queryables as query parameters, Filter, Features
  filter: extensions/filtering/standard/annex_ats.adoc;
- CQL2 classes: cql2/standard/annex_ats_*.adoc;
- Part 4 (create-replace-delete, features): the transactions ATS; the update
  and optimistic-locking-etags classes have no abstract tests there yet, so
  their tests are named after the requirements (/req/... -> /conf/...).

Expected results never come from GapMap: features are fetched once without
filters, and every selection (bbox, CQL2 comparison, LIKE, CASEI, BETWEEN,
IN, arithmetic, the spatial predicates) is recomputed here, in Python, with
shapely for geometry and pyproj for British National Grid (and
openapi-spec-validator for the OpenAPI document). Usage:

    python3 ogc_ats.py http://127.0.0.1:PORT/ EDITOR_TOKEN

Prints one line per test: `PASS id`, `FAIL id: why` or `N/A id: why`, then a
summary per class; exits 1 if any test failed, 2 if a declared class has no
tests here.
"""

import http.client
import json
import math
import re
import sys
import urllib.parse
from collections import defaultdict

import pyproj
import shapely
from shapely.geometry import Point, box, shape
from shapely.validation import explain_validity

OGC = "http://www.opengis.net/spec/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
BNG = "http://www.opengis.net/def/crs/EPSG/0/27700"
GEOJSON = "application/geo+json"
TO_BNG = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:27700", always_xy=True)
TO_LONLAT = pyproj.Transformer.from_crs("EPSG:27700", "OGC:CRS84", always_xy=True)


class NotApplicable(Exception):
    """The test's precondition does not hold for this server."""


class Api:
    def __init__(self, base, token):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.base = base.rstrip("/")
        self.token = token

    def call(self, method, path, params=None, headers=None, body=None, auth=False):
        if params:
            path = path + ("&" if "?" in path else "?") + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
        h = dict(headers or {})
        if auth:
            h["Authorization"] = f"Bearer {self.token}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        c = http.client.HTTPConnection(self.host, self.port, timeout=120)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        headers = {k.lower(): v for k, v in r.getheaders()}
        # Several Link headers may come; keep them all.
        headers["link"] = ", ".join(v for k, v in r.getheaders() if k.lower() == "link")
        c.close()
        return r.status, headers, data

    def get(self, path, params=None, headers=None):
        return self.call("GET", path, params, headers)

    def json(self, path, params=None, accept="application/json"):
        status, headers, data = self.get(path, params, {"Accept": accept})
        assert status == 200, f"GET {path} {params}: {status} {data[:300]!r}"
        return json.loads(data)

    def all_items(self, cid, params=None):
        """Every feature of a selection, following `next` links."""
        out = []
        p = dict(params or {})
        p.setdefault("limit", 10000)
        page = self.json(f"/collections/{cid}/items", p, GEOJSON)
        matched = page.get("numberMatched")
        while True:
            out.extend(page["features"])
            nxt = [l["href"] for l in page["links"] if l["rel"] == "next"]
            if not nxt:
                break
            assert nxt[0].startswith(self.base), nxt[0]
            page = self.json(nxt[0][len(self.base):], None, GEOJSON)
        if matched is not None:
            assert matched == len(out), f"{cid} {params}: numberMatched {matched}, {len(out)} features"
        return out

    def ids(self, cid, params):
        return [f["id"] for f in self.all_items(cid, params)]


def link(doc, rel, type_=None):
    return [l for l in doc.get("links", []) if l.get("rel") == rel and (type_ is None or l.get("type") == type_)]


def problem(status, headers, data, parameter=None):
    """An unsuccessful execution: 4xx problem+json, naming the parameter."""
    assert 400 <= status < 500, f"expected a 4xx, got {status}: {data[:200]!r}"
    assert headers.get("content-type", "").startswith("application/problem+json"), headers.get("content-type")
    if parameter is not None:
        got = json.loads(data).get("parameter")
        assert got == parameter, f"problem names {got!r}, not {parameter!r}"


# ---------------------------------------------------------------- registry

TESTS = defaultdict(list)  # class URI -> [(test id, function)]


def ats(class_uri, test_id):
    def deco(fn):
        TESTS[class_uri].append((test_id, fn))
        return fn

    return deco


F1 = OGC + "ogcapi-features-1/1.0/conf/"
F2 = OGC + "ogcapi-features-2/1.0/conf/"
F3 = OGC + "ogcapi-features-3/1.0/conf/"
F4 = OGC + "ogcapi-features-4/1.0/conf/"
CQL = OGC + "cql2/1.0/conf/"


class Ctx:
    """What several tests share: the API, the collections and their
    unfiltered features (fetched once), the queryables."""

    def __init__(self, api):
        self.api = api
        self.landing = api.json("/")
        self.conformance = api.json("/conformance")["conformsTo"]
        self.collections = api.json("/collections")["collections"]
        self.ids = [c["id"] for c in self.collections]
        self._features = {}
        self._queryables = {}

    def features(self, cid):
        if cid not in self._features:
            self._features[cid] = self.api.all_items(cid)
        return self._features[cid]

    def queryables(self, cid):
        if cid not in self._queryables:
            self._queryables[cid] = self.api.json(f"/collections/{cid}/queryables", accept="application/schema+json")
        return self._queryables[cid]

    def select(self, cid, cql, lang="cql2-text", extra=None):
        params = {"filter": cql if lang == "cql2-text" else json.dumps(cql), "filter-lang": lang}
        params.update(extra or {})
        return sorted(self.api.ids(cid, params))


def expect(ctx, cid, cql, pred, lang="cql2-text", extra=None):
    """The server's selection equals the features for which `pred` is True."""
    want = sorted(f["id"] for f in ctx.features(cid) if pred(f) is True)
    got = ctx.select(cid, cql, lang, extra)
    assert got == want, f"{cid}: {cql!r}: {len(got)} selected, {len(want)} expected; first differences {sorted(set(got) ^ set(want))[:5]}"
    return len(want)


# ---------------------------------------------------------------- Part 1


@ats(F1 + "core", "/conf/core/http")
def core_http(ctx):
    status, headers, _ = ctx.api.get("/")
    assert status == 200
    c = http.client.HTTPConnection(ctx.api.host, ctx.api.port)
    c.request("GET", "/")
    assert c.getresponse().version == 11, "HTTP/1.1"


@ats(F1 + "core", "/conf/core/root-op")
def root_op(ctx):
    status, headers, _ = ctx.api.get("/", headers={"Accept": "application/json"})
    assert status == 200 and headers["content-type"].startswith("application/json")


@ats(F1 + "core", "/conf/core/root-success")
def root_success(ctx):
    rels = {l["rel"] for l in ctx.landing["links"]}
    for want in ("self", "service-desc", "conformance", "data"):
        assert want in rels or (want == "conformance" and "http://www.opengis.net/def/rel/ogc/1.0/conformance" in rels) or (want == "data" and "http://www.opengis.net/def/rel/ogc/1.0/data" in rels), f"landing page lacks rel {want}: {rels}"


@ats(F1 + "core", "/conf/core/api-definition-op")
def api_definition_op(ctx):
    for l in link(ctx.landing, "service-desc"):
        status, _, _ = ctx.api.get(l["href"][len(ctx.api.base):], headers={"Accept": l.get("type", "*/*")})
        assert status == 200, l


@ats(F1 + "core", "/conf/core/api-definition-success")
def api_definition_success(ctx):
    doc = ctx.api.json("/api", accept="application/vnd.oai.openapi+json;version=3.0")
    assert doc["openapi"].startswith("3.0"), doc["openapi"]
    for p in ("/", "/conformance", "/collections", "/collections/{collectionId}", "/collections/{collectionId}/items", "/collections/{collectionId}/items/{featureId}"):
        assert p in doc["paths"], f"{p} not in the API definition"


@ats(F1 + "core", "/conf/core/conformance-op")
def conformance_op(ctx):
    status, headers, _ = ctx.api.get("/conformance", headers={"Accept": "application/json"})
    assert status == 200 and headers["content-type"].startswith("application/json")


@ats(F1 + "core", "/conf/core/conformance-success")
def conformance_success(ctx):
    assert F1 + "core" in ctx.conformance
    assert all(isinstance(c, str) and c.startswith("http") for c in ctx.conformance)


@ats(F1 + "core", "/conf/core/fc-md-op")
def fc_md_op(ctx):
    status, headers, _ = ctx.api.get("/collections", headers={"Accept": "application/json"})
    assert status == 200 and headers["content-type"].startswith("application/json")


@ats(F1 + "core", "/conf/core/fc-md-success")
def fc_md_success(ctx):
    doc = ctx.api.json("/collections")
    assert link(doc, "self") and isinstance(doc["collections"], list) and doc["collections"]


@ats(F1 + "core", "/conf/core/fc-md-links")
def fc_md_links(ctx):
    doc = ctx.api.json("/collections")
    assert link(doc, "self", "application/json")
    assert link(doc, "alternate"), "an alternate (HTML) link"


@ats(F1 + "core", "/conf/core/fc-md-items")
def fc_md_items(ctx):
    for c in ctx.collections:
        assert c["id"] and link(c, "items"), c["id"]


@ats(F1 + "core", "/conf/core/fc-md-items-links")
def fc_md_items_links(ctx):
    for c in ctx.collections:
        items = link(c, "items")
        assert items and all(l["href"].endswith(f"/collections/{c['id']}/items") or f"/collections/{c['id']}/items?" in l["href"] for l in items), c["id"]
        assert any(l.get("type") == GEOJSON for l in items), c["id"]


@ats(F1 + "core", "/conf/core/fc-md-extent")
def fc_md_extent(ctx):
    """The spatial extent contains every feature (checked on the features)."""
    for c in ctx.collections:
        feats = [f for f in ctx.features(c["id"]) if f.get("geometry")]
        if not feats:
            continue
        assert "extent" in c, f"{c['id']} has features but no extent"
        bb = c["extent"]["spatial"]["bbox"][0]
        ext = box(*bb[:4]).buffer(1e-9)
        for f in feats:
            assert ext.contains(shape(f["geometry"])), f"{c['id']}/{f['id']} outside extent {bb}"


@ats(F1 + "core", "/conf/core/fc-md-extent-multi")
def fc_md_extent_multi(ctx):
    """The first bbox holds every geometry; with more than one, each
    geometry lies in one of the second to last; the same for intervals
    (the register's entries carry valid_from/valid_to)."""
    for c in ctx.collections:
        ext = c.get("extent")
        if not ext:
            continue
        feats = [f for f in ctx.features(c["id"]) if f.get("geometry")]
        boxes = [box(*b[:4]).buffer(1e-9) for b in ext["spatial"]["bbox"]]
        for f in feats:
            g = shape(f["geometry"])
            assert boxes[0].contains(g), (c["id"], f["id"])
            if len(boxes) > 1:
                assert any(b.contains(g) for b in boxes[1:]), (c["id"], f["id"])
        for iv in ext.get("temporal", {}).get("interval", [])[:1]:
            lo, hi = iv
            for f in ctx.features(c["id"]):
                p = f["properties"]
                if p.get("valid_from") and lo:
                    assert lo[:10] <= p["valid_from"][:10], (c["id"], f["id"], lo)
                if p.get("valid_to") and hi:
                    assert p["valid_to"][:10] <= hi[:10], (c["id"], f["id"], hi)


@ats(F1 + "core", "/conf/core/sfc-md-op")
def sfc_md_op(ctx):
    for cid in ctx.ids:
        status, headers, _ = ctx.api.get(f"/collections/{cid}", headers={"Accept": "application/json"})
        assert status == 200 and headers["content-type"].startswith("application/json"), cid
    status, headers, data = ctx.api.get("/collections/no-such-collection")
    assert status == 404, status


@ats(F1 + "core", "/conf/core/sfc-md-success")
def sfc_md_success(ctx):
    for c in ctx.collections:
        one = ctx.api.json(f"/collections/{c['id']}")
        assert one["id"] == c["id"] and link(one, "items"), c["id"]


@ats(F1 + "core", "/conf/core/fc-op")
def fc_op(ctx):
    for cid in ctx.ids:
        status, headers, _ = ctx.api.get(f"/collections/{cid}/items", headers={"Accept": GEOJSON})
        assert status == 200 and headers["content-type"].startswith(GEOJSON), cid


def openapi_items_params(ctx):
    doc = ctx.api.json("/api")
    params = doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
    out = {}
    for p in params:
        if "$ref" in p:
            p = doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
        out[p["name"]] = p
    return out


@ats(F1 + "core", "/conf/core/fc-bbox-definition")
def fc_bbox_definition(ctx):
    p = openapi_items_params(ctx)["bbox"]
    assert p["in"] == "query" and p["required"] is False and p["style"] == "form" and p["explode"] is False, p
    s = p["schema"]
    assert s["type"] == "array" and s["items"]["type"] == "number" and s["minItems"] == 4 and s["maxItems"] == 6, s


@ats(F1 + "core", "/conf/core/fc-bbox-response")
def fc_bbox_response(ctx):
    boxes = [(-1.30, 51.70, -1.20, 51.78), (-1.6, 51.5, -1.0, 52.2), (177, 65, -177, 70), (-1.26, 51.745, -1.25, 51.755)]
    n = 0
    for cid in ctx.ids:
        for b in boxes:
            if b[0] > b[2]:
                parts = [box(b[0], b[1], 180, b[3]), box(-180, b[1], b[2], b[3])]
            else:
                parts = [box(*b)]
            def pred(f, parts=parts):
                return f.get("geometry") is not None and any(shape(f["geometry"]).intersects(p) for p in parts)
            want = sorted(f["id"] for f in ctx.features(cid) if pred(f))
            got = sorted(ctx.api.ids(cid, {"bbox": ",".join(map(str, b))}))
            assert got == want, f"{cid} bbox {b}: {len(got)} vs {len(want)}"
            n += 1
    status, headers, data = ctx.api.get("/collections/lsoa/items", {"bbox": "1,2,3"})
    problem(status, headers, data, "bbox")


@ats(F1 + "core", "/conf/core/fc-limit-definition")
def fc_limit_definition(ctx):
    p = openapi_items_params(ctx)["limit"]
    s = p["schema"]
    assert p["in"] == "query" and p["required"] is False and s["type"] == "integer" and s["minimum"] == 1, p
    assert "maximum" in s and "default" in s and s["default"] <= s["maximum"], s


@ats(F1 + "core", "/conf/core/fc-limit-response")
def fc_limit_response(ctx):
    for cid in ctx.ids:
        total = len(ctx.features(cid))
        for limit in (1, 7, 100):
            page = ctx.api.json(f"/collections/{cid}/items", {"limit": limit}, GEOJSON)
            assert len(page["features"]) == min(limit, total) == page["numberReturned"], (cid, limit)
    for bad in ("0", "-1", "abc", "1.5"):
        status, headers, data = ctx.api.get("/collections/lsoa/items", {"limit": bad})
        problem(status, headers, data, "limit")


@ats(F1 + "core", "/conf/core/fc-time-definition")
def fc_time_definition(ctx):
    p = openapi_items_params(ctx)["datetime"]
    assert p["in"] == "query" and p["required"] is False and p["schema"]["type"] == "string", p


@ats(F1 + "core", "/conf/core/fc-time-response")
def fc_time_response(ctx):
    """Collections without temporal properties answer every valid datetime
    with every feature; the register selects the entries open then."""
    for cid in ctx.ids:
        if cid == "register":
            continue
        total = len(ctx.features(cid))
        page = ctx.api.json(f"/collections/{cid}/items", {"datetime": "2020-01-01T00:00:00Z/..", "limit": 1}, GEOJSON)
        assert page["numberMatched"] == total, cid
    for bad in ("yesterday", "2018-02-12T00:00:00Z/2018-13-45", "../.."):
        status, headers, data = ctx.api.get("/collections/lsoa/items", {"datetime": bad})
        problem(status, headers, data, "datetime")
    if "register" in ctx.ids:
        feats = ctx.features("register")
        for instant in ("2000-01-01", "2026-11-30T12:00:00Z"):
            day = instant[:10]
            want = sorted(f["id"] for f in feats if (f["properties"].get("valid_from") or "0000") <= day <= (f["properties"].get("valid_to") or "9999"))
            got = sorted(ctx.api.ids("register", {"datetime": instant if "T" in instant else instant + "T00:00:00Z"}))
            assert got == want, (instant, got, want)


@ats(F1 + "core", "/conf/core/fc-response")
def fc_response(ctx):
    for cid in ctx.ids:
        page = ctx.api.json(f"/collections/{cid}/items", {"limit": 5}, GEOJSON)
        assert page["type"] == "FeatureCollection" and isinstance(page["features"], list)
        for f in page["features"]:
            assert f["type"] == "Feature" and "id" in f and "properties" in f, cid


@ats(F1 + "core", "/conf/core/fc-links")
def fc_links(ctx):
    for cid in ctx.ids:
        total = len(ctx.features(cid))
        page = ctx.api.json(f"/collections/{cid}/items", {"limit": 3}, GEOJSON)
        assert link(page, "self", GEOJSON) and link(page, "alternate"), cid
        assert bool(link(page, "next")) == (total > 3), cid
        # Following next links visits every feature once.
        if total <= 300:
            seen = []
            path = f"/collections/{cid}/items?limit=3"
            while path:
                page = ctx.api.json(path, None, GEOJSON)
                seen.extend(f["id"] for f in page["features"])
                nxt = link(page, "next")
                path = nxt[0]["href"][len(ctx.api.base):] if nxt else None
            assert sorted(seen) == sorted(f["id"] for f in ctx.features(cid)) and len(set(seen)) == len(seen), cid


@ats(F1 + "core", "/conf/core/fc-timeStamp")
def fc_timestamp(ctx):
    page = ctx.api.json("/collections/lsoa/items", {"limit": 1}, GEOJSON)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", page["timeStamp"]), page["timeStamp"]


@ats(F1 + "core", "/conf/core/fc-numberMatched")
def fc_number_matched(ctx):
    for cid in ctx.ids:
        page = ctx.api.json(f"/collections/{cid}/items", {"limit": 1}, GEOJSON)
        assert page["numberMatched"] == len(ctx.features(cid)), cid


@ats(F1 + "core", "/conf/core/fc-numberReturned")
def fc_number_returned(ctx):
    for cid in ctx.ids:
        page = ctx.api.json(f"/collections/{cid}/items", {"limit": 2}, GEOJSON)
        assert page["numberReturned"] == len(page["features"]), cid


@ats(F1 + "core", "/conf/core/f-op")
def f_op(ctx):
    f = ctx.features("lsoa")[0]
    status, headers, _ = ctx.api.get(f"/collections/lsoa/items/{urllib.parse.quote(f['id'])}", headers={"Accept": GEOJSON})
    assert status == 200 and headers["content-type"].startswith(GEOJSON)
    status, headers, data = ctx.api.get("/collections/lsoa/items/no-such-feature")
    assert status == 404, status


@ats(F1 + "core", "/conf/core/f-success")
def f_success(ctx):
    for cid in ctx.ids:
        for want in ctx.features(cid)[:3]:
            got = ctx.api.json(f"/collections/{cid}/items/{urllib.parse.quote(want['id'])}", None, GEOJSON)
            assert got["type"] == "Feature" and got["id"] == want["id"] and got["properties"] == want["properties"], (cid, want["id"])
            assert got["geometry"] == want["geometry"], (cid, want["id"])


@ats(F1 + "core", "/conf/core/f-links")
def f_links(ctx):
    f = ctx.features("assets")[0]
    got = ctx.api.json(f"/collections/assets/items/{urllib.parse.quote(f['id'])}", None, GEOJSON)
    assert link(got, "self", GEOJSON) and link(got, "alternate") and link(got, "collection"), got["links"]


@ats(F1 + "core", "/conf/core/crs84")
def crs84(ctx):
    for cid in ctx.ids:
        for f in ctx.features(cid):
            if f.get("geometry"):
                x0, y0, x1, y1 = shape(f["geometry"]).bounds
                # Oxfordshire, in longitude-latitude order.
                assert -2.5 < x0 <= x1 < 0.5 and 51 < y0 <= y1 < 52.5, (cid, f["id"], (x0, y0))


@ats(F1 + "core", "/conf/core/query-param-invalid")
def query_param_invalid(ctx):
    for name, value in (("limit", "-5"), ("bbox", "a,b,c,d"), ("datetime", "tomorrow"), ("offset", "-1")):
        status, headers, data = ctx.api.get("/collections/lsoa/items", {name: value})
        problem(status, headers, data, name)


@ats(F1 + "core", "/conf/core/query-param-unknown")
def query_param_unknown(ctx):
    for cid in ("lsoa", "assets", "register"):
        if cid in ctx.ids:
            status, headers, data = ctx.api.get(f"/collections/{cid}/items", {"this_is_not_a_parameter": "1"})
            problem(status, headers, data)


@ats(F1 + "geojson", "/conf/geojson/definition")
def geojson_definition(ctx):
    doc = ctx.api.json("/api")
    text = json.dumps(doc["paths"]["/collections/{collectionId}/items"]["get"]["responses"])
    assert GEOJSON in text, "items response declares application/geo+json"


@ats(F1 + "geojson", "/conf/geojson/content")
def geojson_content(ctx):
    for cid in ctx.ids:
        for f in ctx.features(cid):
            g = f.get("geometry")
            if g is not None:
                assert g["type"] in ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"), g["type"]
                s = shape(g)
                assert s.is_valid, (cid, f["id"], explain_validity(s))
                # RFC 7946: exterior rings counter-clockwise, holes clockwise.
                for poly in getattr(s, "geoms", [s]):
                    if poly.geom_type == "Polygon":
                        assert poly.exterior.is_ccw, (cid, f["id"])
                        assert all(not r.is_ccw for r in poly.interiors), (cid, f["id"])


@ats(F1 + "html", "/conf/html/definition")
def html_definition(ctx):
    doc = ctx.api.json("/api")
    text = json.dumps(doc["paths"]["/collections/{collectionId}/items"]["get"]["responses"])
    assert "text/html" in text


@ats(F1 + "html", "/conf/html/content")
def html_content(ctx):
    for path in ("/", "/conformance", "/collections", "/collections/lsoa", "/collections/lsoa/items"):
        status, headers, data = ctx.api.get(path, headers={"Accept": "text/html"})
        assert status == 200 and headers["content-type"].startswith("text/html"), path
        assert b"<html" in data.lower()[:2000], path


@ats(F1 + "oas30", "/conf/oas30/oas-definition-1")
def oas_definition_1(ctx):
    status, headers, data = ctx.api.get("/api", headers={"Accept": "application/vnd.oai.openapi+json;version=3.0"})
    assert status == 200 and json.loads(data)["openapi"].startswith("3.0.")


@ats(F1 + "oas30", "/conf/oas30/oas-definition-2")
def oas_definition_2(ctx):
    """The document is valid OpenAPI 3.0 (openapi-spec-validator)."""
    from openapi_spec_validator import validate

    validate(ctx.api.json("/api", accept="application/vnd.oai.openapi+json;version=3.0"))


@ats(F1 + "oas30", "/conf/oas30/completeness")
def oas_completeness(ctx):
    doc = ctx.api.json("/api")
    for cid in ctx.ids:
        # Every collection's items are reachable through a declared path.
        assert "/collections/{collectionId}/items" in doc["paths"] or f"/collections/{cid}/items" in doc["paths"], cid


@ats(F1 + "oas30", "/conf/oas30/exceptions-codes")
def oas_exception_codes(ctx):
    """The codes this suite itself provokes are declared: 400 for a bad
    query parameter, 404 for an unknown collection or feature, and for
    writes 401 (no token), 412 (stale If-Match) and 415 (content type)."""
    doc = ctx.api.json("/api")
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            params = [doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p for p in op.get("parameters", [])]
            codes = set(op["responses"])
            want = set()
            if method == "get" and any(p["in"] == "query" for p in params):
                want.add("400")
            if "{collectionId}" in path or "{featureId}" in path:
                want.add("404")
            if method in ("post", "put", "patch", "delete"):
                want |= {"401", "400"}
            if method in ("post", "put", "patch"):
                want.add("415")
            if method in ("put", "patch", "delete") and "{featureId}" in path:
                want.add("412")
            assert want <= codes, (method, path, sorted(want - codes))


@ats(F1 + "oas30", "/conf/oas30/oas-impl")
def oas_impl(ctx):
    doc = ctx.api.json("/api")
    for path, ops in doc["paths"].items():
        if "{" in path or "get" not in ops:
            continue
        params = [doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p for p in ops["get"].get("parameters", [])]
        if any(p.get("required") for p in params) or ops["get"].get("security"):
            continue
        status, _, _ = ctx.api.get(path)
        assert status in (200, 303, 304), (path, status)


@ats(F1 + "oas30", "/conf/oas30/security")
def oas_security(ctx):
    doc = ctx.api.json("/api")
    post = doc["paths"].get("/collections/{collectionId}/items", {}).get("post") or doc["paths"].get("/collections/register/items", {}).get("post")
    if post is None:
        raise NotApplicable("no protected operations")
    assert doc["components"].get("securitySchemes"), "securitySchemes declared"
    status, headers, data = ctx.api.call("POST", "/collections/register/items", headers={"Content-Type": GEOJSON}, body={"type": "Feature", "geometry": {"type": "Point", "coordinates": [-1.25, 51.75]}, "properties": {"name": "x", "category": "library"}})
    assert status == 401, status


# ---------------------------------------------------------------- Part 2


def crs_list(ctx, cid):
    c = ctx.api.json(f"/collections/{cid}")
    return c.get("crs") or ctx.api.json("/collections").get("crs", [])


@ats(F2 + "crs", "/conf/crs/crs-uri")
def crs_uri(ctx):
    for cid in ctx.ids:
        for uri in crs_list(ctx, cid):
            assert uri in ("#/crs",) or re.fullmatch(r"http://www\.opengis\.net/def/crs/(OGC/1\.3/CRS84|EPSG/0/\d+)", uri), uri


@ats(F2 + "crs", "/conf/crs/default-crs")
def default_crs(ctx):
    for cid in ctx.ids:
        assert CRS84 in crs_list(ctx, cid), cid


@ats(F2 + "crs", "/conf/crs/storage")
def storage_crs(ctx):
    for cid in ctx.ids:
        c = ctx.api.json(f"/collections/{cid}")
        if "storageCrs" in c:
            assert c["storageCrs"] in crs_list(ctx, cid), cid


@ats(F2 + "crs", "/conf/crs/crs-parameter")
def crs_parameter(ctx):
    for cid in ctx.ids:
        status, headers, _ = ctx.api.get(f"/collections/{cid}/items", {"crs": BNG, "limit": 1})
        assert status == 200 and headers.get("content-crs") == f"<{BNG}>", (cid, headers.get("content-crs"))


@ats(F2 + "crs", "/conf/crs/crs-parameter-default")
def crs_parameter_default(ctx):
    for cid in ctx.ids:
        status, headers, _ = ctx.api.get(f"/collections/{cid}/items", {"limit": 1})
        assert headers.get("content-crs") == f"<{CRS84}>", (cid, headers.get("content-crs"))


@ats(F2 + "crs", "/conf/crs/crs-parameter-invalid")
def crs_parameter_invalid(ctx):
    for cid in ("lsoa", "assets"):
        status, headers, data = ctx.api.get(f"/collections/{cid}/items", {"crs": "http://www.opengis.net/def/crs/OGC/0/does_not_exist"})
        problem(status, headers, data, "crs")


@ats(F2 + "crs", "/conf/crs/crs-parameter-transform")
def crs_parameter_transform(ctx):
    """Served BNG coordinates equal pyproj's transform of the CRS84 ones
    (within 1 m: the two are rounded separately)."""
    for cid in ctx.ids:
        bng = {f["id"]: f for f in ctx.api.all_items(cid, {"crs": BNG})}
        for f in ctx.features(cid):
            if not f.get("geometry"):
                continue
            a = shapely.get_coordinates(shape(f["geometry"]))
            b = shapely.get_coordinates(shape(bng[f["id"]]["geometry"]))
            assert len(a) == len(b), (cid, f["id"])
            x, y = TO_BNG.transform(a[:, 0], a[:, 1])
            err = max(max(abs(x - b[:, 0])), max(abs(y - b[:, 1])))
            assert err < 1.0, (cid, f["id"], err)


@ats(F2 + "crs", "/conf/crs/bbox-crs-parameter")
def bbox_crs_parameter(ctx):
    x0, y0 = TO_BNG.transform(-1.30, 51.70)
    x1, y1 = TO_BNG.transform(-1.20, 51.78)
    region = shapely.Polygon([TO_LONLAT.transform(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))])
    for cid in ctx.ids:
        got = sorted(ctx.api.ids(cid, {"bbox": f"{x0},{y0},{x1},{y1}", "bbox-crs": BNG}))
        sure = {f["id"] for f in ctx.features(cid) if f.get("geometry") and shape(f["geometry"]).intersects(region.buffer(-1e-4))}
        maybe = {f["id"] for f in ctx.features(cid) if f.get("geometry") and shape(f["geometry"]).intersects(region.buffer(1e-4))}
        assert sure <= set(got) <= maybe, (cid, len(sure), len(got), len(maybe))


@ats(F2 + "crs", "/conf/crs/bbox-crs-parameter-default")
def bbox_crs_parameter_default(ctx):
    b = "-1.30,51.70,-1.20,51.78"
    for cid in ("lsoa", "assets"):
        assert ctx.api.ids(cid, {"bbox": b}) == ctx.api.ids(cid, {"bbox": b, "bbox-crs": CRS84}), cid


@ats(F2 + "crs", "/conf/crs/bbox-crs-parameter-invalid")
def bbox_crs_parameter_invalid(ctx):
    status, headers, data = ctx.api.get("/collections/lsoa/items", {"bbox": "1,2,3,4", "bbox-crs": "http://www.opengis.net/def/crs/OGC/0/does_not_exist"})
    problem(status, headers, data, "bbox-crs")


# ---------------------------------------------------------------- Part 3


@ats(F3 + "queryables", "/conf/queryables/get-conformance")
def q_conf(ctx):
    assert F3 + "queryables" in ctx.conformance


@ats(F3 + "queryables", "/conf/queryables/get-queryables-uris")
def q_uris(ctx):
    for c in ctx.collections:
        q = link(c, "http://www.opengis.net/def/rel/ogc/1.0/queryables")
        assert q and q[0]["href"].endswith(f"/collections/{c['id']}/queryables"), c["id"]


@ats(F3 + "queryables", "/conf/queryables/get-queryables")
def q_get(ctx):
    for cid in ctx.ids:
        status, headers, data = ctx.api.get(f"/collections/{cid}/queryables", headers={"Accept": "application/schema+json"})
        assert status == 200 and headers["content-type"].startswith("application/schema+json"), cid
        q = json.loads(data)
        assert q["type"] == "object" and q["$schema"] == "https://json-schema.org/draft/2020-12/schema" and q["$id"].endswith(f"/collections/{cid}/queryables"), cid
        assert q["properties"], cid


def sample_string(ctx, cid):
    """A string queryable and a value of it that contains no quote."""
    props = ctx.queryables(cid)["properties"]
    for f in ctx.features(cid):
        for k, v in f["properties"].items():
            if isinstance(v, str) and "'" not in v and props.get(k, {}).get("type") == "string":
                return k, v
    raise NotApplicable(f"{cid}: no string value")


@ats(F3 + "queryables-query-parameters", "/conf/queryables-query-parameters/get-conformance")
def qp_conf(ctx):
    assert F3 + "queryables-query-parameters" in ctx.conformance


@ats(F3 + "queryables-query-parameters", "/conf/queryables-query-parameters/query-param")
def qp_param(ctx):
    n = 0
    for cid in ctx.ids:
        if not ctx.features(cid):
            continue
        k, v = sample_string(ctx, cid)
        want = sorted(f["id"] for f in ctx.features(cid) if f["properties"].get(k) == v)
        assert sorted(ctx.api.ids(cid, {k: v})) == want, (cid, k, v)
        n += 1
    assert n


@ats(F3 + "filter", "/conf/filter/get-conformance")
def f_conf(ctx):
    assert F3 + "filter" in ctx.conformance


@ats(F3 + "filter", "/conf/filter/filter-param")
def f_param(ctx):
    for cid in ctx.ids:
        if not ctx.features(cid):
            continue
        k, v = sample_string(ctx, cid)
        for lang in ("cql2-text", "cql2-json"):
            cql = f"{k} = '{v}'" if lang == "cql2-text" else {"op": "=", "args": [{"property": k}, v]}
            expect(ctx, cid, cql, lambda f: f["properties"].get(k) == v, lang)


@ats(F3 + "filter", "/conf/filter/filter-lang-default")
def f_lang_default(ctx):
    k, v = sample_string(ctx, "lsoa")
    a = ctx.api.ids("lsoa", {"filter": f"{k} = '{v}'"})
    b = ctx.api.ids("lsoa", {"filter": f"{k} = '{v}'", "filter-lang": "cql2-text"})
    assert a == b and a


@ats(F3 + "filter", "/conf/filter/expression-construction")
def f_construction(ctx):
    for cid in ctx.ids:
        if ctx.queryables(cid).get("additionalProperties") is False:
            status, headers, data = ctx.api.get(f"/collections/{cid}/items", {"filter": "this_is_not_a_queryable = 'x'"})
            problem(status, headers, data, "filter")


@ats(F3 + "filter", "/conf/filter/filter-crs-wgs84")
def f_crs_wgs84(ctx):
    for c in ctx.collections:
        cid = c["id"]
        if not ctx.features(cid) or "extent" not in c:
            continue
        x1, y1, x2, y2 = c["extent"]["spatial"]["bbox"][0][:4]
        got = sorted(ctx.select(cid, f"S_INTERSECTS(geometry,BBOX({x1},{y1},{x2},{y2}))"))
        assert got == sorted(f["id"] for f in ctx.features(cid) if f.get("geometry")), cid
        status, headers, data = ctx.api.get(f"/collections/{cid}/items", {"filter": "S_INTERSECTS(geometry,BBOX(1000000,1000000,2000000,2000000))"})
        problem(status, headers, data, "filter")


@ats(F3 + "filter", "/conf/filter/filter-crs-param")
def f_crs_param(ctx):
    for c in ctx.collections:
        cid = c["id"]
        if not ctx.features(cid) or "extent" not in c:
            continue
        x1, y1, x2, y2 = c["extent"]["spatial"]["bbox"][0][:4]
        # The BNG box holding the WGS84 one (a transformed box is no box).
        xs, ys = TO_BNG.transform([x1, x1, x2, x2], [y1, y2, y1, y2])
        b = f"BBOX({min(xs) - 1},{min(ys) - 1},{max(xs) + 1},{max(ys) + 1})"
        got = ctx.select(cid, f"S_INTERSECTS(geometry,{b})", extra={"filter-crs": BNG})
        assert got == sorted(f["id"] for f in ctx.features(cid) if f.get("geometry")), cid
        status, headers, data = ctx.api.get(f"/collections/{cid}/items", {"filter": f"S_INTERSECTS(geometry,BBOX({x1},{y1},{x2},{y2}))", "filter-crs": "http://www.opengis.net/def/crs/OGC/0/does_not_exist"})
        problem(status, headers, data, "filter-crs")


@ats(F3 + "filter", "/conf/filter/get-functions")
def f_functions(ctx):
    raise NotApplicable("the API offers no custom functions (the condition of this test)")


@ats(F3 + "features-filter", "/conf/features-filter/get-conformance")
def ff_conf(ctx):
    assert F3 + "features-filter" in ctx.conformance


@ats(F3 + "features-filter", "/conf/features-filter/get-collections")
def ff_collections(ctx):
    assert ctx.ids


@ats(F3 + "features-filter", "/conf/features-filter/get-collection")
def ff_collection(ctx):
    for cid in ctx.ids:
        c = ctx.api.json(f"/collections/{cid}")
        assert link(c, "http://www.opengis.net/def/rel/ogc/1.0/queryables"), cid


@ats(F3 + "features-filter", "/conf/features-filter/filter-on-items")
def ff_on_items(ctx):
    for cid in ctx.ids:
        if not ctx.features(cid):
            continue
        k, v = sample_string(ctx, cid)
        expect(ctx, cid, f"{k} <> '{v}'", lambda f: None if f["properties"].get(k) is None else f["properties"][k] != v)


@ats(F3 + "features-filter", "/conf/features-filter/mixing-expression")
def ff_mixing(ctx):
    b = (-1.30, 51.70, -1.20, 51.78)
    for cid in ctx.ids:
        if not ctx.features(cid):
            continue
        k, v = sample_string(ctx, cid)
        expect(ctx, cid, f"{k} <> '{v}'", lambda f: f["properties"].get(k) is not None and f["properties"][k] != v and shape(f["geometry"]).intersects(box(*b)), extra={"bbox": ",".join(map(str, b))})


# ---------------------------------------------------------------- CQL2: an evaluator written here


def lit(v):
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    return repr(v) if isinstance(v, float) else str(v)


def cmp3(a, op, b):
    """SQL three-valued comparison: None when either side is null."""
    if a is None or b is None:
        return None
    return {"=": a == b, "<>": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


def typed_queryables(ctx, cid, types, limit=None):
    props = ctx.queryables(cid)["properties"]
    out = [k for k, s in sorted(props.items()) if s.get("type") in types and k != "geometry"]
    if limit is None or len(out) <= limit:
        return out
    # A spread: every type represented, then evenly across the names.
    step = len(out) / limit
    return [out[int(i * step)] for i in range(limit)]


def a_value(ctx, cid, k):
    vals = sorted({f["properties"].get(k) for f in ctx.features(cid)} - {None}, key=lambda v: (str(type(v)), v))
    if not vals:
        return None
    return vals[len(vals) // 2]


@ats(CQL + "basic-cql2", "/conf/basic-cql2/basic-test")
def b_basic(ctx):
    for cid in ctx.ids:
        props = ctx.queryables(cid)["properties"]
        assert props, cid
        for k, s in props.items():
            assert "type" in s or "format" in s or "$ref" in s, (cid, k)
        assert any(s.get("type") in ("string", "number", "integer", "boolean") for s in props.values()), cid


def comparison_cases(ctx, per_collection):
    for cid in ctx.ids:
        if not ctx.features(cid):
            continue
        for k in typed_queryables(ctx, cid, ("string", "number", "integer", "boolean"), per_collection):
            v = a_value(ctx, cid, k)
            if v is not None:
                yield cid, k, v


@ats(CQL + "basic-cql2", "/conf/basic-cql2/comparison")
def b_comparison(ctx):
    for cid, k, v in comparison_cases(ctx, 6):
        for op in ("=", "<>", ">", "<", ">=", "<="):
            if isinstance(v, bool) and op not in ("=", "<>"):
                continue
            expect(ctx, cid, f"{k} {op} {lit(v)}", lambda f: cmp3(f["properties"].get(k), op, v))
            expect(ctx, cid, {"op": op, "args": [{"property": k}, v]}, lambda f: cmp3(f["properties"].get(k), op, v), "cql2-json")


@ats(CQL + "basic-cql2", "/conf/basic-cql2/is-null")
def b_is_null(ctx):
    for cid, k, _ in comparison_cases(ctx, 6):
        expect(ctx, cid, f"{k} IS NULL", lambda f: f["properties"].get(k) is None)
        expect(ctx, cid, f"{k} IS NOT NULL", lambda f: f["properties"].get(k) is not None)
        expect(ctx, cid, {"op": "isNull", "args": [{"property": k}]}, lambda f: f["properties"].get(k) is None, "cql2-json")


@ats(CQL + "basic-cql2", "/conf/basic-cql2/boolean")
def b_boolean(ctx):
    for cql, want in (("true", True), ("false", False), ("TRUE", True), ("FALSE", False)):
        expect(ctx, "districts", cql, lambda f: want)
    expect(ctx, "districts", True, lambda f: True, "cql2-json")


def logical_cases(ctx, cid):
    """(text, json, pred) for a conjunction, disjunction and negation of two
    comparisons, with three-valued logic."""
    ks = [(k, v) for c, k, v in comparison_cases(ctx, 6) if c == cid and not isinstance(v, bool)][:2]
    if len(ks) < 2:
        return []
    (k1, v1), (k2, v2) = ks
    p1 = lambda f: cmp3(f["properties"].get(k1), ">=", v1)
    p2 = lambda f: cmp3(f["properties"].get(k2), "<", v2)

    def and3(a, b):
        if a is False or b is False:
            return False
        return None if a is None or b is None else True

    def or3(a, b):
        if a is True or b is True:
            return True
        return None if a is None or b is None else False

    def not3(a):
        return None if a is None else not a

    t1, t2 = f"{k1} >= {lit(v1)}", f"{k2} < {lit(v2)}"
    return [
        (f"{t1} AND {t2}", lambda f: and3(p1(f), p2(f))),
        (f"{t1} OR {t2}", lambda f: or3(p1(f), p2(f))),
        (f"NOT ({t1}) AND NOT ({t2})", lambda f: and3(not3(p1(f)), not3(p2(f)))),
        (f"NOT ({t1} OR {t2})", lambda f: not3(or3(p1(f), p2(f)))),
    ]


@ats(CQL + "basic-cql2", "/conf/basic-cql2/logical")
def b_logical(ctx):
    n = 0
    for cid in ("lsoa", "wards", "districts", "assets", "register"):
        if cid in ctx.ids:
            for cql, pred in logical_cases(ctx, cid):
                expect(ctx, cid, cql, pred)
                n += 1
    assert n


def test_data(ctx):
    raise NotApplicable("the CQL2 test data set (ne_110m countries, places, rivers) is not served by this API; its predicates run on GapMap's own data in the other tests")


for _cls in ("basic-cql2", "advanced-comparison-operators", "case-insensitive-comparison", "basic-spatial-functions", "basic-spatial-functions-plus", "spatial-functions", "arithmetic"):
    ats(CQL + _cls, f"/conf/{_cls}/test-data")(test_data)


def like_regex(pattern, fold=False):
    out, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out += re.escape(pattern[i + 1])
            i += 2
            continue
        out += ".*" if ch == "%" else "." if ch == "_" else re.escape(ch)
        i += 1
    return re.compile(out, re.S)


@ats(CQL + "advanced-comparison-operators", "/conf/advanced-comparison-operators/like")
def a_like(ctx):
    for cid in ctx.ids:
        if not ctx.features(cid):
            continue
        k, v = sample_string(ctx, cid)
        for pat in (v[:3] + "%", "%" + v[-2:], "_" + v[1:], "%" + v[1:3] + "%", v):
            rx = like_regex(pat)
            expect(ctx, cid, f"{k} LIKE {lit(pat)}", lambda f: None if f["properties"].get(k) is None else bool(rx.fullmatch(f["properties"][k])))
            expect(ctx, cid, f"{k} NOT LIKE {lit(pat)}", lambda f: None if f["properties"].get(k) is None else not rx.fullmatch(f["properties"][k]))


@ats(CQL + "advanced-comparison-operators", "/conf/advanced-comparison-operators/between")
def a_between(ctx):
    for cid, k, v in comparison_cases(ctx, 6):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            vals = sorted({f["properties"].get(k) for f in ctx.features(cid)} - {None})
            lo, hi = vals[len(vals) // 4], vals[(3 * len(vals)) // 4]
            expect(ctx, cid, f"{k} BETWEEN {lit(lo)} AND {lit(hi)}", lambda f: None if f["properties"].get(k) is None else lo <= f["properties"][k] <= hi)
            expect(ctx, cid, f"{k} NOT BETWEEN {lit(lo)} AND {lit(hi)}", lambda f: None if f["properties"].get(k) is None else not lo <= f["properties"][k] <= hi)
            expect(ctx, cid, {"op": "between", "args": [{"property": k}, lo, hi]}, lambda f: None if f["properties"].get(k) is None else lo <= f["properties"][k] <= hi, "cql2-json")


@ats(CQL + "advanced-comparison-operators", "/conf/advanced-comparison-operators/in")
def a_in(ctx):
    for cid, k, v in comparison_cases(ctx, 6):
        vals = sorted({f["properties"].get(k) for f in ctx.features(cid)} - {None}, key=lambda x: (str(type(x)), x))[:3]
        lst = ", ".join(lit(x) for x in vals)
        expect(ctx, cid, f"{k} IN ({lst})", lambda f: None if f["properties"].get(k) is None else f["properties"][k] in vals)
        expect(ctx, cid, f"{k} NOT IN ({lst})", lambda f: None if f["properties"].get(k) is None else f["properties"][k] not in vals)
        expect(ctx, cid, {"op": "in", "args": [{"property": k}, vals]}, lambda f: None if f["properties"].get(k) is None else f["properties"][k] in vals, "cql2-json")


@ats(CQL + "advanced-comparison-operators", "/conf/advanced-comparison-operators/logical")
def a_logical(ctx):
    cid = "lsoa"
    k, v = sample_string(ctx, cid)
    rx = like_regex(v[:3] + "%")
    vals = sorted({f["properties"]["residents"] for f in ctx.features(cid)})
    lo, hi = vals[100], vals[300]
    expect(ctx, cid, f"{k} LIKE {lit(v[:3] + '%')} AND residents BETWEEN {lo} AND {hi} OR residents IN ({vals[0]}, {vals[-1]})",
           lambda f: (bool(rx.fullmatch(f["properties"][k])) and lo <= f["properties"]["residents"] <= hi) or f["properties"]["residents"] in (vals[0], vals[-1]))


def casei_cases(ctx):
    for cid in ctx.ids:
        if ctx.features(cid):
            k, v = sample_string(ctx, cid)
            yield cid, k, v


@ats(CQL + "case-insensitive-comparison", "/conf/case-insensitive-comparison/casei")
def c_casei(ctx):
    for cid, k, v in casei_cases(ctx):
        for probe in (v.upper(), v.lower(), v.swapcase()):
            expect(ctx, cid, f"CASEI({k}) = CASEI({lit(probe)})", lambda f: None if f["properties"].get(k) is None else f["properties"][k].casefold() == probe.casefold())
    # Full case folding (Python's str.casefold is Unicode default folding).
    for a, b in (("Straße", "STRASSE"), ("ﬁle", "FILE"), ("ı", "I"), ("İ", "i")):
        expect(ctx, "districts", f"CASEI({lit(a)}) = CASEI({lit(b)})", lambda f: a.casefold() == b.casefold())
    if "register" in ctx.ids:
        expect(ctx, "register", "CASEI(name) LIKE CASEI('%STRASSE%')", lambda f: "strasse" in f["properties"]["name"].casefold())


@ats(CQL + "case-insensitive-comparison", "/conf/case-insensitive-comparison/casei-like")
def c_casei_like(ctx):
    for cid, k, v in casei_cases(ctx):
        pat = v[:3].upper() + "%"
        rx = like_regex(pat.casefold())
        expect(ctx, cid, f"CASEI({k}) LIKE CASEI({lit(pat)})", lambda f: None if f["properties"].get(k) is None else bool(rx.fullmatch(f["properties"][k].casefold())))


@ats(CQL + "case-insensitive-comparison", "/conf/case-insensitive-comparison/logical")
def c_logical(ctx):
    k, v = sample_string(ctx, "lsoa")
    expect(ctx, "lsoa", f"CASEI({k}) = CASEI({lit(v.upper())}) OR NOT (CASEI(name) LIKE CASEI('OXFORD%'))",
           lambda f: f["properties"][k].casefold() == v.casefold() or not f["properties"]["name"].casefold().startswith("oxford"))


# Spatial: literals around real features, and the relation from shapely.
SPATIAL = {
    "s_intersects": "intersects", "s_disjoint": "disjoint", "s_equals": "equals", "s_touches": "touches",
    "s_crosses": "crosses", "s_within": "within", "s_contains": "contains", "s_overlaps": "overlaps",
}


def spatial_literals(ctx):
    """WKT literals: a box, a polygon, a line and a point over Oxford, a
    served point and a served LSOA polygon (so equals/within/touches meet
    real boundaries)."""
    gp = next(f for f in ctx.features("assets") if f["geometry"]["type"] == "Point")
    lsoa = ctx.features("lsoa")[0]
    x, y = gp["geometry"]["coordinates"]
    return [
        ("BBOX(-1.30,51.70,-1.20,51.78)", box(-1.30, 51.70, -1.20, 51.78)),
        ("POLYGON((-1.30 51.70,-1.20 51.70,-1.25 51.78,-1.30 51.70))", shapely.Polygon([(-1.30, 51.70), (-1.20, 51.70), (-1.25, 51.78)])),
        ("LINESTRING(-1.40 51.60,-1.10 51.85)", shapely.LineString([(-1.40, 51.60), (-1.10, 51.85)])),
        (f"POINT({x!r} {y!r})", Point(x, y)),
        (shapely.to_wkt(shape(lsoa["geometry"]), rounding_precision=-1), shape(lsoa["geometry"])),
    ]


def spatial_test(ctx, fn, cids):
    lits = spatial_literals(ctx)
    for cid in cids:
        if cid not in ctx.ids or not ctx.features(cid):
            continue
        for text, geom in lits:
            rel = SPATIAL[fn]
            expect(ctx, cid, f"{fn.upper()}(geometry,{text})", lambda f: f.get("geometry") is not None and getattr(shape(f["geometry"]), rel)(geom))


@ats(CQL + "basic-spatial-functions", "/conf/basic-spatial-functions/s_intersects")
def s_basic(ctx):
    for cid in ctx.ids:
        if not ctx.features(cid):
            continue
        for text, geom in spatial_literals(ctx)[:1] + spatial_literals(ctx)[3:4]:
            if text.startswith(("BBOX", "POINT")):
                expect(ctx, cid, f"S_INTERSECTS(geometry,{text})", lambda f: shape(f["geometry"]).intersects(geom))


@ats(CQL + "basic-spatial-functions", "/conf/basic-spatial-functions/logical")
def s_basic_logical(ctx):
    b1, b2 = box(-1.30, 51.70, -1.20, 51.78), box(-1.26, 51.74, -1.0, 51.9)
    expect(ctx, "lsoa", "S_INTERSECTS(geometry,BBOX(-1.30,51.70,-1.20,51.78)) AND NOT S_INTERSECTS(geometry,BBOX(-1.26,51.74,-1.0,51.9))",
           lambda f: shape(f["geometry"]).intersects(b1) and not shape(f["geometry"]).intersects(b2))


@ats(CQL + "basic-spatial-functions-plus", "/conf/basic-spatial-functions-plus/s_intersects")
def s_plus(ctx):
    spatial_test(ctx, "s_intersects", ("lsoa", "wards", "assets", "assets-park", "register"))


for _fn in SPATIAL:
    ats(CQL + "spatial-functions", f"/conf/spatial-functions/{_fn}")(
        lambda ctx, fn=_fn: spatial_test(ctx, fn, ("lsoa", "wards", "districts", "assets", "register")))


@ats(CQL + "spatial-functions", "/conf/spatial-functions/logical")
def s_logical(ctx):
    lits = spatial_literals(ctx)
    line, poly = lits[2][1], lits[4][1]
    expect(ctx, "lsoa", f"S_CROSSES(geometry,{lits[2][0]}) OR S_TOUCHES(geometry,{lits[4][0]})",
           lambda f: shape(f["geometry"]).crosses(line) or shape(f["geometry"]).touches(poly))


@ats(CQL + "arithmetic", "/conf/arithmetic/arithmetic")
def ar_arith(ctx):
    r = lambda f: f["properties"].get("residents")
    cases = [
        ("residents + 10 > 1600", lambda f: r(f) + 10 > 1600),
        ("residents - 10 < 1500", lambda f: r(f) - 10 < 1500),
        ("residents * 2 >= 3200", lambda f: r(f) * 2 >= 3200),
        ("residents / 4 <= 400", lambda f: r(f) / 4 <= 400),
        ("residents % 7 = 3", lambda f: math.fmod(r(f), 7) == 3),
        ("residents div 10 >= 159", lambda f: math.trunc(r(f) / 10) >= 159),
        ("residents ^ 2 > 2550409", lambda f: r(f) ** 2 > 2550409),
        ("-residents < -1600", lambda f: -r(f) < -1600),
        ("residents + 2 * 3 = residents + 6", lambda f: True),
        ("(residents + 2) * 3 > 4800", lambda f: (r(f) + 2) * 3 > 4800),
    ]
    for cql, pred in cases:
        expect(ctx, "lsoa", cql, pred)
    expect(ctx, "lsoa", {"op": ">", "args": [{"op": "*", "args": [{"property": "residents"}, 2]}, 3200]}, lambda f: r(f) * 2 > 3200, "cql2-json")


@ats(CQL + "arithmetic", "/conf/arithmetic/logical")
def ar_logical(ctx):
    r = lambda f: f["properties"]["residents"]
    expect(ctx, "lsoa", "residents % 2 = 0 AND NOT (residents div 100 = 15)", lambda f: r(f) % 2 == 0 and not math.trunc(r(f) / 100) == 15)


@ats(CQL + "cql2-text", "/conf/cql2-text/validate")
def t_validate(ctx):
    for bad in ("name =", "name = 'x", "((name = 'x')", "S_INTERSECTS(geometry,POINT(1))", "name LIKE", "residents BETWEEN 1", "1 = "):
        status, headers, data = ctx.api.get("/collections/lsoa/items", {"filter": bad, "filter-lang": "cql2-text"})
        problem(status, headers, data, "filter")


@ats(CQL + "cql2-text", "/conf/cql2-text/escaping")
def t_escaping(ctx):
    expect(ctx, "lsoa", "ward_name = 'St Mary''s'", lambda f: f["properties"]["ward_name"] == "St Mary's")
    expect(ctx, "lsoa", r"ward_name = 'St Mary\'s'", lambda f: f["properties"]["ward_name"] == "St Mary's")
    expect(ctx, "assets", r"id LIKE 'ace\_library%'", lambda f: f["id"].startswith("ace_library"))
    if "register" in ctx.ids:
        expect(ctx, "register", "name LIKE '%O''Neill%'", lambda f: "O'Neill" in f["properties"]["name"])


@ats(CQL + "cql2-json", "/conf/cql2-json/validate")
def j_validate(ctx):
    for bad in ('{"op":"="}', '{"op":"=","args":[{"property":"name"}]}', '{"op":"nope","args":[1,2]}', '[1,2', '{"op":"=","args":[{"property":"name"},"x","y"]}', '{"op":"like","args":[{"property":"name"},5]}'):
        status, headers, data = ctx.api.get("/collections/lsoa/items", {"filter": bad, "filter-lang": "cql2-json"})
        problem(status, headers, data, "filter")


# ---------------------------------------------------------------- Part 4


def entry(name, category="library", lon=-1.2577, lat=51.7520, **extra):
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": {"name": name, "category": category, **extra}}


def create(ctx, feature, headers=None):
    h = {"Content-Type": GEOJSON, **(headers or {})}
    status, headers, data = ctx.api.call("POST", "/collections/register/items", headers=h, body=feature, auth=True)
    assert status == 201, (status, data[:300])
    loc = headers["location"]
    assert loc.startswith(ctx.api.base + "/collections/register/items/"), loc
    return loc[len(ctx.api.base):]


def writable(ctx):
    doc = ctx.api.json("/api")
    paths = [p for p, ops in doc["paths"].items() if "post" in ops and p.endswith("/items")]
    if not paths:
        raise NotApplicable("no writable collection")


@ats(F4 + "features", "/conf/features/collection-items-end-point")
def p4_items_end_point(ctx):
    writable(ctx)
    status, headers, data = ctx.api.call("OPTIONS", "/collections/register/items", headers={"Origin": "http://x", "Access-Control-Request-Method": "POST"})
    path = create(ctx, entry("ATS items end point"))
    assert path.startswith("/collections/register/items/")


@ats(F4 + "features", "/conf/features/feature-end-point")
def p4_feature_end_point(ctx):
    path = create(ctx, entry("ATS feature end point"))
    got = ctx.api.json(path, None, GEOJSON)
    assert got["id"] == path.rsplit("/", 1)[1] and got["properties"]["name"] == "ATS feature end point"


@ats(F4 + "create-replace-delete", "/conf/create-replace-delete/insert/post-op")
def p4_post_op(ctx):
    path = create(ctx, entry("ATS post op"))
    assert ctx.api.get(path)[0] == 200


@ats(F4 + "create-replace-delete", "/conf/create-replace-delete/insert/body")
def p4_body(ctx):
    f = entry("ATS body Café", "warm_space", -1.3398, 52.0629, capacity=17, description="ß and ŷ")
    got = ctx.api.json(create(ctx, f), None, GEOJSON)
    for k, v in f["properties"].items():
        assert got["properties"][k] == v, (k, got["properties"][k], v)
    assert got["geometry"] == f["geometry"], got["geometry"]
    status, headers, data = ctx.api.call("POST", "/collections/register/items", headers={"Content-Type": GEOJSON}, body=b"{not json", auth=True)
    problem(status, headers, data)


@ats(F4 + "create-replace-delete", "/conf/create-replace-delete/insert/content-type")
def p4_content_type(ctx):
    for ctype in (GEOJSON, "application/json"):
        create(ctx, entry(f"ATS content type {ctype}"), {"Content-Type": ctype})
    status, headers, data = ctx.api.call("POST", "/collections/register/items", headers={"Content-Type": "text/plain"}, body=entry("x"), auth=True)
    assert status == 415, status


@ats(F4 + "create-replace-delete", "/conf/create-replace-delete/insert/response")
def p4_response(ctx):
    status, headers, data = ctx.api.call("POST", "/collections/register/items", headers={"Content-Type": GEOJSON}, body=entry("ATS response"), auth=True)
    assert status == 201 and headers.get("location"), status


@ats(F4 + "create-replace-delete", "/conf/create-replace-delete/insert/response-rid")
def p4_response_rid(ctx):
    path = create(ctx, entry("ATS rid"))
    rid = path.rsplit("/", 1)[1]
    assert rid in ctx.api.ids("register", {"limit": 10000})


@ats(F4 + "create-replace-delete", "/conf/create-replace-delete/update/put/body")
def p4_put_body(ctx):
    path = create(ctx, entry("ATS put before", capacity=3))
    etag = ctx.api.get(path)[1]["etag"]
    new = entry("ATS put after", "food_bank", -1.2301, 51.7456)
    status, headers, data = ctx.api.call("PUT", path, headers={"Content-Type": GEOJSON, "If-Match": etag}, body=new, auth=True)
    assert status in (200, 204), (status, data[:200])
    got = ctx.api.json(path, None, GEOJSON)
    assert got["properties"]["name"] == "ATS put after" and got["properties"]["category"] == "food_bank"
    assert got["properties"]["capacity"] is None, "a replacement drops the old capacity"
    assert got["geometry"]["coordinates"] == [-1.2301, 51.7456]


@ats(F4 + "create-replace-delete", "/conf/create-replace-delete/update/put/content-type")
def p4_put_content_type(ctx):
    path = create(ctx, entry("ATS put ctype"))
    etag = ctx.api.get(path)[1]["etag"]
    status, _, _ = ctx.api.call("PUT", path, headers={"Content-Type": "text/plain", "If-Match": etag}, body=entry("y"), auth=True)
    assert status == 415, status


@ats(F4 + "create-replace-delete", "/conf/create-replace-delete/update/put/response")
def p4_put_response(ctx):
    path = create(ctx, entry("ATS put response"))
    etag = ctx.api.get(path)[1]["etag"]
    status, headers, _ = ctx.api.call("PUT", path, headers={"Content-Type": GEOJSON, "If-Match": etag}, body=entry("ATS put response 2"), auth=True)
    assert status in (200, 204), status


@ats(F4 + "create-replace-delete", "/conf/create-replace-delete/update/put/rid-exception")
def p4_put_rid(ctx):
    status, headers, data = ctx.api.call("PUT", "/collections/register/items/register-999999", headers={"Content-Type": GEOJSON, "If-Match": '"x"'}, body=entry("nobody"), auth=True)
    assert status == 404, status


@ats(F4 + "create-replace-delete", "/conf/create-replace-delete/delete/delete-op")
def p4_delete_op(ctx):
    path = create(ctx, entry("ATS delete"))
    etag = ctx.api.get(path)[1]["etag"]
    status, _, data = ctx.api.call("DELETE", path, headers={"If-Match": etag}, auth=True)
    assert status in (200, 204), (status, data[:200])
    assert ctx.api.get(path)[0] == 404
    status, _, _ = ctx.api.call("DELETE", "/collections/register/items/register-999999", auth=True)
    assert status == 404, status


@ats(F4 + "create-replace-delete", "/conf/create-replace-delete/delete/response")
def p4_delete_response(ctx):
    path = create(ctx, entry("ATS delete response"))
    etag = ctx.api.get(path)[1]["etag"]
    status, _, _ = ctx.api.call("DELETE", path, headers={"If-Match": etag}, auth=True)
    assert status in (200, 204), status
    assert path.rsplit("/", 1)[1] not in ctx.api.ids("register", {"limit": 10000})


@ats(F4 + "create-replace-delete", "/conf/create-replace-delete/crs/crs84")
def p4_crs84(ctx):
    got = ctx.api.json(create(ctx, entry("ATS crs84", lon=-1.5, lat=51.9)), None, GEOJSON)
    assert got["geometry"]["coordinates"] == [-1.5, 51.9]


@ats(F4 + "create-replace-delete", "/conf/create-replace-delete/crs/geojson")
def p4_geojson(ctx):
    f = entry("ATS geojson")
    f["geometry"]["coordinates"] = [51.75, -1.25]  # latitude first: outside the area, refused
    status, headers, data = ctx.api.call("POST", "/collections/register/items", headers={"Content-Type": GEOJSON}, body=f, auth=True)
    problem(status, headers, data)


@ats(F4 + "create-replace-delete", "/conf/create-replace-delete/crs/storage-crs")
def p4_storage_crs(ctx):
    x, y = TO_BNG.transform(-1.2577, 51.7520)
    f = entry("ATS storage crs")
    f["geometry"]["coordinates"] = [x, y]
    status, headers, data = ctx.api.call("POST", "/collections/register/items", headers={"Content-Type": GEOJSON, "Content-Crs": f"<{BNG}>"}, body=f, auth=True)
    if status == 415 or (status == 400 and b"crs" in data.lower()):
        raise NotApplicable("Content-Crs other than CRS84 is not accepted for writes")
    assert status == 201, (status, data[:300])
    got = ctx.api.json(headers["location"][len(ctx.api.base):], None, GEOJSON)
    lon, lat = got["geometry"]["coordinates"]
    assert abs(lon + 1.2577) < 1e-5 and abs(lat - 51.7520) < 1e-5, (lon, lat)


@ats(F4 + "update", "/conf/update/patch-op")
def u_patch_op(ctx):
    path = create(ctx, entry("ATS patch", capacity=5, description="keep me"))
    etag = ctx.api.get(path)[1]["etag"]
    status, headers, data = ctx.api.call("PATCH", path, headers={"Content-Type": "application/merge-patch+json", "If-Match": etag}, body={"properties": {"name": "ATS patched", "capacity": None}}, auth=True)
    assert status in (200, 204), (status, data[:200])
    got = ctx.api.json(path, None, GEOJSON)
    # RFC 7396: named members replaced, null removes, the rest kept.
    assert got["properties"]["name"] == "ATS patched" and got["properties"]["capacity"] is None and got["properties"]["description"] == "keep me", got["properties"]


@ats(F4 + "update", "/conf/update/body")
def u_body(ctx):
    path = create(ctx, entry("ATS patch body"))
    etag = ctx.api.get(path)[1]["etag"]
    status, headers, data = ctx.api.call("PATCH", path, headers={"Content-Type": "application/merge-patch+json", "If-Match": etag}, body=b"[not json", auth=True)
    problem(status, headers, data)


@ats(F4 + "update", "/conf/update/response")
def u_response(ctx):
    path = create(ctx, entry("ATS patch response"))
    etag = ctx.api.get(path)[1]["etag"]
    status, headers, _ = ctx.api.call("PATCH", path, headers={"Content-Type": "application/merge-patch+json", "If-Match": etag}, body={"properties": {"capacity": 9}}, auth=True)
    assert status in (200, 204), status


@ats(F4 + "update", "/conf/update/rid")
def u_rid(ctx):
    status, _, _ = ctx.api.call("PATCH", "/collections/register/items/register-999999", headers={"Content-Type": "application/merge-patch+json", "If-Match": '"x"'}, body={"properties": {}}, auth=True)
    assert status == 404, status


@ats(F4 + "update", "/conf/update/methods")
def u_methods(ctx):
    path = create(ctx, entry("ATS methods"))
    status, headers, _ = ctx.api.call("OPTIONS", path)
    allow = headers.get("allow", "")
    assert "PATCH" in allow and "PUT" in allow and "DELETE" in allow, allow


@ats(F4 + "optimistic-locking-etags", "/conf/optimistic-locking-etags/etag-get-response")
def e_get(ctx):
    path = create(ctx, entry("ATS etag get"))
    status, headers, _ = ctx.api.get(path)
    assert re.fullmatch(r'(W/)?"[^"]+"', headers.get("etag", "")), headers.get("etag")
    status, _, _ = ctx.api.get(path, headers={"If-None-Match": headers["etag"]})
    assert status == 304, status


@ats(F4 + "optimistic-locking-etags", "/conf/optimistic-locking-etags/etag-put-response")
def e_put(ctx):
    path = create(ctx, entry("ATS etag put"))
    etag = ctx.api.get(path)[1]["etag"]
    status, headers, _ = ctx.api.call("PUT", path, headers={"Content-Type": GEOJSON, "If-Match": etag}, body=entry("ATS etag put 2"), auth=True)
    assert status in (200, 204), status
    check_new_etag(ctx, path, etag, headers.get("etag"))


def check_new_etag(ctx, path, old, new):
    """A write's ETag is strong, differs from the old one, and represents
    the state after the write: it guards the next write (the old one no
    longer does)."""
    assert new and re.fullmatch(r'"[^"]+"', new) and new != old, (old, new)
    patch = {"Content-Type": "application/merge-patch+json"}
    status, _, _ = ctx.api.call("PATCH", path, headers={**patch, "If-Match": old}, body={"properties": {"capacity": 11}}, auth=True)
    assert status == 412, f"the old ETag still matches: {status}"
    status, _, _ = ctx.api.call("PATCH", path, headers={**patch, "If-Match": new}, body={"properties": {"capacity": 11}}, auth=True)
    assert status in (200, 204), f"the new ETag does not match: {status}"


@ats(F4 + "optimistic-locking-etags", "/conf/optimistic-locking-etags/etag-patch-response")
def e_patch(ctx):
    path = create(ctx, entry("ATS etag patch"))
    etag = ctx.api.get(path)[1]["etag"]
    status, headers, _ = ctx.api.call("PATCH", path, headers={"Content-Type": "application/merge-patch+json", "If-Match": etag}, body={"properties": {"capacity": 2}}, auth=True)
    assert status in (200, 204), status
    check_new_etag(ctx, path, etag, headers.get("etag"))


def stale(ctx, method, ctype, body):
    path = create(ctx, entry(f"ATS stale {method}"))
    etag = ctx.api.get(path)[1]["etag"]
    status, _, _ = ctx.api.call("PATCH", path, headers={"Content-Type": "application/merge-patch+json", "If-Match": etag}, body={"properties": {"capacity": 1}}, auth=True)
    assert status in (200, 204)
    status, _, _ = ctx.api.call(method, path, headers={"Content-Type": ctype, "If-Match": etag}, body=body, auth=True)
    assert status == 412, f"{method} with a stale If-Match: {status}"
    assert ctx.api.json(path, None, GEOJSON)["properties"]["capacity"] == 1
    current = ctx.api.get(path)[1]["etag"]
    status, _, _ = ctx.api.call(method, path, headers={"Content-Type": ctype, "If-Match": current}, body=body, auth=True)
    assert status in (200, 204), status
    status, _, _ = ctx.api.call(method, path, headers={"Content-Type": ctype, "If-Match": "*"}, body=body, auth=True)
    assert status in (200, 204), f"If-Match: * on an existing resource: {status}"


@ats(F4 + "optimistic-locking-etags", "/conf/optimistic-locking-etags/ifmatch-put-op")
def e_ifmatch_put_op(ctx):
    path = create(ctx, entry("ATS no if-match"))
    status, _, _ = ctx.api.call("PUT", path, headers={"Content-Type": GEOJSON}, body=entry("ATS no if-match 2"), auth=True)
    # The requirement binds the client; without the header the server may
    # answer 428 or 409, or carry the write out (PER ifmatch-missing).
    assert status in (428, 409, 200, 204), status


@ats(F4 + "optimistic-locking-etags", "/conf/optimistic-locking-etags/ifmatch-put-eval")
def e_ifmatch_put(ctx):
    stale(ctx, "PUT", GEOJSON, entry("ATS stale put 2", capacity=1))


@ats(F4 + "optimistic-locking-etags", "/conf/optimistic-locking-etags/ifmatch-patch-op")
def e_ifmatch_patch_op(ctx):
    path = create(ctx, entry("ATS no if-match patch"))
    status, _, _ = ctx.api.call("PATCH", path, headers={"Content-Type": "application/merge-patch+json"}, body={"properties": {"capacity": 4}}, auth=True)
    assert status in (428, 409, 200, 204), status


@ats(F4 + "optimistic-locking-etags", "/conf/optimistic-locking-etags/ifmatch-patch-eval")
def e_ifmatch_patch(ctx):
    stale(ctx, "PATCH", "application/merge-patch+json", {"properties": {"name": "ATS stale patch 2"}})


# ---------------------------------------------------------------- sortby (not a declared class; used by clients)


def sort_key(f, k):
    return f["properties"].get(k)


def expected_order(feats, k, desc):
    """Ascending: nulls last; descending: nulls first; ties by id ascending."""
    present = [f for f in feats if sort_key(f, k) is not None]
    nulls = sorted((f for f in feats if sort_key(f, k) is None), key=lambda f: f["id"])
    present.sort(key=lambda f: f["id"])
    present.sort(key=lambda f: sort_key(f, k), reverse=desc)  # stable: ties stay in id order
    return [f["id"] for f in (nulls + present if desc else present + nulls)]


def sortby_check(ctx):
    # The Part 4 tests wrote register entries, which the assets collections
    # also show: fetch again.
    ctx._features.clear()
    n = 0
    for cid in ctx.ids:
        feats = ctx.features(cid)
        if not feats:
            continue
        keys = typed_queryables(ctx, cid, ("string", "number", "integer", "boolean"))
        # Every queryable where that stays cheap (the register, districts,
        # the asset collections); a spread of 8 on the big polygon ones.
        if cid != "register" and len(keys) * len(feats) > 20000:
            keys = typed_queryables(ctx, cid, ("string", "number", "integer", "boolean"), 8)
        page = max(1, len(feats) // 3 + 1)
        for k in keys:
            for desc in (False, True):
                got = ctx.api.ids(cid, {"sortby": ("-" if desc else "") + k, "limit": page})
                assert got == expected_order(feats, k, desc), (cid, k, desc)
                n += 1
    return n


# ---------------------------------------------------------------- run


# ---------------------------------------------------------------- Processes (Part 1)
# OGC API - Processes - Part 1: Core (OGC 18-062r2), the classes GapMap
# declares for its synchronous area-profile process.

PR = OGC + "ogcapi-processes-1/1.0/conf/"


@ats(PR + "core", "/conf/core/landingpage-success")
def processes_landing(ctx):
    rels = {l["rel"] for l in ctx.landing["links"]}
    assert "http://www.opengis.net/def/rel/ogc/1.0/processes" in rels, rels


@ats(PR + "core", "/conf/core/process-list-success")
def processes_list(ctx):
    doc = ctx.api.json("/processes")
    assert isinstance(doc["processes"], list) and doc["processes"], doc
    for p in doc["processes"]:
        for key in ("id", "version", "links"):
            assert key in p, f"process summary without {key}"


@ats(PR + "core", "/conf/core/process-success")
def processes_description(ctx):
    for p in ctx.api.json("/processes")["processes"]:
        d = ctx.api.json(f"/processes/{p['id']}")
        assert d["id"] == p["id"] and "inputs" in d and "outputs" in d


@ats(PR + "core", "/conf/core/process-exception/no-such-process")
def processes_no_such(ctx):
    status, headers, _ = ctx.api.get("/processes/no-such-process-here")
    assert status == 404 and headers["content-type"].startswith("application/problem+json"), status


@ats(PR + "core", "/conf/core/process-execute-sync-one")
def processes_execute(ctx):
    status, headers, data = ctx.api.call(
        "POST", "/processes/area-profile/execution",
        headers={"Content-Type": "application/json"},
        body={"inputs": {"districts": [ctx.api.json("/collections/districts/items", {"limit": 1})["features"][0]["id"]]}},
    )
    assert status == 200, (status, data[:300])
    assert headers["content-type"].startswith("application/json")
    assert json.loads(data)["area"]["residents"] > 0


@ats(PR + "json", "/conf/json/definition")
def processes_json(ctx):
    for path in ("/processes", "/processes/area-profile"):
        status, headers, _ = ctx.api.get(path, headers={"Accept": "application/json"})
        assert status == 200 and headers["content-type"].startswith("application/json"), path


@ats(PR + "ogc-process-description", "/conf/ogc-process-description/json-encoding")
def processes_description_encoding(ctx):
    d = ctx.api.json("/processes/area-profile")
    for kind in ("inputs", "outputs"):
        for name, spec in d[kind].items():
            assert isinstance(spec.get("schema"), dict), f"{kind}.{name} has no schema"
    for name, spec in d["inputs"].items():
        assert spec.get("minOccurs", 1) >= 0 and spec.get("maxOccurs", 1) >= 1, name


def main():
    api = Api(sys.argv[1], sys.argv[2])
    ctx = Ctx(api)
    declared = set(ctx.conformance)
    failed, missing = 0, []
    summary = []
    for cls in sorted(declared):
        tests = TESTS.get(cls, [])
        if not tests:
            missing.append(cls)
            continue
        counts = defaultdict(int)
        for tid, fn in tests:
            try:
                fn(ctx)
                print(f"PASS {tid}", flush=True)
                counts["pass"] += 1
            except NotApplicable as e:
                print(f"N/A  {tid}: {e}", flush=True)
                counts["n/a"] += 1
            except Exception as e:  # noqa: BLE001 - every failure is reported by test id
                print(f"FAIL {tid}: {type(e).__name__}: {str(e)[:600]}", flush=True)
                counts["fail"] += 1
                failed += 1
        summary.append(f"{cls.removeprefix(OGC)}: {len(tests)} tests, {counts['pass']} pass, {counts['fail']} fail, {counts['n/a']} n/a")
    try:
        n = sortby_check(ctx)
        print(f"PASS sortby ({n} orders, ascending and descending, paged)")
    except Exception as e:  # noqa: BLE001
        print(f"FAIL sortby: {type(e).__name__}: {str(e)[:600]}")
        failed += 1
    print("\n".join(["SUMMARY"] + summary))
    for cls in missing:
        print(f"NO TESTS for declared class {cls}")
    sys.exit(1 if failed else 2 if missing else 0)


if __name__ == "__main__":
    main()
