#!/usr/bin/env bash
# Figure 8, continuous views: what the generated storage and merge cost
# against the hand-written equivalents.  The workload is the events table of
# the README, 3,000 groups (30 days x 100 paths), every batch touching every
# group, on top of already-processed history so each batch is a merge into
# existing rows (the expensive case of an upsert):
#
#   a. Merge cost.  A continuous view
#        SELECT date_trunc('day', event_time, 'UTC') AS day, path, count(*),
#               sum(response_time), min(response_time), max(response_time)
#        FROM events GROUP BY 1, 2
#      against a sequence pipeline running the hand-written upsert
#        INSERT INTO summary SELECT <the same> WHERE event_id BETWEEN $1 AND $2
#        GROUP BY 1, 2 ON CONFLICT (day, path) DO UPDATE SET hits = summary.hits
#        + excluded.hits, ...
#      both over the same source table and both run by CALL
#      incremental.execute_pipeline (so both include the pipeline's fixed
#      cost), N = 10^4, 10^5, 10^6 new rows in one batch (max_batch_size
#      above N).  Each round inserts N rows (VACUUM ANALYZE, untimed), then
#      runs both, alternating which goes first; ratio of the best of the
#      rounds (the machine's noise only ever adds time), medians shown too.
#   b. Immediate maintenance: the same N rows inserted by one INSERT into a
#      table with a per-row AFTER INSERT trigger doing the same upsert,
#      against the same INSERT into a table without trigger plus a continuous
#      view's batch over those rows (not vacuumed in between: the batch pays
#      for the hint bits, as it would in use).  Both reported, and the ratio.
#   c. Realtime read.  EXPLAIN (ANALYZE, TIMING OFF) server time of SELECT *
#      from a realtime continuous view with 0, 10^3 and 10^5 pending
#      (unprocessed) rows, interleaved with reads of a non-realtime view of
#      the same query over a storage of the same size and with the view's
#      query run directly over the pending rows alone; best / median.
#      Checked at the end: the realtime view equals the aggregate query run
#      directly, and the plain view equals it once processed.
#   d. Ten aggregates (count, sum, avg, min, max, stddev, count(DISTINCT) via
#      hll (distinct => 'hll'), percentile_cont via tdigest, bool_or, var_pop)
#      against count(*) alone: time per batch of 10^5 rows (alternating,
#      best / median) and the storage per group (average row size, and the
#      table's total size after VACUUM FULL divided by the groups).  Needs the
#      hll and tdigest extensions; n/a without them.  The same ten with
#      distinct => 'exact' (a side table of the values each group has seen)
#      are timed in the same rounds, first and last round shown: the side
#      table grows with every batch.
#
# The server runs with autovacuum off (the script vacuums between rounds) and
# the scheduler off (every batch is an explicit CALL).  With --dsn the
# workload runs on that server when it has continuous views
# (pg_incremental 2.2), else every figure reads n/a.
#
#   bash bench/continuous_views.sh [--quick] [--dsn CONNSTR]
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_parse_args "$@"
bench_header "8. continuous views"

if bench_quick; then
	a_sizes=(10000 100000 1000000)
	declare -A a_reps=([10000]=9 [100000]=5 [1000000]=3)
	b_sizes=(10000)
	declare -A b_reps=([10000]=3)
	c_history=100000
	c_reps=5
	d_reps=3
else
	a_sizes=(10000 100000 1000000)
	declare -A a_reps=([10000]=31 [100000]=11 [1000000]=7)
	b_sizes=(10000 100000)
	declare -A b_reps=([10000]=7 [100000]=3)
	c_history=1000000
	c_reps=11
	d_reps=9
fi
history=100000

na_all() { # reason
	echo "continuous views: $1"
	local f
	for f in "8a. CV merge / hand-written upsert (best / median)" \
		"8b. immediate: per-row trigger / insert + CV batch" "8c. realtime read" "8d. 10 aggregates / count(*)"; do
		bench_result "$f" "n/a ($1)" - - n/a
	done
	exit 0
}

bench_server continuous_views "incremental.enabled = off" "autovacuum = off" || exit 0
has_cv="SELECT EXISTS (SELECT FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname = 'incremental' AND p.proname = 'create_continuous_view')"
if [[ $(bench_value -c "$has_cv" 2>/dev/null) != t ]]; then
	# the extension may just not be created yet on our own server
	bench_psql -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS pg_incremental" >/dev/null 2>&1 || true
	[[ $(bench_value -c "$has_cv" 2>/dev/null) == t ]] ||
		na_all "no incremental.create_continuous_view on this server (needs pg_incremental 2.2)"
fi

bench_psql >/dev/null <<'SQL'
SET client_min_messages = warning;
DROP VIEW IF EXISTS cv_a, cv_b, cv_rt, cv_plain, cv_ten, cv_one, cv_tenx;
DROP TABLE IF EXISTS cv_events, cv_summary, cv_trg_events, cv_trg_summary, cv_b_events, cv_c_events, cv_d_events;
SELECT incremental.drop_pipeline(pipeline_name) FROM incremental.pipelines WHERE pipeline_name = 'cv-hand';
DROP FUNCTION IF EXISTS cv_trg_upsert();
SQL

# INSERT of source rows g = FROM .. TO into TABLE: 30 days x 100 paths, every
# 3,000 consecutive rows cover the 3,000 groups; 4,096 clients; response
# times 0 .. 1000 ms.
gen() { # table from to
	echo "INSERT INTO $1 (event_time, client_id, path, response_time)
		SELECT timestamptz '2026-11-01 00:00 UTC' + (g % 30) * interval '1 day' + (g % 86399) * interval '1 second',
			hashint8(g) & 4095, '/page/' || ((g / 30) % 100), (hashint8(g * 3) & 65535) / 65.536
		FROM generate_series($2, $3) g"
}
events_ddl() { # table
	echo "CREATE TABLE $1 (event_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		event_time timestamptz NOT NULL, client_id bigint, path text, response_time double precision)"
}
# the select list of (a), (b), (c)
cv_query() { # source table
	echo "SELECT date_trunc('day', event_time, 'UTC') AS day, path, count(*) AS hits, sum(response_time) AS total_ms,
		min(response_time) AS min_ms, max(response_time) AS max_ms FROM $1 GROUP BY 1, 2"
}
# the README's hand-written upsert, with the same aggregates
hand_upsert() { # source summary lo hi
	echo "INSERT INTO $2 SELECT date_trunc('day', event_time, 'UTC'), path, count(*), sum(response_time),
		min(response_time), max(response_time) FROM $1 WHERE event_id BETWEEN $3 AND $4 GROUP BY 1, 2
		ON CONFLICT (day, path) DO UPDATE SET hits = $2.hits + excluded.hits,
		total_ms = $2.total_ms + excluded.total_ms, min_ms = least($2.min_ms, excluded.min_ms),
		max_ms = greatest($2.max_ms, excluded.max_ms)"
}
summary_ddl() { # table
	echo "CREATE TABLE $1 (day timestamptz, path text, hits bigint, total_ms double precision,
		min_ms double precision, max_ms double precision, PRIMARY KEY (day, path))"
}

# Runs a psql script and prints "label ms" for every statement after a line
# "\echo T label" (\timing on).
timed() {
	bench_psql | awk '/^T / { label = $2; next } label != "" && /^Time:/ { print label, $2; label = "" }'
}
# best and median of the values of one label: stats LABEL < "label ms" lines
stats() {
	local v
	v=$(awk -v l="$1" '$1 == l { print $2 }')
	printf '%s %s\n' "$(sort -n <<<"$v" | head -1)" "$(median <<<"$v")"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
# the machine's load, and other PostgreSQL servers running beside ours (tests)
load_note() {
	local others
	others=$(pgrep -fc "^$PG_BINDIR/postgres -D" || true)
	bench_own && others=$((others - 1))
	echo "load $(bench_load), other PostgreSQL servers running: $others"
}

# ---------------------------------------------------------------- (a)
g=0 # last generated g of cv_events
bench_psql >/dev/null <<SQL
SET client_min_messages = warning;
$(events_ddl cv_events);
$(summary_ddl cv_summary);
SELECT incremental.create_continuous_view('cv_a', \$q\$$(cv_query cv_events)\$q\$, schedule := NULL, max_batch_size := 100000000);
SELECT incremental.create_sequence_pipeline('cv-hand', 'cv_events', \$c\$$(hand_upsert cv_events cv_summary '$1' '$2')\$c\$, schedule := NULL, execute_immediately := false);
$(gen cv_events 1 $history);
VACUUM ANALYZE cv_events;
CALL incremental.execute_pipeline('public.cv_a');
CALL incremental.execute_pipeline('cv-hand');
SQL
g=$history
for n in "${a_sizes[@]}"; do
	r=${a_reps[$n]}
	start=$(now_s)
	script=$(
		echo "SET client_min_messages = warning;"
		echo "\\timing on"
		for ((i = 1; i <= r; i++)); do
			gen cv_events $((g + (i - 1) * n + 1)) $((g + i * n))
			echo ";"
			echo "VACUUM ANALYZE cv_events, cv_a_storage, cv_summary;"
			if ((i % 2)); then
				echo "\\echo T cv"
				echo "CALL incremental.execute_pipeline('public.cv_a');"
				echo "\\echo T hand"
				echo "CALL incremental.execute_pipeline('cv-hand');"
			else
				echo "\\echo T hand"
				echo "CALL incremental.execute_pipeline('cv-hand');"
				echo "\\echo T cv"
				echo "CALL incremental.execute_pipeline('public.cv_a');"
			fi
		done
	)
	g=$((g + r * n))
	t=$(timed <<<"$script")
	read -r cv_best cv_med < <(stats cv <<<"$t")
	read -r h_best h_med < <(stats hand <<<"$t")
	rb=$(ratio "$cv_best" "$h_best")
	rm_=$(ratio "$cv_med" "$h_med")
	# both must hold the same sums
	same=$(bench_value -c "SELECT count(*) = 3000 AND bool_and(s.hits = v.hits AND s.min_ms = v.min_ms AND s.max_ms = v.max_ms
		AND abs(s.total_ms - v.total_ms) <= 1e-9 * abs(s.total_ms)) AND sum(v.hits) = $g
		FROM cv_summary s JOIN cv_a v USING (day, path)")
	echo "8a merge N=$n: continuous view ${cv_best} ms / hand-written upsert ${h_best} ms = ${rb} (best of $r;" \
		"medians ${cv_med} / ${h_med} ms = ${rm_}); same results: ${same}; $(load_note); $(elapsed "$start") s"
	[[ $same == t ]] || echo "8a: the continuous view and the hand-written summary differ" >&2
	bench_result "8a. CV merge / hand-written upsert N=$n (best / median)" "$rb / $rm_" "<= 1.05" - "$(bench_le "$rb" 1.05)"
done

# ---------------------------------------------------------------- (b)
bench_psql >/dev/null <<SQL
SET client_min_messages = warning;
$(events_ddl cv_trg_events);
$(summary_ddl cv_trg_summary);
$(events_ddl cv_b_events);
CREATE FUNCTION cv_trg_upsert() RETURNS trigger LANGUAGE plpgsql AS \$f\$
BEGIN
	INSERT INTO cv_trg_summary
	VALUES (date_trunc('day', NEW.event_time, 'UTC'), NEW.path, 1, NEW.response_time, NEW.response_time, NEW.response_time)
	ON CONFLICT (day, path) DO UPDATE SET hits = cv_trg_summary.hits + excluded.hits,
		total_ms = cv_trg_summary.total_ms + excluded.total_ms, min_ms = least(cv_trg_summary.min_ms, excluded.min_ms),
		max_ms = greatest(cv_trg_summary.max_ms, excluded.max_ms);
	RETURN NULL;
END \$f\$;
$(gen cv_trg_events 1 $history);
$(hand_upsert cv_trg_events cv_trg_summary 1 $history);
CREATE TRIGGER cv_trg_upsert AFTER INSERT ON cv_trg_events FOR EACH ROW EXECUTE FUNCTION cv_trg_upsert();
SELECT incremental.create_continuous_view('cv_b', \$q\$$(cv_query cv_b_events)\$q\$, schedule := NULL, max_batch_size := 100000000);
$(gen cv_b_events 1 $history);
CALL incremental.execute_pipeline('public.cv_b');
VACUUM ANALYZE cv_trg_events, cv_trg_summary, cv_b_events, cv_b_storage;
SQL
gb=$history
for n in "${b_sizes[@]}"; do
	r=${b_reps[$n]}
	start=$(now_s)
	script=$(
		echo "SET client_min_messages = warning;"
		echo "\\timing on"
		for ((i = 1; i <= r; i++)); do
			echo "VACUUM cv_trg_events, cv_trg_summary, cv_b_events, cv_b_storage;"
			if ((i % 2)); then
				echo "\\echo T trigger"
				gen cv_trg_events $((gb + (i - 1) * n + 1)) $((gb + i * n))
				echo ";"
			fi
			echo "\\echo T insert"
			gen cv_b_events $((gb + (i - 1) * n + 1)) $((gb + i * n))
			echo ";"
			echo "\\echo T batch"
			echo "CALL incremental.execute_pipeline('public.cv_b');"
			if ((i % 2 == 0)); then
				echo "\\echo T trigger"
				gen cv_trg_events $((gb + (i - 1) * n + 1)) $((gb + i * n))
				echo ";"
			fi
		done
	)
	gb=$((gb + r * n))
	t=$(timed <<<"$script")
	read -r tr_best tr_med < <(stats trigger <<<"$t")
	read -r in_best in_med < <(stats insert <<<"$t")
	read -r ba_best ba_med < <(stats batch <<<"$t")
	# insert + batch of the same round, then best and median over the rounds
	sum_list=$(paste -d' ' <(awk '$1 == "insert" { print $2 }' <<<"$t") <(awk '$1 == "batch" { print $2 }' <<<"$t") |
		awk '{ printf "%.3f\n", $1 + $2 }')
	ib_best=$(sort -n <<<"$sum_list" | head -1)
	ib_med=$(median <<<"$sum_list")
	same=$(bench_value -c "SELECT count(*) = 3000 AND bool_and(s.hits = v.hits AND s.min_ms = v.min_ms AND s.max_ms = v.max_ms
		AND abs(s.total_ms - v.total_ms) <= 1e-9 * abs(s.total_ms)) AND sum(v.hits) = $gb
		FROM cv_trg_summary s JOIN cv_b v USING (day, path)")
	per_row=$(awk -v t="$tr_best" -v i="$in_best" -v n="$n" 'BEGIN { printf "%.1f", 1000 * (t - i) / n }')
	rb=$(ratio "$tr_best" "$ib_best")
	echo "8b immediate N=$n: INSERT with per-row trigger ${tr_best} ms (median ${tr_med});" \
		"INSERT without ${in_best} ms (median ${in_med}) + continuous view batch ${ba_best} ms (median ${ba_med})" \
		"= ${ib_best} ms (median ${ib_med}, per round); trigger / (insert + batch) = ${rb} (best of $r);" \
		"the trigger adds ${per_row} us per row; same results: ${same}; $(load_note); $(elapsed "$start") s"
	[[ $same == t ]] || echo "8b: the trigger's summary and the continuous view differ" >&2
	bench_result "8b. immediate N=$n: per-row trigger / insert + CV batch (best)" "$tr_best / $ib_best ms (x$rb)" - - -
done

# ---------------------------------------------------------------- (c)
start=$(now_s)
bench_psql >/dev/null <<SQL
SET client_min_messages = warning;
$(events_ddl cv_c_events);
SELECT incremental.create_continuous_view('cv_rt', \$q\$$(cv_query cv_c_events)\$q\$, schedule := NULL, max_batch_size := 100000000, realtime := true);
SELECT incremental.create_continuous_view('cv_plain', \$q\$$(cv_query cv_c_events)\$q\$, schedule := NULL, max_batch_size := 100000000);
$(gen cv_c_events 1 "$c_history");
VACUUM ANALYZE cv_c_events;
CALL incremental.execute_pipeline('public.cv_rt');
CALL incremental.execute_pipeline('public.cv_plain');
VACUUM ANALYZE cv_rt_storage, cv_plain_storage;
SQL
gc=$c_history
# c_reps interleaved EXPLAIN ANALYZE reads of cv_rt, cv_plain and (with a
# bound) the view's query run directly over the pending rows only: prints
# "label-rt ms", "label-plain ms", "label-direct ms"
reads() { # label [first pending id]
	local i
	{
		echo "SET client_min_messages = warning;"
		for ((i = 1; i <= c_reps; i++)); do
			echo "\\echo R $1-rt"
			echo "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) SELECT * FROM cv_rt;"
			echo "\\echo R $1-plain"
			echo "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) SELECT * FROM cv_plain;"
			if [[ -n ${2:-} ]]; then
				echo "\\echo R $1-direct"
				echo "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) $(cv_query cv_c_events | sed "s/ GROUP BY/ WHERE event_id >= $2 GROUP BY/");"
			fi
		done
	} | bench_psql -At | awk '/^R / { label = $2; next }
		label != "" && /"Execution Time"/ { v = $0; sub(/.*"Execution Time": */, "", v); sub(/[^0-9.].*/, "", v); print label, v; label = "" }'
}
c_out=$(reads p0)
declare -A c_best c_med
for pend in 1000 100000; do
	more=$((pend - (gc - c_history)))
	bench_psql -c "$(gen cv_c_events $((gc + 1)) $((gc + more)))" -c "VACUUM ANALYZE cv_c_events" >/dev/null
	gc=$((gc + more))
	c_out+=$'\n'$(reads "p$pend" $((c_history + 1)))
done
for l in p0 p1000 p100000; do
	for v in rt plain direct; do
		read -r "c_best[$l-$v]" "c_med[$l-$v]" < <(stats "$l-$v" <<<"$c_out")
	done
done
# exactness: the realtime view with pending rows = the query run directly;
# then the plain view once processed
exact_sql="SELECT count(*) = 3000 AND bool_and(d.hits = v.hits AND d.min_ms = v.min_ms AND d.max_ms = v.max_ms
	AND abs(d.total_ms - v.total_ms) <= 1e-9 * abs(d.total_ms)) AND sum(v.hits) = $gc
	FROM ($(cv_query cv_c_events)) d JOIN @VIEW@ v USING (day, path)"
rt_exact=$(bench_value -c "${exact_sql//@VIEW@/cv_rt}")
bench_psql -c "SET client_min_messages = warning" -c "CALL incremental.execute_pipeline('public.cv_plain')" >/dev/null
plain_exact=$(bench_value -c "${exact_sql//@VIEW@/cv_plain}")
echo "8c realtime read (3000 groups, source $c_history rows + pending; EXPLAIN ANALYZE TIMING OFF, best / median of $c_reps, ms):" \
	"0 pending: realtime ${c_best[p0-rt]} / ${c_med[p0-rt]}, plain ${c_best[p0-plain]} / ${c_med[p0-plain]};" \
	"10^3 pending: realtime ${c_best[p1000-rt]} / ${c_med[p1000-rt]}, plain ${c_best[p1000-plain]} / ${c_med[p1000-plain]}," \
	"the query over the pending rows alone ${c_best[p1000-direct]} / ${c_med[p1000-direct]};" \
	"10^5 pending: realtime ${c_best[p100000-rt]} / ${c_med[p100000-rt]}, plain ${c_best[p100000-plain]} / ${c_med[p100000-plain]}," \
	"the query over the pending rows alone ${c_best[p100000-direct]} / ${c_med[p100000-direct]};" \
	"realtime view exact with 10^5 pending: ${rt_exact}; plain view exact once processed: ${plain_exact}; $(load_note); $(elapsed "$start") s"
[[ $rt_exact == t && $plain_exact == t ]] || echo "8c: a view differs from the query run directly" >&2
bench_result "8c. realtime read, 0 / 10^3 / 10^5 pending (best)" \
	"${c_best[p0-rt]} / ${c_best[p1000-rt]} / ${c_best[p100000-rt]} ms; plain view ${c_best[p0-plain]} / ${c_best[p1000-plain]} / ${c_best[p100000-plain]}; pending rows' query alone - / ${c_best[p1000-direct]} / ${c_best[p100000-direct]}" - - -

# ---------------------------------------------------------------- (d)
start=$(now_s)
missing=$(bench_value -c "SELECT string_agg(e, ', ') FROM unnest(ARRAY['hll', 'tdigest']) e
	WHERE NOT EXISTS (SELECT FROM pg_available_extensions WHERE name = e)")
if [[ -z $missing ]] && ! bench_psql -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS hll" \
	-c "CREATE EXTENSION IF NOT EXISTS tdigest" >/dev/null 2>&1; then
	missing="hll or tdigest (CREATE EXTENSION failed)"
fi
# the ten aggregates
ten_query() {
	echo "SELECT date_trunc('day', event_time, 'UTC') AS day, path, count(*) AS hits, sum(response_time) AS total_ms,
		avg(response_time) AS avg_ms, min(response_time) AS min_ms, max(response_time) AS max_ms,
		stddev(response_time) AS sd_ms, count(DISTINCT client_id) AS clients,
		percentile_cont(0.95) WITHIN GROUP (ORDER BY response_time) AS p95_ms,
		bool_or(response_time > 900) AS any_slow, var_pop(response_time) AS var_ms
	FROM cv_d_events GROUP BY 1, 2"
}
if [[ -n $missing ]]; then
	echo "8d: n/a, extension(s) not installed: $missing"
	bench_result "8d. 10 aggregates / count(*): per 10^5 batch (best); bytes per group" "n/a (no $missing)" - - n/a
else
	bench_psql >/dev/null <<SQL
SET client_min_messages = warning;
$(events_ddl cv_d_events);
SELECT incremental.create_continuous_view('cv_ten', \$q\$$(ten_query)\$q\$, schedule := NULL, "distinct" := 'hll');
SELECT incremental.create_continuous_view('cv_one', \$q\$
	SELECT date_trunc('day', event_time, 'UTC') AS day, path, count(*) AS hits FROM cv_d_events GROUP BY 1, 2\$q\$,
	schedule := NULL);
$(gen cv_d_events 1 $history);
VACUUM ANALYZE cv_d_events;
CALL incremental.execute_pipeline('public.cv_ten');
CALL incremental.execute_pipeline('public.cv_one');
SQL
	# the same ten with exact distinct counts (a side table of the values
	# seen per group), where the server has them
	exact=false
	if bench_psql -c "SET client_min_messages = warning" \
		-c "SELECT incremental.create_continuous_view('cv_tenx', \$q\$$(ten_query)\$q\$, schedule := NULL, \"distinct\" := 'exact')" \
		-c "CALL incremental.execute_pipeline('public.cv_tenx')" >/dev/null 2>&1; then
		exact=true
	fi
	gd=$history
	n=100000
	script=$(
		echo "SET client_min_messages = warning;"
		echo "\\timing on"
		for ((i = 1; i <= d_reps; i++)); do
			gen cv_d_events $((gd + (i - 1) * n + 1)) $((gd + i * n))
			echo ";"
			echo "VACUUM ANALYZE cv_d_events, cv_ten_storage, cv_one_storage;"
			if ((i % 2)); then
				echo "\\echo T ten"
				echo "CALL incremental.execute_pipeline('public.cv_ten');"
				echo "\\echo T one"
				echo "CALL incremental.execute_pipeline('public.cv_one');"
			else
				echo "\\echo T one"
				echo "CALL incremental.execute_pipeline('public.cv_one');"
				echo "\\echo T ten"
				echo "CALL incremental.execute_pipeline('public.cv_ten');"
			fi
			if [[ $exact == true ]]; then
				echo "VACUUM ANALYZE cv_tenx_storage, cv_tenx_clients_values;"
				echo "\\echo T tenx"
				echo "CALL incremental.execute_pipeline('public.cv_tenx');"
			fi
		done
	)
	gd=$((gd + d_reps * n))
	t=$(timed <<<"$script")
	read -r ten_best ten_med < <(stats ten <<<"$t")
	read -r one_best one_med < <(stats one <<<"$t")
	bench_psql -c "VACUUM FULL cv_ten_storage" -c "VACUUM FULL cv_one_storage" >/dev/null
	read -r ten_row one_row ten_disk one_disk groups < <(bench_value -F' ' -c "SELECT
		(SELECT round(avg(pg_column_size(s.*))) FROM cv_ten_storage s), (SELECT round(avg(pg_column_size(s.*))) FROM cv_one_storage s),
		(SELECT round(pg_total_relation_size('cv_ten_storage') / count(*)::numeric) FROM cv_ten_storage),
		(SELECT round(pg_total_relation_size('cv_one_storage') / count(*)::numeric) FROM cv_one_storage),
		(SELECT count(*) FROM cv_ten_storage)")
	# the ten aggregates against the same query run directly: the exact ones
	# must be equal, the errors of the approximate ones are shown
	check=$(bench_value -c "SELECT (count(*) = 3000 AND bool_and(d.hits = v.hits AND d.min_ms = v.min_ms AND d.max_ms = v.max_ms
		AND d.any_slow = v.any_slow AND abs(d.avg_ms - v.avg_ms) <= 1e-9 * d.avg_ms AND abs(d.sd_ms - v.sd_ms) <= 1e-9 * d.sd_ms
		AND abs(d.var_ms - v.var_ms) <= 1e-9 * d.var_ms) AND sum(v.hits) = $gd)::text || ' / clients max rel. error ' || round(max(abs(d.clients - v.clients)::numeric / d.clients), 4)
		|| ' / p95 max rel. error ' || round(max(abs(d.p95_ms - v.p95_ms) / d.p95_ms)::numeric, 4)
		FROM (SELECT date_trunc('day', event_time, 'UTC') AS day, path, count(*) AS hits, avg(response_time) AS avg_ms,
			min(response_time) AS min_ms, max(response_time) AS max_ms, stddev(response_time) AS sd_ms,
			count(DISTINCT client_id) AS clients, percentile_cont(0.95) WITHIN GROUP (ORDER BY response_time) AS p95_ms,
			bool_or(response_time > 900) AS any_slow, var_pop(response_time) AS var_ms FROM cv_d_events GROUP BY 1, 2) d
		JOIN cv_ten v USING (day, path)")
	rb=$(ratio "$ten_best" "$one_best")
	echo "8d ten aggregates: batch of 10^5 rows ${ten_best} ms (median ${ten_med}) vs count(*) only ${one_best} ms" \
		"(median ${one_med}) = x${rb} (best of $d_reps); storage per group (${groups} groups): row ${ten_row} vs ${one_row} bytes," \
		"on disk after VACUUM FULL ${ten_disk} vs ${one_disk} bytes; exact aggregates exact / approximate ones: ${check};" \
		"$(load_note); $(elapsed "$start") s"
	bench_result "8d. 10 aggregates / count(*): per 10^5 batch (best); bytes per group" \
		"$ten_best / $one_best ms (x$rb); row $ten_row / $one_row B, on disk $ten_disk / $one_disk B" - - -
	if [[ $exact == true ]]; then
		read -r x_best x_med < <(stats tenx <<<"$t")
		x_first=$(awk '$1 == "tenx" { print $2; exit }' <<<"$t")
		x_last=$(awk '$1 == "tenx" { v = $2 } END { print v }' <<<"$t")
		read -r x_side x_sidebytes x_ok < <(bench_value -F' ' -c "SELECT (SELECT count(*) FROM cv_tenx_clients_values),
			(SELECT round(pg_total_relation_size('cv_tenx_clients_values') / 3000.0)),
			(SELECT count(*) = 3000 AND bool_and(d.clients = v.clients) FROM
				(SELECT date_trunc('day', event_time, 'UTC') AS day, path, count(DISTINCT client_id) AS clients
				 FROM cv_d_events GROUP BY 1, 2) d JOIN cv_tenx v USING (day, path))")
		echo "8d ten aggregates with distinct => 'exact': batch of 10^5 rows ${x_best} ms (median ${x_med}; first round" \
			"${x_first}, last ${x_last}) = x$(ratio "$x_best" "$one_best") count(*) only; side table ${x_side} rows," \
			"${x_sidebytes} bytes per group; clients exact: ${x_ok}"
		bench_result "8d. 10 aggregates, distinct exact: per 10^5 batch (best; first / last)" \
			"$x_best ms (x$(ratio "$x_best" "$one_best") count(*)); $x_first / $x_last ms; side table $x_sidebytes B/group" - - -
	else
		echo "8d: no distinct => 'exact' on this server"
	fi
fi

bench_psql >/dev/null <<'SQL' || true
SET client_min_messages = warning;
DROP VIEW IF EXISTS cv_a, cv_b, cv_rt, cv_plain, cv_ten, cv_one, cv_tenx;
DROP TABLE IF EXISTS cv_events, cv_summary, cv_trg_events, cv_trg_summary, cv_b_events, cv_c_events, cv_d_events;
SELECT incremental.drop_pipeline(pipeline_name) FROM incremental.pipelines WHERE pipeline_name = 'cv-hand';
DROP FUNCTION IF EXISTS cv_trg_upsert();
SQL
exit 0
