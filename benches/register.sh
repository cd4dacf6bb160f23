#!/usr/bin/env bash
# Register benchmarks (issue 11), release build, on the real data:
#   write -> /gaps latency (median, p99), then sustained writes/s while wrk
#   reads /collections/lsoa/items at full speed (readers' latency from wrk).
# Usage: bash benches/register.sh [--region england] [--register postgresql://...]
#        [--writers 8] [--seconds 15] [--samples 30]
set -euo pipefail
cd "$(dirname "$0")/.."
REGION=() STORE=() PYARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --region) REGION=(--region "$2"); shift 2 ;;
    --register) STORE=(--register "$2"); shift 2 ;;
    *) PYARGS+=("$1"); shift ;;
  esac
done
# GAPMAP_BIN overrides the binary (e.g. a dev build for a quick look).
BIN=${GAPMAP_BIN:-target/release/gapmap}
[ -n "${GAPMAP_BIN:-}" ] || cargo build --release --bin gapmap -q
STATE=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$STATE"' EXIT
[ ${#STORE[@]} -eq 0 ] && STORE=(--state-dir "$STATE")
TOKEN=$($BIN token add --name "bench-$$" --role editor "${STORE[@]}" 2>/dev/null)
$BIN serve --bind 127.0.0.1:0 --quiet "${REGION[@]}" "${STORE[@]}" >"$STATE/out" 2>"$STATE/log" &
PID=$!
for _ in $(seq 600); do grep -q "GapMap serving" "$STATE/out" 2>/dev/null && break; sleep 0.5; done
URL=$(grep -o 'http://[^/]*' "$STATE/out" | head -1)
echo "server $URL (${REGION[*]:-oxfordshire}, store ${STORE[*]})"
python3 benches/register_load.py --url "$URL" --token "$TOKEN" --skip-writes "${PYARGS[@]}"
if command -v wrk >/dev/null; then
  wrk -t2 -c8 -d20s --latency "$URL/collections/lsoa/items?limit=10" >"$STATE/wrk" &
  WRK=$!
  sleep 2
  python3 benches/register_load.py --url "$URL" --token "$TOKEN" --samples 1 "${PYARGS[@]}" | tail -1
  wait $WRK
  echo "readers (wrk, 8 connections, during the writes):"
  grep -E "Requests/sec|50%|99%" "$STATE/wrk"
fi
