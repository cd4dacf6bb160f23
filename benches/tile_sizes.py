#!/usr/bin/env python3
"""Tile sizes and fetch times per zoom for a GapMap (or any XYZ) tile server.

usage: tile_sizes.py BASE_URL_TEMPLATE [--layers lsoa,wards] [--per-zoom N] [--seed S]
       [--zooms 0-14] [--list FILE]

BASE_URL_TEMPLATE contains {layer}, {z}, {x}, {y}. For zooms whose tiles over
England number at most N, every tile is fetched; otherwise N random ones
(seeded, so two servers get the same list). Prints one line per layer and
zoom: tiles, largest, mean and total bytes (uncompressed), and the slowest and
median fetch in ms.
"""
import argparse
import math
import random
import statistics
import time
import urllib.request

# England's bounding box (CRS84), generous.
WEST, SOUTH, EAST, NORTH = -5.8, 49.85, 1.8, 55.85


def tile_range(z):
    n = 1 << z
    def tx(lon):
        return min(n - 1, max(0, int((lon + 180.0) / 360.0 * n)))
    def ty(lat):
        r = math.radians(lat)
        return min(n - 1, max(0, int((1.0 - math.log(math.tan(r) + 1.0 / math.cos(r)) / math.pi) / 2.0 * n)))
    return tx(WEST), tx(EAST), ty(NORTH), ty(SOUTH)


def tiles_for(z, per_zoom, rng):
    x0, x1, y0, y1 = tile_range(z)
    count = (x1 - x0 + 1) * (y1 - y0 + 1)
    if count <= per_zoom:
        return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return [(z, rng.randint(x0, x1), rng.randint(y0, y1)) for _ in range(per_zoom)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("template")
    ap.add_argument("--layers", default="lsoa,wards,districts")
    ap.add_argument("--per-zoom", type=int, default=24)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--zooms", default="0-14")
    args = ap.parse_args()
    lo, hi = (int(v) for v in args.zooms.split("-"))
    print("| layer | z | tiles | max KB | mean KB | max ms | median ms |")
    print("|---|---|---|---|---|---|---|")
    for layer in args.layers.split(","):
        rng = random.Random(args.seed)
        for z in range(lo, hi + 1):
            sizes, times = [], []
            for (tz, tx, ty) in tiles_for(z, args.per_zoom, rng):
                url = args.template.format(layer=layer, z=tz, x=tx, y=ty)
                t0 = time.perf_counter()
                with urllib.request.urlopen(url, timeout=600) as r:
                    body = r.read()
                times.append((time.perf_counter() - t0) * 1000.0)
                sizes.append(len(body))
            print(f"| {layer} | {z} | {len(sizes)} | {max(sizes)/1000:.1f} | {statistics.mean(sizes)/1000:.1f} "
                  f"| {max(times):.0f} | {statistics.median(times):.1f} |", flush=True)


if __name__ == "__main__":
    main()
