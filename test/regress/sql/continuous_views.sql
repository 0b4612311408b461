-- Continuous views: an aggregate query whose storage a sequence pipeline
-- keeps up to date (the scheduler is off here: batches run by CALL)
CREATE EXTENSION pg_incremental;
CREATE SCHEMA cv;
SET search_path = cv;

CREATE TABLE events (
    id bigserial PRIMARY KEY,
    event_time timestamptz NOT NULL,
    path text,
    response_time double precision,
    bytes int,
    client_id int,
    ok boolean
);
INSERT INTO events (event_time, path, response_time, bytes, client_id, ok)
SELECT '2026-01-01 00:00+00'::timestamptz + (g % 72) * interval '1 hour',
       CASE WHEN g % 10 = 0 THEN NULL ELSE '/p' || (g % 3) END,
       CASE WHEN g % 7 = 0 THEN NULL ELSE (g % 50) * 1.5 END,
       g % 1000, g % 17, g % 5 <> 0
FROM generate_series(1, 3000) g;

-- HyperLogLog distinct counts need hll, percentiles tdigest: named when missing
SELECT incremental.create_continuous_view('daily_distinct', $$
    SELECT count(DISTINCT client_id) FROM events $$, "distinct" => 'hll');
SELECT incremental.create_continuous_view('daily_p95', $$
    SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY response_time) FROM events $$);

-- the function form; creation returns at once, the rows wait for a batch
SELECT incremental.create_continuous_view('daily', $$
    SELECT date_trunc('day', event_time, 'UTC') AS day, path,
           count(*) AS hits, count(response_time) AS timed, sum(bytes) AS bytes,
           min(response_time) AS fastest, max(response_time) AS slowest,
           avg(bytes) AS avg_bytes, avg(response_time) AS avg_ms,
           var_samp(bytes) AS var_bytes, stddev_pop(response_time) AS sd_ms,
           bool_and(ok) AS all_ok, bool_or(NOT ok) AS any_failed, bit_or(bytes) AS bits,
           count(*) FILTER (WHERE NOT ok) AS failures
    FROM events WHERE path IS DISTINCT FROM '/p2' GROUP BY 1, 2 $$,
    schedule => NULL, max_batch_size => 1000);
\d daily_storage
SELECT view_name, source_table, storage_table, pipeline_name, realtime, schedule,
       max_batch_size, pending
FROM incremental.continuous_views;
SELECT count(*) FROM daily;

-- three committed batches of at most 1000 rows
CALL incremental.execute_pipeline('cv.daily');
SELECT batches, rows_processed FROM incremental.pipeline_runs WHERE pipeline_name = 'cv.daily';

CREATE VIEW daily_direct AS
    SELECT date_trunc('day', event_time, 'UTC') AS day, path,
           count(*) AS hits, count(response_time) AS timed, sum(bytes) AS bytes,
           min(response_time) AS fastest, max(response_time) AS slowest,
           avg(bytes) AS avg_bytes, avg(response_time) AS avg_ms,
           var_samp(bytes) AS var_bytes, stddev_pop(response_time) AS sd_ms,
           bool_and(ok) AS all_ok, bool_or(NOT ok) AS any_failed, bit_or(bytes) AS bits,
           count(*) FILTER (WHERE NOT ok) AS failures
    FROM events WHERE path IS DISTINCT FROM '/p2' GROUP BY 1, 2;

-- exact aggregates equal the direct query's; floats within 1e-12
CREATE FUNCTION differences() RETURNS TABLE (day timestamptz, path text, what text)
LANGUAGE sql AS $$
    SELECT coalesce(v.day, d.day), coalesce(v.path, d.path),
           CASE WHEN v.day IS NULL THEN 'missing' WHEN d.day IS NULL THEN 'extra' ELSE 'value' END
    FROM daily v FULL JOIN daily_direct d
      ON v.day = d.day AND v.path IS NOT DISTINCT FROM d.path
    WHERE v.day IS NULL OR d.day IS NULL
       OR (v.hits, v.timed, v.bytes, v.fastest, v.slowest, v.avg_bytes, v.var_bytes,
           v.all_ok, v.any_failed, v.bits, v.failures)
          IS DISTINCT FROM
          (d.hits, d.timed, d.bytes, d.fastest, d.slowest, d.avg_bytes, d.var_bytes,
           d.all_ok, d.any_failed, d.bits, d.failures)
       OR abs(v.avg_ms - d.avg_ms) > 1e-12 * abs(d.avg_ms)
       OR abs(v.sd_ms - d.sd_ms) > 1e-12 * abs(d.sd_ms)
$$;
SELECT * FROM differences();
SELECT count(*) AS groups, count(*) FILTER (WHERE path IS NULL) AS null_path_groups FROM daily;

-- a late row (old time, new id) merges into its old group; a NULL key too
INSERT INTO events (event_time, path, response_time, bytes, client_id, ok)
VALUES ('2026-01-01 05:00+00', '/p1', 3, 7, 1, false),
       ('2026-01-02 05:00+00', NULL, NULL, NULL, NULL, NULL);
SELECT hits, failures FROM daily WHERE day = '2026-01-01 00:00+00' AND path = '/p1';
CALL incremental.execute_pipeline('cv.daily');
SELECT hits, failures FROM daily WHERE day = '2026-01-01 00:00+00' AND path = '/p1';
SELECT * FROM differences();

-- the DDL form, with options, column names, HAVING and expressions
CREATE VIEW busy (path, hits, share_ok) WITH (incremental.continuous, incremental.schedule = NULL)
AS SELECT path, count(*), round(100.0 * count(*) FILTER (WHERE ok) / count(*), 1)
   FROM events GROUP BY path HAVING count(*) > 900;
SELECT schedule FROM incremental.pipelines WHERE pipeline_name = 'cv.busy';
CALL incremental.execute_pipeline('cv.busy');
SELECT * FROM busy ORDER BY path;
SELECT path, count(*), round(100.0 * count(*) FILTER (WHERE ok) / count(*), 1)
FROM events GROUP BY path HAVING count(*) > 900 ORDER BY path;

-- no GROUP BY: always one row, as the direct query
CREATE VIEW totals WITH (incremental.continuous) AS
    SELECT count(*) AS n, sum(bytes) AS bytes, avg(bytes) AS avg_bytes,
           regr_count(response_time, bytes) AS pairs, corr(response_time, bytes) > 0 AS rising
    FROM events WHERE ok;
SELECT * FROM totals;
CALL incremental.execute_pipeline('cv.totals');
SELECT * FROM totals;
SELECT count(*) AS n, sum(bytes) AS bytes, avg(bytes) AS avg_bytes,
       regr_count(response_time, bytes) AS pairs, corr(response_time, bytes) > 0 AS rising
FROM events WHERE ok;

-- real-time: processed and pending rows, each counted once
CREATE VIEW live WITH (incremental.continuous, incremental.realtime) AS
    SELECT path, count(*) AS hits, sum(bytes) AS bytes FROM events GROUP BY path;
SELECT * FROM live ORDER BY path;
CALL incremental.execute_pipeline('cv.live');
INSERT INTO events (event_time, path, bytes, ok) VALUES (now(), '/p0', 1, true);
SELECT * FROM live ORDER BY path;
SELECT path, count(*) AS hits, sum(bytes) AS bytes FROM events GROUP BY path ORDER BY path;

-- a lookup table, joined when a batch runs
CREATE TABLE paths (path text PRIMARY KEY, section text);
INSERT INTO paths VALUES ('/p0', 'home'), ('/p1', 'shop');
CREATE VIEW per_section WITH (incremental.continuous) AS
    SELECT p.section, count(*) AS hits FROM events e JOIN paths p USING (path) GROUP BY 1;
CALL incremental.execute_pipeline('cv.per_section');
SELECT * FROM per_section ORDER BY 1;

-- pause loses nothing; truncate keeps counting from there; rebuild recomputes
SELECT incremental.pause_continuous_view('live');
INSERT INTO events (event_time, path, bytes, ok) VALUES (now(), '/p0', 1, true);
CALL incremental.execute_pipeline('cv.live');
SELECT paused FROM incremental.pipelines WHERE pipeline_name = 'cv.live';
SELECT incremental.resume_continuous_view('live');
SELECT incremental.truncate_continuous_view('totals');
SELECT * FROM totals;
INSERT INTO events (event_time, path, bytes, ok) VALUES (now(), '/p0', 5, true);
CALL incremental.execute_pipeline('cv.totals');
SELECT n, bytes FROM totals;
SELECT incremental.rebuild_continuous_view('totals');
SELECT n FROM totals;
CALL incremental.execute_pipeline('cv.totals');
SELECT n = (SELECT count(*) FROM events WHERE ok) AS rebuilt FROM totals;
SELECT incremental.pause_continuous_view('daily_direct');

-- exact distinct counts (the default without hll): the values seen per group
-- in a side table, each batch counting those it adds
CREATE VIEW uniques WITH (incremental.continuous, incremental.max_batch_size = 700) AS
    SELECT path, count(DISTINCT client_id) AS clients,
           count(DISTINCT bytes) FILTER (WHERE ok) AS ok_sizes, count(*) AS hits
    FROM events GROUP BY path;
SELECT distinct_mode, distinct_tables FROM incremental.continuous_views WHERE view_name = 'uniques'::regclass;
\d uniques_clients_values
CALL incremental.execute_pipeline('cv.uniques');
INSERT INTO events (event_time, path, bytes, client_id, ok)
VALUES (now(), '/p0', 1, 99, true), (now(), '/p0', 1, 99, true), (now(), NULL, 1, 99, true);
CALL incremental.execute_pipeline('cv.uniques');
(SELECT * FROM uniques EXCEPT
 SELECT path, count(DISTINCT client_id), count(DISTINCT bytes) FILTER (WHERE ok), count(*)
 FROM events GROUP BY path)
UNION ALL
(SELECT path, count(DISTINCT client_id), count(DISTINCT bytes) FILTER (WHERE ok), count(*)
 FROM events GROUP BY path
 EXCEPT SELECT * FROM uniques);
SELECT * FROM uniques ORDER BY path;

-- distinct counts in HyperLogLog sketches (exact for small sets), percentiles
-- in t-digests; the extensions' own aggregates as they are
CREATE EXTENSION hll;
CREATE EXTENSION tdigest;
CREATE VIEW sketches WITH (incremental.continuous, incremental.max_batch_size = 500,
                           incremental.distinct = 'hll') AS
    SELECT path, count(DISTINCT client_id) AS clients, count(DISTINCT ok) AS oks,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY bytes) AS median_bytes,
           percentile_disc(ARRAY[0.1, 0.9]) WITHIN GROUP (ORDER BY bytes) AS deciles,
           hll_add_agg(hll_hash_integer(client_id)) AS client_set
    FROM events GROUP BY path;
CALL incremental.execute_pipeline('cv.sketches');
SELECT s.path, s.clients = d.clients AS clients_exact, s.oks = d.oks AS oks_exact,
       abs(s.median_bytes - d.median_bytes) < 20 AS median_close,
       abs(s.deciles[1] - d.deciles[1]) < 20 AND abs(s.deciles[2] - d.deciles[2]) < 20 AS deciles_close,
       hll_cardinality(s.client_set) = d.clients AS set_exact
FROM sketches s JOIN (
    SELECT path, count(DISTINCT client_id) AS clients, count(DISTINCT ok) AS oks,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY bytes) AS median_bytes,
           percentile_disc(ARRAY[0.1, 0.9]) WITHIN GROUP (ORDER BY bytes) AS deciles
    FROM events GROUP BY path) d ON s.path IS NOT DISTINCT FROM d.path
ORDER BY 1;

-- a TTL hides expired groups at once; a time interval pipeline deletes them
CREATE VIEW recent WITH (incremental.continuous, incremental.ttl = '1000 days',
                         incremental.distinct = 'exact') AS
    SELECT date_trunc('day', event_time, 'UTC') AS day, count(*) AS hits,
           count(DISTINCT client_id) AS clients
    FROM events GROUP BY 1;
SELECT pipeline_name, pipeline_type, schedule FROM incremental.pipelines
WHERE pipeline_name LIKE 'cv.recent%' ORDER BY 1;
CALL incremental.execute_pipeline('cv.recent');
SELECT count(*) AS visible, (SELECT count(*) FROM recent_storage) AS stored FROM recent;
SELECT incremental.set_ttl('recent', '1 day');
SELECT count(*) AS visible, (SELECT count(*) FROM recent_storage) AS stored FROM recent;
SET client_min_messages = warning;  -- the NOTICE names the current time
CALL incremental.execute_pipeline('cv.recent:maintenance');
RESET client_min_messages;
SELECT count(*) AS visible, (SELECT count(*) FROM recent_storage) AS stored,
       (SELECT count(*) FROM recent_clients_values) AS values_kept FROM recent;
INSERT INTO events (event_time, path, client_id, ok) VALUES (now(), '/p1', 5, true);
CALL incremental.execute_pipeline('cv.recent');
SELECT hits, clients FROM recent;
SELECT ttl, ttl_column FROM incremental.continuous_views WHERE view_name = 'recent'::regclass;
SELECT incremental.set_ttl('recent', '0 days');
SELECT incremental.set_ttl('busy', '1 day');
CREATE VIEW bad WITH (incremental.continuous, incremental.ttl = '1 day') AS
    SELECT path, count(*) FROM events GROUP BY 1;
CREATE VIEW bad WITH (incremental.continuous, incremental.ttl_column = 'path') AS
    SELECT path, count(*) FROM events GROUP BY 1;
CREATE VIEW bad WITH (incremental.continuous, incremental.ttl = '1 day', incremental.ttl_column = 'nope') AS
    SELECT date_trunc('day', event_time, 'UTC') AS day, count(*) FROM events GROUP BY 1;
DROP VIEW recent;
SELECT count(*) FROM incremental.pipelines WHERE pipeline_name LIKE 'cv.recent%';

-- partitioned storage: a DEFAULT partition takes the first rows, the
-- maintenance pipeline moves them into partitions and creates those ahead;
-- with a TTL, wholly expired partitions are dropped
CREATE VIEW per_day WITH (incremental.continuous, incremental.partition_duration = '1 day',
                          incremental.distinct = 'exact') AS
    SELECT date_trunc('day', event_time, 'UTC') AS day, path, count(*) AS hits,
           count(DISTINCT client_id) AS clients
    FROM events WHERE event_time < '2026-06-01' GROUP BY 1, 2;
SELECT partition_column, partition_duration, maintenance_pipeline
FROM incremental.continuous_views WHERE view_name = 'per_day'::regclass;
CALL incremental.execute_pipeline('cv.per_day');
SELECT tableoid::regclass AS partition, count(*) FROM per_day_storage GROUP BY 1 ORDER BY 1;
SET client_min_messages = warning;
CALL incremental.execute_pipeline('cv.per_day:maintenance');
RESET client_min_messages;
SELECT tableoid::regclass AS partition, count(*) FROM per_day_storage
WHERE day < '2026-06-01' GROUP BY 1 ORDER BY 1;
SELECT count(*) AS partitions_ahead FROM pg_inherits
WHERE inhparent = 'per_day_storage'::regclass AND inhrelid::regclass::text > 'per_day_storage_p20260601';
-- a late row for a day that has its partition goes there; the view is unchanged in shape
INSERT INTO events (event_time, path, client_id, ok) VALUES ('2026-01-02 12:00+00', '/p1', 99, true);
CALL incremental.execute_pipeline('cv.per_day');
SELECT tableoid::regclass AS partition, hits FROM per_day_storage
WHERE day = '2026-01-02 00:00+00' AND path = '/p1';
(SELECT * FROM per_day EXCEPT
 SELECT date_trunc('day', event_time, 'UTC'), path, count(*), count(DISTINCT client_id)
 FROM events WHERE event_time < '2026-06-01' GROUP BY 1, 2)
UNION ALL
(SELECT date_trunc('day', event_time, 'UTC'), path, count(*), count(DISTINCT client_id)
 FROM events WHERE event_time < '2026-06-01' GROUP BY 1, 2
 EXCEPT SELECT * FROM per_day);
CREATE VIEW bad WITH (incremental.continuous, incremental.partition_by = 'day') AS
    SELECT date_trunc('day', event_time, 'UTC') AS day, count(*) FROM events GROUP BY 1;
CREATE VIEW bad WITH (incremental.continuous, incremental.partition_duration = '1 month') AS
    SELECT date_trunc('day', event_time, 'UTC') AS day, count(*) FROM events GROUP BY 1;
CREATE VIEW bad WITH (incremental.continuous, incremental.partition_duration = '1 day',
                      incremental.partition_by = 'path') AS
    SELECT path, date_trunc('day', event_time, 'UTC') AS day, count(*) FROM events GROUP BY 1, 2;
CREATE VIEW bad WITH (incremental.continuous, incremental.partition_duration = '1 hour') AS
    SELECT event_time::date AS day, count(*) FROM events GROUP BY 1;
CREATE VIEW partitioned_ttl WITH (incremental.continuous, incremental.partition_duration = '1 day',
                                  incremental.ttl = '1000 days') AS
    SELECT date_trunc('day', event_time, 'UTC') AS day, count(*) AS hits FROM events GROUP BY 1;
CALL incremental.execute_pipeline('cv.partitioned_ttl');
SET client_min_messages = warning;
CALL incremental.execute_pipeline('cv.partitioned_ttl:maintenance');
SELECT count(*) > 3 AS partitioned FROM pg_inherits WHERE inhparent = 'partitioned_ttl_storage'::regclass;
SELECT incremental.set_ttl('partitioned_ttl', '30 days');
SELECT incremental.reset_pipeline('cv.partitioned_ttl:maintenance');
CALL incremental.execute_pipeline('cv.partitioned_ttl:maintenance');
RESET client_min_messages;
SELECT count(*) FILTER (WHERE inhrelid::regclass::text LIKE '%\_p202601%') AS january_partitions,
       (SELECT count(*) FROM partitioned_ttl_storage WHERE day < now() - interval '30 days') AS old_rows
FROM pg_inherits WHERE inhparent = 'partitioned_ttl_storage'::regclass;
SELECT count(*) FROM partitioned_ttl WHERE day < now() - interval '30 days';

-- sliding windows: PipelineDB's form, or the options; steps of 1/20 window
CREATE TABLE clicks (id bigserial PRIMARY KEY, arrival timestamptz NOT NULL, url text, u int);
INSERT INTO clicks (arrival, url, u)
SELECT now() - interval '1 minute', '/' || (g % 2), g % 3 FROM generate_series(1, 10) g
UNION ALL
SELECT now() - interval '1 hour', '/0', 7 FROM generate_series(1, 5) g;
CREATE VIEW last_5_minutes WITH (incremental.continuous) AS
    SELECT url, count(*) AS hits, count(DISTINCT u) AS users FROM clicks
    WHERE arrival > clock_timestamp() - interval '5 minutes' GROUP BY url;
\d last_5_minutes_storage
CALL incremental.execute_pipeline('cv.last_5_minutes');
SELECT * FROM last_5_minutes ORDER BY url;
SELECT url, count(*) AS hits, count(DISTINCT u) AS users FROM clicks
WHERE arrival > now() - interval '5 minutes' GROUP BY url ORDER BY url;
SELECT incremental.create_continuous_view('last_day', 'SELECT count(*) FROM cv.clicks',
    sliding_window => '1 day', sliding_column => 'arrival', realtime => true);
SELECT * FROM last_day;
SELECT sliding_window FROM incremental.continuous_views WHERE view_name = 'last_day'::regclass;
SELECT pipeline_name, schedule FROM incremental.pipelines WHERE pipeline_name LIKE 'cv.last%' ORDER BY 1;
CREATE VIEW bad WITH (incremental.continuous, incremental.distinct = 'exact') AS
    SELECT count(DISTINCT u) FROM clicks WHERE arrival > now() - interval '1 hour';
CREATE VIEW bad WITH (incremental.continuous, incremental.ttl = '1 day') AS
    SELECT count(*) FROM clicks WHERE arrival > now() - interval '1 hour';
-- the window beside other conditions, and as CURRENT_TIMESTAMP
CREATE VIEW window_and WITH (incremental.continuous, incremental.distinct = 'hll') AS
    SELECT url, count(*) AS hits FROM clicks
    WHERE url <> '/1' AND arrival >= CURRENT_TIMESTAMP - interval '10 minutes' AND u IS NOT NULL
    GROUP BY url;
CALL incremental.execute_pipeline('cv.window_and');
SELECT * FROM window_and;
-- elsewhere the current time would be the batch's (CURRENT_DATE is a midnight)
CREATE VIEW bad WITH (incremental.continuous) AS
    SELECT count(*) FROM clicks WHERE arrival > CURRENT_DATE - interval '1 day';
CREATE VIEW bad WITH (incremental.continuous) AS
    SELECT count(*) FROM clicks WHERE arrival < now() - interval '1 hour';
CREATE VIEW bad WITH (incremental.continuous) AS
    SELECT arrival > now() - interval '1 hour' AS fresh, count(*) FROM clicks GROUP BY 1;
CREATE VIEW bad WITH (incremental.continuous) AS
    SELECT count(*) FILTER (WHERE arrival > CURRENT_DATE) FROM clicks;
-- ... while in the select list outside aggregates it is the reader's
CREATE VIEW ages WITH (incremental.continuous) AS
    SELECT url, now() - max(arrival) > interval '0' AS seen_before FROM clicks GROUP BY url;
CALL incremental.execute_pipeline('cv.ages');
SELECT * FROM ages ORDER BY url;
CREATE VIEW bad WITH (incremental.continuous, incremental.sliding_window = '1 hour') AS
    SELECT count(*) FROM clicks;
CREATE VIEW bad WITH (incremental.continuous, incremental.sliding_window = '1 month',
                      incremental.sliding_column = 'arrival') AS
    SELECT count(*) FROM clicks;
CREATE VIEW bad WITH (incremental.continuous, incremental.sliding_window = '1 hour',
                      incremental.sliding_column = 'url') AS
    SELECT count(*) FROM clicks;
CREATE VIEW bad WITH (incremental.continuous, incremental.sliding_column = 'arrival') AS
    SELECT count(*) FROM clicks;

-- renaming the view keeps it working
ALTER VIEW busy RENAME TO very_busy;
INSERT INTO events (event_time, path, ok) VALUES (now(), '/p1', true);
CALL incremental.execute_pipeline('cv.busy');
SELECT * FROM very_busy ORDER BY path;
SELECT view_name, pipeline_name FROM incremental.continuous_views ORDER BY 1::text;

-- the storage belongs to the view; the source and the extension need CASCADE
DROP TABLE daily_storage;
DROP TABLE events;
DROP EXTENSION pg_incremental;
DROP VIEW very_busy;
SELECT count(*) FROM pg_class WHERE relname = 'busy_storage';
SELECT count(*) FROM incremental.pipelines WHERE pipeline_name = 'cv.busy';

-- what a continuous view cannot keep, with the part named
CREATE VIEW bad WITH (incremental.continuous) AS SELECT path, count(*) FROM events GROUP BY 1 ORDER BY 1;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT path, count(*) FROM events GROUP BY 1 LIMIT 3;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT path, count(*) OVER () FROM events;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT DISTINCT ON (path) path FROM events;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT DISTINCT path FROM events;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT path, generate_series(1, 2), count(*) FROM events GROUP BY 1;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT (random() * 10)::int, count(*) FROM events GROUP BY 1;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT count(*) FROM events WHERE random() < 0.5;
-- a window condition under OR is no sliding window, only volatile
CREATE VIEW bad WITH (incremental.continuous) AS SELECT count(*) FROM events WHERE event_time > clock_timestamp() - interval '5 minutes' OR ok;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT path, string_agg(path, ',') FROM events GROUP BY 1;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT sum(DISTINCT bytes) FROM events;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT array_agg(bytes ORDER BY id) FROM events;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT path, bytes, count(*) FROM events GROUP BY id;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT path FROM events;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT path, count(*), count(bytes) FROM events GROUP BY 1;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT count(*) FROM events UNION ALL SELECT 1;
CREATE VIEW bad WITH (incremental.continuous) AS WITH e AS (SELECT * FROM events) SELECT count(*) FROM e;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT path, count(*) FROM events GROUP BY ROLLUP (path);
CREATE VIEW bad WITH (incremental.continuous) AS SELECT (SELECT 1), count(*) FROM events;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT count(*) FROM paths p RIGHT JOIN events e USING (path);
CREATE VIEW bad WITH (incremental.continuous) AS SELECT count(*) FROM paths p LEFT JOIN events e USING (path);
CREATE VIEW bad WITH (incremental.continuous) AS SELECT count(*) FROM paths;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT count(*) FROM (SELECT * FROM events) e;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT count(*) FROM events FOR UPDATE;
CREATE VIEW bad WITH (incremental.continuous) AS SELECT 1 AS one, count(*);
CREATE TEMP TABLE scratch (id serial, v int);
CREATE VIEW bad WITH (incremental.continuous) AS SELECT count(*) FROM scratch;
CREATE TEMP VIEW bad WITH (incremental.continuous) AS SELECT count(*) FROM events;
CREATE OR REPLACE VIEW bad WITH (incremental.continuous) AS SELECT count(*) FROM events;
CREATE VIEW bad WITH (incremental.continuous, security_barrier) AS SELECT count(*) FROM events;
CREATE VIEW bad WITH (incremental.realtime) AS SELECT count(*) FROM events;
CREATE VIEW bad WITH (incremental.continuous, incremental.colour = 'red') AS SELECT count(*) FROM events;
CREATE VIEW bad WITH (incremental.continuous, incremental.max_batch_size = 0) AS SELECT count(*) FROM events;
SELECT incremental.create_continuous_view('bad', 'SELECT 1; SELECT 2');
SELECT incremental.create_continuous_view('bad', 'DELETE FROM events');
SELECT incremental.create_continuous_view('bad', 'SELECT count(*) FROM events', "distinct" => 'exactly');
SELECT incremental.create_continuous_view('daily', 'SELECT count(*) FROM events');
CREATE TABLE bad_storage (x int);
SELECT incremental.create_continuous_view('bad', 'SELECT count(*) FROM events');
SELECT incremental.pause_continuous_view('events');
SELECT incremental.drop_pipeline('cv.daily');
SELECT incremental.reset_pipeline('cv.daily');
SELECT incremental.create_continuous_view('bad', 'SELECT count(*) FROM cv.events', max_batch_size => 0);
-- what the batches name cannot be renamed, moved or lose a column
ALTER TABLE events RENAME TO events2;
ALTER TABLE events RENAME COLUMN bytes TO size;
ALTER TABLE events DROP COLUMN client_id;
ALTER TABLE events ALTER COLUMN bytes TYPE bigint;
ALTER TABLE events ADD COLUMN unused int;
ALTER TABLE events ALTER COLUMN unused TYPE bigint;
ALTER TABLE events DROP COLUMN unused;
DROP TABLE uniques_clients_values;
ALTER TABLE uniques_clients_values DROP COLUMN value;
ALTER TABLE per_day_storage_default RENAME TO somewhere_else;
SELECT incremental.set_ttl(0::regclass, '1 day');
SELECT incremental.rebuild_continuous_view(1::regclass);
ALTER TABLE daily_storage RENAME TO d2;
ALTER TABLE paths RENAME TO paths2;
CREATE SCHEMA elsewhere;
ALTER TABLE events SET SCHEMA elsewhere;
DROP SCHEMA elsewhere;
ALTER TABLE paths RENAME CONSTRAINT paths_pkey TO paths_key;
ALTER TABLE paths RENAME CONSTRAINT paths_key TO paths_pkey;
DROP TABLE paths;
-- nothing was left behind by the refusals
SELECT relname FROM pg_class WHERE relnamespace = 'cv'::regnamespace AND relname LIKE 'bad%' ORDER BY 1;
SELECT pipeline_name FROM incremental.pipelines ORDER BY 1;

-- a role needs to read the source
CREATE ROLE cv_reader;
GRANT USAGE, CREATE ON SCHEMA cv TO cv_reader;
SET ROLE cv_reader;
SELECT incremental.create_continuous_view('cv.mine', 'SELECT count(*) FROM cv.events');
RESET ROLE;

-- DROP VIEW drops storage and pipeline; DROP ... CASCADE of the source too
DROP VIEW daily;
SELECT count(*) FROM pg_class WHERE relname = 'daily_storage';
DROP TABLE events CASCADE;
SELECT count(*) FROM incremental.continuous_view_definitions;
SELECT count(*) FROM incremental.pipelines;
SELECT relname FROM pg_class WHERE relnamespace = 'cv'::regnamespace ORDER BY 1;

-- DROP EXTENSION ... CASCADE drops continuous views
CREATE TABLE t (id bigserial, v int);
CREATE VIEW t_count WITH (incremental.continuous) AS SELECT count(*) FROM t;
DROP EXTENSION pg_incremental CASCADE;
SELECT relname FROM pg_class WHERE relnamespace = 'cv'::regnamespace ORDER BY 1;
DROP SCHEMA cv CASCADE;
DROP ROLE cv_reader;
