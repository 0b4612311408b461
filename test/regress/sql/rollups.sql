-- Roll-ups: continuous views over continuous views (minute -> hour -> day),
-- exact for every aggregate the view read keeps; the scheduler's part
-- (writers, trimming of the deltas) is in test/tap/177_rollups.pl
CREATE EXTENSION hll;
CREATE EXTENSION tdigest;
CREATE EXTENSION pg_incremental;
CREATE SCHEMA rollup_test;
SET search_path = rollup_test;

CREATE TABLE events (id bigserial PRIMARY KEY, t timestamptz NOT NULL, url text,
                     user_id int, latency int);
INSERT INTO events (t, url, user_id, latency)
SELECT '2026-01-01'::timestamptz + i * interval '7 seconds', 'u' || (i % 3), i % 50, i % 97
FROM generate_series(1, 3000) i;

SELECT incremental.create_continuous_view('per_minute', $$
    SELECT date_trunc('minute', t) AS minute, url, count(*) AS hits, sum(latency) AS total,
           avg(latency) AS mean, min(latency) AS lo, max(latency) AS hi,
           count(DISTINCT user_id) AS users, stddev(latency) AS spread,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY latency) AS p50
    FROM events GROUP BY 1, 2 $$, "distinct" => 'hll');
CALL incremental.execute_pipeline('rollup_test.per_minute');

-- the first roll-up starts from the view's storage, and makes the view's
-- batches append their states to a delta table
SELECT incremental.create_continuous_view('per_hour', $$
    SELECT date_trunc('hour', minute) AS hour, url, sum(hits) AS hits, sum(total) AS total,
           incremental.combine(mean) AS mean, min(lo) AS lo, max(hi) AS hi,
           incremental.combine(users) AS users, incremental.combine(spread) AS spread,
           incremental.combine(p50) AS p50
    FROM per_minute GROUP BY 1, 2 $$);
SELECT view_name, source_table, delta_table FROM incremental.continuous_views ORDER BY 1;
SELECT pipeline_name, depends_on FROM incremental.pipeline_stats
WHERE pipeline_name LIKE 'rollup_test.%' ORDER BY 1;
SELECT stream, retention FROM incremental.streams;
SELECT count(*) AS deltas_left FROM per_minute_deltas;

-- the same as aggregating the source directly (a t-digest is approximate)
CREATE VIEW direct_hour AS
SELECT date_trunc('hour', t) AS hour, url, count(*) AS hits, sum(latency) AS total,
       avg(latency) AS mean, min(latency) AS lo, max(latency) AS hi,
       count(DISTINCT user_id) AS users, stddev(latency) AS spread,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency) AS p50
FROM events GROUP BY 1, 2;
CREATE FUNCTION hour_differences() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM direct_hour d FULL JOIN per_hour r USING (hour, url)
    WHERE r.hits IS DISTINCT FROM d.hits OR r.total IS DISTINCT FROM d.total
       OR r.mean IS DISTINCT FROM d.mean OR r.lo IS DISTINCT FROM d.lo
       OR r.hi IS DISTINCT FROM d.hi OR r.users IS DISTINCT FROM d.users
       OR abs(r.spread - d.spread) > 1e-9 OR abs(r.p50 - d.p50) > 5 $$;
SELECT count(*) AS hours, hour_differences() FROM per_hour;

-- new rows reach the hour through the minute's deltas
INSERT INTO events (t, url, user_id, latency)
SELECT '2026-01-01'::timestamptz + i * interval '5 seconds', 'u' || (i % 4), i % 70, i % 89
FROM generate_series(1, 2000) i;
CALL incremental.execute_pipeline('rollup_test.per_minute');
SELECT count(*) > 0 AS deltas_appended FROM per_minute_deltas;
CALL incremental.execute_pipeline('rollup_test.per_hour');
SELECT count(*) AS hours, hour_differences() FROM per_hour;

-- a roll-up of a roll-up
SELECT incremental.create_continuous_view('per_day', $$
    SELECT date_trunc('day', hour) AS day, sum(hits) AS hits, incremental.combine(mean) AS mean,
           incremental.combine(users) AS users, sum(hits) / 24 AS hourly
    FROM per_hour WHERE url <> 'u3' GROUP BY 1 $$);
SELECT d.*, e.*
FROM per_day d, (SELECT count(*), avg(latency), count(DISTINCT user_id)
                 FROM events WHERE url <> 'u3') e;
INSERT INTO events (t, url, user_id, latency) VALUES ('2026-01-02 03:00', 'u1', 1000, 7);
CALL incremental.execute_pipeline('rollup_test.per_minute');
CALL incremental.execute_pipeline('rollup_test.per_hour');
CALL incremental.execute_pipeline('rollup_test.per_day');
SELECT * FROM per_day ORDER BY day;

-- what a roll-up cannot do
SELECT incremental.create_continuous_view('bad', $$
    SELECT url, sum(mean) FROM per_minute GROUP BY 1 $$);
SELECT incremental.create_continuous_view('bad', $$
    SELECT url, avg(hits) FROM per_minute GROUP BY 1 $$);
SELECT incremental.create_continuous_view('bad', $$
    SELECT url, sum(users) FROM per_minute GROUP BY 1 $$);
SELECT incremental.create_continuous_view('bad', $$
    SELECT hits, count(*) FROM per_minute GROUP BY 1 $$);
SELECT incremental.create_continuous_view('bad', $$
    SELECT url, sum(hits) FROM per_minute WHERE hits > 3 GROUP BY 1 $$);
SELECT incremental.create_continuous_view('bad', $$
    SELECT url, sum(hits * 2) FROM per_minute GROUP BY 1 $$);
SELECT incremental.create_continuous_view('bad', $$
    SELECT url, sum(hits) FILTER (WHERE url = 'u1') FROM per_minute GROUP BY 1 $$);
SELECT incremental.create_continuous_view('bad', $$
    SELECT url, incremental.combine(url) FROM per_minute GROUP BY 1 $$);
SELECT incremental.create_continuous_view('bad', $$
    SELECT m.url, sum(m.hits) FROM per_minute m JOIN events e ON e.url = m.url GROUP BY 1 $$);
SELECT incremental.create_continuous_view('bad', $$
    SELECT url, sum(hits) FROM per_minute GROUP BY 1 $$, realtime => true);
SELECT incremental.create_continuous_view('bad', $$
    SELECT url, sum(hits) FROM per_minute GROUP BY 1 $$, "distinct" => 'hll');
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT incremental.create_continuous_view('bad', $$
    SELECT url, sum(hits) FROM per_minute GROUP BY 1 $$);
ROLLBACK;
-- outside a roll-up's query, combine() is refused
SELECT incremental.combine(x) FROM generate_series(1, 2) x;

-- views whose storage does not combine into coarser groups
SELECT incremental.create_continuous_view('with_having', $$
    SELECT url, count(*) AS n FROM events GROUP BY 1 HAVING count(*) > 10 $$);
SELECT incremental.create_continuous_view('bad', $$
    SELECT sum(n) FROM with_having $$);
SELECT incremental.create_continuous_view('exact_users', $$
    SELECT url, count(DISTINCT user_id) AS users FROM events GROUP BY 1 $$, "distinct" => 'exact');
SELECT incremental.create_continuous_view('bad', $$
    SELECT incremental.combine(users) FROM exact_users $$);
SELECT incremental.create_continuous_view('computed', $$
    SELECT url, count(*) * 2 AS doubled, count(*) AS n FROM events GROUP BY 1 $$);
SELECT incremental.create_continuous_view('bad', $$
    SELECT sum(doubled) FROM computed $$);
SELECT incremental.create_continuous_view('from_computed', $$
    SELECT sum(n) AS n FROM computed $$);
-- the storage of computed was empty: the deltas bring what it processes next
SELECT n FROM from_computed;
CALL incremental.execute_pipeline('rollup_test.computed');
CALL incremental.execute_pipeline('rollup_test.from_computed');
SELECT n, (SELECT count(*) FROM events) FROM from_computed;

-- only the owner of the view read can roll it up
CREATE ROLE rollup_other;
GRANT USAGE ON SCHEMA rollup_test TO rollup_other;
GRANT SELECT ON per_minute TO rollup_other;
SET ROLE rollup_other;
SELECT incremental.create_continuous_view('rollup_test.theirs', $$
    SELECT url, sum(hits) FROM rollup_test.per_minute GROUP BY 1 $$);
RESET ROLE;

-- the deltas and the roll-ups' dependencies on what they read
DROP TABLE per_minute_deltas;
DROP VIEW per_minute;
-- once no roll-up reads them, the view read no longer writes deltas
DROP VIEW per_day;
SELECT view_name, delta_table, p.command LIKE 'WITH "$batch"%' AS appends_deltas
FROM incremental.continuous_views JOIN incremental.pipelines p USING (pipeline_name)
WHERE view_name::text LIKE 'per_%' ORDER BY 1;
SELECT to_regclass('per_hour_deltas') AS hour_deltas;
DROP VIEW per_minute CASCADE;
SELECT view_name FROM incremental.continuous_views ORDER BY 1;
SELECT stream FROM incremental.streams;

DROP OWNED BY rollup_other;
DROP ROLE rollup_other;
DROP EXTENSION pg_incremental CASCADE;
DROP SCHEMA rollup_test CASCADE;
DROP EXTENSION hll;
DROP EXTENSION tdigest;
