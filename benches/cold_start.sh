#!/usr/bin/env bash
# Benchmark (not a test): time and peak memory of loading, joining and
# indexing a region with `gapmap check` (release build).
#   bash benches/cold_start.sh [region] [runs]     default: england 3
# Prints wall time, CPU time (user + system) and peak RSS per run, and the
# median and best wall time; writes target/bench/cold_start_<region>.md.
# On a shared 2-core VM the same run varies by a quarter from one minute to
# the next (CPU time varies with it), hence several runs and the best.
set -euo pipefail
cd "$(dirname "$0")/.."
region=${1:-england}
runs=${2:-3}
cargo build --release --quiet --bin gapmap
mkdir -p target/bench
out=target/bench/cold_start_${region}.md
{
  echo "| run | wall s | CPU s | peak RSS MiB |"
  echo "|---|---|---|---|"
} > "$out"
walls=()
for i in $(seq 1 "$runs"); do
  log=$(mktemp)
  /usr/bin/time -f "%e %M %U %S" -o "$log.time" ./target/release/gapmap check --quiet --region "$region" > "$log"
  read -r wall kb user sys < "$log.time"
  mib=$((kb / 1024))
  cpu=$(echo "$user + $sys" | bc)
  echo "| $i | $wall | $cpu | $mib |" >> "$out"
  walls+=("$wall")
  if [ "$i" -eq 1 ]; then sed -n '/Load time per step/,$p' "$log"; fi
  rm -f "$log" "$log.time"
done
median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
best=$(printf '%s\n' "${walls[@]}" | sort -n | head -n1)
echo "| median | $median | | |" >> "$out"
echo "| best | $best | | |" >> "$out"
cat "$out"
