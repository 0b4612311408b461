-- Who may do what, and as whom a pipeline's command runs
CREATE EXTENSION pg_incremental;
CREATE ROLE regress_alice LOGIN;
CREATE ROLE regress_bob LOGIN;
CREATE SCHEMA alice AUTHORIZATION regress_alice;

SET ROLE regress_alice;
SET search_path = alice, public;
CREATE TABLE alice.events (id bigserial, payload text);
CREATE TABLE alice.seen (run_as name, path text, ranges int8range);
INSERT INTO events (payload) VALUES ('a'), ('b');
-- the command records who runs it and with which search_path
SELECT incremental.create_sequence_pipeline('alice-pipeline', 'events', $$
    INSERT INTO seen VALUES (current_user, current_setting('search_path'), int8range($1, $2, '[]'))
$$);
SELECT owner_id, search_path FROM incremental.pipelines;
RESET search_path;
RESET ROLE;

-- a superuser may execute it; it still runs as alice, with alice's search_path
INSERT INTO alice.events (payload) VALUES ('c');
CALL incremental.execute_pipeline('alice-pipeline');
SELECT * FROM alice.seen ORDER BY ranges;

-- a SET in the command does not leak out of the run
SELECT incremental.create_sequence_pipeline('sets-timezone', 'alice.events',
    $$ SELECT set_config('TimeZone', 'Asia/Tokyo', false), $1, $2 $$, schedule := NULL);
SHOW TimeZone;

-- another user may read the catalog, but not act on alice's pipeline
SET ROLE regress_bob;
SELECT pipeline_name FROM incremental.pipelines ORDER BY 1;
CALL incremental.execute_pipeline('alice-pipeline');
SELECT incremental.reset_pipeline('alice-pipeline');
SELECT incremental.drop_pipeline('alice-pipeline');
-- nor write the catalog directly
UPDATE incremental.sequence_pipelines SET last_processed_sequence_number = 0;
INSERT INTO incremental.pipelines (pipeline_name, pipeline_type, owner_id, command)
VALUES ('evil', 's', 'regress_alice', 'SELECT 1');
DELETE FROM incremental.processed_files;
-- nor list the server's files
SELECT * FROM incremental.list_local_files('/etc/*');
-- nor choose the code that file list pipelines created without a list
-- function run: the setting is for superusers, in a session or stored
SET incremental.default_file_list_function = 'public.my_list';
ALTER ROLE regress_bob SET incremental.default_file_list_function = 'public.my_list';
-- nor create a pipeline with a list function it may not execute
SELECT incremental.create_file_list_pipeline('bob-files', '/etc/*', $$ SELECT $1 $$);
RESET ROLE;
-- a pipeline over a sequence bob cannot read is refused at creation
GRANT USAGE ON SCHEMA alice TO regress_bob;
SET ROLE regress_bob;
SELECT incremental.create_sequence_pipeline('bob-pipeline', 'alice.events', $$ SELECT $1, $2 $$);
RESET ROLE;

-- a pipeline locks its source and waits for its writers, which PostgreSQL
-- allows only to roles that may read the table (LOCK TABLE checks first):
-- a role cannot make a pipeline lock a table it has no rights on
RESET ROLE;
CREATE TABLE public.victim (id bigserial, payload text);
GRANT SELECT ON SEQUENCE public.victim_id_seq TO regress_bob;
SET ROLE regress_bob;
SELECT incremental.create_time_interval_pipeline('hold', '1 day', $$ SELECT $1, $2 $$,
    start_time := '2026-01-01', source_table_name := 'public.victim',
    execute_immediately := false);
SELECT incremental.create_sequence_pipeline('hold', 'public.victim', $$ SELECT $1, $2 $$);
RESET ROLE;
-- nor keep it once the privilege is gone: checked before every lock
GRANT SELECT ON public.victim TO regress_bob;
SET ROLE regress_bob;
SELECT incremental.create_time_interval_pipeline('hold', '1 day', $$ SELECT $1, $2 $$,
    start_time := '2026-01-01', source_table_name := 'public.victim',
    execute_immediately := false);
RESET ROLE;
REVOKE SELECT ON public.victim FROM regress_bob;
BEGIN;
CALL incremental.execute_pipeline('hold');
ROLLBACK;
BEGIN;
SELECT incremental.drop_pipeline('hold');
SELECT count(*) FROM pg_locks WHERE relation = 'public.victim'::regclass;
COMMIT;
DROP TABLE public.victim;

-- members of the owning role act as the owner
GRANT regress_alice TO regress_bob;
SET ROLE regress_bob;
SELECT incremental.reset_pipeline('alice-pipeline', execute_immediately := false);
RESET ROLE;

-- the command cannot escape its owner's rights, even when a superuser runs it:
-- no SET ROLE, no SET SESSION AUTHORIZATION, no temporary objects that could
-- shadow names in another owner's pipeline
SET ROLE regress_alice;
SELECT incremental.create_sequence_pipeline('set-role', 'alice.events',
    $$ SELECT set_config('role', 'postgres', false), $1, $2 $$, execute_immediately := false);
SELECT incremental.create_sequence_pipeline('set-session', 'alice.events',
    $$ SELECT set_config('session_authorization', 'postgres', false), $1, $2 $$,
    execute_immediately := false);
SELECT incremental.create_sequence_pipeline('temp-table', 'alice.events',
    $$ CREATE TEMP TABLE sneaky AS SELECT $1 AS a, $2 AS b $$, execute_immediately := false);
RESET ROLE;
CALL incremental.execute_pipeline('set-role');
CALL incremental.execute_pipeline('set-session');
CALL incremental.execute_pipeline('temp-table');
SELECT current_user, session_user;

-- pipelines count as objects their owner owns: a role that owns some
-- cannot be dropped; REASSIGN OWNED hands them over, DROP OWNED drops them
CREATE ROLE regress_carol;
CREATE ROLE regress_dave;
GRANT USAGE ON SCHEMA alice TO regress_carol, regress_dave;
GRANT SELECT ON alice.events TO regress_carol, regress_dave;
GRANT SELECT ON SEQUENCE alice.events_id_seq TO regress_carol, regress_dave;
SET ROLE regress_carol;
SELECT incremental.create_sequence_pipeline('carol-pipeline', 'alice.events',
    $$ SELECT $1, $2 $$, execute_immediately := false);
SELECT incremental.create_sequence_pipeline('carol-second', 'alice.events',
    $$ SELECT $1, $2 $$, execute_immediately := false);
RESET ROLE;
REVOKE ALL ON SCHEMA alice FROM regress_carol;
REVOKE ALL ON alice.events FROM regress_carol;
REVOKE ALL ON SEQUENCE alice.events_id_seq FROM regress_carol;
DROP ROLE regress_carol;
REASSIGN OWNED BY regress_carol TO regress_dave;
SELECT pipeline_name, owner_id FROM incremental.pipelines
WHERE pipeline_name LIKE 'carol%' ORDER BY 1;
CALL incremental.execute_pipeline('carol-pipeline');
DROP ROLE regress_carol;
DROP ROLE regress_dave;
DROP OWNED BY regress_dave;
SELECT count(*) FROM incremental.pipelines WHERE pipeline_name LIKE 'carol%';
DROP ROLE regress_dave;

DROP EXTENSION pg_incremental;
DROP SCHEMA alice CASCADE;
DROP ROLE regress_alice;
DROP ROLE regress_bob;
