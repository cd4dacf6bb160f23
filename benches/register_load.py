#!/usr/bin/env python3
"""Register benchmarks against a running GapMap (issue 11), standard library only.

1. write -> /gaps: POST a gp_practice entry inside an LSOA that
   /gaps?category=gp_practice&max_decile=2&min_distance_m=1000 lists, then GET
   /gaps and check the LSOA is gone; DELETE it and check it is back. The time
   from sending the POST to the GET that no longer lists the LSOA is one
   sample (the POST is acknowledged only once the new snapshot is served).
2. Sustained writes: W writer threads POST warm_space entries (spread over
   Oxford, as a register's entries are) for S seconds
   while wrk (run by register.sh) reads items at full speed; reports writes/s
   and write latency percentiles.
"""
import argparse
import http.client
import json
import random
import statistics
import threading
import time
import urllib.parse


def conn(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def request(c, method, path, body=None, token=None, ctype="application/geo+json"):
    headers = {}
    if token:
        headers["Authorization"] = "Bearer " + token
    if body is not None:
        headers["Content-Type"] = ctype
        body = json.dumps(body)
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    return r.status, data


def inside(pt, ring):
    x, y = pt
    n, hit = len(ring), False
    for i in range(n):
        (x1, y1), (x2, y2) = ring[i], ring[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            hit = not hit
    return hit


def point_in(geom):
    polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
    ring = polys[0][0]
    cx = sum(p[0] for p in ring) / len(ring)
    cy = sum(p[1] for p in ring) / len(ring)
    if inside((cx, cy), ring):
        return [cx, cy]
    for i in range(len(ring) - 1):
        for j in range(i + 2, len(ring) - 1):
            p = [(ring[i][0] + ring[j][0]) / 2, (ring[i][1] + ring[j][1]) / 2]
            if inside(p, ring):
                return p
    raise SystemExit("no interior point found")


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def gaps_codes(c, q):
    s, data = request(c, "GET", q)
    assert s == 200, (s, data[:200])
    doc = json.loads(data)
    return {f["id"]: f for f in doc["features"]}


def bench_gaps(url, token, samples):
    c = conn(url)
    q = "/gaps?category=gp_practice&max_decile=2&min_distance_m=1000"
    listed = gaps_codes(c, q)
    if not listed:
        raise SystemExit("/gaps lists no LSOA: nothing to measure")
    code, feature = next(iter(sorted(listed.items())))
    pt = point_in(feature["geometry"])
    lat = []
    for _ in range(samples):
        t0 = time.perf_counter()
        s, data = request(c, "POST", "/collections/register/items", {
            "type": "Feature", "geometry": {"type": "Point", "coordinates": pt},
            "properties": {"name": "Bench surgery", "category": "gp_practice"}}, token)
        assert s == 201, (s, data[:300])
        fid = json.loads(data)["id"]
        now = gaps_codes(c, q)
        t1 = time.perf_counter()
        assert code not in now, f"{code} still listed after the write"
        lat.append(t1 - t0)
        s, _ = request(c, "DELETE", f"/collections/register/items/{fid}", token=token)
        assert s == 204, s
        assert code in gaps_codes(c, q), f"{code} not listed again after the delete"
    return code, lat


def bench_writes(url, token, seconds, writers):
    stop = time.perf_counter() + seconds
    lat, errors, lock = [], [], threading.Lock()

    def run(k):
        c = conn(url)
        rng = random.Random(k)
        i = 0
        while time.perf_counter() < stop:
            i += 1
            t0 = time.perf_counter()
            s, data = request(c, "POST", "/collections/register/items", {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [rng.uniform(-1.30, -1.18), rng.uniform(51.70, 51.79)]},
                "properties": {"name": f"Warm space {k}-{i}", "category": "warm_space"}}, token)
            with lock:
                (lat if s == 201 else errors).append(time.perf_counter() - t0 if s == 201 else s)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(writers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(lat) / (time.perf_counter() - t0), lat, errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--skip-writes", action="store_true")
    a = ap.parse_args()
    code, lat = bench_gaps(a.url, a.token, a.samples)
    print(f"| write -> /gaps reflects it ({code}, {len(lat)} samples) | median {statistics.median(lat)*1000:.0f} ms | p99 {pct(lat, 99)*1000:.0f} ms |")
    if not a.skip_writes:
        rate, wl, errors = bench_writes(a.url, a.token, a.seconds, a.writers)
        print(f"| sustained writes ({a.writers} writers, {a.seconds:.0f} s) | {rate:.0f} writes/s | write p50 {pct(wl,50)*1000:.0f} ms, p99 {pct(wl,99)*1000:.0f} ms | errors {len(errors)} |")


if __name__ == "__main__":
    main()
