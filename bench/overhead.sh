#!/usr/bin/env bash
# Figure 1, overhead: time of a pipeline run over N new rows divided by the
# time of the same SQL run directly with literal bounds, for N = 10^4 .. 10^7,
# warm (same session, data cached, median of several runs) and cold (first
# statement of a new connection to a freshly restarted server: empty
# shared_buffers and catalog caches; the OS page cache stays warm).  The fixed
# cost is what a run adds whatever its size: the median, over 101 pairs at
# N = 10^2, of pipeline run minus the direct run just before it.  At N = 10^4
# the same median (31 pairs) is shown too, but there it is the difference of
# two 6-9 ms timings whose noise on this machine is about 1 ms.  Ratios are of the minima
# (best of several runs: the machine's noise only ever adds time), the
# medians are shown too.  Cold figures are medians of 3 restarts (1 for 10^7).
#
# The command is an aggregating upsert:
#   INSERT INTO ov_sums ... SELECT v % 1000, count(*), sum(v) FROM ov_events
#   WHERE id BETWEEN $1 AND $2 GROUP BY 1 ON CONFLICT (k) DO UPDATE ...
# For each N a fresh table gets 10^5 rows of history, already processed by
# every pipeline, then N new rows; one pipeline per timed run (each processes
# exactly those N rows once), so nothing but the extension's API is used and
# the workload runs unchanged against pg_incremental 1.3 with --dsn.  The
# summary table is truncated before every timed statement, both ways.
#
#   bash bench/overhead.sh [--quick] [--dsn CONNSTR] [--fixed-only]
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_parse_args "$@"
bench_header "1. overhead"

if bench_quick; then
	sizes=(100 10000 100000)
	declare -A reps=([100]=31 [10000]=3 [100000]=3)
else
	sizes=(100 10000 100000 1000000 10000000)
	declare -A reps=([100]=101 [10000]=31 [100000]=7 [1000000]=5 [10000000]=3)
fi
history=100000
# --fixed-only: only the fixed cost of the same pipeline repeated (below)
[[ " ${BENCH_ARGS[*]-} " == *" --fixed-only "* ]] && sizes=()

bench_server overhead "incremental.enabled = off" || exit 0

bench_psql <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_incremental;
DROP TABLE IF EXISTS ov_events, ov_sums;
CREATE TABLE ov_sums (k int PRIMARY KEY, n bigint, total bigint);
SQL

cmd_for() { # $1 $2: bounds (parameters or literals)
	echo "INSERT INTO ov_sums AS s (k, n, total) SELECT v % 1000, count(*), sum(v) FROM ov_events WHERE id BETWEEN $1 AND $2 GROUP BY 1 ON CONFLICT (k) DO UPDATE SET n = s.n + excluded.n, total = s.total + excluded.total"
}

# Prints the "Time:" figures (ms) of the statements after "\echo T".
timed() {
	bench_psql | awk '/^T$/ { grab = 1; next } grab && /^Time:/ { print $2; grab = 0 }'
}

fixed_ms=n/a
fixed_10k_ms=n/a
for n in "${sizes[@]+"${sizes[@]}"}"; do
	r=${reps[$n]}
	cr=3
	((n >= 10000000)) && cr=1
	bench_quick && cr=1
	start=$(now_s)
	lo=$((history + 1))
	hi=$((history + n))
	direct=$(cmd_for "$lo" "$hi")
	# fresh table with history processed by every pipeline, then N new rows
	{
		echo "SET client_min_messages = warning;"
		echo "SELECT incremental.drop_pipeline(pipeline_name) FROM incremental.pipelines WHERE pipeline_name LIKE 'ov-%';"
		echo "DROP TABLE IF EXISTS ov_events;"
		echo "CREATE TABLE ov_events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v int NOT NULL);"
		echo "INSERT INTO ov_events (v) SELECT g % 100003 FROM generate_series(1, $history) g;"
		for i in $(seq 1 "$r") $(seq -f 'c%g' 1 "$cr"); do
			echo "SELECT incremental.create_sequence_pipeline('ov-$i', 'ov_events', \$c\$$(cmd_for '$1' '$2')\$c\$, schedule := NULL, execute_immediately := true);"
		done
		echo "INSERT INTO ov_events (v) SELECT g % 100003 FROM generate_series(1, $n) g;"
		echo "VACUUM ANALYZE ov_events;"
		echo "CHECKPOINT;"
	} | bench_psql >/dev/null

	# warm: one session, one untimed run of the direct SQL first
	script=$(
		echo "SET client_min_messages = warning;"
		echo "TRUNCATE ov_sums;"
		echo "$direct;"
		echo "\\timing on"
		for ((i = 1; i <= r; i++)); do
			echo "TRUNCATE ov_sums;"
			echo "\\echo T"
			echo "$direct;"
			echo "TRUNCATE ov_sums;"
			echo "\\echo T"
			echo "CALL incremental.execute_pipeline('ov-$i');"
		done
	)
	mapfile -t t < <(timed <<<"$script")
	d_med=$(for ((i = 0; i < ${#t[@]}; i += 2)); do echo "${t[i]}"; done | median)
	p_med=$(for ((i = 1; i < ${#t[@]}; i += 2)); do echo "${t[i]}"; done | median)
	d_warm=$(for ((i = 0; i < ${#t[@]}; i += 2)); do echo "${t[i]}"; done | sort -n | head -1)
	p_warm=$(for ((i = 1; i < ${#t[@]}; i += 2)); do echo "${t[i]}"; done | sort -n | head -1)
	pair_med=$(for ((i = 0; i + 1 < ${#t[@]}; i += 2)); do
		awk -v p="${t[i + 1]}" -v d="${t[i]}" 'BEGIN { printf "%.3f\n", p - d }'
	done | median)

	# cold: restart (own server) or just a new connection (--dsn)
	cold_one() {
		bench_own && bench_restart
		printf '%s\n' "SET client_min_messages = warning;" "TRUNCATE ov_sums;" "\\timing on" "\\echo T" "$1;" | timed
	}
	d_cold=$(for ((i = 1; i <= cr; i++)); do cold_one "$direct"; done | median)
	p_cold=$(for ((i = 1; i <= cr; i++)); do cold_one "CALL incremental.execute_pipeline('ov-c$i')"; done | median)
	rows=$(bench_value -c "SELECT sum(n) FROM ov_sums")

	read -r w_ratio c_ratio diff < <(awk -v pw="$p_warm" -v dw="$d_warm" -v pc="$p_cold" -v dc="$d_cold" \
		'BEGIN { printf "%.3f %.3f %.3f\n", pw / dw, pc / dc, pw - dw }')
	echo "overhead N=$n: warm pipeline ${p_warm} ms / direct ${d_warm} ms = ${w_ratio} (best of $r, +${diff} ms;" \
		"medians ${p_med} / ${d_med} ms, median of paired differences ${pair_med} ms); cold pipeline ${p_cold} ms / direct ${d_cold} ms = ${c_ratio} (median of $cr);" \
		"rows aggregated by the last run: ${rows}; $(elapsed "$start") s"
	[[ $n == 100 ]] && fixed_ms=$(awk -v m="$pair_med" 'BEGIN { printf "%.3f", m }')
	[[ $n == 10000 ]] && fixed_10k_ms=$(awk -v m="$pair_med" 'BEGIN { printf "%.3f", m }')
	if ((n >= 1000000)); then
		bench_result "1. overhead N=$n warm / cold" "$w_ratio / $c_ratio" "<= 1.01" \
			"$([[ $n == 1000000 ]] && echo 1.00 || echo -)" "$(bench_le "$w_ratio" 1.01)"
	else
		bench_result "1. overhead N=$n warm / cold" "$w_ratio / $c_ratio" "(fixed cost)" - -
	fi
done
bench_result "1. overhead fixed cost (N=10^2 / 10^4, warm, median of pairs)" "$fixed_ms / $fixed_10k_ms ms" "<= 0.2 ms" "0.87 ms (10^4)" "$(bench_le "$fixed_ms" 0.2)"

# The same pipeline again and again, as the scheduler runs it: 100 new rows,
# then three runs over them: the direct SQL with literal bounds (parsed and
# planned every time), the same SQL as a prepared statement (EXECUTE with
# the bounds, its generic plan forced: otherwise the plan cache may plan it
# for every EXECUTE), and the pipeline, whose command stays prepared in the session
# (command_cache.c).  The order turns round at every step, so no run always
# finds the rows just read by another; each run upserts the same 100 rows'
# sums.  The fixed cost is the median of the paired differences pipeline -
# prepared statement: what a run adds to its command.  Pipeline - direct SQL
# is shown too (the planning a cached command saves counts there), and the
# same pipeline with ov_sums truncated before every statement, as the
# figures above do: TRUNCATE invalidates the cached plan, so that pipeline
# plans its command at every run.
r=${BENCH_PAIRS:-101}
bench_quick && r=31
{
	echo "SET client_min_messages = warning;"
	echo "SELECT incremental.drop_pipeline(pipeline_name) FROM incremental.pipelines WHERE pipeline_name LIKE 'ov-%';"
	echo "DROP TABLE IF EXISTS ov_events;"
	echo "CREATE TABLE ov_events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v int NOT NULL);"
	echo "INSERT INTO ov_events (v) SELECT g % 100003 FROM generate_series(1, $history) g;"
	echo "SELECT incremental.create_sequence_pipeline('ov-repeat', 'ov_events', \$c\$$(cmd_for '$1' '$2')\$c\$, schedule := NULL, execute_immediately := true);"
	echo "VACUUM ANALYZE ov_events;"
} | bench_psql >/dev/null
# repeat_script TRUNCATE(0/1) FIRST_ID: for each step, the runs' names
# (D direct, P prepared, X pipeline) each followed by its "Time:" line
repeat_script() {
	local i lo order run
	echo "SET client_min_messages = warning;"
	echo "PREPARE ov_command (bigint, bigint) AS $(cmd_for '$1' '$2');"
	echo "\\timing on"
	for ((i = 1; i <= r; i++)); do
		lo=$(($2 + (i - 1) * 100))
		echo "INSERT INTO ov_events (v) SELECT g % 100003 FROM generate_series(1, 100) g;"
		case $((i % 3)) in
			0) order="D P X" ;;
			1) order="X D P" ;;
			2) order="P X D" ;;
		esac
		for run in $order; do
			if (($1)); then echo "TRUNCATE ov_sums;"; fi
			if [[ $run == P ]]; then echo "SET plan_cache_mode = force_generic_plan;"; fi
			echo "\\echo $run"
			case $run in
				D) echo "$(cmd_for "$lo" "$((lo + 99))");" ;;
				P) echo "EXECUTE ov_command ($lo, $((lo + 99)));" ;;
				X) echo "CALL incremental.execute_pipeline('ov-repeat');" ;;
			esac
			if [[ $run == P ]]; then echo "RESET plan_cache_mode;"; fi
		done
	done
}
# paired_median A B < timings: median over the steps of B's time - A's
paired_median() {
	awk -v a="$1" -v b="$2" '
		/^[DPX]$/ { run = $1; next }
		/^Time:/ && run != "" { t[run] = $2; run = ""; if ((a in t) && (b in t) && ("D" in t) + ("P" in t) + ("X" in t) == 3) { printf "%.3f\n", t[b] - t[a]; delete t } }' | median
}
timings=$(repeat_script 0 $((history + 1)) | bench_psql)
repeat_ms=$(paired_median P X <<<"$timings")
direct_ms=$(paired_median D X <<<"$timings")
truncated_ms=$(repeat_script 1 $((history + r * 100 + 1)) | bench_psql | paired_median P X)
echo "overhead, the same pipeline run $r times over 100 new rows each: median of paired differences pipeline - prepared statement $repeat_ms ms," \
	"pipeline - direct SQL $direct_ms ms; with ov_sums truncated before each statement (the plan invalidated at every run): pipeline - prepared statement $truncated_ms ms"
bench_result "1. overhead fixed cost, the same pipeline repeated (N=10^2, median of pairs against its command prepared / direct)" "$repeat_ms / $direct_ms ms" "<= 0.1 ms" "-" "$(bench_le "$repeat_ms" 0.1)"

bench_psql -c "SET client_min_messages = warning" \
	-c "SELECT incremental.drop_pipeline(pipeline_name) FROM incremental.pipelines WHERE pipeline_name LIKE 'ov-%'" \
	-c "DROP TABLE IF EXISTS ov_events, ov_sums" >/dev/null || true
exit 0
