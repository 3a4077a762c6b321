#!/usr/bin/env bash
# Clean release build time of each backend binary, one at a time, each in its own empty target
# directory (so shared crates are rebuilt every time, as on a fresh clone). Prints seconds.
# usage: scripts/build-times.sh [backend ...]   (default: every backend, as `bench backends` lists them)
set -euo pipefail
cd "$(dirname "$0")/.."
backends=("$@")
[ ${#backends[@]} -gt 0 ] || mapfile -t backends < <(cargo run --quiet --release -p bench -- backends)
cargo fetch --quiet
for backend in "${backends[@]}"; do
  dir=$(mktemp -d)
  start=$(date +%s.%N)
  CARGO_TARGET_DIR="$dir" cargo build --release --quiet -p "backend-$backend"
  end=$(date +%s.%N)
  printf '%-8s %6.0f s\n' "$backend" "$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')"
  rm -rf "$dir"
done
