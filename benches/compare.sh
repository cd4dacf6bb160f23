#!/usr/bin/env bash
# Benchmark (not a test): GapMap against the tools users would otherwise pick,
# on the same inputs in the same run (issue 6).
#
#   1. OGC API - Features: GapMap (release) vs pygeoapi (GeoJSON provider over
#      the LSOA + IMD 2025 features exported from GapMap's own API), with wrk
#      (loopback only, DURATION s per run, 16 connections): items?limit=100,
#      items?limit=1000 and a bbox query. The three responses' feature ids are
#      checked to be the same on both servers.
#   2. Nearest asset of each category to every LSOA centroid: GapMap
#      (examples/nearest_export.rs, gapmap::analysis::nearest) vs geopandas
#      sjoin_nearest in EPSG:27700; same nearest asset id and BNG distance
#      within 1 m, or the comparison fails.
#   1b. Vector tiles: GapMap vs martin on the same LSOA layer and random
#      z6-z14 tile list (skipped with a message without martin or PostGIS);
#      the same properties per feature on both, or the comparison fails.
#   3. GapMap's England cold start (load + index) and peak RSS
#      (benches/cold_start.sh england 5), and the England server's
#      readiness and peak RSS under load, from the data files and from the
#      prepared atlas (benches/ready.sh england 3 60).
#
# Prints a markdown table and writes it to target/bench/compare.md. Exits
# non-zero only when the two tools' answers disagree (or a step cannot run),
# never because of timings.
#
# Usage: bash benches/compare.sh [--region oxfordshire|england] [--skip-cold-start]
#                                [--only tiles]
#   --only tiles: just 1b (no pygeoapi, geopandas or cold start; needs only
#   python3, wrk, ogr2ogr, psql, martin and PostGIS); the table goes to
#   target/bench/compare-tiles-REGION.md instead of compare.md.
# Env:   DURATION (wrk seconds per run, default 8), GAPMAP_DATA_DIR,
#        GAPMAP_BIN (a release gapmap binary to use instead of building one),
#        BENCH_PORTS (LO-HI: every server listens on a free port in this
#        range; default: ports the OS picks), and for 1b MARTIN_BIN,
#        MARTIN_CRATE_VERSION, MARTIN_DATABASE_URL (see section 1b).
# Needs: wrk, python3 with venv/pip (pygeoapi, geopandas and gunicorn are
#        installed into target/bench/venv on first run), the data in
#        ../shared/geodata. Everything written goes under target/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."

REGION=oxfordshire
COLD=1
ONLY=""
USAGE="usage: $0 [--region oxfordshire|england] [--skip-cold-start] [--only tiles]"
while [ $# -gt 0 ]; do
  case "$1" in
    --region) REGION="$2"; shift 2 ;;
    --region=*) REGION="${1#--region=}"; shift ;;
    --skip-cold-start) COLD=0; shift ;;
    --only) ONLY="$2"; shift 2 ;;
    --only=*) ONLY="${1#--only=}"; shift ;;
    *) echo "$USAGE" >&2; exit 2 ;;
  esac
done
case "$ONLY" in ""|tiles) ;; *) echo "$USAGE" >&2; exit 2 ;; esac
DURATION="${DURATION:-8}"
CONNS=16
THREADS=2
BBOX="-1.3,51.7,-1.2,51.8"
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }

OUT=target/bench
mkdir -p "$OUT"
WORK="$OUT/compare-$REGION"
mkdir -p "$WORK"
MD="$OUT/compare.md"
[ "$ONLY" = tiles ] && MD="$OUT/compare-tiles-$REGION.md"

GAPMAP="${GAPMAP_BIN:-./target/release/gapmap}"
if [ -z "${GAPMAP_BIN:-}" ]; then
  echo "== building (release)" >&2
  cargo build --release --quiet --bin gapmap
fi
if [ -z "$ONLY" ]; then
  cargo build --release --quiet --example nearest_export
fi

VENV="$OUT/venv"
PY="$VENV/bin/python"
if [ "$ONLY" = tiles ]; then
  PY=python3 # the tile comparison needs only the standard library
elif ! "$PY" -c 'import pygeoapi, geopandas, gunicorn' 2>/dev/null; then
  echo "== installing pygeoapi, geopandas, gunicorn into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet pygeoapi geopandas gunicorn
fi

GM_PID=""; PG_PID=""
cleanup() {
  for p in $GM_PID $PG_PID ${MT_PID:-}; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# A free loopback port: one the OS picks, or a random free one in BENCH_PORTS.
free_port() {
  "$PY" -c '
import os, random, socket, sys
lo, _, hi = os.environ.get("BENCH_PORTS", "0-0").partition("-")
ports = list(range(int(lo), int(hi or lo) + 1))
random.shuffle(ports)
for p in ports:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(s.getsockname()[1])
    sys.exit(0)
sys.exit("no free port in BENCH_PORTS=" + os.environ.get("BENCH_PORTS", ""))'
}

# --- 1. servers ------------------------------------------------------------
echo "== starting GapMap ($REGION)" >&2
GM_PORT=0; [ -n "${BENCH_PORTS:-}" ] && GM_PORT=$(free_port)
mkdir -p "$WORK/state" # an empty register of its own, not ./state
GAPMAP_LOG=warn "$GAPMAP" serve --bind "127.0.0.1:$GM_PORT" --quiet --region "$REGION" \
  --state-dir "$WORK/state" >"$WORK/gapmap.log" 2>&1 &
GM_PID=$!
GM=""
for _ in $(seq 1 600); do
  GM="$(sed -n 's/^GapMap serving .* at \(http:\/\/[^ ]*\/\)$/\1/p' "$WORK/gapmap.log" | head -n1)"
  [ -n "$GM" ] && break
  kill -0 "$GM_PID" 2>/dev/null || { echo "GapMap exited:" >&2; cat "$WORK/gapmap.log" >&2; exit 2; }
  sleep 1
done
case "$GM" in http://127.0.0.1:*) ;; *) echo "GapMap did not start on loopback ($GM)" >&2; exit 2 ;; esac

FAIL=0
ROWS=()
ZROWS=()
ERRS=()
BROWSER_AE="gzip, deflate, br, zstd" # Chromium's Accept-Encoding

# Section 1 (items vs pygeoapi) runs unless --only tiles; not re-indented.
if [ -z "$ONLY" ]; then
echo "== exporting features from $GM" >&2
"$PY" benches/compare/export.py "$GM" "$WORK" >&2

PORT=$(free_port)
PG="http://127.0.0.1:$PORT/"
"$PY" benches/compare/pygeoapi_config.py "$WORK/pygeoapi.yml" "$PORT" "$PWD/$WORK/lsoa.geojson"
export PYGEOAPI_CONFIG="$WORK/pygeoapi.yml" PYGEOAPI_OPENAPI="$WORK/pygeoapi-openapi.yml"
"$VENV/bin/pygeoapi" openapi generate "$PYGEOAPI_CONFIG" --output-file "$PYGEOAPI_OPENAPI" >/dev/null 2>&1
# Two sync workers: one per core, gunicorn's usual production set-up.
echo "== starting pygeoapi (gunicorn, 2 workers) at $PG" >&2
"$VENV/bin/gunicorn" -w 2 -b "127.0.0.1:$PORT" --log-level warning pygeoapi.flask_app:APP \
  >"$WORK/pygeoapi.log" 2>&1 &
PG_PID=$!
for _ in $(seq 1 120); do
  curl -sf -o /dev/null "${PG}collections/lsoa" && break
  kill -0 "$PG_PID" 2>/dev/null || { echo "pygeoapi exited:" >&2; cat "$WORK/pygeoapi.log" >&2; exit 2; }
  sleep 0.5
done
curl -sf -o /dev/null "${PG}collections/lsoa" || { echo "pygeoapi did not start" >&2; exit 2; }

PYGEOAPI_VERSION=$("$PY" -c 'import pygeoapi; print(pygeoapi.__version__)')
QUERIES=("items?limit=100" "items?limit=1000" "items?bbox=$BBOX&limit=1000")

# ids of a response, one per line
ids() { curl -sf -m 300 "$1" | "$PY" -c 'import json,sys; [print(f["id"]) for f in json.load(sys.stdin)["features"]]'; }

bench() { # url [connections] [seconds] [header] -> "rps p50 p99 errors"
  local out c=${2:-$CONNS} d=${3:-$DURATION} t=$THREADS h=()
  [ "$c" -lt "$t" ] && t=$c
  [ -n "${4:-}" ] && h=(-H "$4")
  out="$(wrk -t"$t" -c"$c" -d"${d}s" --timeout 10s --latency "${h[@]}" "$1")"
  awk '/^Requests\/sec/ {r=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2}
       /Non-2xx|Socket errors/ {e=e $0 ";"} END {print r, p50, p99, (e==""?"-":e)}' <<<"$out" | tr -s ' '
}
# gunicorn's sync workers still serve the requests wrk left queued when it
# stopped; wait for them before the next measurement.
drain() { for _ in 1 2 3; do curl -s -m 300 -o /dev/null "${1}collections/lsoa" || true; done; }
to_ms() { # wrk latency (e.g. 812.00us, 7.61ms, 1.02s) -> ms; [req/s]: none if 0
  [ -n "${2:-}" ] && awk -v r="$2" 'BEGIN { exit !(r + 0 == 0) }' && { echo "none completed"; return; }
  awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.2f", n }'
}

for q in "${QUERIES[@]}"; do
  a="${GM}collections/lsoa/$q"; b="${PG}collections/lsoa/$q"
  ids "$a" > "$WORK/ids_gapmap" || { echo "could not fetch $a" >&2; exit 2; }
  ids "$b" > "$WORK/ids_pygeoapi" || { echo "could not fetch $b" >&2; exit 2; }
  n=$(wc -l < "$WORK/ids_gapmap")
  if cmp -s "$WORK/ids_gapmap" "$WORK/ids_pygeoapi"; then same="yes ($n)"; else
    same="NO ($n vs $(wc -l < "$WORK/ids_pygeoapi"))"; FAIL=1; fi
  bytes_a=$(curl -s -m 300 "$a" | wc -c); bytes_b=$(curl -s -m 300 "$b" | wc -c)
  echo "== wrk $q (GapMap)" >&2
  read -r ra p50a p99a ea <<<"$(bench "$a")"
  read -r r1a l1a _ _ <<<"$(bench "$a" 1)"
  echo "== wrk $q (pygeoapi)" >&2
  read -r rb p50b p99b eb <<<"$(bench "$b")"
  drain "$PG"
  read -r r1b l1b _ _ <<<"$(bench "$b" 1)"
  ratio=$(awk -v x="$ra" -v y="$rb" 'BEGIN { if (y > 0) printf "%.0fx", x / y; else print "n/a" }')
  ROWS+=("| \`$q\` | $same | $ra | $(to_ms "$p50a" "$ra") | $(to_ms "$p99a" "$ra") | $rb | $(to_ms "$p50b" "$rb") | $(to_ms "$p99b" "$rb") | **${ratio}** | $(to_ms "$l1a" "$r1a") / $(to_ms "$l1b" "$r1b") | $bytes_a / $bytes_b |")
  [ "$ea" = "-" ] || echo "GapMap wrk errors: $ea" >&2
  [ "$eb" = "-" ] || echo "pygeoapi wrk errors: $eb" >&2
  ERRS+=("\`$q\`: GapMap ${ea}; pygeoapi ${eb}")
  # The same with a browser's Accept-Encoding: what real clients see.
  echo "== wrk $q with Accept-Encoding (GapMap, pygeoapi)" >&2
  zbytes_a=$(curl -s -m 300 -H "Accept-Encoding: $BROWSER_AE" "$a" | wc -c)
  zbytes_b=$(curl -s -m 300 -H "Accept-Encoding: $BROWSER_AE" "$b" | wc -c)
  read -r rza p50za p99za eza <<<"$(bench "$a" "$CONNS" "$DURATION" "Accept-Encoding: $BROWSER_AE")"
  read -r rzb p50zb p99zb ezb <<<"$(bench "$b" "$CONNS" "$DURATION" "Accept-Encoding: $BROWSER_AE")"
  drain "$PG"
  share=$(awk -v z="$rza" -v i="$ra" 'BEGIN { if (i > 0) printf "%.0f%%", 100 * z / i; else print "n/a" }')
  zratio=$(awk -v x="$rza" -v y="$rzb" 'BEGIN { if (y > 0) printf "%.0fx", x / y; else print "n/a" }')
  ZROWS+=("| \`$q\` | $rza | $(to_ms "$p50za" "$rza") | $(to_ms "$p99za" "$rza") | **$share** | $rzb | $(to_ms "$p99zb" "$rzb") | **${zratio}** | $zbytes_a / $zbytes_b |")
  ERRS+=("\`$q\` compressed: GapMap ${eza}; pygeoapi ${ezb}")
done
fi # section 1
# --- 1b. vector tiles: GapMap vs martin -------------------------------------
# martin (the MapLibre tile server) serves the same 2021 LSOAs with the same
# properties as GapMap's `lsoa` tiles, for the same random z6-z14 tile list
# over England's bounding box (benches/compare/tiles_martin.py). The layer
# (the tiles' properties from /web/api/lsoa-layer?year=2025 without its label
# point, the full-precision geometry of /collections/lsoa/items, and `fid`,
# the position GapMap uses as feature id) is loaded with ogr2ogr into PostGIS
# as gapmap_bench.lsoa, in EPSG:3857 with a GiST index (martin's fast path:
# no reprojection per request). martin publishes that schema only, with `fid`
# as feature id, and its defaults otherwise (extent 4096, buffer 64, clipped,
# its tile cache). Measured: tile sizes per zoom (identity, and bytes sent for
# `Accept-Encoding: gzip`), first-fetch times, then wrk over the list (both
# servers cache repeated tiles) with and without a browser's Accept-Encoding.
# Answer check: every feature in both servers' tile has the same properties
# (FAIL otherwise). Skipped, with a message, when martin cannot be installed
# or no PostgreSQL with PostGIS is given (MARTIN_DATABASE_URL, else
# GAPMAP_TEST_POSTGRES; the schema gapmap_bench is replaced there).
# MARTIN_BIN names a martin binary already built; otherwise martin
# MARTIN_CRATE_VERSION is installed once into target/bench/martin with only
# its PostgreSQL feature (the default features add rendering, web UI,
# PMTiles and more, and take far longer to build). The default is 1.14.0:
# martin 1.15 and later need rustc 1.98.
TILE_ROWS=(); TILE_WRK=(); TILE_NOTE=""; TILE_CHECK=""; MARTIN_VERSION=""
MARTIN_BIN="${MARTIN_BIN:-$(command -v martin || true)}"
[ -z "$MARTIN_BIN" ] && [ -x "$OUT/martin/bin/martin" ] && MARTIN_BIN="$OUT/martin/bin/martin"
if [ -z "$MARTIN_BIN" ]; then
  MARTIN_CRATE="martin@${MARTIN_CRATE_VERSION:-1.14.0}"
  echo "== installing martin (cargo install $MARTIN_CRATE --no-default-features --features postgres, into $OUT/martin; once)" >&2
  if cargo install --quiet --locked "$MARTIN_CRATE" --no-default-features --features postgres \
       --root "$OUT/martin" >"$WORK/martin-install.log" 2>&1; then
    MARTIN_BIN="$OUT/martin/bin/martin"
  else
    TILE_NOTE="skipped: martin could not be installed (see $WORK/martin-install.log)"
  fi
fi
PGURL="${MARTIN_DATABASE_URL:-${GAPMAP_TEST_POSTGRES:-}}"
[ -z "$TILE_NOTE" ] && [ -z "$PGURL" ] && TILE_NOTE="skipped: no PostgreSQL with PostGIS (set MARTIN_DATABASE_URL)"
[ -z "$TILE_NOTE" ] && ! command -v ogr2ogr >/dev/null && TILE_NOTE="skipped: ogr2ogr not found (apt-get install gdal-bin)"
[ -z "$TILE_NOTE" ] && ! command -v psql >/dev/null && TILE_NOTE="skipped: psql not found (apt-get install postgresql-client)"
MT_PID=""
# wrk over a path list -> "req/s p50 p99 errors"
tile_wrk() { # base-url paths-file [header]
  local h=(); [ -n "${3:-}" ] && h=(-H "$3")
  PATHS="$2" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 10s --latency \
    -s benches/compare/tiles.lua "${h[@]}" "$1" |
    awk '/^Requests\/sec/ {r=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2}
         /Non-2xx|Socket errors/ {e=e $0 ";"} END {print r, p50, p99, (e==""?"-":e)}' | tr -s ' '
}
if [ -z "$TILE_NOTE" ]; then
  MARTIN_VERSION=$("$MARTIN_BIN" --version | awk '{print $2}')
  echo "== tiles: loading GapMap's LSOA layer into PostGIS (gapmap_bench.lsoa) for martin $MARTIN_VERSION" >&2
  "$PY" benches/compare/tiles_martin.py layer "$GM" "$WORK/lsoa_layer.geojson"
  psql -q -v ON_ERROR_STOP=1 "$PGURL" -c 'CREATE EXTENSION IF NOT EXISTS postgis' \
    -c 'DROP SCHEMA IF EXISTS gapmap_bench CASCADE' -c 'CREATE SCHEMA gapmap_bench' >/dev/null
  ogr2ogr -f PostgreSQL "PG:$PGURL" "$WORK/lsoa_layer.geojson" -nln lsoa -lco SCHEMA=gapmap_bench \
    -lco GEOMETRY_NAME=geom -lco FID=ogc_fid -nlt PROMOTE_TO_MULTI -t_srs EPSG:3857
  # GapMap's feature id as the key martin uses for the tile feature id.
  psql -q -v ON_ERROR_STOP=1 "$PGURL" \
    -c 'ALTER TABLE gapmap_bench.lsoa DROP COLUMN ogc_fid, ADD PRIMARY KEY (fid)' \
    -c 'ANALYZE gapmap_bench.lsoa' >/dev/null
  MPORT=$(free_port)
  MT="http://127.0.0.1:$MPORT/"
  cat >"$WORK/martin.yaml" <<YAML
listen_addresses: '127.0.0.1:$MPORT'
postgres:
  connection_string: '$PGURL'
  auto_publish:
    from_schemas: gapmap_bench
    tables:
      id_columns: fid
YAML
  "$MARTIN_BIN" --config "$WORK/martin.yaml" >"$WORK/martin.log" 2>&1 &
  MT_PID=$!
  for _ in $(seq 1 240); do
    curl -sf -o /dev/null "${MT}catalog" && break
    kill -0 "$MT_PID" 2>/dev/null || { echo "martin exited:" >&2; cat "$WORK/martin.log" >&2; exit 2; }
    sleep 0.5
  done
  curl -sf "${MT}catalog" | "$PY" -c 'import json,sys; sys.exit(0 if "lsoa" in json.load(sys.stdin)["tiles"] else 1)' ||
    { echo "martin does not publish gapmap_bench.lsoa as 'lsoa':" >&2; cat "$WORK/martin.log" >&2; exit 2; }
  echo "== tiles: first fetch of the tile list and answer check (GapMap, martin $MARTIN_VERSION)" >&2
  TILES_RC=0
  "$PY" benches/compare/tiles_martin.py compare "$GM" "${MT}lsoa/{z}/{x}/{y}" "$WORK" \
    >"$WORK/tiles_rows.md" 2>"$WORK/tiles_check.log" || TILES_RC=$?
  cat "$WORK/tiles_check.log" >&2
  [ "$TILES_RC" -eq 0 ] || FAIL=1
  mapfile -t TILE_ROWS <"$WORK/tiles_rows.md"
  TILE_CHECK=$(grep '^tiles:' "$WORK/tiles_check.log" || echo "no check summary (exit $TILES_RC)")
  for list in "" _nonempty; do
    lname="whole list"; [ -n "$list" ] && lname="non-empty tiles only"
    for ae in "" "Accept-Encoding: $BROWSER_AE"; do
      aname="none"; [ -n "$ae" ] && aname="browser's"
      echo "== wrk tiles ($lname, Accept-Encoding $aname: GapMap, martin)" >&2
      read -r rg p50g p99g eg <<<"$(tile_wrk "$GM" "$WORK/tiles_paths_gapmap$list.txt" "$ae")"
      read -r rm p50m p99m em <<<"$(tile_wrk "$MT" "$WORK/tiles_paths_martin$list.txt" "$ae")"
      ratio=$(awk -v x="$rg" -v y="$rm" 'BEGIN { if (y > 0) printf "%.2fx", x / y; else print "n/a" }')
      TILE_WRK+=("| $lname | $aname | $rg | $p50g | $p99g | $rm | $p50m | $p99m | **$ratio** | $eg / $em |")
    done
  done
  kill "$MT_PID" 2>/dev/null || true; wait "$MT_PID" 2>/dev/null || true; MT_PID=""
else
  echo "== tiles: $TILE_NOTE" >&2
fi

cleanup; GM_PID=""; PG_PID=""

# Sections 2 and 3 run unless --only tiles; not re-indented.
if [ -z "$ONLY" ]; then
# --- 2. nearest asset --------------------------------------------------------
echo "== nearest asset: GapMap" >&2
./target/release/examples/nearest_export --region "$REGION" >"$WORK/nearest_gapmap.csv" 2>"$WORK/nearest_gapmap.log"
GM_NEAREST_S=$(awk '$1=="nearest_s" {print $2}' "$WORK/nearest_gapmap.log")
echo "== nearest asset: geopandas" >&2
NEAREST_RC=0
"$PY" benches/compare/nearest_geopandas.py "$WORK" "$WORK/nearest_gapmap.csv" "$WORK/nearest.json" >&2 || NEAREST_RC=$?
[ "$NEAREST_RC" -eq 0 ] || FAIL=1
read -r PAIRS MATCH TIE METRIC MAXM MAXP DIS GP_S MAXD MAXO MAXG GPV LSOAS ASSETS CATS <<<"$("$PY" -c '
import json,sys; r=json.load(open(sys.argv[1]))
print(r["pairs"], r["match"], r["tie"], r["metric"], "%.2f" % r["max_bng_diff_metric_m"], "%.1e" % r["max_geodesic_vs_pyproj_m"], r["disagree"], "%.4f" % r["geopandas_s"], "%.1e" % r["max_abs_bng_diff_m"],
      "%.1e" % r["max_origin_diff_m"], "%.1f" % r["max_geodesic_minus_bng_m"], r["versions"]["geopandas"], r["lsoas"], r["assets"], r["categories"])' "$WORK/nearest.json")"
NRATIO=$(awk -v g="$GP_S" -v m="$GM_NEAREST_S" 'BEGIN { if (m > 0) printf "%.1f", g / m; else print "n/a" }')

# --- 3. cold start -------------------------------------------------------------
COLD_ROW="| England cold start | skipped (--skip-cold-start) | |"
if [ "$COLD" -eq 1 ]; then
  echo "== cold start (England, 5 runs)" >&2
  bash benches/cold_start.sh england 5 > "$WORK/cold_start.log" 2>&1
  CMED=$(awk -F'|' '$2 ~ /median/ {gsub(/ /,""); print $3}' target/bench/cold_start_england.md)
  CBEST=$(awk -F'|' '$2 ~ /best/ {gsub(/ /,""); print $3}' target/bench/cold_start_england.md)
  CMIB=$(awk -F'|' '$2 ~ /^ *[0-9]+ *$/ {gsub(/ /,""); if ($5 > m) m = $5} END {print m}' target/bench/cold_start_england.md)
  COLD_ROW="| England cold start (\`gapmap check --region england\`: load, join, index; 5 runs) | ${CMED} s median, ${CBEST} s best | ${CMIB} MiB peak RSS (largest run) |"
  # Issue 16, target 3: the server's readiness (process start to the first
  # 200 on /collections/lsoa/items), first from the data files, then from
  # the prepared atlas it wrote, each with 60 s of mixed load.
  echo "== England server readiness (benches/ready.sh england 3 60)" >&2
  GAPMAP_BENCH_BIN="$GAPMAP" GAPMAP_BENCH_OUT="$WORK/ready.md" \
    bash benches/ready.sh england 3 60 > "$WORK/ready.log" 2>&1
  READY_ROWS=$(awk -F'|' '$2 ~ /^ *[0-9]+ *$/ {gsub(/^ +| +$/, "", $3); printf "| England server ready, from %s (`serve`; then 60 s mixed load) | %s s | %s MiB at ready, %s MiB peak |\n", $3, $4, $6, $7}' "$WORK/ready.md")
  COLD_ROW="$COLD_ROW"$'\n'"${READY_ROWS%$'\n'}"
fi
fi # sections 2 and 3

# --- report --------------------------------------------------------------------
report_items() {
  echo "### OGC API – Features: \`/collections/lsoa/\`… (wrk, ${DURATION} s, $CONNS connections, $THREADS threads, loopback)"
  echo
  echo "GapMap release vs pygeoapi $PYGEOAPI_VERSION (GeoJSON provider over the same $LSOAS LSOA + IMD 2025 features, exported from GapMap; gunicorn, 2 sync workers)."
  echo
  echo "| query | same ids | GapMap req/s | p50 ms | p99 ms | pygeoapi req/s | p50 ms | p99 ms | ratio GapMap/pygeoapi | p50 ms at 1 connection, GapMap / pygeoapi | bytes GapMap / pygeoapi |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "At 16 connections pygeoapi's latency is mostly queueing behind its 2 workers; the 1-connection p50 (wrk, ${DURATION} s) is the time to serve one request. pygeoapi's GeoJSON provider re-reads and parses the file on every request, by design."
  echo
  echo "#### With a browser's \`Accept-Encoding: $BROWSER_AE\` (pygeoapi with \`server.gzip: true\`)"
  echo
  echo "| query | GapMap req/s | p50 ms | p99 ms | share of GapMap's identity req/s | pygeoapi req/s | p99 ms | ratio GapMap/pygeoapi | bytes sent GapMap / pygeoapi |"
  echo "|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ZROWS[@]}"
  echo
  printf 'wrk errors (`-` = none):'; printf ' %s /' "${ERRS[@]}"; echo
  echo
}
tiles_enc() { # server -> the encodings it chose for the browser's Accept-Encoding
  "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1]))
print(",".join(sorted({e for z in r["zooms"].values() for e in z[sys.argv[2]]["browser_encodings"]})))' \
    "$WORK/tiles.json" "$1" 2>/dev/null || echo "?"
}
report_tiles() {
  echo "### Vector tiles: GapMap vs martin (\`lsoa\`, the same random z6–z14 tile list over England's bounding box)"
  echo
  if [ -n "$TILE_NOTE" ]; then
    echo "$TILE_NOTE"
  else
    echo "martin $MARTIN_VERSION (PostgreSQL feature only) over PostGIS $(psql -Atq "$PGURL" -c 'SELECT postgis_lib_version()' 2>/dev/null || echo '?') (table in EPSG:3857, GiST index), the same LSOAs, geometry and properties as GapMap's \`lsoa\` tiles; both at extent 4096, buffer 64, clipped. Tiles: distinct tiles of the list / those non-empty on either server. Means are over the non-empty tiles; sizes are bytes uncompressed, except \"gzip sent\" and \"sent for browser's\": the bytes each server sent for \`Accept-Encoding: gzip\` and for a browser's \`$BROWSER_AE\` (after the first fetch; encodings seen for the browser's: GapMap \`$(tiles_enc gapmap)\`, martin \`$(tiles_enc martin)\`). Features and geometry varints: mean per non-empty tile (the MVT geometry commands and coordinates, what simplification saves). \"GapMap larger\": tiles of the zoom where GapMap's tile has more bytes than martin's, uncompressed / gzip sent (and the largest excess). First fetch = each distinct non-empty tile's first request (cut, encode and send; the two servers take turns to go first)."
    echo
    echo "| z | tiles / non-empty | mean KB GapMap / martin | max KB GapMap / martin | mean KB gzip sent GapMap / martin | max KB gzip sent GapMap / martin | mean KB sent for browser's Accept-Encoding GapMap / martin | features GapMap / martin | geometry varints GapMap / martin | GapMap larger (tiles) | first fetch median ms GapMap / martin | max ms GapMap / martin |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${TILE_ROWS[@]}"
    echo
    echo "Answer check: $TILE_CHECK"
    echo
    echo "wrk over the list (${DURATION} s, $CONNS connections, $THREADS threads; every connection walks the list in order, repeats included; latencies as wrk prints them; browser's = \`Accept-Encoding: $BROWSER_AE\`, for which martin gzips each response anew from its cache of uncompressed tiles):"
    echo
    echo "| list | Accept-Encoding | GapMap req/s | p50 | p99 | martin req/s | p50 | p99 | ratio GapMap/martin | wrk errors GapMap / martin |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${TILE_WRK[@]}"
  fi
  echo
}
if [ "$ONLY" = tiles ]; then
  {
    echo "## GapMap vs martin: vector tiles ($REGION, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores shared with the load generator and PostgreSQL)"
    echo
    report_tiles
  } > "$MD"
  cat "$MD"
  if [ "$FAIL" -ne 0 ]; then
    echo "ANSWERS DISAGREE (see $WORK/tiles_check.log and $WORK/tiles.json)" >&2
    exit 1
  fi
  exit 0
fi
{
  echo "## GapMap vs pygeoapi and geopandas ($REGION, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores shared with the load generator)"
  echo
  report_items
  report_tiles
  echo "### Nearest asset of each category to every LSOA centroid ($LSOAS LSOAs × $CATS categories, $ASSETS assets)"
  echo
  echo "| tool | time (nearest only, inputs in memory) | answers |"
  echo "|---|---|---|"
  echo "| GapMap (\`gapmap::analysis::nearest::nearest_geodesic\`, BNG R-tree + geodesic) | ${GM_NEAREST_S} s | $PAIRS pairs |"
  echo "| geopandas $GPV (\`sjoin_nearest\`, EPSG:27700) | ${GP_S} s | $MATCH match, $TIE equidistant ties, $METRIC geodesic-vs-planar order (≤ ${MAXM} m apart), **$DIS disagree** |"
  echo "| ratio geopandas/GapMap time | **${NRATIO}x** | max BNG distance difference ${MAXD} m; max origin difference ${MAXO} m; GapMap geodesic vs pyproj.Geod max ${MAXP} m |"
  echo
  echo "GapMap ranks by geodesic (WGS84) distance and geopandas by planar BNG distance; the ids are compared as they are, the distances in BNG metres (GapMap's geodesic distance differs from the BNG one by up to ${MAXG} m here, the projection's scale). \"Geodesic-vs-planar order\": different assets, each the nearest under its own tool's metric (checked with pyproj.Geod), which happens only far from any asset of a category with regional coverage; see benches/compare/nearest_geopandas.py."
  echo
  echo "### GapMap cold start"
  echo
  echo "| what | time | memory |"
  echo "|---|---|---|"
  echo "$COLD_ROW"
} > "$MD"
cat "$MD"
if [ "$FAIL" -ne 0 ]; then
  echo "ANSWERS DISAGREE (see $WORK/nearest.json, $WORK/tiles_check.log and the 'same ids' column)" >&2
  exit 1
fi
