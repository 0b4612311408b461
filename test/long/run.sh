#!/bin/bash
# Long versions of the reliability tests: the same TAP files as the suite,
# with bigger numbers, and their figures printed.  Run as root from the
# repository root after building; uses a copy of the tree owned by postgres.
#   bash test/long/run.sh [kill|load|fuzz|all]
#   KILL_ROUNDS (default 25), LOAD_SECONDS (600), FUZZ_CALLS (50000)
set -euo pipefail
what=${1:-all}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/pg_incremental_long.XXXXXX)
cp -a "$src"/. "$work"/ && rm -rf "$work/.git" "$work/tmp_check" && chown -R postgres "$work"

run() {
	local test=$1; shift
	echo "=== $test $*"
	runuser -u postgres -- env "$@" make -s -C "$work" prove-installcheck \
		PROVE_TESTS="$test" PROVE_FLAGS="-I test/tap" 2>&1 | grep -E '^# |^ok|^not ok|Result|Failed' || true
}

case $what in kill|all) run test/tap/100_kill_worker.pl INCREMENTAL_KILL_ROUNDS=${KILL_ROUNDS:-25} ;; esac
case $what in load|all) run test/tap/130_load.pl INCREMENTAL_LOAD_SECONDS=${LOAD_SECONDS:-600} ;; esac
case $what in fuzz|all) run test/tap/150_fuzz.pl INCREMENTAL_FUZZ_CALLS=${FUZZ_CALLS:-50000} ;; esac
echo "logs: $work/tmp_check/log"
