-- preview_pipeline: what the next run would process, without running it
CREATE EXTENSION pg_incremental;
CREATE SCHEMA preview;
SET search_path = preview;

CREATE TABLE events (id bigserial PRIMARY KEY, v int);
CREATE TABLE done (low bigint, high bigint);
INSERT INTO events (v) SELECT g FROM generate_series(1, 2500) g;
SELECT incremental.create_sequence_pipeline('seq', 'events',
    $$ INSERT INTO done VALUES ($1, $2) $$,
    schedule => NULL, max_batch_size => 1000, execute_immediately => false);

-- three batches, and nothing ran
SELECT * FROM incremental.preview_pipeline('seq');
SELECT count(*) FROM done;
SELECT batch, first_item, last_item, items FROM incremental.preview_pipeline('seq', 2);

-- the run does what the preview said
CALL incremental.execute_pipeline('seq');
SELECT * FROM done ORDER BY 1;
SELECT count(*) FROM incremental.preview_pipeline('seq');
INSERT INTO events (v) VALUES (1);
SELECT batch, first_item, last_item, items FROM incremental.preview_pipeline('seq');

-- time intervals: one batch each, or all in one when batched
SELECT incremental.create_time_interval_pipeline('days', '1 day', $$ SELECT $1, $2 $$,
    batched => false, start_time => '2026-01-01 00:00+00', schedule => NULL,
    execute_immediately => false);
SELECT batch, first_item, last_item, items, arguments FROM incremental.preview_pipeline('days', 2);
SELECT incremental.create_time_interval_pipeline('hours', '1 hour', $$ SELECT $1, $2 $$,
    start_time => '2026-01-01 00:00+00', schedule => NULL, execute_immediately => false);
SELECT batch, first_item, items > 7000 AS many_hours FROM incremental.preview_pipeline('hours');

-- files: the list function runs, as the pipeline's owner; processed ones are left out
CREATE TABLE inbox (path text);
INSERT INTO inbox VALUES ('/in/a'), ('/in/b'), ('/in/c');
CREATE FUNCTION list_inbox(pattern text) RETURNS TABLE (path text)
    LANGUAGE sql AS $$ SELECT path FROM preview.inbox WHERE path LIKE pattern ORDER BY 1 $$;
SELECT incremental.create_file_list_pipeline('files', '/in/%', $$ SELECT $1 $$,
    list_function => 'list_inbox', schedule => NULL, execute_immediately => false);
SELECT incremental.skip_file('files', '/in/b');
SELECT batch, first_item, last_item, items, arguments FROM incremental.preview_pipeline('files');
SELECT incremental.create_file_list_pipeline('batched_files', '/in/%', $$ SELECT $1 $$,
    list_function => 'list_inbox', batched => true, max_batch_size => 2, schedule => NULL,
    execute_immediately => false);
SELECT batch, first_item, last_item, items, arguments FROM incremental.preview_pipeline('batched_files');

-- refusals
SELECT * FROM incremental.preview_pipeline('nope');
SELECT * FROM incremental.preview_pipeline('seq', 0);
SELECT * FROM incremental.preview_pipeline(NULL);
CREATE ROLE preview_stranger;
SET ROLE preview_stranger;
SELECT * FROM incremental.preview_pipeline('seq');
RESET ROLE;
DROP ROLE preview_stranger;

DROP SCHEMA preview CASCADE;
DROP EXTENSION pg_incremental;
