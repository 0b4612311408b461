#!/usr/bin/env bash
# Figure 2, no-op check: server time and WAL of CALL incremental.execute_pipeline
# when there is nothing new, for a sequence pipeline and a time interval
# pipeline.  pgbench (1 client, -M simple) calls it many times; the server
# time per call is pg_stat_statements' mean_exec_time of the CALL (own server),
# and also the pgbench latency of the CALL minus that of SELECT 1 over the same
# connection (works with --dsn too).  WAL and transaction ids are the
# difference of pg_current_wal_insert_lsn() and of the next xid around the run,
# divided by the number of calls; the same is shown for SELECT 1 as a baseline
# (background WAL such as running-xacts records shows up there).
#
#   bash bench/noop.sh [--quick] [--dsn CONNSTR]
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_parse_args "$@"
bench_header "2. no-op check"

calls=20000
bench_quick && calls=3000

bench_server noop "incremental.enabled = off" "autovacuum = off" || exit 0

bench_psql >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_incremental;
DROP TABLE IF EXISTS noop_events;
SELECT incremental.drop_pipeline(pipeline_name) FROM incremental.pipelines WHERE pipeline_name LIKE 'noop-%';
CREATE TABLE noop_events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v int);
INSERT INTO noop_events (v) SELECT g FROM generate_series(1, 1000) g;
SELECT incremental.create_sequence_pipeline('noop-seq', 'noop_events',
	'SELECT count(*) FROM noop_events WHERE id BETWEEN $1 AND $2', schedule := NULL);
-- intervals of one day from today: the current one has not ended, nothing to do
SELECT incremental.create_time_interval_pipeline('noop-time', '1 day',
	'SELECT $1, $2', start_time := date_trunc('day', now()), schedule := NULL);
CHECKPOINT;
SQL
have_pgss=false
if bench_own; then
	bench_psql -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null && have_pgss=true
elif [[ $(bench_value -c "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'") == 1 ]]; then
	have_pgss=true
fi

# run_calls LABEL SQL: prints "latency_ms wal_bytes_per_call xids_per_call server_us"
run_calls() {
	local sql="$2" f before xid_before lat wal xids srv=n/a
	f=$(bench_file <<<"$sql")
	bench_pgbench -n -M simple -c 1 -t 200 -f "$f" >/dev/null 2>&1 || true # warm-up
	$have_pgss && bench_value -c "SELECT pg_stat_statements_reset()" >/dev/null
	before=$(bench_value -c "SELECT pg_current_wal_insert_lsn()")
	xid_before=$(bench_value -c "SELECT pg_snapshot_xmax(pg_current_snapshot())")
	# latency from tps: pgbench prints the average latency in whole microseconds
	lat=$(bench_pgbench -n -M simple -c 1 -t "$calls" -f "$f" 2>&1 |
		awk '/^tps = / { printf "%.4f", 1000 / $3 }')
	read -r wal xids < <(bench_value -F ' ' -c "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$before') / $calls,
		(pg_snapshot_xmax(pg_current_snapshot())::text::bigint - $xid_before)::numeric / $calls")
	if $have_pgss; then
		# the statement pgbench ran is the one with the most calls since the reset
		srv=$(bench_value -c "SELECT round((total_exec_time / calls * 1000)::numeric, 2)
			FROM pg_stat_statements ORDER BY calls DESC LIMIT 1")
		[[ -z $srv ]] && srv=n/a
	fi
	rm -f "$f"
	printf '%s %.2f %.4f %s\n' "${lat:-0}" "$wal" "$xids" "$srv"
}

read -r b_lat b_wal b_xid b_srv < <(run_calls base "SELECT 1;")
echo "baseline SELECT 1: latency $b_lat ms, WAL $b_wal bytes/call, $b_xid xids/call, server $b_srv us"
for kind in seq time; do
	read -r lat wal xid srv < <(run_calls "$kind" "CALL incremental.execute_pipeline('noop-$kind');")
	diff_us=$(awk -v a="$lat" -v b="$b_lat" 'BEGIN { printf "%.1f", (a - b) * 1000 }')
	echo "no-op check ($kind pipeline, $calls calls): server ${srv} us (pg_stat_statements)," \
		"latency ${lat} ms = SELECT 1 + ${diff_us} us; WAL ${wal} bytes/call; ${xid} xids/call"
	shown=$srv
	[[ $shown == n/a ]] && shown=$diff_us
	if [[ $kind == seq ]]; then
		bench_result "2. no-op check, sequence: server time / WAL" "$shown us / $wal B" "<= 10 us / 0 B" \
			"41.8 us / 96 B" "$(bench_and "$(bench_le "$shown" 10)" "$(bench_le "$wal" 0)")"
	else
		bench_result "2. no-op check, time interval: server time / WAL" "$shown us / $wal B" "<= 10 us / 0 B" \
			"-" "$(bench_and "$(bench_le "$shown" 10)" "$(bench_le "$wal" 0)")"
	fi
done

bench_psql -c "SET client_min_messages = warning" \
	-c "SELECT incremental.drop_pipeline(pipeline_name) FROM incremental.pipelines WHERE pipeline_name LIKE 'noop-%'" \
	-c "DROP TABLE IF EXISTS noop_events" >/dev/null || true
exit 0
