#!/usr/bin/env bash
# Figure 6, growth: a backlog of 10^5, 10^6 and 10^7 rows processed by one
# CALL incremental.execute_pipeline in committed batches (max_batch_size
# 100,000: 1, 10 and 100 batches).  Time should grow linearly (time per
# million rows flat) and the memory of the backend running the CALL should
# stay flat: its private memory (RssAnon from /proc/<pid>/status, sampled
# every 20 ms while it runs, peak shown) and VmHWM after the call (which also
# counts the shared buffers it touched, so it grows up to shared_buffers).
# Each backlog is processed by a new connection.  The backlogs are stacked on
# one table: the pipeline processes the first backlog, then the next one is
# inserted, and so on.
#
# With --dsn, memory is not measured; a server without max_batch_size
# (pg_incremental 1.3) processes each backlog in one batch.
#
#   bash bench/growth.sh [--quick] [--dsn CONNSTR]
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_parse_args "$@"
bench_header "6. growth"

sizes=(100000 1000000 10000000)
bench_quick && sizes=(100000 1000000)
batch=100000

bench_server growth "incremental.enabled = off" || exit 0
bench_psql >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_incremental;
SELECT incremental.drop_pipeline(pipeline_name) FROM incremental.pipelines WHERE pipeline_name = 'growth';
DROP TABLE IF EXISTS gr_events, gr_summary;
CREATE TABLE gr_events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, k int NOT NULL, v int NOT NULL);
CREATE TABLE gr_summary (k int PRIMARY KEY, n bigint NOT NULL, total bigint NOT NULL);
SQL
cmd='INSERT INTO gr_summary AS s (k, n, total) SELECT k, count(*), sum(v) FROM gr_events WHERE id BETWEEN $1 AND $2 GROUP BY k ON CONFLICT (k) DO UPDATE SET n = s.n + excluded.n, total = s.total + excluded.total'
if ! bench_psql -c "SET client_min_messages = warning" -c "SELECT incremental.create_sequence_pipeline('growth', 'gr_events', \$c\$$cmd\$c\$, schedule := NULL, max_batch_size := $batch)" >/dev/null 2>&1; then
	echo "no max_batch_size on this server: one batch per backlog"
	batch=none
	bench_psql -c "SET client_min_messages = warning" -c "SELECT incremental.create_sequence_pipeline('growth', 'gr_events', \$c\$$cmd\$c\$, schedule := NULL)" >/dev/null
fi

first_per_m=""
worst_per_m=0
first_anon=""
worst_anon=0
for n in "${sizes[@]}"; do
	bench_psql -c "INSERT INTO gr_events (k, v) SELECT g % 1000, g % 7919 FROM generate_series(1, $n) g" \
		-c "VACUUM ANALYZE gr_events" -c "CHECKPOINT" >/dev/null
	pidfile=$(bench_file </dev/null)
	chmod 666 "$pidfile"
	start=$(now_s)
	# the CALL's connection writes its pid to $pidfile first
	bench_psql >/dev/null <<SQL &
SET client_min_messages = warning;
SELECT pg_backend_pid() AS pid \\gset
\\setenv BPID :pid
\\! echo \$BPID > $pidfile
CALL incremental.execute_pipeline('growth');
\\! grep VmHWM /proc/\$BPID/status >> $pidfile
SQL
	job=$!
	peak=0
	pid=""
	while kill -0 "$job" 2>/dev/null; do
		[[ -z $pid ]] && pid=$(head -1 "$pidfile" 2>/dev/null | tr -dc 0-9)
		if [[ -n $pid && -r /proc/$pid/status ]] && bench_own; then
			a=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
			[[ -n $a ]] && ((a > peak)) && peak=$a
		fi
		sleep 0.02
	done
	wait "$job" || echo "growth: the CALL failed" >&2
	secs=$(elapsed "$start")
	# the run's own duration, from its history row when there is one
	run_secs=$(bench_value -c "SELECT round(extract(epoch FROM ended_at - started_at)::numeric, 3)
		FROM incremental.pipeline_runs WHERE pipeline_name = 'growth' ORDER BY run_id DESC LIMIT 1" 2>/dev/null || true)
	[[ -n $run_secs ]] && secs=$run_secs
	hwm=$(awk '/VmHWM/ { print $2 }' "$pidfile")
	rm -f "$pidfile"
	done_rows=$(bench_value -c "SELECT sum(n) FROM gr_summary")
	batches=$(bench_value -c "SELECT coalesce(max(batches), 0) FROM incremental.pipeline_runs WHERE pipeline_name = 'growth' AND run_id = (SELECT max(run_id) FROM incremental.pipeline_runs WHERE pipeline_name = 'growth')" 2>/dev/null || echo "?")
	per_m=$(awk -v s="$secs" -v n="$n" 'BEGIN { printf "%.2f", s / n * 1e6 }')
	if bench_own; then
		mem="private memory peak $((peak / 1024)) MB, VmHWM $((${hwm:-0} / 1024)) MB"
	else
		mem="memory n/a (--dsn)"
		peak=""
	fi
	echo "growth, backlog $n rows: ${secs} s (${per_m} s per million rows), $batches batches of $batch; $mem; summary counts $done_rows rows in total"
	[[ -z $first_per_m ]] && first_per_m=$per_m
	worst_per_m=$(awk -v a="$worst_per_m" -v b="$per_m" 'BEGIN { print (b > a ? b : a) }')
	if [[ -n $peak ]]; then
		[[ -z $first_anon ]] && first_anon=$peak
		((peak > worst_anon)) && worst_anon=$peak
	fi
done
# linear: the time per million rows of the largest backlog within 1.5x of the
# smallest; flat: the private memory peak within 1.5x (+4 MB) of the smallest
lin=$(awk -v a="$first_per_m" -v b="$worst_per_m" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "n/a" }')
if [[ -n $first_anon ]]; then
	flat="$((first_anon / 1024)) -> $((worst_anon / 1024)) MB"
	flat_ok=$(awk -v a="$first_anon" -v b="$worst_anon" 'BEGIN { print (b <= 1.5 * a + 4096 ? "met" : "MISSED") }')
else
	flat="n/a"
	flat_ok="n/a"
fi
bench_result "6. growth ${sizes[0]}..${sizes[-1]}: time per row (worst/first), private memory" \
	"x$lin, $flat" "linear (<= x1.5), flat" "-" "$(bench_and "$(bench_le "$lin" 1.5)" "$flat_ok")"

bench_psql -c "SET client_min_messages = warning" \
	-c "SELECT incremental.drop_pipeline(pipeline_name) FROM incremental.pipelines WHERE pipeline_name = 'growth'" \
	-c "DROP TABLE IF EXISTS gr_events, gr_summary" >/dev/null || true
exit 0
