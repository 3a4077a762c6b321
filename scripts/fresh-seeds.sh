#!/usr/bin/env bash
# The randomised tests with fresh seeds, outside CI (which fixes every seed, .cargo/config.toml
# and scripts/schemathesis.sh): the core's proptest properties with a new seed and more cases,
# then schemathesis with a new seed and a time budget per run. Each prints its seed, so
# whatever it finds can be replayed; a finding becomes a check or a regression file, and the
# fixed seeds stay as they are.
#
#   scripts/fresh-seeds.sh [backend...]      (schemathesis's backends; default: all)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

seed=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
cases=${PROPTEST_CASES:-2048}
echo "== proptest with seed $seed, $cases cases per property (replay: PROPTEST_RNG_SEED=$seed PROPTEST_CASES=$cases cargo test -p site-core)"
status=0
PROPTEST_RNG_SEED=$seed PROPTEST_CASES=$cases cargo test --quiet -p site-core || status=1

echo "== schemathesis with a fresh seed"
scripts/schemathesis.sh --random "$@" || status=1
exit "$status"
