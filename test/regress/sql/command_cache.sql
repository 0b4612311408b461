-- A session keeps each pipeline's command prepared (command_cache.c):
-- DDL, alter_pipeline and a new pipeline of the same name must each be
-- seen by the next batch of the same session
CREATE EXTENSION pg_incremental;
CREATE SCHEMA cache_test;
SET search_path = cache_test;

CREATE TABLE events (id bigserial PRIMARY KEY, v int);
CREATE TABLE sums (total bigint);
CREATE FUNCTION weight(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1';
INSERT INTO events (v) SELECT 1 FROM generate_series(1, 10);
SELECT incremental.create_sequence_pipeline('cached', 'events',
    $$ INSERT INTO sums SELECT sum(weight(v)) FROM events WHERE id BETWEEN $1 AND $2 $$,
    schedule => NULL);
SELECT * FROM sums;

-- the table the command writes is dropped and made again, wider
DROP TABLE sums;
CREATE TABLE sums (total bigint, note text DEFAULT 'new table');
INSERT INTO events (v) SELECT 1 FROM generate_series(1, 10);
CALL incremental.execute_pipeline('cached');
SELECT * FROM sums;

-- a column the command reads changes type
ALTER TABLE events ALTER COLUMN v TYPE bigint;
CREATE FUNCTION weight(bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 100';
INSERT INTO events (v) SELECT 1 FROM generate_series(1, 10);
CALL incremental.execute_pipeline('cached');
SELECT * FROM sums ORDER BY total;

-- a function it calls is replaced
CREATE OR REPLACE FUNCTION weight(bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 1000';
INSERT INTO events (v) SELECT 1 FROM generate_series(1, 10);
CALL incremental.execute_pipeline('cached');
SELECT * FROM sums ORDER BY total;

-- a new command from the next batch on
SELECT incremental.alter_pipeline('cached',
    command => $$ INSERT INTO sums (note, total) SELECT 'altered', count(*) FROM events WHERE id BETWEEN $1 AND $2 $$);
INSERT INTO events (v) SELECT 1 FROM generate_series(1, 10);
CALL incremental.execute_pipeline('cached');
SELECT * FROM sums ORDER BY total;

-- dropped and created again under the same name, with another command
SELECT incremental.drop_pipeline('cached');
TRUNCATE sums;
SELECT incremental.create_sequence_pipeline('cached', 'events',
    $$ INSERT INTO sums (note, total) SELECT 'recreated', max(id) FROM events WHERE id BETWEEN $1 AND $2 $$,
    schedule => NULL);
SELECT * FROM sums;

-- a command that fails to plan after DDL fails the batch, and works again
-- once the DDL is undone
ALTER TABLE sums RENAME COLUMN total TO grand_total;
INSERT INTO events (v) VALUES (1);
CALL incremental.execute_pipeline('cached');
ALTER TABLE sums RENAME COLUMN grand_total TO total;
CALL incremental.execute_pipeline('cached');
SELECT * FROM sums ORDER BY total;

-- many pipelines in one session: the cache stays bounded and right
SELECT count(*) FROM (
    SELECT incremental.create_sequence_pipeline('many-' || g, 'events',
        format($$ SELECT %s WHERE $1 <= $2 $$, g), schedule => NULL, execute_immediately => false)
    FROM generate_series(1, 140) g) created;
SET client_min_messages = warning;
DO $$
BEGIN
    FOR g IN 1..140 LOOP
        CALL incremental.execute_pipeline('many-' || g);
    END LOOP;
END $$;
RESET client_min_messages;
SELECT count(*) FROM incremental.sequence_pipelines
WHERE pipeline_name LIKE 'many-%' AND last_processed_sequence_number = (SELECT max(id) FROM events);

-- the pipeline's search_path resolves its names, whether the session is on
-- another one (it is set for the batch) or already on the same one (it is
-- left as it is); either way, a search_path the command sets is undone
CREATE SCHEMA cache_other;
CREATE TABLE cache_other.sums (total bigint, note text);
SELECT incremental.create_sequence_pipeline('pathed', 'events',
    $$ INSERT INTO sums (note, total)
       SELECT 'pathed', count(*) FROM events
       WHERE id BETWEEN $1 AND $2 AND set_config('search_path', 'cache_other', false) <> '' $$,
    schedule => NULL, execute_immediately => false);
SET search_path = cache_other;
INSERT INTO cache_test.events (v) VALUES (1);
CALL incremental.execute_pipeline('pathed');
SELECT current_setting('search_path') AS after_other;
SET search_path = cache_test;
INSERT INTO events (v) VALUES (1), (1);
CALL incremental.execute_pipeline('pathed');
SELECT current_setting('search_path') AS after_same;
SELECT note, total FROM cache_test.sums WHERE note = 'pathed' ORDER BY total;
SELECT count(*) AS rows_in_other FROM cache_other.sums;
DROP SCHEMA cache_other CASCADE;

DROP EXTENSION pg_incremental CASCADE;
DROP SCHEMA cache_test CASCADE;
