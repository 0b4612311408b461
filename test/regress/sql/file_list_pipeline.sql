-- File list pipelines: the command receives each new file ($1 text), or an
-- array of new files ($1 text[]) when batched
CREATE EXTENSION pg_incremental;
CREATE SCHEMA file_list_test;
SET search_path = file_list_test;

-- a list function returns a "path" column for a pattern
CREATE TABLE inbox (path text);
CREATE FUNCTION list_inbox(pattern text) RETURNS TABLE (path text)
LANGUAGE sql AS $$ SELECT path FROM inbox WHERE path LIKE pattern $$;
INSERT INTO inbox VALUES ('s3://bucket/a.csv'), ('s3://bucket/b.csv'), ('s3://other/c.csv');

CREATE TABLE loaded (path text, loaded_at_run int);
CREATE SEQUENCE run_number;
SELECT incremental.create_file_list_pipeline('loader', 's3://bucket/%',
    $$ INSERT INTO loaded VALUES ($1, currval('run_number')) $$,
    list_function := 'list_inbox', execute_immediately := false);
SELECT nextval('run_number');
CALL incremental.execute_pipeline('loader');
SELECT * FROM loaded ORDER BY 1;
SELECT * FROM incremental.processed_files ORDER BY 2;

-- only new files; duplicates and NULL paths from the list function are ignored
INSERT INTO inbox VALUES ('s3://bucket/d.csv'), ('s3://bucket/d.csv'), (NULL);
SELECT nextval('run_number');
CALL incremental.execute_pipeline('loader');
SELECT * FROM loaded ORDER BY 1;

-- skip_file marks a file done without running the command
INSERT INTO inbox VALUES ('s3://bucket/broken.csv');
SELECT incremental.skip_file('loader', 's3://bucket/broken.csv');
CALL incremental.execute_pipeline('loader');
SELECT count(*) FROM loaded WHERE path LIKE '%broken%';

-- batched: arrays of at most max_batch_size files
CREATE TABLE batches (paths text[]);
SELECT incremental.create_file_list_pipeline('batched', 's3://%',
    $$ INSERT INTO batches VALUES ($1) $$,
    list_function := 'list_inbox', batched := true, max_batch_size := 2);
SELECT * FROM batches ORDER BY 1;

-- max_batches_per_run leaves the rest for the next run
CREATE TABLE limited (path text);
SELECT incremental.create_file_list_pipeline('limited', 's3://%',
    $$ INSERT INTO limited VALUES ($1) $$,
    list_function := 'list_inbox', max_batches_per_run := 2);
SELECT count(*) FROM limited;
CALL incremental.execute_pipeline('limited');
SELECT count(*) FROM limited;

-- reset forgets the processed files
SELECT incremental.reset_pipeline('limited', execute_immediately := false);
SELECT count(*) FROM incremental.processed_files WHERE pipeline_name = 'limited';

-- a pipeline records its list function, schema-qualified, when it is created:
-- neither a later search_path nor incremental.default_file_list_function
-- changes what it calls
SELECT pipeline_name, list_function FROM incremental.file_list_pipelines ORDER BY 1;

-- the default list function lists files on the server that match a glob
SELECT current_setting('incremental.default_file_list_function');
COPY (SELECT 1) TO '/tmp/pg_incremental_regress_1.dat';
COPY (SELECT 2) TO '/tmp/pg_incremental_regress_2.dat';
SELECT * FROM incremental.list_local_files('/tmp/pg_incremental_regress_*.dat');
SELECT * FROM incremental.list_local_files('/tmp/pg_incremental_regress_none_*');
CREATE TABLE local_loaded (path text, content text);
SELECT incremental.create_file_list_pipeline('local', '/tmp/pg_incremental_regress_*.dat',
    $$ INSERT INTO local_loaded VALUES ($1, btrim(pg_read_file($1), E'\n')) $$);
SELECT * FROM local_loaded ORDER BY 1;
SELECT list_function FROM incremental.file_list_pipelines WHERE pipeline_name = 'local';
SELECT * FROM incremental.list_local_files('s3://bucket/*.csv');
SELECT * FROM incremental.list_local_files('relative/*.csv');
-- a pattern that could walk the whole file system is refused
SELECT * FROM incremental.list_local_files('/*/*/*/*/*/*.csv');

-- errors
SELECT incremental.create_file_list_pipeline('bad', 's3://%', $$ SELECT $1 $$);
SELECT incremental.create_file_list_pipeline('bad', 's3://%', $$ SELECT $1 $$,
    list_function := 'no_such_function');
SELECT incremental.create_file_list_pipeline('bad', 's3://%', $$ SELECT $1 $$,
    list_function := 'list_inbox', max_batch_size := 0);
SELECT incremental.create_file_list_pipeline('bad', 's3://%', $$ SELECT $1 $$,
    list_function := 'list_inbox', max_batches_per_run := 0);
SELECT incremental.create_file_list_pipeline('bad', 's3://%', $$ SELECT $1 + 1 $$,
    list_function := 'list_inbox');
SELECT incremental.create_file_list_pipeline('bad', 's3://%', $$ SELECT $1[1] $$,
    list_function := 'list_inbox');
SELECT incremental.create_file_list_pipeline('bad', NULL, $$ SELECT $1 $$);
SELECT incremental.skip_file('loader', NULL);
SELECT incremental.skip_file('no-such-pipeline', 'x');
CREATE TABLE t (id bigserial);
SELECT incremental.create_sequence_pipeline('not-files', 't', $$ SELECT $1, $2 $$);
SELECT incremental.skip_file('not-files', 'x');

DROP EXTENSION pg_incremental;

SET client_min_messages = warning;
DROP SCHEMA file_list_test CASCADE;
