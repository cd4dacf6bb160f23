#!/usr/bin/env bash
# Benchmark: access (nearest-asset distances for every LSOA x category, from
# every postcode), 2SFCA and the gap query for all of England.
#
# Reports the load time, the analysis time (printed by `gapmap gaps --timings`)
# and the peak memory (from /usr/bin/time -v when available, and the
# process's own VmHWM).
#
# Usage: benches/access_england.sh [data-dir]   (default ../shared/geodata)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR="${1:-${GAPMAP_DATA_DIR:-../shared/geodata}}"
cargo build --release --quiet
BIN=target/release/gapmap
ARGS=(gaps --region england --data-dir "$DATA_DIR" --quiet --timings
      --category gp_practice --max-decile 1 --min-distance-m 1600 --format csv)
OUT=$(mktemp)
trap 'rm -f "$OUT" "$OUT.time"' EXIT
start=$(date +%s.%N)
if [ -x /usr/bin/time ]; then
  /usr/bin/time -v "$BIN" "${ARGS[@]}" >"$OUT" 2>"$OUT.time"
else
  "$BIN" "${ARGS[@]}" >"$OUT" 2>"$OUT.time"
fi
end=$(date +%s.%N)
grep -E '^atlas ' "$OUT.time" || true
grep -E 'Maximum resident set size|Elapsed \(wall clock\)' "$OUT.time" || true
echo "gap rows (GP practices, IMD decile 1, mean >= 1.6 km): $(($(wc -l <"$OUT") - 1))"
echo "total wall time: $(echo "$end - $start" | bc) s"
