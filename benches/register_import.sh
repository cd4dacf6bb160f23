#!/usr/bin/env bash
# Bulk import cost (issue 12): time from POSTing a CSV import of N register
# entries of one register-only category to its acknowledgement (given only
# once the new snapshot, with access and 2SFCA recomputed, is served), then
# one more single-entry write. Rows sit at one point (--spread-m 0: one
# address repeated, or entries geocoded from one postcode) or scattered
# uniformly within --spread-m metres of it (a dense cluster).
# Usage: bash benches/register_import.sh [--rows 10000] [--spread-m 0] [--region england]
# GAPMAP_BIN overrides the binary (default: release build).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=10000 SPREAD=0 REGION=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) ROWS=$2; shift 2 ;;
    --spread-m) SPREAD=$2; shift 2 ;;
    --region) REGION=(--region "$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
BIN=${GAPMAP_BIN:-target/release/gapmap}
[ -n "${GAPMAP_BIN:-}" ] || cargo build --release --bin gapmap -q
STATE=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$STATE"' EXIT
TOKEN=$($BIN token add --name "bench-$$" --role admin --state-dir "$STATE" 2>/dev/null)
$BIN serve --bind 127.0.0.1:0 --quiet "${REGION[@]}" --state-dir "$STATE" >"$STATE/out" 2>"$STATE/log" &
PID=$!
for _ in $(seq 1200); do grep -q "GapMap serving" "$STATE/out" 2>/dev/null && break; sleep 0.5; done
URL=$(grep -o 'http://[^/]*' "$STATE/out" | head -1)
python3 - "$URL" "$TOKEN" "$ROWS" "$SPREAD" <<'EOF'
import http.client, json, math, random, sys, time, urllib.parse
url, token, rows, spread = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
u = urllib.parse.urlparse(url)
# Cowley Road, Oxford (inside the default region and England).
lon0, lat0 = -1.2330, 51.7450
random.seed(12)
lines = ["name,category,lon,lat"]
for i in range(rows):
    r, a = spread * math.sqrt(random.random()), random.random() * 2 * math.pi
    dlon = r * math.cos(a) / (111_320 * math.cos(math.radians(lat0)))
    dlat = r * math.sin(a) / 110_574
    lines.append(f"Larder {i},community_larder,{lon0 + dlon:.9f},{lat0 + dlat:.9f}")
body = ("\n".join(lines) + "\n").encode()
def post(path, data, ctype):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=3600)
    t = time.perf_counter()
    c.request("POST", path, body=data, headers={"Authorization": "Bearer " + token, "Content-Type": ctype})
    r = c.getresponse()
    r.read()
    return r.status, time.perf_counter() - t
def served():
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request("GET", "/collections/register/items?limit=1", headers={"Accept": "application/geo+json"})
    r = c.getresponse()
    return json.loads(r.read()).get("numberMatched", 0)
start = time.perf_counter()
status, s = post("/collections/register/import", body, "text/csv")
print(f"import {rows} rows within {spread:g} m ({len(body)} bytes): HTTP {status} in {s:.2f} s")
if status == 503:
    # The write budget ran out: the rows are stored; wait until they are served.
    while served() < rows:
        time.sleep(1)
    print(f"  served after {time.perf_counter() - start:.1f} s")
one = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon0 + 0.01, lat0]},
       "properties": {"name": "One more", "category": "community_larder"}}
status, s = post("/collections/register/items", json.dumps(one).encode(), "application/geo+json")
print(f"then one write: HTTP {status} in {s:.2f} s")
EOF
