#!/usr/bin/env bash
# Run every test runner, show its output, and close with one line:
# "N passed, N failed". Unit tests run in the normal and the sanitizer
# build; the HTTP tests drive the sanitizer build of the server; the
# browser tests drive the normal build.
set -uo pipefail
cd "$(dirname "$0")/.."

export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="abort_on_error=0:detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp"
export STOCKROOM_CORPUS="${STOCKROOM_CORPUS:-$PWD/../shared/corpus}"
jobs=$(nproc 2>/dev/null || echo 2)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

passed=0
failed=0

# Add up one runner's closing counts; a runner that crashed before
# printing them counts as one failure.
tally() {
    local log=$1 rc=$2 p f
    p=$(grep -Eo '\[  PASSED  \] [0-9]+' "$log" | awk '{s+=$4} END {print s+0}')
    f=$(grep -Eo '\[  FAILED  \] [0-9]+' "$log" | awk '{s+=$4} END {print s+0}')
    if grep -q '^# pass ' "$log"; then
        p=$((p + $(awk '/^# pass /{s+=$3} END {print s+0}' "$log")))
        f=$((f + $(awk '/^# fail /{s+=$3} END {print s+0}' "$log")))
    fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "!! $log exited with status $rc without reporting a failure"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
}

run_all() {
    local label=$1; shift
    local i=0
    for t in "$@"; do
        [ -x "$t" ] || continue
        i=$((i + 1))
        echo "$t" >"$out/$label.$i.name"
        ( "$t" >"$out/$label.$i.log" 2>&1; echo $? >"$out/$label.$i.rc" ) &
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    done
    wait
    for n in $(seq 1 "$i"); do
        echo "=== $(cat "$out/$label.$n.name")"
        cat "$out/$label.$n.log"
        tally "$out/$label.$n.log" "$(cat "$out/$label.$n.rc")"
    done
}

run_all unit build/tests/unit/test_*
run_all unit-asan build/asan/tests/unit/test_*
STOCKROOM_BIN=$PWD/build/asan/stockroom run_all http build/tests/http/test_*
# Under ThreadSanitizer: the ledger and catalogue with their racing threads,
# and concurrent sales over HTTP. The upload tests are left out: libvips
# under TSan runs them past their deadlines on two cores.
run_all unit-tsan build/tsan/tests/unit/test_ledger* \
    build/tsan/tests/unit/test_cat*
STOCKROOM_BIN=$PWD/build/tsan/stockroom run_all http-tsan \
    build/tests/http/test_money_crash

# --- Fuzzing (issue 10, item 8) ---------------------------------------------
# Each libFuzzer target replays its seeds (tests/fuzz/corpus/NAME, which keep
# every crash ever found) and then fuzzes for FUZZ_SMOKE_SECONDS; each target
# is one pass or one failure. New inputs go to a scratch corpus; a crash
# input is kept in build/fuzz/crashes.
fuzz_all() {
    local secs=${FUZZ_SMOKE_SECONDS:-4} i=0 t n
    mkdir -p build/fuzz/crashes
    for t in build/fuzz/tests/fuzz/fuzz_*; do
        [ -x "$t" ] || continue
        i=$((i + 1))
        n=${t##*/fuzz_}
        echo "$t" >"$out/fuzz.$i.name"
        mkdir -p "$out/fuzz.$n"
        ( "$t" -max_total_time="$secs" -print_final_stats=1 \
              -artifact_prefix="build/fuzz/crashes/$n-" \
              "$out/fuzz.$n" "tests/fuzz/corpus/$n" >"$out/fuzz.$i.log" 2>&1
          echo $? >"$out/fuzz.$i.rc" ) &
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    done
    wait
    for n in $(seq 1 "$i"); do
        echo "=== $(cat "$out/fuzz.$n.name")"
        if [ "$(cat "$out/fuzz.$n.rc")" -eq 0 ]; then
            grep -E '^(Done|stat::number_of_executed_runs)' "$out/fuzz.$n.log"
            echo "# pass 1" >>"$out/fuzz.$n.log"
        else
            cat "$out/fuzz.$n.log"
            echo "# fail 1" >>"$out/fuzz.$n.log"
        fi
        tally "$out/fuzz.$n.log" 0
    done
}
fuzz_all
# --- end of fuzzing ---------------------------------------------------------

if [ -f tests/browser/run.mjs ]; then
    echo "=== browser tests"
    STOCKROOM_BIN=$PWD/build/stockroom node --test tests/browser/ \
        >"$out/browser.log" 2>&1
    rc=$?
    cat "$out/browser.log"
    tally "$out/browser.log" $rc
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
