#!/usr/bin/env bash
# Load test of the OGC API – Features endpoints with wrk (loopback only).
#
# Starts the release server on a free port, runs wrk against
#   1. /collections/lsoa/items?limit=1000           (every LSOA, ~all geometry)
#   2. /collections/lsoa/items?bbox=...&limit=100   (a bbox query, Blackbird Leys)
# at 1, 16 and 64 connections for DURATION seconds each, and prints
# requests/s with p50 and p99 latency. The server is stopped on exit.
#
# Usage: benches/load.sh            (DURATION=10 THREADS=2 by default)
# Needs: wrk (apt-get install -y wrk), the data in ../shared/geodata.
set -euo pipefail

cd "$(dirname "$0")/.."
DURATION="${DURATION:-10}"
THREADS="${THREADS:-2}"
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }

cargo build --release --quiet
LOG="$(mktemp)"
# Request logging at info would time stderr writes, not the API.
GAPMAP_LOG=warn ./target/release/gapmap serve --bind 127.0.0.1:0 --quiet >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -f "$LOG"' EXIT

URL=""
for _ in $(seq 1 600); do
  URL="$(sed -n 's/^GapMap serving .* at \(http:\/\/[^ ]*\/\)$/\1/p' "$LOG" | head -n1)"
  [ -n "$URL" ] && break
  kill -0 "$SERVER" 2>/dev/null || { echo "server exited:" >&2; cat "$LOG" >&2; exit 1; }
  sleep 1
done
[ -n "$URL" ] || { echo "server did not start in 10 minutes" >&2; exit 1; }
case "$URL" in http://127.0.0.1:*) ;; *) echo "refusing non-loopback URL $URL" >&2; exit 1;; esac
echo "server: $URL  (wrk ${DURATION}s per run, ${THREADS} threads; $(nproc) cores shared with wrk)"

ITEMS="${URL}collections/lsoa/items?limit=1000"
BBOX="${URL}collections/lsoa/items?bbox=-1.215,51.705,-1.185,51.725&limit=100"
printf '%-8s %-6s %12s %10s %10s %12s\n' query conns "req/s" p50 p99 "MB/s"
for name in items bbox; do
  if [ "$name" = items ]; then target="$ITEMS"; else target="$BBOX"; fi
  # Size of one response, for context.
  bytes=$(curl -s "$target" | wc -c)
  for c in 1 16 64; do
    t=$THREADS; [ "$c" -lt "$t" ] && t=$c
    out="$(wrk -t"$t" -c"$c" -d"${DURATION}s" --latency "$target")"
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    mbs=$(awk '/^Transfer\/sec/ {print $2}' <<<"$out")
    errs=$(grep -E "Non-2xx|Socket errors" <<<"$out" || true)
    printf '%-8s %-6s %12s %10s %10s %12s  (%s bytes/response) %s\n' "$name" "$c" "$rps" "$p50" "$p99" "$mbs" "$bytes" "$errs"
  done
done
