#!/usr/bin/env bash
# Runs every benchmark of bench/ in turn and prints one line of figures per
# benchmark as it goes, then a summary table (figure, measured, target, the
# original pg_incremental 1.3 + pg_cron 1.4 as quoted in issue 6, verdict).
# Each benchmark starts its own throwaway server (127.0.0.1, a free port) with
# pg_incremental preloaded, and is bounded by a timeout; the whole run takes
# about 13 minutes on 2 cores, --quick about 3.  Benchmarks never fail: this
# script exits 0 whatever it measures, and says when a benchmark did not
# complete.
#
# The full output goes to bench/results/latest.log, the summary table (in
# Markdown, with the machine it ran on) to bench/results/latest.md (quick.*
# with --quick, *-dsn.* with --dsn, so a smoke run keeps the full results).
#
#   bash bench/run.sh [--quick] [--dsn CONNSTR] [benchmark...]
#
# benchmark: overhead noop freshness ingest scale growth monitoring
# continuous_views streams citus citus_backlog (default: all; the citus ones measure only where Citus
# is installed).  With --dsn, the SQL-API workloads run
# against that server instead (monitoring, which needs its own server, is
# skipped; continuous_views reads n/a on a server without them).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
bench_parse_args "$@"
opts=()
bench_quick && opts+=(--quick)
[[ -n $BENCH_DSN ]] && opts+=(--dsn "$BENCH_DSN")
all=(overhead noop freshness ingest scale growth monitoring continuous_views streams citus citus_backlog)
which=("${BENCH_ARGS[@]+"${BENCH_ARGS[@]}"}")
((${#which[@]})) || which=("${all[@]}")
declare -A limit=([overhead]=330 [noop]=90 [freshness]=200 [ingest]=240 [scale]=180 [growth]=240 [monitoring]=150 [continuous_views]=300 [streams]=900 [citus]=400 [citus_backlog]=300)

results="$here/results"
mkdir -p "$results"
name=latest
bench_quick && name=quick
[[ -n $BENCH_DSN ]] && name="$name-dsn"
log="$results/$name.log"
md="$results/$name.md"

machine() {
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr)"
	echo "- PostgreSQL: $("$PG_BINDIR/postgres" --version | sed 's/.*) //'); pg_incremental at git $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') (the installed library)"
}

start=$(now_s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
{
	echo "pg_incremental benchmarks$(bench_quick && echo ' (--quick)')"
	machine
	echo "- load average at start: $load_start"
} | tee "$log"

for b in "${which[@]}"; do
	script="$here/$b.sh"
	if [[ ! -f $script ]]; then
		echo "unknown benchmark $b" | tee -a "$log"
		continue
	fi
	args=("${opts[@]+"${opts[@]}"}")
	if [[ $b == monitoring ]]; then
		if [[ -n $BENCH_DSN ]]; then
			echo "monitoring: skipped with --dsn" | tee -a "$log"
			continue
		fi
		args=()
		bench_quick && args=(3000)
	fi
	echo | tee -a "$log"
	b_start=$(now_s)
	timeout -k 15 "${limit[$b]}" bash "$script" "${args[@]+"${args[@]}"}" 2>&1 | tee -a "$log" |
		grep --line-buffered -v '^RESULT'
	rc=${PIPESTATUS[0]}
	if ((rc == 124 || rc == 137)); then
		echo "$b: did not complete within ${limit[$b]} s" | tee -a "$log"
		printf 'RESULT\t%s\t%s\t%s\t%s\t%s\n' "$b" "timed out" - - "n/a" >>"$log"
	elif ((rc != 0)); then
		echo "$b: exited with status $rc" | tee -a "$log"
	fi
	echo "($b: $(elapsed "$b_start") s)" | tee -a "$log"
done

total=$(elapsed "$start")
{
	echo "# Latest results$(bench_quick && echo ' (--quick)')"
	echo
	machine
	echo "- load average (1, 5, 15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- total time: $total s"
	echo
	echo "| figure | measured | target | original 1.3 + pg_cron 1.4 | verdict |"
	echo "|---|---|---|---|---|"
	grep '^RESULT' "$log" | cut -f2- | sed 's/|/\\|/g; s/\t/ | /g; s/^/| /; s/$/ |/'
} >"$md"

echo
echo "== summary ($total s; full output in ${log#"$BENCH_ROOT"/}, table in ${md#"$BENCH_ROOT"/})"
grep '^RESULT' "$log" | cut -f2- |
	awk -F'\t' 'BEGIN { printf "%-62s  %-28s  %-24s  %-28s  %s\n", "figure", "measured", "target", "original", "verdict" }
		{ printf "%-62s  %-28s  %-24s  %-28s  %s\n", $1, $2, $3, $4, $5 }'
exit 0
