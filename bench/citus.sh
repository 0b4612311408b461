#!/usr/bin/env bash
# Citus: a sequence pipeline over a distributed table written through all
# three nodes of a loopback cluster (a coordinator and two workers, each with
# Citus and pg_incremental preloaded).  Needs Citus installed (not in Debian:
# docs/citus.md); without it the script says so and exits 0.
#
#   1. Rows lost: writers on all three nodes for SECS seconds (2 clients per
#      node, each transaction inserts, sleeps 0-150 ms and inserts again, so
#      ids commit out of order), the pipeline every second.  Then the
#      aggregate is compared with a full recomputation.  Target 0 lost, 0
#      counted twice.
#   2. Writer latency: single-statement insert transactions through all
#      three nodes (2 clients each), p50 and p95 over every transaction,
#      with the pipeline paused and then running every second, alternated
#      ROUNDS times.  Target: with / without <= 1.05.
#
#   bash bench/citus.sh [--quick]
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=bench/lib_citus.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_citus.sh"
bench_parse_args "$@"
bench_header "citus"

if ! citus_installed; then
	echo "citus: Citus is not installed; nothing measured (docs/citus.md)"
	exit 0
fi
secs=30
rounds=3
phase=20
if bench_quick; then secs=10; rounds=1; phase=8; fi

dir=$(make_postgres_tmpdir pg_incremental-bench-citus)
trap 'citus_stop_servers "$dir"; rm -f "${slow:-}" "${fast:-}"' EXIT
citus_cluster "$dir" 55800 "max_connections = 200"
ports=("${CITUS_PORTS[@]}")
q() { local n=$1; shift; citus_q "${ports[$n]}" "$@"; }
q 0 -c 'CREATE EXTENSION pg_incremental'
q 0 <<'SQL' >/dev/null
CREATE TABLE events (tenant_id int NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, v int NOT NULL);
SELECT create_distributed_table('events', 'tenant_id');
CREATE INDEX ON events (id);
CREATE TABLE totals (tenant_id int PRIMARY KEY, n bigint NOT NULL, s bigint NOT NULL);
SELECT create_distributed_table('totals', 'tenant_id', colocate_with => 'events');
SET client_min_messages = warning;
SELECT incremental.create_sequence_pipeline('totals', 'events',
  $$INSERT INTO totals SELECT tenant_id, count(*), sum(v) FROM events WHERE id BETWEEN $1 AND $2
    GROUP BY tenant_id ON CONFLICT (tenant_id) DO UPDATE SET n = totals.n + EXCLUDED.n, s = totals.s + EXCLUDED.s$$,
  schedule => '1 second');
SQL

slow=$(bench_file <<'EOF2'
\set t random(0, 99)
BEGIN;
INSERT INTO events (tenant_id, v) VALUES (:t, 1), ((:t + 37) % 100, 2);
SELECT pg_sleep(random() * 0.15);
INSERT INTO events (tenant_id, v) VALUES ((:t + 3) % 100, 3);
END;
EOF2
)
fast=$(bench_file <<'EOF2'
\set t random(0, 99)
INSERT INTO events (tenant_id, v) VALUES (:t, 1), ((:t + 37) % 100, 2);
EOF2
)

# writers on all nodes: writers SCRIPT SECONDS LOGPREFIX
writers() {
	local pids=() n
	for n in 0 1 2; do
		(cd "$dir" && as_postgres "$PGBENCH" -n -h 127.0.0.1 -p "${ports[$n]}" -c 2 -T "$2" -f "$1" \
			${3:+-l --log-prefix="$3$n"} postgres >/dev/null 2>&1) &
		pids+=($!)
	done
	wait "${pids[@]}"
}

echo "citus: writers on all three nodes for $secs s, the pipeline every second"
writers "$slow" "$secs" ""
expected=$(q 0 -c 'SELECT count(*) FROM events')
for _ in $(seq 1 60); do
	[[ $(q 0 -c 'SELECT coalesce(sum(n), 0) FROM totals') == "$expected" ]] && break
	sleep 1
done
aggregated=$(q 0 -c 'SELECT coalesce(sum(n), 0) FROM totals')
mismatched=$(q 0 -c 'SELECT count(*) FROM (SELECT tenant_id, count(*) n, sum(v) s FROM events GROUP BY 1) e
	FULL JOIN totals t USING (tenant_id) WHERE (e.n, e.s) IS DISTINCT FROM (t.n, t.s)')
by_node=$(q 0 -c "SELECT string_agg(c::text, ' / ' ORDER BY g) FROM (SELECT id >> 48 AS g, count(*) c FROM events GROUP BY 1) x")
lost=$((expected - aggregated))
echo "citus: $expected rows (coordinator / worker 1 / worker 2: $by_node), $aggregated aggregated, $mismatched tenants differ"
bench_result "Citus: rows lost, writers on 3 nodes" "$lost of $expected ($mismatched tenants differ)" "0" \
	"6,476 of 8,309 (research)" "$(bench_le "$lost" 0)"

# latency: the pipeline paused, then running every second, alternated
pct() { sort -n | awk -v p="$1" '{ a[NR] = $1 } END { i = int(NR * p / 100); if (i < 1) i = 1; printf "%.2f", a[i] / 1000 }'; }
for r in $(seq 1 "$rounds"); do
	for mode in off on; do
		if [[ $mode == off ]]; then
			q 0 -c "SELECT incremental.pause_pipeline('totals')" >/dev/null
		else
			q 0 -c "SELECT incremental.resume_pipeline('totals')" >/dev/null
		fi
		writers "$fast" "$phase" "lat_${mode}_${r}_"
	done
done
p50_off=$(cat "$dir"/lat_off_* 2>/dev/null | awk '{print $3}' | pct 50)
p95_off=$(cat "$dir"/lat_off_* 2>/dev/null | awk '{print $3}' | pct 95)
p50_on=$(cat "$dir"/lat_on_* 2>/dev/null | awk '{print $3}' | pct 50)
p95_on=$(cat "$dir"/lat_on_* 2>/dev/null | awk '{print $3}' | pct 95)
n_off=$(cat "$dir"/lat_off_* | wc -l)
n_on=$(cat "$dir"/lat_on_* | wc -l)
ratio50=$(awk -v a="$p50_on" -v b="$p50_off" 'BEGIN { printf "%.3f", a / b }')
ratio95=$(awk -v a="$p95_on" -v b="$p95_off" 'BEGIN { printf "%.3f", a / b }')
echo "citus: writer latency without the pipeline p50 $p50_off ms, p95 $p95_off ms ($n_off transactions)"
echo "citus: writer latency with it every second p50 $p50_on ms, p95 $p95_on ms ($n_on transactions)"
bench_result "Citus: writer latency p50 with/without" "$ratio50 ($p50_on / $p50_off ms)" "<= 1.05" \
	"1.78 (LOCK-based wait, research)" "$(bench_le "$ratio50" 1.05)"
bench_result "Citus: writer latency p95 with/without" "$ratio95 ($p95_on / $p95_off ms)" "<= 1.05" \
	"n/a" "$(bench_le "$ratio95" 1.05)"
