-- incremental.pipeline_stats and incremental.pipeline_runs
CREATE EXTENSION pg_incremental;
CREATE SCHEMA monitoring_test;
SET search_path = monitoring_test;
SET client_min_messages = warning;

CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY, at timestamptz NOT NULL DEFAULT now());
INSERT INTO events (at) SELECT '2026-01-01' FROM generate_series(1, 25);
SELECT incremental.create_sequence_pipeline('counter', 'events',
    $$ SELECT count(*) FROM events WHERE id BETWEEN $1 AND $2 $$, max_batch_size := 10);
SELECT incremental.create_time_interval_pipeline('days', '1 day',
    $$ SELECT $1, $2 $$, start_time := '2026-01-01', execute_immediately := false,
    schedule := NULL);
CREATE TABLE inbox (path text);
CREATE FUNCTION list_inbox(pattern text) RETURNS TABLE (path text)
    LANGUAGE sql AS $$ SELECT path FROM inbox $$;
INSERT INTO inbox VALUES ('a'), ('b'), ('c');
SELECT incremental.create_file_list_pipeline('files', '%', $$ SELECT $1 $$,
    list_function := 'list_inbox', batched := true, max_batch_size := 2);
RESET client_min_messages;

-- one row per pipeline; the scheduler does not run in this test server
-- (the time pipeline's pending days grow daily: checked below)
SELECT pipeline_name, pipeline_type, owner, schedule, state, runs, failures,
       consecutive_failures, last_status, items_processed,
       CASE WHEN pipeline_type <> 'time_interval' THEN pending END AS pending,
       last_run_start <= last_run_end AS times_ordered,
       last_success = last_run_end AS succeeded_last,
       mean_exec_time IS NOT DISTINCT FROM total_exec_time / NULLIF(runs, 0) AS mean_ok
FROM incremental.pipeline_stats ORDER BY 1;

-- a time pipeline that has not run: every day since its start is pending
SELECT pending = (current_date - date '2026-01-01') AS all_days_pending,
       lag >= now() - timestamptz '2026-01-01' - interval '1 minute' AS lag_since_start
FROM incremental.pipeline_stats WHERE pipeline_name = 'days';

-- the history: one row per run that did something, with its batches and range
SELECT pipeline_name, status, triggered_by, batches, items_processed, rows_processed,
       range_start, range_end, total_runs, total_items
FROM incremental.pipeline_runs ORDER BY run_id;

-- new rows show up as pending; a run processes them and is recorded
INSERT INTO events (at) SELECT '2026-01-02' FROM generate_series(1, 4);
SELECT pending FROM incremental.pipeline_stats WHERE pipeline_name = 'counter';
SET client_min_messages = warning;
CALL incremental.execute_pipeline('counter');
RESET client_min_messages;
SELECT runs, items_processed, pending FROM incremental.pipeline_stats
WHERE pipeline_name = 'counter';

-- a check that finds nothing new records nothing
SELECT count(*) FROM incremental.pipeline_runs;
CALL incremental.execute_pipeline('counter');
CALL incremental.execute_pipeline('files');
SELECT count(*) FROM incremental.pipeline_runs;

-- a run rolled back with its transaction is not counted either
BEGIN;
INSERT INTO events (at) VALUES ('2026-01-03');
CALL incremental.execute_pipeline('counter');
ROLLBACK;
SELECT runs, items_processed FROM incremental.pipeline_stats WHERE pipeline_name = 'counter';

-- a CALL that fails is recorded before its error reaches the caller, with
-- what its earlier batches committed; inside a transaction block it cannot be
CREATE TABLE divisors (id bigint GENERATED ALWAYS AS IDENTITY, d int NOT NULL);
INSERT INTO divisors (d) VALUES (1), (1), (0), (1);
SELECT incremental.create_sequence_pipeline('divide', 'divisors',
    $$ SELECT 1 / d FROM divisors WHERE id BETWEEN $1 AND $2 $$, max_batch_size := 2,
    execute_immediately := false, schedule := NULL);
CALL incremental.execute_pipeline('divide');
SELECT state, runs, failures, consecutive_failures, items_processed, last_status,
       last_error, last_error_sqlstate, pending
FROM incremental.pipeline_stats WHERE pipeline_name = 'divide';
SELECT status, triggered_by, batches, items_processed, range_start, range_end, error_message
FROM incremental.pipeline_runs WHERE pipeline_name = 'divide' ORDER BY run_id;
BEGIN;
CALL incremental.execute_pipeline('divide');
ROLLBACK;
SELECT runs, failures FROM incremental.pipeline_stats WHERE pipeline_name = 'divide';
UPDATE divisors SET d = 2 WHERE d = 0;
SET client_min_messages = warning;
CALL incremental.execute_pipeline('divide');
RESET client_min_messages;
SELECT state, runs, failures, consecutive_failures, items_processed, last_status,
       last_error, pending
FROM incremental.pipeline_stats WHERE pipeline_name = 'divide';
SELECT incremental.drop_pipeline('divide');

-- paused pipelines say so
SELECT incremental.pause_pipeline('counter');
SELECT state, next_run FROM incremental.pipeline_stats WHERE pipeline_name = 'counter';
SELECT incremental.resume_pipeline('counter');

-- reset_stats zeroes the counters and remembers when
SELECT incremental.reset_stats('counter');
SELECT runs, failures, items_processed, total_exec_time, stats_reset IS NOT NULL AS was_reset
FROM incremental.pipeline_stats WHERE pipeline_name = 'counter';
SELECT incremental.reset_stats();
SELECT pipeline_name, runs FROM incremental.pipeline_stats ORDER BY 1;
SELECT incremental.reset_stats('no-such-pipeline');

-- other roles see every pipeline, but not the runs or errors of pipelines they do not own
CREATE ROLE regress_monitor;
GRANT USAGE ON SCHEMA monitoring_test TO regress_monitor;
SET ROLE regress_monitor;
SELECT count(*) AS pipelines FROM incremental.pipeline_stats;
SELECT count(*) AS runs_visible FROM incremental.pipeline_runs;
SELECT incremental.reset_stats('counter');
RESET ROLE;
DROP OWNED BY regress_monitor;
DROP ROLE regress_monitor;

-- dropping a pipeline drops its history
SELECT incremental.drop_pipeline('files');
SELECT count(*) FROM incremental.pipeline_runs WHERE pipeline_name = 'files';

SET client_min_messages = warning;
DROP SCHEMA monitoring_test CASCADE;
DROP EXTENSION pg_incremental;
