-- Sequence pipelines: the command receives new sequence values as $1 .. $2
CREATE EXTENSION pg_incremental;
CREATE SCHEMA sequence_test;
SET search_path = sequence_test;

CREATE TABLE events (
    event_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id int NOT NULL
);
CREATE TABLE events_per_client (
    client_id int PRIMARY KEY,
    event_count bigint NOT NULL
);
INSERT INTO events (client_id) SELECT g % 3 FROM generate_series(1, 30) g;

-- the existing rows are processed when the pipeline is created
SELECT incremental.create_sequence_pipeline('per-client', 'events', $$
    INSERT INTO events_per_client
    SELECT client_id, count(*) FROM events WHERE event_id BETWEEN $1 AND $2 GROUP BY 1
    ON CONFLICT (client_id) DO UPDATE
    SET event_count = events_per_client.event_count + excluded.event_count
$$);
SELECT * FROM events_per_client ORDER BY 1;

SELECT pipeline_name, pipeline_type, owner_id, source_relation, schedule, paused
FROM incremental.pipelines;
SELECT * FROM incremental.sequence_pipelines;

-- new rows only
INSERT INTO events (client_id) SELECT 7 FROM generate_series(1, 5);
CALL incremental.execute_pipeline('per-client');
-- nothing new: nothing happens
CALL incremental.execute_pipeline('per-client');
SELECT * FROM events_per_client ORDER BY 1;

-- the aggregate equals a full recomputation
SELECT (SELECT array_agg(row(client_id, event_count) ORDER BY client_id) FROM events_per_client) =
       (SELECT array_agg(row(client_id, n) ORDER BY client_id)
        FROM (SELECT client_id, count(*) AS n FROM events GROUP BY 1) full_count) AS matches;

-- bounded batches: at most max_batch_size values per command
CREATE TABLE ranges (range_start bigint, range_end bigint);
SELECT incremental.create_sequence_pipeline('batches', 'events',
    $$ INSERT INTO ranges VALUES ($1, $2) $$, max_batch_size := 12);
SELECT * FROM ranges ORDER BY 1;

-- reset processes everything again
TRUNCATE ranges;
SELECT incremental.reset_pipeline('batches', execute_immediately := false);
SELECT last_processed_sequence_number FROM incremental.sequence_pipelines
WHERE pipeline_name = 'batches';
CALL incremental.execute_pipeline('batches');
SELECT count(*), min(range_start), max(range_end) FROM ranges;

-- pg_incremental 1.3 positional form (schedule, execute_immediately) ...
SELECT incremental.create_sequence_pipeline('v13', 'events', $$ SELECT $1, $2 $$,
    '* * * * *', false);
-- ... and 1.4's (schedule, max_batch_size, execute_immediately)
SELECT incremental.create_sequence_pipeline('v14', 'events', $$ SELECT $1, $2 $$,
    '*/5 * * * *', 1000, false);
SELECT incremental.create_sequence_pipeline(pipeline_name := 'named', source_table_name := 'events',
    command := $$ SELECT $1, $2 $$, schedule := NULL, execute_immediately := false);
-- 1.3 positional calls whose fifth argument has no type: an unknown literal,
-- and untyped parameters as drivers send them (JDBC setNull, PREPARE without
-- types) take 1.3's meaning, execute_immediately
SELECT incremental.create_sequence_pipeline('v13-untyped', 'events', 'SELECT $1, $2', NULL, 'false');
PREPARE create_v13 AS SELECT incremental.create_sequence_pipeline($1, $2, $3, $4, $5);
EXECUTE create_v13('v13-prepared', 'events', 'SELECT $1, $2', NULL, 'off');
DEALLOCATE create_v13;
-- a number there is a 1.4 batch size given by position: say how to pass it
SELECT incremental.create_sequence_pipeline('v13-number', 'events', 'SELECT $1, $2', NULL, '500');
SELECT pipeline_name, schedule, last_processed_sequence_number, max_batch_size
FROM incremental.pipelines JOIN incremental.sequence_pipelines USING (pipeline_name)
ORDER BY 1;

-- a sequence can be named instead of the table, identity sequences included
SELECT incremental.create_sequence_pipeline('by-sequence', 'events_event_id_seq',
    $$ SELECT $1, $2 $$, execute_immediately := false);
SELECT source_relation FROM incremental.pipelines WHERE pipeline_name = 'by-sequence';

-- tables and sequences that cannot be followed safely (a table with two
-- sequences works when the sequence is named)
CREATE TABLE no_sequence (id bigint);
SELECT incremental.create_sequence_pipeline('bad', 'no_sequence', $$ SELECT $1, $2 $$);
CREATE TABLE two_sequences (a bigserial, b bigserial);
SELECT incremental.create_sequence_pipeline('bad', 'two_sequences', $$ SELECT $1, $2 $$);
SELECT incremental.create_sequence_pipeline('second-sequence', 'two_sequences_b_seq', $$ SELECT $1, $2 $$,
    execute_immediately := false);
CREATE SEQUENCE free_sequence;
SELECT incremental.create_sequence_pipeline('bad2', 'free_sequence', $$ SELECT $1, $2 $$);
CREATE TABLE cached (id bigint GENERATED ALWAYS AS IDENTITY (CACHE 20));
SELECT incremental.create_sequence_pipeline('bad2', 'cached', $$ SELECT $1, $2 $$);
CREATE TABLE cycling (id bigint GENERATED ALWAYS AS IDENTITY (CYCLE));
SELECT incremental.create_sequence_pipeline('bad2', 'cycling', $$ SELECT $1, $2 $$);
CREATE VIEW events_view AS SELECT * FROM events;
SELECT incremental.create_sequence_pipeline('bad2', 'events_view', $$ SELECT $1, $2 $$);
-- a cache enlarged later is caught at the next run
ALTER SEQUENCE events_event_id_seq CACHE 10;
CALL incremental.execute_pipeline('per-client');
ALTER SEQUENCE events_event_id_seq CACHE 1;

-- a sequence that never produced a value: nothing to do
CREATE TABLE empty_source (id bigserial);
SELECT incremental.create_sequence_pipeline('empty', 'empty_source', $$ SELECT 1/0 WHERE $1 < $2 $$);

-- progress starts below MINVALUE when the sequence can produce values below 1
CREATE TABLE negative (id bigint GENERATED ALWAYS AS IDENTITY (MINVALUE -10 START -10), v int);
INSERT INTO negative (v) VALUES (1), (2);
SELECT incremental.create_sequence_pipeline('negative', 'negative',
    $$ INSERT INTO ranges VALUES ($1, $2) $$, schedule := NULL);
SELECT * FROM ranges WHERE range_start < 0;

-- a sequence that goes back below the progress (TRUNCATE ... RESTART
-- IDENTITY, ALTER SEQUENCE ... RESTART, setval) would make the pipeline skip
-- every new row up to its progress: the run fails, saying what to do
CREATE TABLE restarted (id bigserial, v int);
CREATE TABLE restarted_sums (n bigint);
INSERT INTO restarted (v) SELECT g FROM generate_series(1, 5) g;
SELECT incremental.create_sequence_pipeline('restarted', 'restarted',
    $$ INSERT INTO restarted_sums SELECT count(*) FROM restarted WHERE id BETWEEN $1 AND $2 $$,
    schedule := NULL);
TRUNCATE restarted RESTART IDENTITY;
CALL incremental.execute_pipeline('restarted');
INSERT INTO restarted (v) SELECT g FROM generate_series(1, 3) g;
CALL incremental.execute_pipeline('restarted');
-- the hint's first way out: start over
SELECT incremental.reset_pipeline('restarted');
SELECT n FROM restarted_sums;

-- partitioned source: writers of the partitions are waited for
CREATE TABLE measurements (id bigserial, region text) PARTITION BY LIST (region);
CREATE TABLE measurements_eu PARTITION OF measurements FOR VALUES IN ('eu');
CREATE TABLE measurements_us PARTITION OF measurements FOR VALUES IN ('us');
INSERT INTO measurements (region) VALUES ('eu'), ('us'), ('eu');
CREATE TABLE per_region (region text PRIMARY KEY, n bigint);
SELECT incremental.create_sequence_pipeline('per-region', 'measurements', $$
    INSERT INTO per_region SELECT region, count(*) FROM measurements
    WHERE id BETWEEN $1 AND $2 GROUP BY 1
    ON CONFLICT (region) DO UPDATE SET n = per_region.n + excluded.n $$);
SELECT * FROM per_region ORDER BY 1;

-- dropping the source drops its pipelines, and so does dropping a named sequence
DROP TABLE measurements;
SELECT count(*) FROM incremental.pipelines WHERE pipeline_name = 'per-region';
CREATE TABLE seq_owner (id bigint);
CREATE SEQUENCE owned_sequence OWNED BY seq_owner.id;
SELECT incremental.create_sequence_pipeline('owned', 'owned_sequence', $$ SELECT $1, $2 $$);
DROP SEQUENCE owned_sequence;
SELECT count(*) FROM incremental.pipelines WHERE pipeline_name = 'owned';

SELECT incremental.drop_pipeline('v13');
SELECT incremental.drop_pipeline('v13');
SELECT pipeline_name FROM incremental.pipelines ORDER BY 1;

DROP EXTENSION pg_incremental;
SELECT count(*) FROM pg_namespace WHERE nspname = 'incremental';

SET client_min_messages = warning;
DROP SCHEMA sequence_test CASCADE;
