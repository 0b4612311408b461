#!/usr/bin/env bash
# pg_incremental demo: installs the dependencies, builds and installs the
# extension, starts a throwaway PostgreSQL 15 server with the library
# preloaded, creates a sequence pipeline and a continuous view with 1-second
# schedules (and a roll-up of the view), inserts rows in a few rounds and
# waits for the built-in scheduler
# to aggregate them.  Nothing is run by hand: every row is processed by the
# scheduler, and both summaries are then checked against the raw rows.
#
#   bash scripts/demo.sh          run the demo, then stop and remove the server
#   bash scripts/demo.sh --keep   leave the server running and print how to connect
#
# Environment: DEMO_PORT (default 54320), DEMO_TIMEOUT in seconds (default 30).
set -euo pipefail

usage() {
	sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

keep=false
for arg in "$@"; do
	case "$arg" in
		--keep) keep=true ;;
		-h | --help) usage; exit 0 ;;
		*) echo "demo: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
	esac
done

scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=scripts/tmp-server.sh
source "$scripts/tmp-server.sh"

port="${DEMO_PORT:-54320}"
timeout_s="${DEMO_TIMEOUT:-30}"
rounds=3
rows_per_round=20000

step() { printf '\n==> %s\n' "$*"; }

step "Installing dependencies"
bash "$scripts/install-deps.sh"

step "Building and installing pg_incremental"
bash "$scripts/build.sh"

demo_dir=""
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
	local rc=$?
	if [[ -n "$demo_dir" ]]; then
		if $keep && tmp_server_is_running; then
			return "$rc"
		fi
		tmp_server_stop
		rm -rf "$demo_dir"
	fi
	return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "Starting a throwaway PostgreSQL 15 server"
demo_dir="$(make_postgres_tmpdir pg_incremental-demo)"
TS_HOME="$demo_dir"
# incremental.naptime and incremental.enabled stay at their defaults.
tmp_server_init "$demo_dir" "$port" "timezone = 'UTC'"
tmp_server_start
echo "server: socket $demo_dir, port $port, shared_preload_libraries = 'pg_incremental'"

sql() { tmp_server_psql -d demo "$@"; }
value() { tmp_server_value demo "$1"; }

step "Creating the extension, a sequence pipeline and a continuous view (schedules '1 second')"
tmp_server_psql -d postgres -c "CREATE DATABASE demo"
sql <<'SQL'
CREATE EXTENSION pg_incremental;

CREATE TABLE events (
    event_id bigserial PRIMARY KEY,
    event_time timestamptz DEFAULT now(),
    client_id bigint,
    path text,
    response_time double precision
);

CREATE TABLE events_agg (
    day timestamptz,
    event_count bigint,
    PRIMARY KEY (day)
);

-- execute_immediately := false: all processing below is the scheduler's.
\o /dev/null
SELECT incremental.create_sequence_pipeline('event-aggregation', 'events', $$
    INSERT INTO events_agg
    SELECT date_trunc('day', event_time), count(*)
    FROM events
    WHERE event_id BETWEEN $1 AND $2
    GROUP BY 1
    ON CONFLICT (day) DO UPDATE SET event_count = events_agg.event_count + excluded.event_count
  $$,
  schedule := '1 second',
  execute_immediately := false);
\o

-- The same kind of summary, declared: the storage and its exact merge are
-- generated, and a sequence pipeline keeps it up to date.
CREATE EXTENSION hll;
CREATE EXTENSION tdigest;
CREATE VIEW daily WITH (incremental.continuous, incremental.schedule = '1 second') AS
  SELECT date_trunc('day', event_time, 'UTC') AS day, path,
         count(*) AS hits, avg(response_time) AS avg_ms, max(response_time) AS max_ms,
         count(DISTINCT client_id) AS clients,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY response_time) AS p95
  FROM events WHERE path <> '/health' GROUP BY 1, 2;

-- A roll-up: a continuous view over daily, per path over all days.  It merges
-- the states daily keeps (not its averages or distinct counts), right after
-- each batch of daily.
SELECT incremental.create_continuous_view('per_path', $v$
  SELECT path, sum(hits) AS hits, incremental.combine(avg_ms) AS avg_ms,
         max(max_ms) AS max_ms, incremental.combine(clients) AS clients,
         incremental.combine(p95) AS p95
  FROM daily GROUP BY 1 $v$, schedule => NULL);
SQL
sql -c "SELECT pipeline_name, pipeline_type, schedule FROM incremental.pipelines"

processed() {
	value "SELECT last_processed_sequence_number FROM incremental.sequence_pipelines
	       WHERE pipeline_name = 'event-aggregation'"
}

step "Inserting $rounds rounds of $rows_per_round events"
for ((round = 1; round <= rounds; round++)); do
	sql -c "INSERT INTO events (event_time, client_id, path, response_time)
	        SELECT now() - random() * interval '3 days',
	               (random() * 100)::bigint,
	               CASE WHEN random() < 0.05 THEN '/health' ELSE '/page/' || (random() * 20)::int END,
	               random() * 250
	        FROM generate_series(1, $rows_per_round)"
	echo "round $round: max event_id $(value 'SELECT max(event_id) FROM events'), processed by the scheduler so far: $(processed)"
	if ((round < rounds)); then
		sleep 1
	fi
done

all_processed() {
	[[ "$(value "SELECT (SELECT min(last_processed_sequence_number) FROM incremental.sequence_pipelines
	                     WHERE pipeline_name IN ('event-aggregation', 'public.daily'))
	                    >= (SELECT max(event_id) FROM events)
	              AND (SELECT coalesce(sum(hits), 0) FROM per_path)
	                  = (SELECT count(*) FROM events WHERE path <> '/health')")" == "t" ]]
}

step "Waiting up to $timeout_s s for the scheduler (no manual execute_pipeline)"
wait_start=$SECONDS
deadline=$((wait_start + timeout_s))
until all_processed; do
	if ((SECONDS >= deadline)); then
		echo "" >&2
		echo "FAILED: the scheduler did not process the rows within $timeout_s s" >&2
		echo "(processed up to event_id $(processed) of $(value 'SELECT max(event_id) FROM events'))" >&2
		echo "" >&2
		echo "Scheduler processes:" >&2
		tmp_server_psql -d postgres -c "SELECT pid, backend_type, datname, state, wait_event
		                                FROM pg_stat_activity
		                                WHERE backend_type ILIKE '%incremental%'" >&2 || true
		echo "Last lines of the server log ($TS_LOG):" >&2
		tail -n 40 "$TS_LOG" >&2 || true
		exit 1
	fi
	sleep 0.5
done
echo "the scheduler caught up $((SECONDS - wait_start)) s after the last insert"

# Stops the demo when a query that lists differences returns rows
fail_if_rows() {
	local what="$1" query="$2"
	if [[ "$(value "SELECT count(*) FROM ($query) d")" != 0 ]]; then
		echo "" >&2
		echo "FAILED: $what:" >&2
		sql -c "$query" >&2
		exit 1
	fi
}

# Progress and aggregate commit together, so now the aggregate must equal a
# full recomputation over all events: list the days where they differ.
differences="
	WITH fresh AS (
	    SELECT date_trunc('day', event_time) AS day, count(*) AS event_count
	    FROM events GROUP BY 1)
	SELECT day, fresh.event_count AS recomputed, events_agg.event_count AS incremental
	FROM fresh FULL JOIN events_agg USING (day)
	WHERE fresh.event_count IS DISTINCT FROM events_agg.event_count
	ORDER BY day"
fail_if_rows "events_agg differs from a full recomputation" "$differences"

# The continuous view against its query run directly over all events: counts
# and maxima exact, averages to float precision, distinct counts within the
# HyperLogLog's error (exact for small sets), percentiles approximate.
view_differences="
	WITH direct AS (
	    SELECT date_trunc('day', event_time, 'UTC') AS day, path,
	           count(*) AS hits, avg(response_time) AS avg_ms, max(response_time) AS max_ms,
	           count(DISTINCT client_id) AS clients
	    FROM events WHERE path <> '/health' GROUP BY 1, 2)
	SELECT day, path, direct.hits AS recomputed, daily.hits AS incremental
	FROM direct FULL JOIN daily USING (day, path)
	WHERE direct.hits IS DISTINCT FROM daily.hits
	   OR direct.max_ms IS DISTINCT FROM daily.max_ms
	   OR abs(direct.avg_ms - daily.avg_ms) > 1e-9 * abs(direct.avg_ms)
	   OR abs(direct.clients - daily.clients) > 0.1 * direct.clients"
fail_if_rows "the continuous view daily differs from its query over all events" "$view_differences"

# The roll-up against the same query over all events.
rollup_differences="
	WITH direct AS (
	    SELECT path, count(*) AS hits, avg(response_time) AS avg_ms,
	           max(response_time) AS max_ms, count(DISTINCT client_id) AS clients
	    FROM events WHERE path <> '/health' GROUP BY 1)
	SELECT path, direct.hits AS recomputed, per_path.hits AS incremental
	FROM direct FULL JOIN per_path USING (path)
	WHERE direct.hits IS DISTINCT FROM per_path.hits
	   OR direct.max_ms IS DISTINCT FROM per_path.max_ms
	   OR abs(direct.avg_ms - per_path.avg_ms) > 1e-9 * abs(direct.avg_ms)
	   OR abs(direct.clients - per_path.clients) > 0.1 * direct.clients"
fail_if_rows "the roll-up per_path differs from its query over all events" "$rollup_differences"

step "Result"
sql -c "SELECT pipeline_name, last_processed_sequence_number FROM incremental.sequence_pipelines"
sql -c "SELECT pipeline_name, state, runs, failures, items_processed, pending, last_run_end
        FROM incremental.pipeline_stats"
sql -c "SELECT day, event_count FROM events_agg ORDER BY day"
sql -c "SELECT count(*) AS events, (SELECT sum(event_count) FROM events_agg) AS aggregated FROM events"
sql -c "SELECT * FROM daily ORDER BY hits DESC LIMIT 5"
sql -c "SELECT * FROM per_path ORDER BY hits DESC LIMIT 5"
sql -c "SELECT view_name, storage_table, pipeline_name, state, pending FROM incremental.continuous_views"

echo "SUCCESS: the scheduler processed all $(value 'SELECT count(*) FROM events') events;" \
	"events_agg equals a full recomputation, and so do the continuous view daily" \
	"and its roll-up per_path"

if $keep; then
	prefix=""
	[[ $EUID -eq 0 ]] && prefix="runuser -u postgres -- "
	cat <<EOF

The demo server is still running (--keep). Connect with:
  psql -h $demo_dir -p $port -U postgres demo
Stop and remove it with:
  ${prefix}$PG_BINDIR/pg_ctl -D $demo_dir/data stop && rm -rf $demo_dir
EOF
fi
