"""Vector tiles: GapMap vs martin on the same layer and the same tile list.

    python tiles_martin.py layer GAPMAP_URL OUT.geojson
    python tiles_martin.py compare GAPMAP_URL MARTIN_TILE_TEMPLATE OUTDIR [--tiles N] [--seed S]

`layer` writes the 2021 LSOA layer for martin's PostGIS table: the
properties of GapMap's `lsoa` tiles (the map's /web/api/lsoa-layer?year=2025
without its label point lx/ly, which the tiles do not carry; `fid` is the
position that GapMap uses as tile feature id) with the full-precision
geometry of /collections/lsoa/items (the map layer rounds coordinates to
5 decimals), joined on the LSOA code. compare.sh loads it with ogr2ogr and
lets martin use `fid` as feature id.

`compare`: MARTIN_TILE_TEMPLATE is martin's URL with {z}/{x}/{y}
(http://127.0.0.1:PORT/lsoa/{z}/{x}/{y}). The tile list: N random tiles,
zoom 6 to 14, over England's bounding box (seeded, so both servers get the
same list; it repeats some low-zoom tiles, as a map session does). Each
distinct tile is fetched once from each server without Accept-Encoding
(size, first-fetch time, decoded content), then once with
`Accept-Encoding: gzip` and once with Chromium's `gzip, deflate, br, zstd`
(bytes sent; each server picks its encoding). The decoded tiles are compared: the
layer name, and for every feature id present in both tiles the same
properties (the answer check; exit status 1 when any differ, or a request
fails); features present on one side only are counted (each server leaves
out features whose clipped geometry vanishes at the zoom, by its own rule).

Writes OUTDIR/tiles_paths_{gapmap,martin}.txt (the whole list, one path per
line, for wrk's tiles.lua), OUTDIR/tiles_paths_{gapmap,martin}_nonempty.txt
(the same list without the tiles empty on both servers), and
OUTDIR/tiles.json; prints one markdown table row per zoom on stdout and the
check summary on stderr.
"""
import gzip
import json
import math
import random
import statistics
import sys
import time
import urllib.parse
import urllib.request

WEST, SOUTH, EAST, NORTH = -5.8, 49.85, 1.8, 55.85
BROWSER_AE = "gzip, deflate, br, zstd"  # Chromium's, as compare.sh


def tile_list(n, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        z = rng.randint(6, 14)
        def col(lon):
            return int((lon + 180.0) / 360.0 * 2 ** z)
        def row(lat):
            r = math.radians(lat)
            return int((1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * 2 ** z)
        out.append((z, rng.randint(col(WEST), col(EAST)), rng.randint(row(NORTH), row(SOUTH))))
    return out


def fetch(url, headers=None):
    """(status, body bytes as sent, Content-Encoding, ms)."""
    req = urllib.request.Request(url, headers=headers or {})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=600) as r:
        body = r.read()
        status, enc = r.status, r.headers.get("Content-Encoding", "")
    return status, body, enc, (time.perf_counter() - t0) * 1000.0


# --- a minimal Mapbox Vector Tile 2.1 reader (protobuf wire format) ----------

def _varint(b, i):
    shift = result = 0
    while True:
        c = b[i]
        i += 1
        result |= (c & 0x7F) << shift
        if c < 0x80:
            return result, i
        shift += 7


def _fields(b):
    """(field number, wire type, value) of a protobuf message; LEN values as bytes."""
    i, n = 0, len(b)
    while i < n:
        key, i = _varint(b, i)
        f, w = key >> 3, key & 7
        if w == 0:
            v, i = _varint(b, i)
        elif w == 1:
            v, i = b[i:i + 8], i + 8
        elif w == 2:
            ln, i = _varint(b, i)
            v, i = b[i:i + ln], i + ln
        elif w == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {w}")
        yield f, w, v


def _packed(w, v):
    if w == 0:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = _varint(v, i)
        out.append(x)
    return out


def _value(b):
    import struct
    for f, w, v in _fields(b):
        if f == 1:
            return bytes(v).decode()
        if f == 2:
            return struct.unpack("<f", v)[0]
        if f == 3:
            return struct.unpack("<d", v)[0]
        if f == 4:
            return v - (1 << 64) if v >= 1 << 63 else v
        if f == 5:
            return v
        if f == 6:
            return (v >> 1) ^ -(v & 1)
        if f == 7:
            return bool(v)
    return None


def decode(body):
    """{layer name: [(id, {key: value}, geometry varint count)]}"""
    layers = {}
    for f, _, lb in _fields(body):
        if f != 3:
            continue
        name, keys, values, feats = None, [], [], []
        for lf, lw, lv in _fields(lb):
            if lf == 1:
                name = bytes(lv).decode()
            elif lf == 3:
                keys.append(bytes(lv).decode())
            elif lf == 4:
                values.append(_value(lv))
            elif lf == 2:
                feats.append(lv)
        out = []
        for fb in feats:
            fid, tags, geom = None, [], 0
            for ff, fw, fv in _fields(fb):
                if ff == 1:
                    fid = fv
                elif ff == 2:
                    tags.extend(_packed(fw, fv))
                elif ff == 4:
                    geom += len(_packed(fw, fv))
            props = {keys[tags[k]]: values[tags[k + 1]] for k in range(0, len(tags) - 1, 2)}
            out.append((fid, props, geom))
        layers[name] = out
    return layers


# --- layer export ---------------------------------------------------------------

def layer(gapmap, out_path):
    base = gapmap.rstrip("/") + "/"
    with urllib.request.urlopen(base + "web/api/lsoa-layer?year=2025", timeout=600) as r:
        props = json.load(r)["features"]
    geometry = {}
    url = base + "collections/lsoa/items?limit=10000&properties=code"
    while url:
        with urllib.request.urlopen(url, timeout=600) as r:
            page = json.load(r)
        for f in page["features"]:
            geometry[f["properties"]["code"]] = f["geometry"]
        url = next((l["href"] for l in page["links"] if l["rel"] == "next"), None)
    features = []
    for f in props:
        p = {k: v for k, v in f["properties"].items() if k not in ("lx", "ly")}
        features.append({"type": "Feature", "properties": p, "geometry": geometry[p["code"]]})
    with open(out_path, "w") as f:
        json.dump({"type": "FeatureCollection", "features": features}, f)
    print(f"{len(features)} LSOAs written to {out_path}", file=sys.stderr)


# --- comparison -----------------------------------------------------------------

def same_value(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


def compare(gapmap, martin, outdir, n, seed):
    tiles = tile_list(n, seed)
    distinct = list(dict.fromkeys(tiles))
    gm_template = gapmap.rstrip("/") + "/collections/lsoa/tiles/WebMercatorQuad/{z}/{x}/{y}"
    templates = {"gapmap": gm_template, "martin": martin}
    got = {}  # (server, tile) -> dict
    failures = []
    # First fetches interleaved, each server first on every other tile, so
    # that neither gains from the machine's quieter moments or from warm-up.
    for i, t in enumerate(distinct):
        for name in (("gapmap", "martin") if i % 2 == 0 else ("martin", "gapmap")):
            url = templates[name].format(z=t[0], x=t[1], y=t[2])
            try:
                status, body, enc, ms = fetch(url)
            except Exception as e:  # noqa: BLE001 - reported and counted as a failure
                failures.append(f"{name} {url}: {e}")
                continue
            if enc:
                failures.append(f"{name} {url}: Content-Encoding {enc} without Accept-Encoding")
            got[(name, t)] = {"status": status, "bytes": len(body), "ms": ms, "layers": decode(body),
                              "body": body}
    for name, template in templates.items():
        for t in distinct:
            url = template.format(z=t[0], x=t[1], y=t[2])
            if (name, t) not in got:
                continue
            _, body, enc, _ = fetch(url, {"Accept-Encoding": "gzip"})
            got[(name, t)]["gzip_sent"] = len(body)
            got[(name, t)]["gzip_enc"] = enc or "identity"
            _, body, enc, _ = fetch(url, {"Accept-Encoding": BROWSER_AE})
            got[(name, t)]["browser_sent"] = len(body)
            got[(name, t)]["browser_enc"] = enc or "identity"
            # What gzip (level 6) gives on the identity body, for reference.
            raw = got[(name, t)]["body"]
            got[(name, t)]["gzip6"] = len(gzip.compress(raw, 6)) if raw else 0

    zooms = {}
    check = {"tiles_compared": 0, "features_both": 0, "gapmap_only": 0, "martin_only": 0,
             "property_mismatches": 0, "layer_names": set(), "examples": [],
             "gapmap_only_examples": []}
    nonempty = set()
    for t in distinct:
        g, m = got.get(("gapmap", t)), got.get(("martin", t))
        if g is None or m is None:
            continue
        check["tiles_compared"] += 1
        gl, ml = g["layers"], m["layers"]
        check["layer_names"].update(f"gapmap:{k}" for k in gl)
        check["layer_names"].update(f"martin:{k}" for k in ml)
        gf = {fid: (p, n) for fid, p, n in next(iter(gl.values()), [])}
        mf = {fid: (p, n) for fid, p, n in next(iter(ml.values()), [])}
        if gf or mf:
            nonempty.add(t)
        both = gf.keys() & mf.keys()
        check["features_both"] += len(both)
        check["gapmap_only"] += len(gf.keys() - mf.keys())
        for fid in sorted(gf.keys() - mf.keys())[:3]:
            if len(check["gapmap_only_examples"]) < 10:
                check["gapmap_only_examples"].append(
                    {"tile": t, "id": fid, "code": gf[fid][0].get("code"), "geometry_varints": gf[fid][1]})
        check["martin_only"] += len(mf.keys() - gf.keys())
        for fid in both:
            a, b = gf[fid][0], mf[fid][0]
            if a.keys() != b.keys() or not all(same_value(a[k], b[k]) for k in a):
                check["property_mismatches"] += 1
                if len(check["examples"]) < 5:
                    diff = {k: (a.get(k), b.get(k)) for k in a.keys() | b.keys()
                            if not same_value(a.get(k), b.get(k))}
                    check["examples"].append({"tile": t, "id": fid, "differs (gapmap, martin)": diff})
        z = zooms.setdefault(t[0], {"distinct": 0, "nonempty": 0, "gapmap": [], "martin": [],
                                    "gapmap_larger": 0, "gapmap_larger_gzip_sent": 0,
                                    "gapmap_excess_bytes": 0, "gapmap_excess_gzip_sent_bytes": 0,
                                    "gapmap_excess_gzip_sent_pct": 0.0})
        z["distinct"] += 1
        if t in nonempty:
            z["nonempty"] += 1
        z["gapmap_larger"] += g["bytes"] > m["bytes"]
        z["gapmap_larger_gzip_sent"] += g["gzip_sent"] > m["gzip_sent"]
        z["gapmap_excess_bytes"] = max(z["gapmap_excess_bytes"], g["bytes"] - m["bytes"])
        if g["gzip_sent"] - m["gzip_sent"] > z["gapmap_excess_gzip_sent_bytes"]:
            z["gapmap_excess_gzip_sent_bytes"] = g["gzip_sent"] - m["gzip_sent"]
            z["gapmap_excess_gzip_sent_pct"] = 100.0 * (g["gzip_sent"] - m["gzip_sent"]) / max(m["gzip_sent"], 1)
        for name, r, feats in (("gapmap", g, gf), ("martin", m, mf)):
            z[name].append({"bytes": r["bytes"], "gzip_sent": r["gzip_sent"], "gzip6": r["gzip6"],
                            "browser_sent": r["browser_sent"], "browser_enc": r["browser_enc"],
                            "ms": r["ms"], "features": len(feats),
                            "geom": sum(n for _, n in feats.values()), "nonempty": t in nonempty,
                            "status": r["status"], "gzip_enc": r["gzip_enc"]})

    for name, template in templates.items():
        for suffix, keep in (("", lambda t: True), ("_nonempty", lambda t: t in nonempty)):
            with open(f"{outdir}/tiles_paths_{name}{suffix}.txt", "w") as f:
                for t in tiles:
                    if keep(t):
                        url = template.format(z=t[0], x=t[1], y=t[2])
                        f.write(urllib.parse.urlsplit(url).path + "\n")

    def stats(rows):
        ne = [r for r in rows if r["nonempty"]] or [{"bytes": 0, "gzip_sent": 0, "gzip6": 0, "browser_sent": 0,
                                                    "features": 0, "geom": 0}]
        return {
            "mean_bytes_nonempty": statistics.mean(r["bytes"] for r in ne),
            "max_bytes": max(r["bytes"] for r in rows),
            "mean_gzip_sent_nonempty": statistics.mean(r["gzip_sent"] for r in ne),
            "max_gzip_sent": max(r["gzip_sent"] for r in rows),
            "mean_gzip6_nonempty": statistics.mean(r["gzip6"] for r in ne),
            "mean_browser_sent_nonempty": statistics.mean(r["browser_sent"] for r in ne),
            "browser_encodings": sorted({r["browser_enc"] for r in rows}),
            "mean_features_nonempty": statistics.mean(r["features"] for r in ne),
            "mean_geometry_varints_nonempty": statistics.mean(r["geom"] for r in ne),
            "total_bytes": sum(r["bytes"] for r in rows),
            "median_ms": statistics.median(r["ms"] for r in rows),
            "max_ms": max(r["ms"] for r in rows),
            "median_ms_nonempty": statistics.median(r.get("ms", 0) for r in ne),
            "max_ms_nonempty": max(r.get("ms", 0) for r in ne),
            "statuses": sorted({r["status"] for r in rows}),
            "gzip_encodings": sorted({r["gzip_enc"] for r in rows}),
        }

    result = {"list_length": len(tiles), "distinct": len(distinct), "seed": seed, "zooms": {},
              "failures": failures}
    for z in sorted(zooms):
        result["zooms"][z] = {k: v for k, v in zooms[z].items() if k not in ("gapmap", "martin")}
        result["zooms"][z].update(gapmap=stats(zooms[z]["gapmap"]), martin=stats(zooms[z]["martin"]))
    check["layer_names"] = sorted(check["layer_names"])
    result["check"] = check
    with open(f"{outdir}/tiles.json", "w") as f:
        json.dump(result, f, indent=1, default=list)

    kb = lambda v: f"{v / 1000:.1f}"  # noqa: E731

    def larger(n, excess, pct):
        """Tiles where GapMap's is larger, and by at most how much."""
        if n == 0:
            return "0"
        return f"{n} (≤ +{excess} B" + (f", +{pct:.1f} %)" if pct is not None else ")")

    for z, r in result["zooms"].items():
        g, m = r["gapmap"], r["martin"]
        print(f"| {z} | {r['distinct']} / {r['nonempty']} "
              f"| {kb(g['mean_bytes_nonempty'])} / {kb(m['mean_bytes_nonempty'])} "
              f"| {kb(g['max_bytes'])} / {kb(m['max_bytes'])} "
              f"| {kb(g['mean_gzip_sent_nonempty'])} / {kb(m['mean_gzip_sent_nonempty'])} "
              f"| {kb(g['max_gzip_sent'])} / {kb(m['max_gzip_sent'])} "
              f"| {kb(g['mean_browser_sent_nonempty'])} / {kb(m['mean_browser_sent_nonempty'])} "
              f"| {g['mean_features_nonempty']:.0f} / {m['mean_features_nonempty']:.0f} "
              f"| {g['mean_geometry_varints_nonempty']:.0f} / {m['mean_geometry_varints_nonempty']:.0f} "
              f"| {larger(r['gapmap_larger'], r['gapmap_excess_bytes'], None)} / "
              f"{larger(r['gapmap_larger_gzip_sent'], r['gapmap_excess_gzip_sent_bytes'], r['gapmap_excess_gzip_sent_pct'])} "
              f"| {g['median_ms_nonempty']:.1f} / {m['median_ms_nonempty']:.1f} "
              f"| {g['max_ms_nonempty']:.0f} / {m['max_ms_nonempty']:.0f} |")
    print(f"tiles: {len(tiles)} in the list, {len(distinct)} distinct, {len(nonempty)} non-empty; "
          f"layers {check['layer_names']}; features in both {check['features_both']}, "
          f"GapMap only {check['gapmap_only']}, martin only {check['martin_only']}; "
          f"property mismatches {check['property_mismatches']}; failures {len(failures)}",
          file=sys.stderr)
    for e in check["examples"]:
        print(f"  mismatch: {e}", file=sys.stderr)
    for e in check["gapmap_only_examples"]:
        print(f"  only in GapMap's tile: {e}", file=sys.stderr)
    for e in failures[:5]:
        print(f"  failure: {e}", file=sys.stderr)
    names = {n.split(":", 1)[1] for n in check["layer_names"]}
    if len(names) > 1:
        print(f"  layer names differ: {check['layer_names']}", file=sys.stderr)
    return 1 if check["property_mismatches"] or failures or len(names) > 1 else 0


def main():
    args = sys.argv[1:]
    opt = lambda k, d: int(args[args.index(k) + 1]) if k in args else d  # noqa: E731
    if args[:1] == ["layer"] and len(args) >= 3:
        layer(args[1], args[2])
        return 0
    if args[:1] == ["compare"] and len(args) >= 4:
        return compare(args[1], args[2], args[3], opt("--tiles", 500), opt("--seed", 16))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
