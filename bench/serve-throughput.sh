#!/usr/bin/env bash
# Aggregate decode throughput of `sharpseek serve` with 1 and with N concurrent requests (continuous batching).
# usage: [CHAT_FORMAT=chatml] bench/serve-throughput.sh MODEL [MAX_TOKENS=128] [STREAMS=8]   (build first: dotnet build -c Release src/SharpSeek.Cli)
# Prints tokens generated, wall seconds and tokens/s for each case; the client wall clock includes HTTP and prefill.
set -euo pipefail
model=$1; max=${2:-128}; streams=${3:-8}; port=${PORT:-18765}
cli="$(dirname "$0")/../src/SharpSeek.Cli/bin/Release/net10.0/sharpseek"
if curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1; then echo "port $port is already serving; set PORT" >&2; exit 1; fi
"$cli" serve --model "$model" --host 127.0.0.1 --port "$port" --parallel "$streams" --ctx 1024 ${CHAT_FORMAT:+--chat-format "$CHAT_FORMAT"} > /dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/ready" > /dev/null 2>&1 && break   # /health answers before the model is loaded
  kill -0 $pid 2>/dev/null || { echo "sharpseek serve exited (a model without a chat template needs CHAT_FORMAT=chatml)" >&2; exit 1; }
  sleep 0.5
done

request() {
  curl -sf "http://127.0.0.1:$port/v1/chat/completions" -H 'content-type: application/json' \
    -d "{\"messages\":[{\"role\":\"user\",\"content\":\"Write story number $1.\"}],\"max_tokens\":$max,\"temperature\":0,\"ignore_eos\":true}" \
    | grep -o '"completion_tokens":[0-9]*' | cut -d: -f2
}

run() {
  local n=$1 start end total=0 f
  f=$(mktemp)
  start=$(date +%s.%N)
  for i in $(seq 1 "$n"); do request "$i" >> "$f" & done
  for j in $(jobs -p); do [ "$j" = "$pid" ] || wait "$j" || true; done
  end=$(date +%s.%N)
  while read -r t; do total=$((total + t)); done < "$f"
  rm -f "$f"
  awk -v n="$n" -v t="$total" -v s="$start" -v e="$end" 'BEGIN { printf "%d stream(s): %d tokens in %.2f s = %.1f tok/s aggregate\n", n, t, e - s, t / (e - s) }'
}

request 0 > /dev/null   # warm-up: JIT and first pages
run 1
run "$streams"
