#!/usr/bin/env bash
# Is sitebench's load generator fast enough? Runs it and wrk (Debian package `wrk`) against the
# same backend on `plaintext`, with the same connections and pinning (server on one core, the
# client on another), alternating three times, and prints both medians and their ratio.
# BENCH.md asks for a ratio of at least 0.9. Installs nothing.
#
# usage: scripts/compare-with-wrk.sh [backend ...]   (default: every backend, as `bench backends` lists them)
# env:   SECONDS_PER_RUN (10), CONNECTIONS (64), SERVER_CPU (0), CLIENT_CPU (1), ROUNDS (3)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk is not installed (Debian: apt-get install wrk); nothing to compare against." >&2
  exit 1
fi
backends=("$@")
[ ${#backends[@]} -gt 0 ] || mapfile -t backends < <(cargo run --quiet --release -p bench -- backends)
secs=${SECONDS_PER_RUN:-10}
conns=${CONNECTIONS:-64}
server_cpu=${SERVER_CPU:-0}
client_cpu=${CLIENT_CPU:-1}
rounds=${ROUNDS:-3}

packages=(-p bench)
for b in "${backends[@]}"; do packages+=(-p "backend-$b"); done
cargo build --release --quiet "${packages[@]}"
target=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
trap 'kill "${server_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-8s %12s %12s %8s\n' backend "wrk req/s" "bench req/s" ratio
for backend in "${backends[@]}"; do
  taskset -c "$server_cpu" "$target/release/backend-$backend" --port 0 --quiet --workers 1 \
    --database "$work/$backend.db" >"$work/$backend.out" 2>"$work/$backend.err" &
  server_pid=$!
  for _ in $(seq 100); do grep -q listening "$work/$backend.out" && break; sleep 0.1; done
  url=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$work/$backend.out")
  [ -n "$url" ] || { echo "backend-$backend did not start: $(cat "$work/$backend.err")" >&2; exit 1; }
  wrk_rates=(); bench_rates=()
  for round in $(seq "$rounds"); do
    rate=$(taskset -c "$client_cpu" wrk -t1 -c"$conns" -d"${secs}s" "$url/plaintext" | awk '/Requests\/sec/ {print $2}')
    wrk_rates+=("$rate")
    out="$work/$backend-$round"
    "$target/release/bench" run --url "$url" --scenarios plaintext --connections "$conns" \
      --client-cpus "$client_cpu" --server-cpus "$server_cpu" --duration "$secs" --warmup 1 --repeat 1 \
      --out "$out" >/dev/null 2>&1 || true
    rate=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["backends"][0]["scenarios"][0]["summary"]["requests_per_sec"]["median"])' "$out/report.json")
    bench_rates+=("$rate")
  done
  kill -TERM "$server_pid"; wait "$server_pid" || true
  w=$(median "${wrk_rates[@]}"); b=$(median "${bench_rates[@]}")
  printf '%-8s %12.0f %12.0f %8.3f   (wrk: %s; bench: %s)\n' "$backend" "$w" "$b" "$(awk -v b="$b" -v w="$w" 'BEGIN {print b / w}')" \
    "${wrk_rates[*]}" "${bench_rates[*]}"
done
