#!/usr/bin/env bash
# Citus: a backlog of ROWS rows through a continuous view whose batches are
# pushed down (grouped by the distribution column, storage co-located),
# against the same view over the same rows on a single server.  Needs Citus
# installed (not in Debian: docs/citus.md); without it the script says so
# and exits 0.
#
# Both servers get the same settings; the cluster is a coordinator and two
# workers on loopback, sharing this machine's cores.  The rows are loaded
# first, then the view is created and CALL incremental.execute_pipeline
# processes the backlog in committed batches of BATCH rows (default
# 100,000, the views' default).
# Printed: the seconds and rows per second of each, their ratio, and
# whether each view equals its query.  No target is set for the ratio by
# the issue beyond "vs single node"; the exactness must hold.
#
#   [ROWS=n] [BATCH=n] bash bench/citus_backlog.sh [--quick]
#                                  (--quick: 10^6 rows, else 10^7)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=bench/lib_citus.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_citus.sh"
bench_parse_args "$@"
bench_header "citus_backlog"

if ! citus_installed; then
	echo "citus_backlog: Citus is not installed; nothing measured (docs/citus.md)"
	exit 0
fi
rows=${ROWS:-10000000}
batch=${BATCH:-100000}
if bench_quick; then rows=${ROWS:-1000000}; fi

# the same settings for the single server and the cluster
settings=("incremental.enabled = off" "max_wal_size = 4GB" "checkpoint_timeout = 30min" "jit = off")
dir=$(make_postgres_tmpdir pg_incremental-bench-citus-backlog)
trap 'citus_stop_servers "$dir"' EXIT
single_port=$(bench_free_port 55900)
citus_start_server "$dir" single "$single_port" pg_incremental "${settings[@]}"
citus_cluster "$dir" 55910 "${settings[@]}"
ports=("${CITUS_PORTS[@]}")
q() { citus_q "$@"; }

# load, then time the backlog; prints "seconds mismatched_groups"
run_backlog() {
	local port=$1 distribute=$2 start
	q "$port" -c 'CREATE EXTENSION pg_incremental'
	q "$port" <<SQL >/dev/null
CREATE TABLE events (tenant_id int NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, v int NOT NULL);
$distribute
INSERT INTO events (tenant_id, v) SELECT g % 1000, g % 97 FROM generate_series(1, $rows) g;
CREATE INDEX ON events (id);
VACUUM ANALYZE events;
SET client_min_messages = warning;
SELECT incremental.create_continuous_view('per_tenant',
  'SELECT tenant_id, count(*) AS n, sum(v) AS s, max(v) AS top FROM events GROUP BY tenant_id',
  max_batch_size => $batch);
SQL
	start=$(now_s)
	q "$port" -c "SET client_min_messages = warning" -c "CALL incremental.execute_pipeline('public.per_tenant')"
	local secs
	secs=$(elapsed "$start")
	local differ
	differ=$(q "$port" -c "SELECT count(*) FROM (SELECT tenant_id, count(*) n, sum(v) s, max(v) top FROM events GROUP BY 1) e
	  FULL JOIN per_tenant p USING (tenant_id) WHERE (e.n, e.s, e.top) IS DISTINCT FROM (p.n, p.s, p.top)")
	echo "$secs $differ"
}

echo "citus_backlog: $rows rows, 1000 tenants, batches of $batch"
read -r single_secs single_differ < <(run_backlog "$single_port" "")
echo "citus_backlog: single server: $single_secs s ($single_differ groups differ)"
read -r citus_secs citus_differ < <(run_backlog "${ports[0]}" "SELECT create_distributed_table('events', 'tenant_id');")
pushed=$(q "${ports[0]}" -c "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'per_tenant_storage'::regclass")
echo "citus_backlog: Citus, 3 nodes: $citus_secs s ($citus_differ groups differ, storage distributed: $pushed)"

rate() { awk -v r="$rows" -v s="$1" 'BEGIN { printf "%.0f", r / s }'; }
ratio=$(awk -v a="$citus_secs" -v b="$single_secs" 'BEGIN { printf "%.2f", a / b }')
exact=$([[ $single_differ == 0 && $citus_differ == 0 && $pushed == 1 ]] && echo met || echo MISSED)
bench_result "Citus: backlog of $rows rows, batches of $batch, pushed down" "$citus_secs s ($(rate "$citus_secs") rows/s)" \
	"exact" "n/a" "$exact"
bench_result "Citus: same backlog on a single server" "$single_secs s ($(rate "$single_secs") rows/s)" \
	"n/a" "n/a" "n/a"
bench_result "Citus: backlog time, 3 nodes / single" "$ratio" "n/a (2 cores shared by 3 nodes)" "n/a" "n/a"
