-- Time interval pipelines: the command receives [$1, $2) of passed intervals
CREATE EXTENSION pg_incremental;
CREATE SCHEMA time_interval_test;
SET search_path = time_interval_test;
SET TimeZone = 'Europe/Amsterdam';
-- runs reach today, so their notices would change every day
SET client_min_messages = warning;

CREATE TABLE ranges (pipeline text, range_start timestamptz, range_end timestamptz);

-- unbatched: one interval per command, aligned to start_time, in the time zone
-- of the creating session (the 23-hour day of the DST change is one interval)
SELECT incremental.create_time_interval_pipeline('daily', '1 day',
    $$ INSERT INTO ranges VALUES ('daily', $1, $2) $$,
    batched := false, start_time := '2026-03-27 00:00', min_delay := '1 hour');
SELECT range_start, range_end, range_end - range_start AS length
FROM ranges WHERE pipeline = 'daily' ORDER BY 1 LIMIT 4;
SELECT time_interval, batched, min_delay, start_time, time_zone
FROM incremental.time_interval_pipelines WHERE pipeline_name = 'daily';

-- every interval up to the last one that ended min_delay ago, once each
SELECT count(*) = count(DISTINCT range_start) AS once_each,
       max(range_end) <= now() - interval '1 hour' AS all_passed,
       max(range_end) > now() - interval '1 day 1 hour' AS up_to_date,
       bool_and(range_end = range_start + interval '1 day') AS contiguous_days
FROM ranges WHERE pipeline = 'daily';
SELECT last_processed_time = (SELECT max(range_end) FROM ranges WHERE pipeline = 'daily')
FROM incremental.time_interval_pipelines WHERE pipeline_name = 'daily';

-- months are calendar months and do not drift from a month end
SELECT incremental.create_time_interval_pipeline('monthly', '1 month',
    $$ INSERT INTO ranges VALUES ('monthly', $1, $2) $$,
    batched := false, start_time := '2024-01-31');
SELECT range_start, range_end FROM ranges WHERE pipeline = 'monthly' ORDER BY 1 LIMIT 5;

-- batched: all passed intervals in one command
SELECT incremental.create_time_interval_pipeline('batched', '1 day',
    $$ INSERT INTO ranges VALUES ('batched', $1, $2) $$,
    start_time := '2026-01-01 00:00', min_delay := '0');
SELECT count(*) AS commands, min(range_start) AS range_start,
       max(range_end) = (SELECT date_trunc('day', created_at) FROM incremental.pipelines
                         WHERE pipeline_name = 'batched') AS ends_at_last_midnight
FROM ranges WHERE pipeline = 'batched';
-- nothing has passed since: nothing happens
CALL incremental.execute_pipeline('batched');
SELECT count(*) AS commands FROM ranges WHERE pipeline = 'batched';

-- without start_time, intervals are aligned to 2000-01-01 in the session's zone
SELECT incremental.create_time_interval_pipeline('default-start', '1 day',
    $$ SELECT $1, $2 $$, execute_immediately := false);
SELECT start_time, last_processed_time FROM incremental.time_interval_pipelines
WHERE pipeline_name = 'default-start';

-- an interval that has not fully passed is never processed, whatever start_time is
SELECT incremental.create_time_interval_pipeline('future', '1 day',
    $$ INSERT INTO ranges VALUES ('future', $1, $2) $$,
    start_time := now() - interval '12 hours', min_delay := '0');
SELECT count(*) FROM ranges WHERE pipeline = 'future';

-- reset goes back to the pipeline's own start_time
SELECT incremental.reset_pipeline('monthly', execute_immediately := false);
SELECT last_processed_time FROM incremental.time_interval_pipelines
WHERE pipeline_name = 'monthly';

-- the source table's writers are waited for; the source must be a table
CREATE TABLE readings (id bigserial, taken_at timestamptz NOT NULL, value float8);
SELECT incremental.create_time_interval_pipeline('with-source', '1 day', $$
    INSERT INTO ranges SELECT 'with-source', $1, $2 FROM readings
    WHERE taken_at >= $1 AND taken_at < $2 LIMIT 1 $$,
    source_table_name := 'readings', execute_immediately := false);
SELECT source_relation FROM incremental.pipelines WHERE pipeline_name = 'with-source';
-- without a source the column holds 0, as in pg_incremental 1.3
SELECT pipeline_name, source_relation::oid FROM incremental.pipelines
WHERE pipeline_name = 'monthly';
SELECT incremental.create_time_interval_pipeline('bad', '1 day', $$ SELECT $1, $2 $$,
    source_table_name := 'readings_id_seq');

-- invalid arguments
SELECT incremental.create_time_interval_pipeline('bad', '-1 day', $$ SELECT $1, $2 $$);
SELECT incremental.create_time_interval_pipeline('bad', '0', $$ SELECT $1, $2 $$);
SELECT incremental.create_time_interval_pipeline('bad', NULL, $$ SELECT $1, $2 $$);
SELECT incremental.create_time_interval_pipeline('bad', '1 day', $$ SELECT $1, $2 $$,
    batched := false);
SELECT incremental.create_time_interval_pipeline('bad', '1 day', $$ SELECT $1, $2 $$,
    min_delay := NULL);
SELECT incremental.create_time_interval_pipeline('bad', '1 day', $$ SELECT $1, $2 $$,
    min_delay := '-5 minutes');
SELECT incremental.create_time_interval_pipeline('bad', '1 day', $$ SELECT $1, $2 $$,
    start_time := 'infinity');
SELECT incremental.create_time_interval_pipeline('bad', '1 day', $$ SELECT $1::int $$);
SELECT incremental.create_time_interval_pipeline('bad', '1 day', $$ SELECT $1, $2, $3 $$);
SELECT count(*) FROM incremental.pipelines WHERE pipeline_name = 'bad';

-- the command runs in the pipeline's time zone, whether the session is in
-- another one (it is set for the batch) or already in the same one (it is
-- left as it is); either way, a zone the command sets is undone
CREATE TABLE zones_seen (session_zone text, seen text);
SELECT incremental.create_time_interval_pipeline('zoned', '1 day',
    $$ WITH z AS MATERIALIZED (SELECT current_setting('TimeZone') AS seen)
       INSERT INTO zones_seen
       SELECT current_setting('application_name'), seen FROM z
       WHERE set_config('TimeZone', 'Asia/Tokyo', false) <> '' AND $1 < $2 $$,
    batched := false, start_time := date_trunc('day', now()) - interval '3 days',
    min_delay := '0', execute_immediately := false);
SET TimeZone = 'UTC';
SET application_name = 'from UTC';
CALL incremental.execute_pipeline('zoned');
SELECT current_setting('TimeZone') AS after_other_zone;
SELECT incremental.reset_pipeline('zoned', execute_immediately := false);
SET TimeZone = 'Europe/Amsterdam';
SET application_name = 'from Europe/Amsterdam';
CALL incremental.execute_pipeline('zoned');
SELECT current_setting('TimeZone') AS after_same_zone;
RESET application_name;
SELECT session_zone, seen, count(*) FROM zones_seen GROUP BY 1, 2 ORDER BY 1, 2;

DROP EXTENSION pg_incremental;

SET client_min_messages = warning;
DROP SCHEMA time_interval_test CASCADE;
