#!/usr/bin/env bash
# The side-by-side table of docs/PERFORMANCE.md: makes the random-weight GGUFs (once) and runs the A/B compare on each.
# usage: bench/compare-all.sh [DIR=/tmp/sharpseek-bench]   env: PP=512 TG=128 THREADS=2 REPS=5 MODELS="qwen2-1.5b:Q8_0 ..."
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp/sharpseek-bench}
models=${MODELS:-"qwen2-1.5b:Q8_0 qwen2-1.5b:Q4_0 qwen2-1.5b:Q4_K_M deepseek-v2-lite:Q4_0"}
dotnet build -c Release bench/SharpSeek.Bench > /dev/null
bench=bench/SharpSeek.Bench/bin/Release/net10.0/SharpSeek.Bench.dll
mkdir -p "$dir"
for m in $models; do
  f="$dir/${m%%:*}-${m##*:}.gguf"
  [ -f "$f" ] || dotnet "$bench" make-model "${m%%:*}" "${m##*:}" "$f"
done
[ "${MAKE_ONLY:-0}" = 1 ] && exit 0
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for m in $models; do
  dotnet "$bench" compare "$dir/${m%%:*}-${m##*:}.gguf" "${PP:-512}" "${TG:-128}" "${THREADS:-2}" "${REPS:-5}"
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
done
