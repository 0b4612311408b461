-- Streams: tables whose rows are kept until every consumer processed them
-- (the scheduler is off here: maintenance and batches run by CALL)
CREATE EXTENSION pg_incremental;
CREATE SCHEMA st;
SET search_path = st;

CREATE FUNCTION partitions(t regclass) RETURNS TABLE (name name, bound text)
LANGUAGE sql AS $$
    SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = t ORDER BY c.relname COLLATE "C" $$;
CREATE FUNCTION stream_state(t regclass) RETURNS TABLE (
    consumers text[], consumed_through bigint, held_back_by text[], held_back_reason text,
    last_id bigint, ids_ahead bigint, partitions int, partitions_held int, retention text)
LANGUAGE sql AS $$
    SELECT consumers, consumed_through, held_back_by, held_back_reason, last_id, ids_ahead,
           partitions, partitions_held, retention
    FROM incremental.streams WHERE stream = t $$;

SELECT incremental.create_stream('clicks',
    $$ click_time timestamptz NOT NULL DEFAULT now(), user_id bigint, url text $$,
    partition_size := 10, partitions_ahead := 2);
SELECT * FROM partitions('clicks');
SELECT pipeline_name, pipeline_type, schedule, command FROM incremental.pipelines;

-- plain, transactional writes; the id is the stream's
INSERT INTO clicks (user_id, url) SELECT g % 3, '/p' || g FROM generate_series(1, 25) g;
BEGIN;
INSERT INTO clicks (user_id, url) VALUES (9, '/rolled-back');
ROLLBACK;
COPY clicks (user_id, url) FROM stdin;
1	/copied
\.
SELECT count(*), min(id), max(id) FROM clicks;
INSERT INTO clicks (id, user_id) VALUES (1000, 1);
INSERT INTO clicks_p0 (click_time, user_id) VALUES ('2026-01-01', 1);

-- no consumer: everything is kept, and monitoring says why (each run of
-- the maintenance pipeline is one call of incremental._maintain_stream)
SELECT incremental._maintain_stream('clicks:retention') AS removed;
SELECT * FROM stream_state('clicks');

-- consumers: a continuous view and a sequence pipeline
CREATE VIEW per_user WITH (incremental.continuous) AS
    SELECT user_id, count(*) AS clicks FROM clicks GROUP BY user_id;
CREATE TABLE seen (id bigint PRIMARY KEY);
SELECT incremental.create_sequence_pipeline('copy_ids', 'clicks',
    $$ INSERT INTO seen SELECT id FROM st.clicks WHERE id BETWEEN $1 AND $2 $$);
SELECT * FROM stream_state('clicks');

-- the view has processed nothing yet: it holds every full partition back
SELECT incremental._maintain_stream('clicks:retention') AS removed;
SELECT * FROM stream_state('clicks');
SELECT pipeline_name, holds_back FROM incremental.pipeline_stats ORDER BY 1;

CALL incremental.execute_pipeline('st.per_user');
SELECT incremental._maintain_stream('clicks:retention') AS removed;
SELECT * FROM partitions('clicks');
SELECT * FROM stream_state('clicks');
SELECT * FROM per_user ORDER BY user_id;
SELECT count(*) FROM seen;

-- a paused consumer holds rows like a running one
SELECT incremental.pause_pipeline('copy_ids');
INSERT INTO clicks (user_id, url) SELECT g % 3, '/q' || g FROM generate_series(1, 30) g;
CALL incremental.execute_pipeline('st.per_user');
SELECT incremental._maintain_stream('clicks:retention') AS removed;
SELECT * FROM stream_state('clicks');
SELECT pipeline_name, holds_back FROM incremental.pipeline_stats ORDER BY 1;
SELECT * FROM partitions('clicks');
SELECT incremental.resume_pipeline('copy_ids');
CALL incremental.execute_pipeline('copy_ids');
SELECT incremental._maintain_stream('clicks:retention') AS removed;
SELECT * FROM partitions('clicks');
SELECT * FROM stream_state('clicks');

-- every row was counted once, whatever was dropped
SELECT sum(clicks) FROM per_user;
SELECT count(*), count(DISTINCT id) FROM seen;

-- a time interval pipeline on the stream does not say which ids it did:
-- while it reads the stream, everything is kept
CREATE TABLE hourly (hour timestamptz, clicks bigint);
SELECT incremental.create_time_interval_pipeline('by_hour', '1 hour',
    $$ INSERT INTO st.hourly SELECT $1, count(*) FROM st.clicks
       WHERE click_time >= $1 AND click_time < $2 $$,
    source_table_name := 'clicks', execute_immediately := false);
INSERT INTO clicks (user_id, url) SELECT 1, '/r' FROM generate_series(1, 20);
CALL incremental.execute_pipeline('st.per_user');
CALL incremental.execute_pipeline('copy_ids');
SELECT incremental._maintain_stream('clicks:retention') AS removed;
SELECT * FROM stream_state('clicks');
-- dropping it releases what it held
SELECT incremental.drop_pipeline('by_hour');
SELECT incremental._maintain_stream('clicks:retention') AS removed;
SELECT * FROM stream_state('clicks');

-- writers that outrun the partitions: the rows wait in DEFAULT, then move
INSERT INTO clicks (user_id, url) SELECT 2, '/burst' FROM generate_series(1, 45);
SELECT count(*) FROM clicks_default;
SELECT incremental._maintain_stream('clicks:retention') AS removed;
SELECT count(*) FROM clicks_default;
SELECT * FROM partitions('clicks');
CALL incremental.execute_pipeline('st.per_user');
CALL incremental.execute_pipeline('copy_ids');
SELECT sum(clicks) FROM per_user;
SELECT count(*) FROM seen;
SELECT (SELECT count(*) FROM seen) = (SELECT max(id) FROM clicks) - 1 AS one_gap_for_the_rollback;

-- a retention interval keeps consumed rows at least that long
SELECT incremental.set_retention('clicks', '1 hour');
INSERT INTO clicks (user_id, url) SELECT 0, '/s' FROM generate_series(1, 30);
CALL incremental.execute_pipeline('st.per_user');
CALL incremental.execute_pipeline('copy_ids');
SELECT incremental._maintain_stream('clicks:retention') AS removed;
SELECT * FROM stream_state('clicks');
SELECT count(*) AS kept_partitions FROM partitions('clicks');
-- an hour later (the marks say when each id was drawn)
UPDATE incremental.stream_marks SET marked_at = marked_at - interval '61 minutes';
SELECT incremental._maintain_stream('clicks:retention') AS removed;
SELECT * FROM stream_state('clicks');
SELECT count(*) AS kept_partitions FROM partitions('clicks');
SELECT count(*) AS marks FROM incremental.stream_marks;

-- NULL: keep everything; the partitions are still made ahead
SELECT incremental.set_retention('clicks', NULL);
SELECT retention, maintenance_pipeline FROM incremental.streams;

-- more partitions ahead, from the next run on
SELECT incremental.alter_stream('clicks', partitions_ahead => 4);
SELECT incremental._maintain_stream('clicks:retention') AS removed;
SELECT ids_ahead >= 40 AS four_ahead FROM incremental.streams WHERE stream = 'clicks'::regclass;
SELECT incremental.alter_stream('clicks', partitions_ahead => 0);
SELECT incremental.alter_stream('seen', partitions_ahead => 2);

-- the maintenance pipeline goes with the retention, not by itself
SELECT incremental.drop_pipeline('clicks:retention');
SELECT incremental.rename_pipeline('clicks:retention', 'other');
SELECT incremental.alter_pipeline('clicks:retention', command := 'SELECT 1');
SELECT incremental.alter_pipeline('clicks:retention', schedule := '1 minute');

-- a table that is not partitioned: consumed rows are deleted
CREATE TABLE events (id bigserial PRIMARY KEY, payload text);
INSERT INTO events (payload) SELECT 'e' || g FROM generate_series(1, 100) g;
SELECT incremental.set_retention('events', 'consumed');
CREATE TABLE event_count (n bigint);
INSERT INTO event_count VALUES (0);
SELECT incremental.create_sequence_pipeline('count_events', 'events',
    $$ UPDATE st.event_count SET n = n + (SELECT count(*) FROM st.events WHERE id BETWEEN $1 AND $2) $$,
    execute_immediately := false);
SELECT incremental._maintain_stream('events:retention') AS removed;
SELECT count(*) FROM events;
CALL incremental.execute_pipeline('count_events');
SELECT incremental._maintain_stream('events:retention') AS removed;
SELECT count(*) FROM events;
INSERT INTO events (payload) VALUES ('late');
SELECT incremental._maintain_stream('events:retention') AS removed;
SELECT id, payload FROM events;
SELECT * FROM stream_state('events');
SELECT n FROM event_count;
SELECT incremental.drop_pipeline('events:retention');
SELECT incremental.set_retention('events', NULL);
SELECT count(*) FROM incremental.stream_definitions WHERE stream = 'events'::regclass;
SELECT count(*) FROM incremental.pipelines WHERE pipeline_name = 'events:retention';

-- a table without an index on its ids is warned about
CREATE TABLE unindexed (id bigserial, v int);
SELECT incremental.set_retention('unindexed', 'consumed');

-- a partitioned table of someone else's making: whole partitions go
CREATE TABLE logs (id bigint GENERATED ALWAYS AS IDENTITY, msg text) PARTITION BY RANGE (id);
CREATE TABLE logs_1 PARTITION OF logs FOR VALUES FROM (1) TO (51);
CREATE TABLE logs_2 PARTITION OF logs FOR VALUES FROM (51) TO (101);
CREATE TABLE logs_rest PARTITION OF logs FOR VALUES FROM (101) TO (MAXVALUE);
INSERT INTO logs (msg) SELECT 'm' FROM generate_series(1, 120);
SELECT incremental.set_retention('logs', 'consumed');
SELECT incremental.create_sequence_pipeline('log_reader', 'logs',
    $$ SELECT count(*) FROM st.logs WHERE id BETWEEN $1 AND $2 $$);
SELECT incremental._maintain_stream('logs:retention') AS removed;
SELECT * FROM partitions('logs');

-- refusals, with nothing changed
SELECT incremental.create_stream('bad', 'x int', retention := 'forever');
SELECT incremental.create_stream('bad', 'x int', retention := '0 days');
SELECT incremental.create_stream('bad', 'x int', partition_size := 0);
SELECT incremental.create_stream('bad', 'x int', partitions_ahead := 0);
SELECT incremental.create_stream('bad', 'x int) INHERITS (st.events');
SELECT incremental.create_stream('bad', 'x int); DROP TABLE st.events; --');
SELECT incremental.create_stream('bad', 'id int, x int');
SELECT incremental.create_stream('pg_temp.bad', 'x int');
SELECT incremental.create_stream('clicks', 'x int');
SELECT incremental.create_stream(NULL, 'x int');
SELECT incremental.set_retention('per_user', 'consumed');
SELECT incremental.set_retention('hourly', 'consumed');
SELECT incremental.set_retention('incremental.pipeline_runs', 'consumed');
CREATE TABLE by_text (id bigserial, k text) PARTITION BY LIST (k);
SELECT incremental.set_retention('by_text', 'consumed');
SELECT count(*) FROM pg_class WHERE relname LIKE 'bad%';
SELECT stream FROM incremental.stream_definitions ORDER BY 1;

-- only the owner may change a table's retention
CREATE ROLE stream_reader;
GRANT USAGE ON SCHEMA st TO stream_reader;
GRANT SELECT ON clicks TO stream_reader;
SET ROLE stream_reader;
SELECT incremental.set_retention('clicks', 'consumed');
SELECT stream, retention FROM incremental.streams ORDER BY 1;
RESET ROLE;

-- the maintenance runs as the table's owner; after ALTER TABLE ... OWNER TO
-- it stops, loudly, until the new owner takes it over
CREATE ROLE stream_owner;
GRANT CREATE, USAGE ON SCHEMA st TO stream_owner, stream_reader;
SET ROLE stream_owner;
SELECT incremental.create_stream('owned', 'v int', partition_size := 100);
RESET ROLE;
ALTER TABLE owned OWNER TO stream_reader;
SET ROLE stream_owner;
SET client_min_messages = warning;
CALL incremental.execute_pipeline('owned:retention');
RESET ROLE;
SET ROLE stream_reader;
SELECT incremental.set_retention('owned', 'consumed');
SELECT owner_id::regrole FROM incremental.pipelines WHERE pipeline_name = 'owned:retention';
CALL incremental.execute_pipeline('owned:retention');
RESET ROLE;
SELECT format('ALTER TABLE %s OWNER TO stream_reader', inhrelid::regclass)
FROM pg_inherits WHERE inhparent = 'owned'::regclass ORDER BY inhrelid::regclass::text \gexec
SET ROLE stream_reader;
CALL incremental.execute_pipeline('owned:retention');
RESET client_min_messages;
RESET ROLE;
SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'owned'::regclass AND c.relowner = 'stream_reader'::regrole;

-- a role that may read a stream holds its rows with a consumer only while
-- it may read it: the stream's owner can let them go
SELECT incremental.create_stream('shared_s', 'v int', partition_size := 10, partitions_ahead := 1);
INSERT INTO shared_s (v) SELECT 1 FROM generate_series(1, 25);
SELECT incremental.create_sequence_pipeline('owner_reader', 'shared_s',
    $$ SELECT count(*) FROM st.shared_s WHERE id BETWEEN $1 AND $2 $$, schedule => NULL);
GRANT SELECT ON shared_s TO stream_reader;
GRANT SELECT ON SEQUENCE shared_s_id_seq TO stream_reader;
SET ROLE stream_reader;
SELECT incremental.create_sequence_pipeline('their_reader', 'shared_s',
    $$ SELECT count(*) FROM st.shared_s WHERE id BETWEEN $1 AND $2 $$,
    schedule => NULL, execute_immediately => false);
RESET ROLE;
SELECT incremental._maintain_stream('shared_s:retention') AS removed;
SELECT consumers, held_back_by, ignored_consumers FROM incremental.streams
WHERE stream = 'shared_s'::regclass;
REVOKE SELECT ON shared_s FROM stream_reader;
SELECT incremental._maintain_stream('shared_s:retention') AS removed;
SELECT consumers, held_back_by, ignored_consumers, partitions, consumed_through,
       oldest_unconsumed_id FROM incremental.streams
WHERE stream = 'shared_s'::regclass;

-- DROP TABLE takes the retention and its pipeline along
DROP TABLE logs;
DROP TABLE clicks CASCADE;
DROP TABLE shared_s;
SELECT stream FROM incremental.stream_definitions ORDER BY 1;
SELECT pipeline_name FROM incremental.pipelines ORDER BY 1;
SELECT count(*) FROM incremental.stream_marks;

DROP OWNED BY stream_reader, stream_owner;
DROP ROLE stream_reader;
DROP ROLE stream_owner;
DROP EXTENSION pg_incremental CASCADE;
DROP SCHEMA st CASCADE;
