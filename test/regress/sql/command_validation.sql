-- A pipeline's command is checked when the pipeline is created, so that a
-- command that could never run is refused at once, even when there is no
-- data yet for it to process.
CREATE EXTENSION pg_incremental;
CREATE SCHEMA command_test;
SET search_path = command_test;
CREATE TABLE events (id bigserial PRIMARY KEY, payload text);

-- one statement, not none and not several
SELECT incremental.create_sequence_pipeline('p', 'events', '');
SELECT incremental.create_sequence_pipeline('p', 'events', 'SELECT $1; SELECT $2');

-- the command runs in the transaction that records the progress
SELECT incremental.create_sequence_pipeline('p', 'events', 'COMMIT');
SELECT incremental.create_time_interval_pipeline('p', '1 hour', 'PREPARE TRANSACTION ''x''');

-- statements that refuse to run inside a transaction block
SELECT incremental.create_sequence_pipeline('p', 'events', 'VACUUM events');
SELECT incremental.create_sequence_pipeline('p', 'events',
    'CREATE INDEX CONCURRENTLY ON events (payload)');
SELECT incremental.create_sequence_pipeline('p', 'events', 'DROP INDEX CONCURRENTLY some_index');
SELECT incremental.create_sequence_pipeline('p', 'events', 'REINDEX (CONCURRENTLY) TABLE events');
SELECT incremental.create_sequence_pipeline('p', 'events', 'REINDEX SCHEMA command_test');
SELECT incremental.create_sequence_pipeline('p', 'events', 'CREATE DATABASE copy_of_it');
SELECT incremental.create_sequence_pipeline('p', 'events', 'DROP DATABASE IF EXISTS copy_of_it');
SELECT incremental.create_sequence_pipeline('p', 'events', 'ALTER SYSTEM SET work_mem = ''1GB''');
SELECT incremental.create_sequence_pipeline('p', 'events', 'CLUSTER');
SELECT incremental.create_file_list_pipeline('p', '/nowhere/*', 'VACUUM (ANALYZE) events');
-- ... while their transaction-safe relatives are fine
SELECT incremental.create_sequence_pipeline('analyze', 'events', 'ANALYZE events',
    execute_immediately := false);
SELECT incremental.create_sequence_pipeline('index', 'events',
    'CREATE INDEX IF NOT EXISTS events_payload ON events (payload)', execute_immediately := false);

-- nor can it exchange data with a client, or change the session
SELECT incremental.create_sequence_pipeline('p', 'events', 'COPY events FROM STDIN');
SELECT incremental.create_sequence_pipeline('p', 'events', 'COPY (SELECT $1, $2) TO STDOUT');
SELECT incremental.create_sequence_pipeline('p', 'events', 'LISTEN new_events');
SELECT incremental.create_sequence_pipeline('p', 'events', 'DISCARD ALL');
SELECT incremental.create_sequence_pipeline('p', 'events', 'PREPARE q AS SELECT 1');

-- a list function must outlive the session that creates the pipeline
CREATE FUNCTION pg_temp.temp_list(pattern text) RETURNS TABLE (path text) LANGUAGE sql
  AS $$ SELECT NULL::text WHERE false $$;
SELECT incremental.create_file_list_pipeline('p', '/nowhere/*', 'SELECT $1',
    list_function := 'pg_temp.temp_list');

-- nothing was created by the refused calls
SELECT pipeline_name FROM incremental.pipelines ORDER BY 1;

-- names are at most 255 bytes (they are keys, and appear in logs and job names)
SELECT incremental.create_sequence_pipeline(repeat('n', 255), 'events', 'SELECT $1, $2',
    execute_immediately := false);
SELECT incremental.create_sequence_pipeline(repeat('n', 256), 'events', 'SELECT $1, $2');
SELECT incremental.create_sequence_pipeline('', 'events', 'SELECT $1, $2');
SELECT length(pipeline_name) FROM incremental.pipelines WHERE pipeline_name LIKE 'nnn%';

DROP EXTENSION pg_incremental;
SET client_min_messages = warning;
DROP SCHEMA command_test CASCADE;
