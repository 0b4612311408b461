-- Chains: depends_on at creation and by alter_pipeline, checked; the
-- scheduler's part (runs after, held back) is in test/tap/176_chains.pl
CREATE EXTENSION pg_incremental;
CREATE SCHEMA chain_test;
SET search_path = chain_test;

CREATE TABLE events (id bigserial PRIMARY KEY, v int);
CREATE TABLE minutes (id bigserial PRIMARY KEY, n bigint);
CREATE TABLE hours (id bigserial PRIMARY KEY, n bigint);
SELECT incremental.create_sequence_pipeline('minute', 'events',
    $$ INSERT INTO minutes (n) SELECT count(*) FROM events WHERE id BETWEEN $1 AND $2 $$,
    schedule => '1 second', execute_immediately => false);
SELECT incremental.create_sequence_pipeline('hour', 'minutes',
    $$ INSERT INTO hours (n) SELECT sum(n) FROM minutes WHERE id BETWEEN $1 AND $2 $$,
    schedule => NULL, execute_immediately => false, depends_on => '{minute}');
SELECT incremental.create_time_interval_pipeline('daily', '1 day', $$ SELECT $1, $2 $$,
    schedule => NULL, execute_immediately => false, depends_on => ARRAY['hour', 'minute', 'hour']);
SELECT * FROM incremental.pipeline_dependencies ORDER BY 1, 2;
SELECT pipeline_name, depends_on, waiting_for FROM incremental.pipeline_stats ORDER BY 1;

-- a paused parent holds its children back, and monitoring says so
SELECT incremental.pause_pipeline('minute');
SELECT pipeline_name, depends_on, waiting_for FROM incremental.pipeline_stats ORDER BY 1;
SELECT incremental.resume_pipeline('minute');

-- cycles are refused, with the cycle
SELECT incremental.alter_pipeline('minute', depends_on => '{daily}');
SELECT incremental.alter_pipeline('minute', depends_on => '{hour}');
SELECT incremental.alter_pipeline('hour', depends_on => '{hour}');

-- other refusals, with nothing changed
SELECT incremental.alter_pipeline('hour', depends_on => '{nonesuch}');
SELECT incremental.alter_pipeline('hour', depends_on => ARRAY['minute', NULL]);
SELECT incremental.create_file_list_pipeline('files', '/nowhere/*', $$ SELECT $1 $$,
    schedule => NULL, execute_immediately => false, depends_on => '{nonesuch}');
SELECT count(*) FROM incremental.pipelines WHERE pipeline_name = 'files';
CREATE ROLE chain_other;
GRANT USAGE, CREATE ON SCHEMA chain_test TO chain_other;
GRANT SELECT ON events TO chain_other;
GRANT USAGE ON SEQUENCE events_id_seq TO chain_other;
SET ROLE chain_other;
SELECT incremental.create_sequence_pipeline('theirs', 'events', $$ SELECT $1, $2 $$,
    schedule => NULL, execute_immediately => false, depends_on => '{minute}');
RESET ROLE;
SELECT * FROM incremental.pipeline_dependencies ORDER BY 1, 2;

-- a parent cannot be dropped by drop_pipeline while others depend on it
SELECT incremental.drop_pipeline('minute');
-- renames follow
SELECT incremental.rename_pipeline('hour', 'hourly');
SELECT * FROM incremental.pipeline_dependencies ORDER BY 1, 2;
-- '{}' removes the dependencies
SELECT incremental.alter_pipeline('daily', depends_on => '{}');
SELECT incremental.alter_pipeline('hourly', depends_on => '{}');
SELECT * FROM incremental.pipeline_dependencies ORDER BY 1, 2;
SELECT incremental.drop_pipeline('minute');
-- dropping a parent's source drops the parent, and the dependency with it
SELECT incremental.alter_pipeline('daily', depends_on => '{hourly}');
DROP TABLE minutes CASCADE;
SELECT * FROM incremental.pipeline_dependencies ORDER BY 1, 2;

DROP OWNED BY chain_other;
DROP ROLE chain_other;
DROP EXTENSION pg_incremental CASCADE;
DROP SCHEMA chain_test CASCADE;
