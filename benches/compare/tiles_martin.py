"""Vector tiles: GapMap vs martin on the same layer and the same tile list.

    python tiles_martin.py GAPMAP_URL MARTIN_TILE_TEMPLATE OUTDIR [--tiles N] [--seed S]

MARTIN_TILE_TEMPLATE is martin's URL with {z}/{x}/{y}
(http://127.0.0.1:PORT/lsoa_tiles/{z}/{x}/{y}); martin serves the same 2021
LSOAs with the same properties (/web/api/lsoa-layer?year=2025, loaded into
PostGIS by compare.sh). The tile list: N random tiles, zoom 6 to 14, over
England's bounding box (seeded, so both servers get the same list).

Writes OUTDIR/tiles_paths_gapmap.txt and tiles_paths_martin.txt (one path
per line, for wrk's tiles.lua) and OUTDIR/tiles.json: per zoom, tile sizes
(bytes, uncompressed, mean and max) and first-fetch times (ms, median and
max) for both servers.
"""
import json
import math
import random
import statistics
import sys
import time
import urllib.parse
import urllib.request

WEST, SOUTH, EAST, NORTH = -5.8, 49.85, 1.8, 55.85


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


def fetch(url):
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as r:
        body = r.read()
    return len(body), (time.perf_counter() - t0) * 1000.0


def main():
    gapmap, martin, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(sys.argv[sys.argv.index("--tiles") + 1]) if "--tiles" in sys.argv else 500
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 16
    tiles = tile_list(n, seed)
    gm_template = gapmap.rstrip("/") + "/collections/lsoa/tiles/WebMercatorQuad/{z}/{x}/{y}"
    result = {"tiles": len(tiles), "zooms": {}}
    for name, template in (("gapmap", gm_template), ("martin", martin)):
        paths = []
        for z, x, y in tiles:
            url = template.format(z=z, x=x, y=y)
            size, ms = fetch(url)
            zr = result["zooms"].setdefault(str(z), {}).setdefault(name, {"sizes": [], "ms": []})
            zr["sizes"].append(size)
            zr["ms"].append(ms)
            paths.append(urllib.parse.urlsplit(url).path)
        with open(f"{outdir}/tiles_paths_{name}.txt", "w") as f:
            f.write("\n".join(paths) + "\n")
    for z, per in result["zooms"].items():
        for name, r in per.items():
            per[name] = {
                "count": len(r["sizes"]),
                "mean_bytes": statistics.mean(r["sizes"]),
                "max_bytes": max(r["sizes"]),
                "median_ms": statistics.median(r["ms"]),
                "max_ms": max(r["ms"]),
            }
    with open(f"{outdir}/tiles.json", "w") as f:
        json.dump(result, f, indent=1)
    for z in sorted(result["zooms"], key=int):
        per = result["zooms"][z]
        g, m = per["gapmap"], per["martin"]
        print(f"| {z} | {g['count']} | {g['mean_bytes']/1000:.1f} / {m['mean_bytes']/1000:.1f} "
              f"| {g['max_bytes']/1000:.1f} / {m['max_bytes']/1000:.1f} "
              f"| {g['median_ms']:.1f} / {m['median_ms']:.1f} | {g['max_ms']:.0f} / {m['max_ms']:.0f} |")


if __name__ == "__main__":
    main()
