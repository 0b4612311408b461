#!/usr/bin/env bash
# Figure 3, freshness: from a row's commit to the commit of the batch that
# added it to the summary table, p50 / p95 / max, while pgbench inserts rows
# from 4 clients at a fixed rate (default 1,500 rows/s), and the CPU the
# scheduler's processes (launcher and workers; bench_cpu_start in lib.sh) use
# meanwhile.
#
# The pipeline's command upserts counts into fr_summary and, in the same
# statement, logs the batch's range in fr_batches.  With track_commit_timestamp
# (on in the own server) both ends are commit times: the row's
# pg_xact_commit_timestamp(xmin) and the batch's; without it (--dsn to a
# server that has it off) the row's insert clock_timestamp() and the batch's
# clock_timestamp() just before its commit.  At the end, exactly-once is
# checked: every row is in exactly one batch and the summary counts every row
# once.
#
# Drivers (one run each, --duration seconds of inserts, default 20):
#   '10 milliseconds' with incremental.naptime = 10ms (the shortest schedule
#   the scheduler can honour), '100 milliseconds', '1 second' (default
#   naptime), and loop:0.2, an external client calling execute_pipeline every
#   0.2 s (the pipeline then has no schedule; its backend's CPU is counted),
#   and floor:10, the floor under any scheduler: a client that runs the same
#   command itself every 10 ms as a prepared statement with its generic plan,
#   from the value after its last range to the sequence's last value, and
#   commits it; its backend's CPU is counted.  It does not wait for writers,
#   so it may pass over rows still being inserted: its exactly-once is not
#   checked.
# --schedules 'a|b|...' picks others (with --dsn to pg_incremental 1.3 and
# pg_cron, e.g. --schedules '* * * * *|loop:0.2').
#
#   bash bench/freshness.sh [--quick] [--dsn CONNSTR] [--rate N]
#        [--duration S] [--schedules LIST]
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_parse_args "$@"
set -- "${BENCH_ARGS[@]+"${BENCH_ARGS[@]}"}"
rate=1500
duration=20
bench_quick && duration=6
schedules='10 milliseconds|floor:10|100 milliseconds|1 second|loop:0.2'
while [[ $# -gt 0 ]]; do
	case "$1" in
		--rate) rate=$2; shift ;;
		--duration) duration=$2; shift ;;
		--schedules) schedules=$2; shift ;;
		*) echo "freshness: unknown argument $1" >&2 ;;
	esac
	shift
done
bench_header "3. freshness ($rate rows/s from 4 clients, $duration s per schedule)"

bench_server freshness || exit 0
bench_psql -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS pg_incremental" >/dev/null

commit_ts=$(bench_value -c "SELECT current_setting('track_commit_timestamp')")
if [[ $commit_ts == on ]]; then
	row_t="pg_xact_commit_timestamp(e.xmin)"
	batch_t="pg_xact_commit_timestamp(b.xmin)"
	method="commit timestamps"
else
	row_t="e.inserted_at"
	batch_t="b.processed_at"
	method="clock_timestamp() at insert and at processing (track_commit_timestamp is off)"
fi

insert_sql=$(bench_file <<'SQL'
\set k random(1, 100)
INSERT INTO fr_events (k) VALUES (:k);
SQL
)
# the floor's client: the command over the new range, committed, every N ms
floor_sql=$(bench_file <<'SQL'
SELECT last_value AS hi FROM fr_events_id_seq \gset
\if :hi >= :lo
WITH s AS (
	INSERT INTO fr_summary AS s (k, n)
	SELECT k, count(*) FROM fr_events WHERE id BETWEEN :lo AND :hi GROUP BY k
	ON CONFLICT (k) DO UPDATE SET n = s.n + excluded.n)
INSERT INTO fr_batches VALUES (:lo, :hi, clock_timestamp());
\set lo :hi + 1
\endif
\sleep :period ms
SQL
)
trap 'rm -f "$insert_sql" "$floor_sql"; bench_cleanup' EXIT

IFS='|' read -r -a drivers <<<"$schedules"
cpu_10ms=""
cpu_floor=""
batch_10ms=""
batch_floor=""
for driver in "${drivers[@]}"; do
	schedule=$driver
	loop=""
	floor=""
	if [[ $driver == loop:* ]]; then
		loop=${driver#loop:}
		schedule=""
	elif [[ $driver == floor:* ]]; then
		floor=${driver#floor:}
		schedule=""
	fi
	if bench_own; then
		if [[ $schedule == "10 milliseconds" ]]; then
			bench_psql -c "ALTER SYSTEM SET incremental.naptime = '10ms'" -c "SELECT pg_reload_conf()" >/dev/null
		else
			bench_psql -c "ALTER SYSTEM RESET incremental.naptime" -c "SELECT pg_reload_conf()" >/dev/null
		fi
	fi
	bench_psql >/dev/null <<SQL
SET client_min_messages = warning;
SELECT incremental.drop_pipeline(pipeline_name) FROM incremental.pipelines WHERE pipeline_name = 'fresh';
DROP TABLE IF EXISTS fr_events, fr_summary, fr_batches;
CREATE TABLE fr_events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, k int NOT NULL,
	inserted_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE fr_summary (k int PRIMARY KEY, n bigint NOT NULL);
CREATE TABLE fr_batches (lo bigint, hi bigint, processed_at timestamptz);
SELECT incremental.create_sequence_pipeline('fresh', 'fr_events', \$c\$
	WITH s AS (
		INSERT INTO fr_summary AS s (k, n)
		SELECT k, count(*) FROM fr_events WHERE id BETWEEN \$1 AND \$2 GROUP BY k
		ON CONFLICT (k) DO UPDATE SET n = s.n + excluded.n)
	INSERT INTO fr_batches VALUES (\$1, \$2, clock_timestamp())\$c\$,
	schedule := $([[ -n $schedule ]] && echo "'$schedule'" || echo NULL));
CHECKPOINT;
SQL
	sleep 1 # let the worker pick the new pipeline up
	pids=()
	if bench_own; then
		mapfile -t pids < <(bench_scheduler_pids)
	fi
	loop_pid=""
	if [[ -n $loop ]]; then
		# the external loop: one connection, CALL then sleep, until killed
		(
			while :; do
				echo "CALL incremental.execute_pipeline('fresh');"
				echo "SELECT pg_sleep($loop);"
			done | bench_psql -v ON_ERROR_STOP=0 -c "SET application_name = 'fresh-loop'" -f - >/dev/null 2>&1
		) &
		loop_pid=$!
		sleep 0.5
		if bench_own; then
			mapfile -t -O "${#pids[@]}" pids < <(bench_value -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'fresh-loop'")
		fi
	fi
	floor_pid=""
	if [[ -n $floor ]]; then
		# a second longer than the writers, to take their last rows
		bench_pgbench -n -M prepared -c 1 -T $((duration + 1)) \
			-D lo=1 -D period="$floor" -f "$floor_sql" >/dev/null 2>&1 &
		floor_pid=$!
		sleep 0.5
		pids=()
		if bench_own; then
			# its backend, known by its statements (the writers have not begun)
			mapfile -t pids < <(bench_value -c "SELECT pid FROM pg_stat_activity
				WHERE pid <> pg_backend_pid() AND (query LIKE '%fr_events_id_seq%' OR query LIKE '%fr_summary%')")
		fi
	fi
	bench_cpu_start "${pids[@]+"${pids[@]}"}"
	s0=$(now_s)
	bench_pgbench -n -c 4 -j 2 -R "$rate" -T "$duration" -f "$insert_sql" >/dev/null 2>&1 ||
		echo "pgbench failed" >&2
	secs=$(elapsed "$s0")
	cpu=$(bench_cpu_stop)
	# the batches of the CPU's window (not those that catch up after it)
	window_batches=$(bench_value -c "SELECT count(*) FROM fr_batches
		WHERE processed_at BETWEEN to_timestamp($s0) AND to_timestamp($s0 + $secs)")
	# wait for the pipeline to catch up (at most 30 s)
	for ((i = 0; i < 300; i++)); do
		[[ $(bench_value -c "SELECT (SELECT coalesce(max(hi), 0) FROM fr_batches) >= (SELECT coalesce(max(id), 0) FROM fr_events)") == t ]] && break
		sleep 0.1
	done
	[[ -n $floor_pid ]] && { wait "$floor_pid" 2>/dev/null || true; }
	if [[ -n $loop_pid ]]; then
		kill "$loop_pid" 2>/dev/null || true
		wait "$loop_pid" 2>/dev/null || true
		bench_value -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'fresh-loop'" >/dev/null || true
	fi
	read -r rows rps batches p50 p95 pmax once < <(bench_value -F ' ' <<SQL
SELECT count(*), round(count(*) / $secs), (SELECT count(*) FROM fr_batches),
	round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lat)::numeric, 3),
	round(percentile_cont(0.95) WITHIN GROUP (ORDER BY lat)::numeric, 3),
	round(max(lat)::numeric, 3),
	-- exactly once: each row in one batch, the summary counts each row once
	count(*) = count(DISTINCT id) AND count(*) = (SELECT count(*) FROM fr_events)
		AND (SELECT sum(n) FROM fr_summary) = (SELECT count(*) FROM fr_events)
FROM (SELECT e.id, extract(epoch FROM $batch_t - $row_t) AS lat
      FROM fr_events e JOIN fr_batches b ON e.id BETWEEN b.lo AND b.hi) x;
SQL
	)
	[[ $once == t ]] && once="exactly once: yes" || once="exactly once: NO"
	[[ -n $floor ]] && once="exactly once: not checked (no wait for writers)"
	label=${schedule:-"external loop every $loop s"}
	[[ -n $floor ]] && label="floor: the command alone, prepared, every $floor ms"
	[[ $schedule == "10 milliseconds" ]] && label="$label (naptime 10ms)"
	echo "freshness, $label: p50 ${p50} s, p95 ${p95} s, max ${pmax} s; $rows rows ($rps/s), $batches batches;" \
		"$([[ -n $floor ]] && echo "its backend's" || echo scheduler) CPU ${cpu}% of a core; $once ($method)"
	if [[ -n $loop || -n $floor ]]; then
		verdict="- (comparison)"
		target="-"
	elif [[ $schedule == "1 second" ]]; then
		verdict="- (period 1 s)"
		target="-"
	else
		verdict=$(bench_and "$(bench_le "$p50" 0.10)" "$(bench_le "$p95" 0.25)" "$(bench_le "$cpu" 5)")
		[[ $once == "exactly once: NO" ]] && verdict=MISSED
		target="<= 0.10 / 0.25 s, 5 %"
	fi
	case $label in
		"external loop"*) orig="0.15 / 0.26 s (loop 0.2 s)" ;;
		floor*) orig="-" ;;
		*) orig="31 / 57 s (pg_cron, 1 min)" ;;
	esac
	bench_result "3. freshness p50 / p95, CPU: $label" "$p50 / $p95 s, $cpu %$([[ $once == "exactly once: NO" ]] && echo ', NOT exactly once')" \
		"$target" "$orig" "$verdict"
	# CPU per batch of the window, in ms: the two do not run quite as many
	per_batch=$(awk -v c="$cpu" -v s="$secs" -v b="$window_batches" 'BEGIN { if (c + 0 > 0 && b > 0) printf "%.3f", c / 100 * s * 1000 / b; else print "n/a" }')
	[[ $schedule == "10 milliseconds" ]] && cpu_10ms=$cpu && batch_10ms=$per_batch
	[[ -n $floor ]] && cpu_floor=$cpu && batch_floor=$per_batch
done

# The scheduler against the floor of the same run: the machine's noise moves
# both, so their ratio compares better from one run to another than either
if [[ -n $cpu_10ms && -n $cpu_floor && $cpu_10ms != n/a && $cpu_floor != n/a ]]; then
	ratio=$(awk -v a="$cpu_10ms" -v b="$cpu_floor" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
	batch_ratio=$(awk -v a="$batch_10ms" -v b="$batch_floor" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2f", a / b; else print "n/a" }')
	echo "freshness: scheduler CPU at '10 milliseconds' / the floor's = $cpu_10ms / $cpu_floor = $ratio;" \
		"per batch $batch_10ms / $batch_floor ms = $batch_ratio"
	bench_result "3. freshness CPU, '10 milliseconds' / floor (per batch)" "$ratio ($cpu_10ms / $cpu_floor %); $batch_ratio ($batch_10ms / $batch_floor ms)" "-" "-" "- (comparison)"
fi

bench_psql -c "SET client_min_messages = warning" \
	-c "SELECT incremental.drop_pipeline(pipeline_name) FROM incremental.pipelines WHERE pipeline_name = 'fresh'" \
	-c "DROP TABLE IF EXISTS fr_events, fr_summary, fr_batches" >/dev/null || true
exit 0
