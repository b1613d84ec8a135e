#!/usr/bin/env bash
# Run the test suite N times with two CPU-burning processes alongside, and report failures.
#
#   scripts/stress_tests.sh [RUNS] [extra pytest arguments...]
#   RUNS=10 scripts/stress_tests.sh          # the same (default 10 runs)
#
# The burners are plain busy loops (one per core of a 2-core machine), started before the
# first run and killed (by their own process ids) when the script ends, however it ends.
# Each run's output is kept in $STRESS_DIR (default: a new temporary folder); the summary
# lists every run that failed and the failing test ids. Exit code: the number of failed runs
# (capped at 100), so 0 means every run passed.
set -u

runs="${1:-${RUNS:-10}}"
[ $# -gt 0 ] && shift
out="${STRESS_DIR:-$(mktemp -d -t spinewatch-stress-XXXXXX)}"
mkdir -p "$out"
cd "$(dirname "$0")/.."

burners=()
cleanup() {
    for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # (the EXIT trap then stops the burners)
for _ in 1 2; do
    ( while :; do :; done ) &
    burners+=("$!")
done

failed=0
echo "stress: $runs runs with ${#burners[@]} CPU burners (pids ${burners[*]}); logs in $out"
for i in $(seq 1 "$runs"); do
    start=$(date +%s)
    # (pyproject's addopts already has -q: a second -q would drop the pass/fail count line)
    uv run pytest -p no:cacheprovider "$@" >"$out/run$i.log" 2>&1
    code=$?
    took=$(($(date +%s) - start))
    # pytest's last line: "N passed, M skipped, ... in T s" (or "K failed, N passed ...").
    summary=$(grep -E '^[0-9]+ (passed|failed|errors?|skipped)|no tests ran' "$out/run$i.log" | tail -n 1)
    [ -n "$summary" ] || summary=$(tail -n 1 "$out/run$i.log")
    if [ "$code" -eq 0 ]; then
        echo "run $i/$runs: passed in ${took} s  ($summary)"
    else
        failed=$((failed + 1))
        echo "run $i/$runs: FAILED (exit $code) in ${took} s  ($summary)"
        grep -E '^(FAILED|ERROR) ' "$out/run$i.log" | sed 's/^/    /'
    fi
done
echo "stress: $failed of $runs runs failed (logs in $out)"
exit $((failed > 100 ? 100 : failed))
