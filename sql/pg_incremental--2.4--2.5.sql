/*
 * pg_incremental 2.4 to 2.5: sequence pipelines over Citus tables that
 * are written through any node.
 *
 * Each Citus node group draws sequence values from a range of its own, so
 * a sequence pipeline over a distributed source keeps its progress per
 * node group (src/pipelines/sequence_node_groups.c); the coordinator's
 * group keeps it in sequence_pipelines, the others here.  Before a batch
 * the coordinator has every other node wait for its own writers, with
 * _wait_for_writers(), which Citus' propagation of CREATE EXTENSION puts
 * on every node.
 */

\echo Use "ALTER EXTENSION pg_incremental UPDATE" to load this file. \quit

CREATE TABLE incremental.sequence_pipeline_node_groups (
    pipeline_name text COLLATE "C" NOT NULL
        REFERENCES incremental.sequence_pipelines (pipeline_name)
        ON DELETE CASCADE ON UPDATE CASCADE,
    group_id int NOT NULL,
    last_processed_sequence_number bigint NOT NULL,
    -- what the group's sequence can draw (Citus' ranges overlap by one value)
    min_sequence_number bigint NOT NULL,
    max_sequence_number bigint NOT NULL,
    PRIMARY KEY (pipeline_name, group_id)
);
SELECT pg_catalog.pg_extension_config_dump('incremental.sequence_pipeline_node_groups', '');

CREATE FUNCTION incremental._wait_for_writers(source regclass, sequence regclass,
                                              started_before timestamptz, max_wait_ms int)
 RETURNS bool
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_wait_for_writers';
COMMENT ON FUNCTION incremental._wait_for_writers(regclass, regclass, timestamptz, int)
    IS 'waits on this node for the transactions that may still add rows to the source '
       '(called by the coordinator of a Citus cluster on the other nodes)';
GRANT SELECT ON incremental.sequence_pipeline_node_groups TO PUBLIC;
