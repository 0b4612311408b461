-- incremental._wait_for_writers: what a Citus coordinator asks every other
-- node to do before a batch; on a single server it is the local wait.
CREATE EXTENSION pg_incremental;
CREATE TABLE wfw_events (id bigserial PRIMARY KEY, v int);
-- no writer: returns at once, true
SELECT incremental._wait_for_writers('wfw_events', 'wfw_events_id_seq', NULL, 100);
SELECT incremental._wait_for_writers('wfw_events', NULL, now() - interval '1 hour', 100);
-- a writer in this very transaction is not waited for
BEGIN;
INSERT INTO wfw_events (v) VALUES (1);
SELECT incremental._wait_for_writers('wfw_events', 'wfw_events_id_seq', NULL, 100);
COMMIT;
-- bad input
SELECT incremental._wait_for_writers(NULL, NULL, NULL, 100);
-- the caller needs SELECT on the source
CREATE ROLE wfw_stranger;
SET ROLE wfw_stranger;
SELECT incremental._wait_for_writers('wfw_events', NULL, NULL, 100);
RESET ROLE;
-- without Citus, sequence pipelines keep no per-node-group progress
SELECT incremental.create_sequence_pipeline('wfw', 'wfw_events', $$ SELECT $1, $2 $$);
SELECT count(*) FROM incremental.sequence_pipeline_node_groups;
SELECT last_processed_sequence_number FROM incremental.sequence_pipelines WHERE pipeline_name = 'wfw';
-- nor does it know any distributed table (a continuous view's expiry asks)
SELECT incremental._is_distributed_table('wfw_events');
SELECT incremental._is_distributed_table(NULL);
SELECT incremental._is_distributed_table(0);
DROP ROLE wfw_stranger;
DROP EXTENSION pg_incremental;
DROP TABLE wfw_events;
