#!/usr/bin/env bash
# Benchmark (not a test), issue 16 target 3: how soon a server is ready and
# how much memory it holds under load.
#   bash benches/ready.sh [region] [runs] [load seconds]   default: england 3 60
# Per run: the time from process start to the first 200 on
# /collections/lsoa/items (the atlas loaded, the analysis done, every
# collection answerable), then a mixed load (wrk on items pages, bbox,
# single features of each collection, wards/districts, /gaps, a ward
# profile, tiles) for the given seconds, and the peak RSS (VmHWM) over the
# whole run. Release build; writes target/bench/ready_<region>.md.
# The first run starts with an empty cache directory, so it loads every
# source and writes the prepared atlas; the others read it back (the
# "from" column says which). GAPMAP_BENCH_NO_CACHE=1 runs every start-up
# from the sources (`serve --no-cache`).
# Environment: GAPMAP_BENCH_PORT (default 28473); GAPMAP_BENCH_BIN, a
# gapmap binary to measure instead of building target/release/gapmap (e.g.
# another checkout's, for a before/after); GAPMAP_BENCH_OUT, the table's path.
set -euo pipefail
cd "$(dirname "$0")/.."
region=${1:-england}
runs=${2:-3}
load=${3:-60}
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }
bin=${GAPMAP_BENCH_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --quiet --bin gapmap
  bin=./target/release/gapmap
fi
mkdir -p target/bench
out=${GAPMAP_BENCH_OUT:-target/bench/ready_${region}.md}
port=${GAPMAP_BENCH_PORT:-28473}
base=http://127.0.0.1:$port
{
  echo "| run | from | ready s | CPU s at ready | RSS at ready MiB | peak RSS MiB (${load} s mixed load) | load req/s |"
  echo "|---|---|---|---|---|---|---|"
} > "$out"
readies=()
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
for i in $(seq 1 "$runs"); do
  state=$(mktemp -d)
  if [ -n "${GAPMAP_BENCH_NO_CACHE:-}" ]; then
    caching=(--no-cache); from=sources
  else
    caching=(--cache-dir "$cache")
    if [ -e "$cache/atlas-$region.bin" ]; then from=prepared; else from=sources; fi
  fi
  start=$(date +%s.%N)
  "$bin" serve --quiet --region "$region" --bind "127.0.0.1:$port" \
    --state-dir "$state" --max-connections-per-peer 4096 "${caching[@]}" >"$state/log" 2>&1 &
  pid=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/collections/lsoa/items?limit=1" || true)" = 200 ]; do
    kill -0 "$pid" 2>/dev/null || { cat "$state/log" >&2; exit 1; }
    sleep 0.05
  done
  ready=$(echo "$(date +%s.%N) - $start" | bc)
  ready=$(printf '%.2f' "$ready")
  rss_ready=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status")
  # User + system CPU to ready: the work done, less sensitive than the wall
  # time to how busy the machine is.
  cpu_ready=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$pid/stat")
  total=0
  pids=()
  tmp=$(mktemp -d)
  n=0
  for q in "collections/lsoa/items?limit=100" "collections/lsoa/items?limit=1000" \
    "collections/lsoa/items?bbox=-1.30,51.70,-1.20,51.78" "collections/lsoa-2011/items?limit=100" \
    "collections/wards/items?limit=100" "collections/districts/items" \
    "collections/assets/items?limit=500" "gaps?category=gp_practice" \
    "collections/lsoa/tiles/WebMercatorQuad/8/127/85" "collections/districts/tiles/WebMercatorQuad/6/31/21"; do
    n=$((n + 1))
    wrk -t1 -c4 -d"${load}s" --timeout 30s -H 'Accept-Encoding: gzip, deflate, br, zstd' \
      "$base/$q" >"$tmp/$n" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
  for f in "$tmp"/*; do
    r=$(awk '/Requests\/sec/ {print $2}' "$f")
    total=$(echo "$total + ${r:-0}" | bc)
  done
  peak=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  # The start-up phases the server logged (atlas, analysis, collections).
  grep -E 'ready|listening' "$state/log" | sed 's/\x1b\[[0-9;]*m//g' >&2 || true
  echo "| $i | $from | $ready | $cpu_ready | $rss_ready | $peak | $(printf '%.0f' "$total") |" >> "$out"
  # The median is of start-ups like the last ones (from the prepared atlas
  # unless caching is off).
  [ "$i" -eq 1 ] && [ "$runs" -gt 1 ] && [ -z "${GAPMAP_BENCH_NO_CACHE:-}" ] || readies+=("$ready")
  rm -rf "$state" "$tmp"
done
median=$(printf '%s\n' "${readies[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "| median | $from | $median | | | | |" >> "$out"
# The machine's load matters to every figure above: say what it was.
echo "" >> "$out"
echo "Load average at the end (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores." >> "$out"
cat "$out"
