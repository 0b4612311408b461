#!/usr/bin/env bash
# Runs the pg_incremental test suite; this is what CI runs (.ci/run).
#
#   bash scripts/test.sh [all|regress|isolation|tap]     (default: all)
#
# Installs the dependencies, builds and installs the extension, copies the
# tree to a temporary directory owned by the postgres OS user and, as that
# user:
#   regress    pg_regress tests (test/regress/sql/*.sql)   } against a throwaway
#   isolation  isolation specs (test/isolation/specs/*.spec) } server, scheduler off
#   tap        TAP tests (test/tap/*.pl, and test/citus/*.pl, which need Citus);
#              each starts its own servers
# Counts: one per pg_regress test, one per isolation spec, one per TAP test
# *file* (a file fails if any of its assertions fails; a file that needs
# something absent, such as Citus, says so with skip_all and is counted as
# skipped, with its reason).  The last line of the output is
# "N passed, M failed, K skipped"; the exit status is non-zero when anything
# failed or nothing passed.  Outputs, diffs and logs are copied to log/test/.
#
# Environment: TEST_PORT (default 54329), TEST_LOG_DIR (default <repo>/log/test),
# PROVE_JOBS (run TAP files in parallel), KEEP_TMP=1 (keep the temporary dir).
set -euo pipefail

suite="${1:-all}"
case "$suite" in
	all | regress | isolation | tap) ;;
	-h | --help) sed -n '2,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) echo "test: unknown suite '$suite' (expected all, regress, isolation or tap)" >&2; exit 2 ;;
esac

scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
repo="$(cd "$scripts/.." && pwd -P)"
# shellcheck source=scripts/tmp-server.sh
source "$scripts/tmp-server.sh"

port="${TEST_PORT:-54329}"
log_dir="${TEST_LOG_DIR:-$repo/log/test}"
pg_config="$PG_BINDIR/pg_config"

suites=()
for s in regress isolation tap; do
	if [[ "$suite" == all || "$suite" == "$s" ]]; then
		suites+=("$s")
	fi
done

declare -A passed=() failed=() skipped=() unit=()
skip_reasons=()
unit[regress]="pg_regress tests"
unit[isolation]="isolation specs"
unit[tap]="TAP test files"

step() { printf '\n==> %s\n' "$*"; }

# Without dependencies or a build no test can run; still end with the line CI reads.
no_tests_ran() {
	echo "error: $1; no tests ran"
	echo "0 passed, 0 failed, 0 skipped"
	exit 1
}

step "Installing dependencies"
bash "$scripts/install-deps.sh" </dev/null || no_tests_ran "installing the dependencies failed"

step "Building and installing pg_incremental"
bash "$scripts/build.sh" </dev/null || no_tests_ran "the build failed"

work=""
tree=""
out_dir="" # this run's outputs, copied to $log_dir at exit
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
	local rc=$?
	tmp_server_stop
	if [[ -n "$tree" ]]; then
		stop_tap_servers
	fi
	if [[ -n "$out_dir" && -d "$out_dir" ]]; then
		save_outputs
	fi
	if [[ -n "$work" ]]; then
		if [[ "${KEEP_TMP:-0}" == 1 ]]; then
			echo "test: kept $work (KEEP_TMP=1)" >&2
		else
			rm -rf "$work"
		fi
	fi
	return "$rc"
}

# Outputs are written in the run's own directory, so that parsing never reads
# another run's files, and copied to $log_dir at exit, also after a failure.
# shellcheck disable=SC2317  # called from cleanup
save_outputs() {
	if [[ -f "$TS_LOG" ]]; then
		cp "$TS_LOG" "$out_dir/server.log"
	fi
	rm -rf "$log_dir"
	mkdir -p "$log_dir"
	cp -a "$out_dir/." "$log_dir/"
}

# A TAP test killed by the timeout cannot stop its own servers: stop every
# server whose data directory lies in our copy of the tree.
stop_tap_servers() {
	local pidfile
	while IFS= read -r pidfile; do
		as_postgres pg_ctl -D "$(dirname "$pidfile")" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
	done < <(find "$tree/tmp_check" -name postmaster.pid 2>/dev/null)
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "Copying the tree to a directory owned by postgres"
work="$(make_postgres_tmpdir pg_incremental-test)"
TS_HOME="$work"
tree="$work/tree"
mkdir "$tree"
# Like cp -a (build results and timestamps kept), minus git's data and the
# outputs of earlier test runs, which another run may be rewriting meanwhile.
tar -C "$repo" --anchored \
	--exclude=./.git --exclude=./log --exclude=./tmp_check \
	--exclude=./test/regress/results --exclude='./test/regress/regression.*' \
	--exclude=./test/isolation/results --exclude=./test/isolation/output_iso \
	--exclude='./test/isolation/regression.*' \
	-cf - . | tar -C "$tree" -xf -
if [[ $EUID -eq 0 ]]; then
	chown -R postgres:postgres "$tree"
fi
echo "test: working copy $tree"

out_dir="$work/outputs"
mkdir "$out_dir"

# Runs make in the working copy as postgres, bounded by a timeout, with the
# output shown and saved: run_make LOGFILE TIMEOUT [VAR=value]... -- TARGET [make args]
run_make() {
	local logfile="$1" limit="$2"
	shift 2
	local -a envs=()
	while [[ "$1" != "--" ]]; do
		envs+=("$1")
		shift
	done
	shift
	local rc=0
	as_postgres "${envs[@]}" timeout --kill-after=30 "$limit" \
		make -C "$tree" --no-print-directory PG_CONFIG="$pg_config" "$@" \
		</dev/null 2>&1 | tee "$logfile" || rc=$?
	if ((rc == 124 || rc == 137)); then
		echo "test: TIMEOUT: make $1 did not finish within $limit s" | tee -a "$logfile"
	fi
	return "$rc"
}

start_server() {
	step "Starting a throwaway server (scheduler off) on socket $work, port $port"
	tmp_server_init "$work" "$port" \
		"fsync = off" "synchronous_commit = off" "full_page_writes = off" \
		"max_prepared_transactions = 10" "log_min_messages = info"
	# incremental.enabled comes with the built-in scheduler.  Older builds do
	# not define it, and then the line is dropped again.
	tmp_server_conf_add "incremental.enabled = off"
	if ! tmp_server_start 2>/dev/null; then
		if grep -q 'incremental\.enabled' "$TS_LOG"; then
			echo "test: this build rejects incremental.enabled; starting without it"
			tmp_server_conf_remove incremental.enabled
			tmp_server_start
		else
			tmp_server_start # shows the log and fails
		fi
	fi
	local enabled
	enabled="$(tmp_server_value postgres \
		"SELECT setting FROM pg_settings WHERE name = 'incremental.enabled'")"
	if [[ "$enabled" == off ]]; then
		echo "test: server up, incremental.enabled = off"
	else
		echo "test: server up; this build has no incremental.enabled setting (no scheduler to turn off)"
		tmp_server_conf_remove incremental.enabled
		tmp_server_value postgres "SELECT pg_reload_conf()" >/dev/null
	fi
}

# pg_regress and pg_isolation_regress print one "... ok" or "... FAILED"
# line per test (PostgreSQL 15 format).
count_pg_regress_results() {
	local name="$1" logfile="$2" rc="$3"
	passed[$name]="$(grep -cE '\.\.\. +ok( |$)' "$logfile" || true)"
	failed[$name]="$(grep -cE '\.\.\. +(FAILED|failed)' "$logfile" || true)"
	if ((rc != 0 && failed[$name] == 0)); then
		echo "test: $name: the run failed before reporting a failed test; counting one failure"
		failed[$name]=1
	fi
}

run_pg_regress_suite() {
	local name="$1" outdir="$2"
	shift 2
	step "Running the $name suite"
	local logfile="$out_dir/$name.out" rc=0
	# make installcheck runs REGRESS, ISOLATION and TAP_TESTS: empty the other two.
	run_make "$logfile" 420 PGHOST="$work" PGPORT="$port" PGUSER=postgres -- \
		installcheck "$@" || rc=$?
	count_pg_regress_results "$name" "$logfile" "$rc"
	if [[ -f "$tree/$outdir/regression.diffs" ]]; then
		cp "$tree/$outdir/regression.diffs" "$out_dir/$name.diffs"
	fi
	if ((failed[$name] > 0)); then
		if [[ -f "$out_dir/$name.diffs" ]]; then
			echo "---- $name: first 200 lines of regression.diffs ($log_dir/$name.diffs) ----"
			head -n 200 "$out_dir/$name.diffs"
			echo "---- end of $name diffs ----"
		fi
		echo "---- last 50 lines of the server log ----"
		tail -n 50 "$TS_LOG" || true
		echo "---- end of server log ----"
	fi
}

# Reads prove's output: "Files=N, Tests=M" and, in the "Test Summary Report",
# one "<file> (Wstat: W ... Failed: F)" block per file with problems.
# Prints "FILES ASSERTIONS", then the failed files, one per line, sorted.
# (Skipped files are read by list_skipped_files.)
parse_prove_output() {
	awk '
		/^Files=[0-9]+, Tests=[0-9]+/ {
			split($0, a, /[=,]/); files = a[2] + 0; tests = a[4] + 0
		}
		/^Test Summary Report/ { in_report = 1; next }
		in_report && /^[^ ].*\.pl +\(Wstat: / {
			current = $1
			w = $0; sub(/.*Wstat: /, "", w); sub(/[^0-9].*/, "", w)
			f = $0; sub(/.*Failed: /, "", f); sub(/[^0-9].*/, "", f)
			if (w + 0 != 0 || f + 0 != 0) bad[current] = 1
			next
		}
		in_report && current != "" && /^ +Parse errors:/ { bad[current] = 1 }
		END {
			print files + 0, tests + 0
			n = 0
			for (b in bad) names[++n] = b
			# insertion sort: output does not depend on awk hash order
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && names[j - 1] > names[j]; j--) {
					t = names[j]; names[j] = names[j - 1]; names[j - 1] = t
				}
			for (i = 1; i <= n; i++) print names[i]
		}' "$1"
}

# Prints "<file>: <reason>" for every TAP file that skipped all its tests
# (prove: "[hh:mm:ss] test/tap/x.pl .... skipped: reason").
list_skipped_files() {
	sed -n -E 's/^(\[[0-9:]+\] )?(test\/(tap|citus)\/[^ ]+\.pl) \.+ skipped: ?(.*)$/\2: \4/p' "$1" | sort
}

run_tap_suite() {
	step "Running the tap suite"
	local -a files=()
	local f
	for f in "$tree"/test/tap/*.pl "$tree"/test/citus/*.pl; do
		[[ -e "$f" ]] && files+=("${f#"$tree"/}")
	done
	passed[tap]=0
	failed[tap]=0
	skipped[tap]=0
	if ((${#files[@]} == 0)); then
		echo "test: no TAP test files (test/tap/*.pl); nothing to run"
		return 0
	fi

	local logfile="$out_dir/tap.out" rc=0
	local -a envs=(HARNESS_TIMER=1)
	if [[ -n "${PROVE_JOBS:-}" ]]; then
		envs+=("HARNESS_OPTIONS=j$PROVE_JOBS")
	fi
	run_make "$logfile" 900 "${envs[@]}" -- prove-installcheck || rc=$?
	stop_tap_servers
	if [[ -d "$tree/tmp_check/log" ]]; then
		cp -a "$tree/tmp_check/log" "$out_dir/tap-logs"
	fi

	local -a lines bad_files
	mapfile -t lines < <(parse_prove_output "$logfile")
	local nfiles nasserts
	read -r nfiles nasserts <<<"${lines[0]}"
	bad_files=("${lines[@]:1}")

	if ((nfiles != ${#files[@]})); then
		# prove did not finish (timeout, crash or a test's BAIL_OUT): a file
		# passed only if it said so; files that never ran count as failed.
		echo "test: tap: prove reported $nfiles of ${#files[@]} files; files without an \"ok\" count as failed"
		bad_files=()
		for f in "${files[@]}"; do
			grep -qE "(^|\] )${f//./\\.} \.+ (ok|skipped)" "$logfile" || bad_files+=("$f")
		done
	fi
	local -a skipped_files=()
	mapfile -t skipped_files < <(list_skipped_files "$logfile")
	failed[tap]=${#bad_files[@]}
	skipped[tap]=${#skipped_files[@]}
	passed[tap]=$((${#files[@]} - failed[tap] - skipped[tap]))
	skip_reasons+=("${skipped_files[@]}")
	if ((rc != 0 && failed[tap] == 0)); then
		echo "test: tap: prove failed without naming a failed file; counting one failure"
		failed[tap]=1
	fi
	unit[tap]="TAP test files, $nasserts assertions"

	local base logf
	for f in "${bad_files[@]}"; do
		base="${f##*/}"
		base="${base%.pl}"
		echo "---- $f: last 200 lines of tmp_check/log/regress_log_$base ----"
		tail -n 200 "$tree/tmp_check/log/regress_log_$base" 2>/dev/null || echo "(no log)"
		for logf in "$tree/tmp_check/log/${base}"_*.log; do
			[[ -e "$logf" ]] || continue
			echo "---- $f: last 60 lines of ${logf##*/} ----"
			tail -n 60 "$logf"
		done
		echo "---- end of $f logs ----"
	done
}

for s in "${suites[@]}"; do
	if [[ "$s" != tap ]] && ! tmp_server_is_running; then
		start_server
	fi
	case "$s" in
		regress) run_pg_regress_suite regress test/regress ISOLATION= TAP_TESTS= ;;
		isolation) run_pg_regress_suite isolation test/isolation REGRESS= TAP_TESTS= ;;
		tap)
			# The TAP tests start their own servers; ours is no longer needed.
			tmp_server_stop
			run_tap_suite
			;;
	esac
done

if tmp_server_is_running; then
	tmp_server_stop
fi

total_passed=0
total_failed=0
total_skipped=0
echo ""
echo "==== pg_incremental test summary ===="
for s in "${suites[@]}"; do
	printf '%-10s %5d passed, %d failed, %d skipped  (%s)\n' "$s" "${passed[$s]}" \
		"${failed[$s]}" "${skipped[$s]:-0}" "${unit[$s]}"
	total_passed=$((total_passed + passed[$s]))
	total_failed=$((total_failed + failed[$s]))
	total_skipped=$((total_skipped + ${skipped[$s]:-0}))
done
for r in "${skip_reasons[@]+"${skip_reasons[@]}"}"; do
	echo "skipped: $r"
done
echo "outputs and logs: $log_dir"
status=0
if ((total_failed > 0)); then
	status=1
elif ((total_passed == 0)); then
	echo "error: no tests ran"
	status=1
fi
echo "$total_passed passed, $total_failed failed, $total_skipped skipped"
exit "$status"
