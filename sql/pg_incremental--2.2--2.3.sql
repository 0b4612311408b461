/*
 * pg_incremental 2.2 to 2.3: streams and retention.
 *
 * A stream is an ordinary table, partitioned by ranges of its own identity
 * column, whose rows are kept only until every pipeline reading it has
 * processed them (src/streams/).  set_retention gives the same to a table
 * created otherwise.  A maintenance pipeline per table creates partitions
 * ahead of the writers and drops (or, in a table that is not partitioned,
 * deletes) what every consumer has processed.
 */

\echo Use "ALTER EXTENSION pg_incremental UPDATE" to load this file. \quit

CREATE TABLE incremental.stream_definitions (
    stream regclass NOT NULL PRIMARY KEY,
    -- the identity or serial column whose values consumers track
    id_column text NOT NULL,
    -- false: every row is kept (a stream without retention)
    drop_consumed boolean NOT NULL,
    -- with drop_consumed: rows are also kept at least this long
    keep interval CHECK (keep > '0'),
    -- ids per partition of a stream made by create_stream; NULL: the table's
    -- partitions, if any, are created by someone else
    partition_size bigint CHECK (partition_size > 0),
    partitions_ahead integer CHECK (partitions_ahead > 0),
    maintenance_pipeline text COLLATE "C" NOT NULL UNIQUE,
    -- a table that is not partitioned: ids at or below this are deleted
    deleted_through bigint,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
SELECT pg_catalog.pg_extension_config_dump('incremental.stream_definitions', '');
REVOKE ALL ON incremental.stream_definitions FROM PUBLIC;
GRANT SELECT ON incremental.stream_definitions TO PUBLIC;

/*
 * For a retention interval: the stream's sequence value at moments of the
 * past.  Every id at or below the value of a mark older than the interval
 * was drawn longer ago than the interval.
 */
CREATE TABLE incremental.stream_marks (
    stream regclass NOT NULL
        REFERENCES incremental.stream_definitions (stream) ON DELETE CASCADE,
    marked_at timestamptz NOT NULL,
    last_value bigint NOT NULL,
    PRIMARY KEY (stream, marked_at)
);
SELECT pg_catalog.pg_extension_config_dump('incremental.stream_marks', '');
REVOKE ALL ON incremental.stream_marks FROM PUBLIC;
GRANT SELECT ON incremental.stream_marks TO PUBLIC;

CREATE FUNCTION incremental.create_stream(
    stream_name text,
    columns text,
    retention text DEFAULT 'consumed',
    partition_size bigint DEFAULT 1000000,
    partitions_ahead integer DEFAULT 4,
    id_column text DEFAULT 'id')
 RETURNS regclass
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_create_stream';
COMMENT ON FUNCTION incremental.create_stream(text, text, text, bigint, integer, text)
 IS 'create a table whose rows are kept until every pipeline reading it has processed them';

CREATE FUNCTION incremental.alter_stream(stream regclass, partitions_ahead integer)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_alter_stream';
COMMENT ON FUNCTION incremental.alter_stream(regclass, integer)
 IS 'change how many partitions a stream keeps ahead of its writers';

CREATE FUNCTION incremental.set_retention(table_name regclass, retention text)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_set_retention';
COMMENT ON FUNCTION incremental.set_retention(regclass, text)
 IS 'keep a table''s rows until its pipelines processed them (''consumed''), and at least an interval; NULL: keep all';

/*
 * The command of a maintenance pipeline, which runs as the table's owner;
 * it does nothing for a role that does not own the table.
 */
CREATE FUNCTION incremental._maintain_stream(maintenance_pipeline text)
 RETURNS bigint
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_maintain_stream';

CREATE FUNCTION incremental._stream_status(
    OUT stream regclass, OUT owner regrole, OUT retention text, OUT partition_size bigint,
    OUT consumers text[], OUT consumed_through bigint, OUT held_back_by text[],
    OUT held_back_reason text, OUT last_id bigint, OUT ids_ahead bigint,
    OUT partitions integer, OUT partitions_held integer, OUT estimated_rows bigint,
    OUT total_bytes bigint, OUT maintenance_pipeline text)
 RETURNS SETOF record
 LANGUAGE C STABLE
 AS 'MODULE_PATHNAME', 'incremental_stream_status';

CREATE VIEW incremental.streams AS
SELECT * FROM incremental._stream_status();
GRANT SELECT ON incremental.streams TO PUBLIC;
COMMENT ON VIEW incremental.streams
 IS 'tables with retention: their consumers, what is kept, and who holds it back';

/*
 * pipeline_stats says which streams a pipeline holds back (those whose
 * oldest unprocessed rows wait for it) and, while a run is in progress, how
 * far it has got: its batches and items so far, its items per second, the
 * batches to go (sequence pipelines) and when it should end at that rate.
 * Columns are only appended, so views over pipeline_stats stay.
 */
CREATE OR REPLACE VIEW incremental.pipeline_stats AS
WITH held AS MATERIALIZED (
    SELECT h.pipeline_name, pg_catalog.array_agg(s.stream ORDER BY s.stream::pg_catalog.text) AS streams
    FROM incremental._stream_status() s, pg_catalog.unnest(s.held_back_by) h(pipeline_name)
    GROUP BY h.pipeline_name)
SELECT st.*,
       held.streams AS holds_back,
       cur.batches AS run_batches,
       cur.items_processed AS run_items,
       cur.rate AS items_per_second,
       CASE WHEN st.pipeline_type OPERATOR(pg_catalog.=) 'sequence' AND st.pending IS NOT NULL
            THEN CASE WHEN s.max_batch_size IS NOT NULL
                      THEN pg_catalog.ceil(st.pending::pg_catalog.numeric
                                           OPERATOR(pg_catalog./) s.max_batch_size)::pg_catalog.int8
                      ELSE LEAST(st.pending, 1) END
       END AS batches_to_go,
       CASE WHEN cur.rate OPERATOR(pg_catalog.>) 0 AND st.pending IS NOT NULL
            THEN pg_catalog.now() OPERATOR(pg_catalog.+)
                 ((st.pending OPERATOR(pg_catalog./) cur.rate) OPERATOR(pg_catalog.*) interval '1 second')
       END AS estimated_end
FROM incremental._pipeline_statistics() st
LEFT JOIN held USING (pipeline_name)
LEFT JOIN incremental.sequence_pipelines s USING (pipeline_name)
LEFT JOIN LATERAL (
    SELECT r.batches, r.items_processed,
           r.items_processed OPERATOR(pg_catalog./)
           NULLIF(pg_catalog.date_part('epoch', r.ended_at OPERATOR(pg_catalog.-) r.started_at), 0)
           AS rate
    FROM incremental.pipeline_runs r
    WHERE r.pipeline_name OPERATOR(pg_catalog.=) st.pipeline_name
      AND st.state OPERATOR(pg_catalog.=) 'running'
    ORDER BY r.run_id DESC LIMIT 1) cur ON true;

/*
 * Dropping a table with retention forgets its retention and drops its
 * maintenance pipeline, however the table is dropped.
 */
CREATE FUNCTION incremental._drop_stream_trigger()
 RETURNS event_trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path = pg_catalog, pg_temp
 AS $function$
DECLARE
    dropped record;
BEGIN
    FOR dropped IN
        DELETE FROM incremental.stream_definitions d
        WHERE d.stream::oid OPERATOR(pg_catalog.=) ANY (
            SELECT o.objid FROM pg_catalog.pg_event_trigger_dropped_objects() o
            WHERE o.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::regclass
              AND o.objsubid OPERATOR(pg_catalog.=) 0)
        RETURNING d.maintenance_pipeline
    LOOP
        DELETE FROM incremental.pipelines p
        WHERE p.pipeline_name OPERATOR(pg_catalog.=) dropped.maintenance_pipeline;
    END LOOP;
END;
$function$;
REVOKE ALL ON FUNCTION incremental._drop_stream_trigger() FROM PUBLIC;

CREATE EVENT TRIGGER incremental_drop_stream_trigger
 ON sql_drop
 EXECUTE FUNCTION incremental._drop_stream_trigger();

/*
 * execute_pipeline with progress: a NOTICE every few seconds of a long run
 * (batches, items, items per second, what is left and about how long).  An
 * overload, so that the 1.x procedure and everything calling it stay.
 */
CREATE PROCEDURE incremental.execute_pipeline(pipeline_name text, progress boolean)
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_execute_pipeline';
COMMENT ON PROCEDURE incremental.execute_pipeline(text, boolean)
 IS 'process all new data of a pipeline now; with progress, say how far it got every few seconds';
