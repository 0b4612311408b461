#!/usr/bin/env bash
# Figure 9, streams (docs/streams.md).
#
#   a. Insert throughput into a stream (create_stream, retention 'consumed',
#      100,000 ids per partition, so that runs cross partitions, create them
#      ahead and drop consumed ones) against a plain table with the same
#      columns, and against one with the stream's BRIN index on the id too,
#      4 and 16 clients, single-row INSERTs; each table has the same consumer,
#      a sequence pipeline every second.  Interleaved rounds; the median of
#      the per-round ratios is reported (target >= 0.97).
#   b. Table size over a steady ingest (500 rows/s into each table, in one
#      transaction, so both get the same rows) with a continuous view
#      consuming each: the stream with retention against the plain table
#      without.  The stream must stay flat, bounded by two full partitions
#      (the one being written and the one waiting for the consumer) plus the
#      empty partitions ahead and DEFAULT; the plain table grows.
#
#   bash bench/streams.sh [--quick] [--dsn CONNSTR] [--duration S] [--rounds N] [--ingest S | --throughput-only]
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_parse_args "$@"
set -- "${BENCH_ARGS[@]+"${BENCH_ARGS[@]}"}"
duration=6
rounds=5
ingest=600
rate=500
partition=100000
size_partition=20000
bench_quick && { duration=3; rounds=1; ingest=60; }
while [[ $# -gt 0 ]]; do
	case "$1" in
		--duration) duration=$2; shift ;;
		--rounds) rounds=$2; shift ;;
		--ingest) ingest=$2; shift ;;
		--throughput-only) ingest=0 ;;
		*) echo "streams: unknown argument $1" >&2 ;;
	esac
	shift
done
bench_header "9. streams ($duration s per throughput run, $rounds rounds; $ingest s steady ingest at $rate rows/s)"

bench_server streams "incremental.naptime = '100ms'" || exit 0

columns='click_time timestamptz NOT NULL DEFAULT now(), user_id bigint, url text'
setup() {
	bench_psql >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_incremental;
DROP TABLE IF EXISTS st_stream, st_plain, st_brin, st_stream_seen, st_plain_seen, st_brin_seen CASCADE;
SELECT incremental.create_stream('st_stream', '$columns', partition_size := $1);
CREATE TABLE st_plain (id bigint GENERATED ALWAYS AS IDENTITY, $columns);
CREATE TABLE st_brin (id bigint GENERATED ALWAYS AS IDENTITY, $columns);
CREATE INDEX ON st_brin USING brin (id);
SQL
}

# a. throughput: both tables, the same consumer on each
setup "$partition"
bench_psql >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE TABLE st_stream_seen (n bigint);
CREATE TABLE st_plain_seen (n bigint);
CREATE TABLE st_brin_seen (n bigint);
SELECT incremental.create_sequence_pipeline('stream_reader', 'st_stream',
    $$INSERT INTO st_stream_seen SELECT count(*) FROM st_stream WHERE id BETWEEN $1 AND $2$$,
    schedule := '1 second');
SELECT incremental.create_sequence_pipeline('plain_reader', 'st_plain',
    $$INSERT INTO st_plain_seen SELECT count(*) FROM st_plain WHERE id BETWEEN $1 AND $2$$,
    schedule := '1 second');
SELECT incremental.create_sequence_pipeline('brin_reader', 'st_brin',
    $$INSERT INTO st_brin_seen SELECT count(*) FROM st_brin WHERE id BETWEEN $1 AND $2$$,
    schedule := '1 second');
SQL
stream_sql=$(bench_file <<'SQL'
\set u random(1, 1000)
INSERT INTO st_stream (user_id, url) VALUES (:u, '/some/page/of/a/typical/site');
SQL
)
plain_sql=$(bench_file <<'SQL'
\set u random(1, 1000)
INSERT INTO st_plain (user_id, url) VALUES (:u, '/some/page/of/a/typical/site');
SQL
)
brin_sql=$(bench_file <<'SQL'
\set u random(1, 1000)
INSERT INTO st_brin (user_id, url) VALUES (:u, '/some/page/of/a/typical/site');
SQL
)
both_sql=$(bench_file <<'SQL'
\set u random(1, 1000)
BEGIN;
INSERT INTO st_stream (user_id, url) VALUES (:u, '/some/page/of/a/typical/site');
INSERT INTO st_plain (user_id, url) VALUES (:u, '/some/page/of/a/typical/site');
COMMIT;
SQL
)
trap 'rm -f "$stream_sql" "$plain_sql" "$brin_sql" "$both_sql"; bench_cleanup' EXIT

tps_of() { # clients script
	bench_pgbench -n -c "$1" -j 2 -T "$duration" -f "$2" 2>&1 | awk '/^tps = / { printf "%.0f", $3 }'
}

for clients in 4 16; do
	plain_all=""
	brin_all=""
	stream_all=""
	ratios=""
	brin_ratios=""
	for ((r = 1; r <= rounds; r++)); do
		bench_psql -c "CHECKPOINT" >/dev/null
		p=$(tps_of "$clients" "$plain_sql")
		bench_psql -c "CHECKPOINT" >/dev/null
		b=$(tps_of "$clients" "$brin_sql")
		bench_psql -c "CHECKPOINT" >/dev/null
		s=$(tps_of "$clients" "$stream_sql")
		plain_all+="${p:-0} "
		brin_all+="${b:-0} "
		stream_all+="${s:-0} "
		ratios+="$(awk -v s="${s:-0}" -v p="${p:-0}" 'BEGIN { if (p > 0) printf "%.3f", s / p }') "
		brin_ratios+="$(awk -v s="${s:-0}" -v p="${b:-0}" 'BEGIN { if (p > 0) printf "%.3f", s / p }') "
	done
	ratio=$(tr ' ' '\n' <<<"$ratios" | grep . | median)
	brin_ratio=$(tr ' ' '\n' <<<"$brin_ratios" | grep . | median)
	echo "streams, $clients clients: tps plain table ${plain_all% }, plain table with the BRIN index ${brin_all% }," \
		"stream ${stream_all% }; per-round ratios to plain ${ratios% } (median $ratio)," \
		"to plain with BRIN ${brin_ratios% } (median $brin_ratio)"
	bench_result "9a. stream / plain table insert tps, $clients clients (/ with the same BRIN index)" \
		"$ratio ($brin_ratio)" ">= 0.97" "-" "$(bench_ge "$ratio" 0.97)"
done
bench_value -c "SELECT 'stream partitions after the throughput runs: ' || partitions || ', held ' || partitions_held || ', rows estimate ' || estimated_rows FROM incremental.streams"

((ingest > 0)) || exit 0

# b. size over a steady ingest, a continuous view consuming each table
setup "$size_partition"
bench_psql >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE VIEW st_stream_per_user WITH (incremental.continuous, incremental.schedule = '1 second') AS
    SELECT user_id, count(*) FROM st_stream GROUP BY user_id;
CREATE VIEW st_plain_per_user WITH (incremental.continuous, incremental.schedule = '1 second') AS
    SELECT user_id, count(*) FROM st_plain GROUP BY user_id;
SQL
bench_pgbench -n -c 2 -j 2 -R "$rate" -T "$ingest" -f "$both_sql" >/dev/null 2>&1 &
writer=$!
samples=""
step=$((ingest / 10))
((step < 5)) && step=5
start=$(now_s)
max_stream=0
full=0
for ((t = step; t <= ingest; t += step)); do
	sleep "$step"
	line=$(bench_value -F' ' -c "SELECT pg_total_relation_size('st_plain'),
		(SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'st_stream'::regclass),
		(SELECT partitions FROM incremental.streams WHERE stream = 'st_stream'::regclass),
		(SELECT max(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'st_stream'::regclass)")
	read -r plain stream parts biggest <<<"$line"
	samples+="$(printf '%ds: stream %.1f MB (%s partitions), plain %.1f MB; ' "$t" "$(awk -v b="$stream" 'BEGIN { print b / 1048576 }')" "$parts" "$(awk -v b="$plain" 'BEGIN { print b / 1048576 }')")"
	# after the first two partitions filled, the stream must stay under the bound
	if ((t >= ingest / 2)) && ((stream > max_stream)); then
		max_stream=$stream
	fi
	echo "  $(elapsed "$start") s: stream $stream bytes in $parts partitions (largest $biggest), plain $plain bytes"
	((biggest > full)) && full=$biggest
done
wait "$writer" || true
rows=$(bench_value -c "SELECT count(*) FROM st_plain")
kept=$(bench_value -c "SELECT count(*) FROM st_stream")
# bound: two full partitions, plus the empty ones ahead (4) and DEFAULT (8 kB
# of heap and the BRIN index's pages each)
empty=$(bench_value -c "SELECT min(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'st_stream'::regclass")
bound=$(awk -v f="$full" -v e="$empty" 'BEGIN { printf "%.0f", 2 * f + 5 * e }')
stream_mb=$(awk -v b="$max_stream" 'BEGIN { printf "%.1f", b / 1048576 }')
plain_mb=$(awk -v b="$plain" 'BEGIN { printf "%.1f", b / 1048576 }')
bound_mb=$(awk -v b="$bound" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "streams, steady ingest: ${samples% }"
echo "streams, steady ingest: $rows rows written to each; the stream keeps $kept; largest stream size in the second half $stream_mb MB," \
	"bound (2 full partitions of $size_partition ids + 5 empty ones) $bound_mb MB; plain table $plain_mb MB"
bench_result "9b. stream size over ${ingest} s at $rate rows/s (second half, max) / plain table" "$stream_mb MB / $plain_mb MB" \
	"<= $bound_mb MB (2 partitions + empties)" "-" "$(bench_le "$max_stream" "$bound")"
exit 0
