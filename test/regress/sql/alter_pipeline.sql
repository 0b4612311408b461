-- alter_pipeline: change a pipeline without dropping it; progress is kept
CREATE EXTENSION pg_incremental;
CREATE SCHEMA alter_test;
SET search_path = alter_test;

CREATE TABLE events (id bigserial PRIMARY KEY, v int);
CREATE TABLE sums (low bigint, high bigint, total bigint);
INSERT INTO events (v) SELECT g FROM generate_series(1, 100) g;
SELECT incremental.create_sequence_pipeline('seq', 'events',
    $$ INSERT INTO sums SELECT $1, $2, count(*) FROM events WHERE id BETWEEN $1 AND $2 $$,
    schedule => NULL, max_batch_size => 60);
SELECT * FROM sums ORDER BY 1;

-- batch size and command from the next batch on; progress kept
SELECT incremental.alter_pipeline('seq', max_batch_size => 30,
    command => $$ INSERT INTO sums SELECT $1, $2, sum(v) FROM events WHERE id BETWEEN $1 AND $2 $$);
INSERT INTO events (v) SELECT g FROM generate_series(1, 50) g;
SELECT batch, first_item, last_item FROM incremental.preview_pipeline('seq');
CALL incremental.execute_pipeline('seq');
SELECT * FROM sums ORDER BY 1;
SELECT incremental.alter_pipeline('seq', max_batch_size => 0);
SELECT max_batch_size FROM incremental.sequence_pipelines WHERE pipeline_name = 'seq';

-- the schedule, checked as at creation
SELECT incremental.alter_pipeline('seq', schedule => '10 seconds');
SELECT schedule FROM incremental.pipelines WHERE pipeline_name = 'seq';
SELECT incremental.alter_pipeline('seq', schedule => 'every now and then');

-- the command, checked as at creation, with the pipeline's search_path
SET search_path = public;
SELECT incremental.alter_pipeline('seq', command => $$ SELECT count(*) FROM events WHERE id > $2 $$);
SELECT incremental.alter_pipeline('seq', command => 'SELECT $3');
SELECT incremental.alter_pipeline('seq', command => 'VACUUM');
SET search_path = alter_test;

-- settings a kind does not have
SELECT incremental.alter_pipeline('seq', min_delay => '1 minute');
SELECT incremental.create_time_interval_pipeline('days', '1 day', $$ SELECT $1, $2 $$,
    start_time => '2026-01-01 00:00+00', schedule => NULL, execute_immediately => false);
SELECT incremental.alter_pipeline('days', min_delay => '2 hours');
SELECT min_delay FROM incremental.time_interval_pipelines WHERE pipeline_name = 'days';
SELECT incremental.alter_pipeline('days', min_delay => '-1 hour');
SELECT incremental.alter_pipeline('days', max_batch_size => 5);

-- nothing to change, no such pipeline, not the owner
SELECT incremental.alter_pipeline('seq');
SELECT incremental.alter_pipeline('nope', schedule => '1 minute');
CREATE ROLE alter_stranger;
SET ROLE alter_stranger;
SELECT incremental.alter_pipeline('seq', schedule => '1 minute');
RESET ROLE;
DROP ROLE alter_stranger;

-- rename: progress, history and the kind's settings follow the name
SELECT incremental.rename_pipeline('seq', 'renamed');
SELECT p.pipeline_name, s.last_processed_sequence_number,
       (SELECT count(*) FROM incremental.pipeline_runs r WHERE r.pipeline_name = p.pipeline_name) AS runs
FROM incremental.pipelines p JOIN incremental.sequence_pipelines s USING (pipeline_name);
INSERT INTO events (v) VALUES (1000);
CALL incremental.execute_pipeline('renamed');
SELECT incremental.rename_pipeline('renamed', 'days');
SELECT incremental.rename_pipeline('renamed', '');
SELECT incremental.rename_pipeline('seq', 'again');
SELECT incremental.rename_pipeline('renamed', 'renamed');

-- skip_range: past a poison range, recorded with who skipped it
CREATE TABLE got (low bigint, high bigint);
SELECT incremental.create_sequence_pipeline('skipper', 'events', $$ INSERT INTO got VALUES ($1, $2) $$,
    schedule => NULL, max_batch_size => 100, execute_immediately => false);
SELECT incremental.skip_range('skipper', '1', '100');
SELECT incremental.skip_range('skipper', '50', '120');
SELECT incremental.skip_range('skipper', '101', '99');
SELECT incremental.skip_range('skipper', '101', '100000');
SELECT status, triggered_by, items_processed, range_start, range_end, skipped_by
FROM incremental.pipeline_runs WHERE pipeline_name = 'skipper';
CALL incremental.execute_pipeline('skipper');
SELECT * FROM got ORDER BY 1;
SELECT last_status, runs, items_processed FROM incremental.pipeline_stats WHERE pipeline_name = 'skipper';
SELECT incremental.skip_range('days', '2026-01-01 00:00+00', '2026-01-03 00:00+00');
SELECT batch, first_item FROM incremental.preview_pipeline('days', 1);
SELECT incremental.skip_range('days', '2026-01-03 00:00+00', '2026-01-03 12:00+00');
SELECT incremental.skip_range('days', '2026-01-03 00:00+00', '2999-01-01 00:00+00');

-- a continuous view's schedule and batch size, but not its generated command
CREATE VIEW per_value WITH (incremental.continuous) AS SELECT v % 3 AS k, count(*) FROM events GROUP BY 1;
SELECT incremental.alter_pipeline('alter_test.per_value', schedule => '30 seconds', max_batch_size => 50);
SELECT schedule, max_batch_size FROM incremental.continuous_views;
SELECT incremental.alter_pipeline('alter_test.per_value', command => 'SELECT $1, $2');
SELECT incremental.rename_pipeline('alter_test.per_value', 'per_value');

DROP SCHEMA alter_test CASCADE;
DROP EXTENSION pg_incremental;
