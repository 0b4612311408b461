#!/usr/bin/env bash
# Figure 5, scale: 1,000 sequence pipelines in one database, then 10 databases
# with 100 pipelines each, every pipeline on its own table with schedule
# '1 second' (--period to change).  Measured:
#   idle CPU    CPU time of the launcher and all workers (perf stat
#               task-clock, or /proc/<pid>/stat ticks without perf) over
#               --idle seconds (default 20) when nothing is new, in % of one
#               core: every pipeline is still checked every period;
#   pick-up     one row is inserted into every table of a database in one
#               transaction; each command stamps its output row, and the
#               pick-up time is the commit of the last pipeline's batch minus
#               the commit of the insert (commit timestamps), max and p50.
# The server runs with incremental.max_workers = 12 so that each of the 10
# databases gets its worker.  With --dsn only the single-database part runs,
# in the given database, and CPU is n/a.
#
#   bash bench/scale.sh [--quick] [--dsn CONNSTR] [--period INTERVAL] [--idle S]
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_parse_args "$@"
set -- "${BENCH_ARGS[@]+"${BENCH_ARGS[@]}"}"
period='1 second'
idle=20
bench_quick && idle=5
while [[ $# -gt 0 ]]; do
	case "$1" in
		--period) period=$2; shift ;;
		--idle) idle=$2; shift ;;
		*) echo "scale: unknown argument $1" >&2 ;;
	esac
	shift
done
bench_header "5. scale (schedule '$period', idle CPU over $idle s)"
period_s=$(awk -v p="$period" 'BEGIN { split(p, a, " "); m = (a[2] ~ /^milli/ ? 0.001 : a[2] ~ /^min/ ? 60 : 1); print a[1] * m }')

bench_server scale "incremental.max_workers = 12" "max_worker_processes = 20" \
	"max_locks_per_transaction = 256" || exit 0

# create_pipelines CONNSTR COUNT
create_pipelines() {
	bench_psql -d "$1" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_incremental;
SELECT incremental.drop_pipeline(pipeline_name) FROM incremental.pipelines WHERE pipeline_name LIKE 'sc-%';
DROP TABLE IF EXISTS sc_out;
CREATE TABLE sc_out (p int, n bigint, at timestamptz);
DO \$do\$
BEGIN
	FOR i IN 1 .. $2 LOOP
		EXECUTE format('DROP TABLE IF EXISTS sc_t%s', i);
		EXECUTE format('CREATE TABLE sc_t%s (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v int)', i);
		PERFORM incremental.create_sequence_pipeline('sc-' || i, format('sc_t%s', i)::regclass,
			format('INSERT INTO sc_out SELECT %s, count(*), clock_timestamp() FROM sc_t%s WHERE id BETWEEN \$1 AND \$2', i, i),
			schedule := '$period');
	END LOOP;
END \$do\$;
SQL
}

drop_pipelines() {
	bench_psql -d "$1" >/dev/null <<'SQL'
SET client_min_messages = warning;
SELECT incremental.drop_pipeline(pipeline_name) FROM incremental.pipelines WHERE pipeline_name LIKE 'sc-%';
SQL
}

# insert_one CONNSTR COUNT: one row into every table, one transaction
insert_one() {
	bench_psql -d "$1" >/dev/null <<SQL
DO \$do\$
BEGIN
	FOR i IN 1 .. $2 LOOP
		EXECUTE format('INSERT INTO sc_t%s (v) VALUES (1)', i);
	END LOOP;
END \$do\$;
SQL
}

# pickup CONNSTR COUNT: waits until every pipeline has processed its row;
# prints "max p50 done" in seconds
pickup() {
	local i n
	for ((i = 0; i < 300; i++)); do
		n=$(bench_value -d "$1" -c "SELECT count(*) FROM sc_out") || break
		((n >= $2)) && break
		sleep 0.1
	done
	if [[ $(bench_value -d "$1" -c "SELECT current_setting('track_commit_timestamp')") == on ]]; then
		bench_value -d "$1" -F ' ' -c "SELECT round(extract(epoch FROM max(d))::numeric, 3),
			round(extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY d))::numeric, 3), count(*)
			FROM (SELECT pg_xact_commit_timestamp(o.xmin) -
				(SELECT pg_xact_commit_timestamp(xmin) FROM sc_t1 LIMIT 1) AS d FROM sc_out o) x"
	else
		echo "n/a n/a $(bench_value -d "$1" -c "SELECT count(*) FROM sc_out")"
	fi
}

# idle_cpu SECONDS: % of a core used by the launcher and the workers
idle_cpu() {
	if ! bench_own; then
		echo n/a
		return
	fi
	local pids
	mapfile -t pids < <(bench_scheduler_pids)
	bench_cpu_start "${pids[@]}"
	sleep "$1"
	bench_cpu_stop
}

workers() { bench_value -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker'"; }

report() { # label cpu max p50 done count
	local label=$1 cpu=$2 max=$3 p50=$4 done=$5 count=$6
	echo "scale, $label: idle scheduler CPU ${cpu}% of a core; pick-up after one insert each: max ${max} s, p50 ${p50} s ($done of $count pipelines)"
	local ok_pick
	ok_pick=$(bench_le "$max" "$(awk -v p="$period_s" 'BEGIN { print 2 * p }')")
	((done < count)) && ok_pick=MISSED
	bench_result "5. scale $label: idle CPU / pick-up max" "$cpu % / $max s" "<= 1 % / <= $(awk -v p="$period_s" 'BEGIN { print 2 * p }') s" "-" \
		"$(bench_and "$(bench_le "$cpu" 1)" "$ok_pick")"
}

# one database, 1,000 pipelines
count=1000
start=$(now_s)
create_pipelines "$BENCH_CONN" "$count"
echo "created $count pipelines in $(elapsed "$start") s"
sleep 3 # first runs and settling
cpu=$(idle_cpu "$idle")
insert_one "$BENCH_CONN" "$count"
read -r max p50 ndone < <(pickup "$BENCH_CONN" "$count")
report "1 db x $count pipelines" "$cpu" "$max" "$p50" "$ndone" "$count"
drop_pipelines "$BENCH_CONN"
bench_psql -c "DO \$\$ BEGIN FOR i IN 1 .. $count LOOP EXECUTE format('DROP TABLE IF EXISTS sc_t%s', i); END LOOP; END \$\$" \
	-c "DROP TABLE IF EXISTS sc_out" >/dev/null || true

if ! bench_own; then
	echo "scale, 10 databases: skipped with --dsn"
	exit 0
fi

# 10 databases, 100 pipelines each
dbs=10
count=100
start=$(now_s)
for ((d = 1; d <= dbs; d++)); do
	bench_psql -c "CREATE DATABASE sc_db$d" >/dev/null
	create_pipelines "$(bench_conn_db "sc_db$d")" "$count"
done
for ((i = 0; i < 200; i++)); do
	(($(workers) >= dbs)) && break
	sleep 0.1
done
echo "created $dbs databases x $count pipelines in $(elapsed "$start") s; $(workers) workers running"
sleep 3
cpu=$(idle_cpu "$idle")
for ((d = 1; d <= dbs; d++)); do
	insert_one "$(bench_conn_db "sc_db$d")" "$count" &
done
wait
worst=0
all_done=0
p50s=()
for ((d = 1; d <= dbs; d++)); do
	read -r max p50 ndone < <(pickup "$(bench_conn_db "sc_db$d")" "$count")
	worst=$(awk -v a="$worst" -v b="$max" 'BEGIN { print (b > a ? b : a) }')
	all_done=$((all_done + ndone))
	p50s+=("$p50")
done
p50=$(printf '%s\n' "${p50s[@]}" | sort -n | sed -n "$(((dbs + 1) / 2))p")
report "$dbs dbs x $count pipelines" "$cpu" "$worst" "$p50" "$all_done" $((dbs * count))
exit 0
