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
    OUT total_bytes bigint, OUT maintenance_pipeline text, OUT ignored_consumers text[],
    OUT oldest_unconsumed_id bigint)
 RETURNS SETOF record
 LANGUAGE C STABLE
 AS 'MODULE_PATHNAME', 'incremental_stream_status';

CREATE VIEW incremental.streams AS
SELECT * FROM incremental._stream_status();
GRANT SELECT ON incremental.streams TO PUBLIC;
COMMENT ON VIEW incremental.streams
 IS 'tables with retention: their consumers, what is kept, and who holds it back';

/*
 * Chains: a pipeline that depends on others runs right after any of them
 * committed new progress, in the same round of the scheduler's worker,
 * after them, and never while one of them is paused or failing.  Its
 * parents have its owner (one worker runs them all); cycles are refused.
 * Dropping a parent by drop_pipeline is refused while others depend on it;
 * any other drop (its source table's) removes the dependency.
 */
CREATE TABLE incremental.pipeline_dependencies (
    pipeline_name text COLLATE "C" NOT NULL
        REFERENCES incremental.pipelines (pipeline_name) ON DELETE CASCADE ON UPDATE CASCADE,
    depends_on text COLLATE "C" NOT NULL
        REFERENCES incremental.pipelines (pipeline_name) ON DELETE CASCADE ON UPDATE CASCADE,
    PRIMARY KEY (pipeline_name, depends_on),
    CHECK (pipeline_name OPERATOR(pg_catalog.<>) depends_on)
);
CREATE INDEX pipeline_dependencies_depends_on ON incremental.pipeline_dependencies (depends_on);
SELECT pg_catalog.pg_extension_config_dump('incremental.pipeline_dependencies', '');
REVOKE ALL ON incremental.pipeline_dependencies FROM PUBLIC;
GRANT SELECT ON incremental.pipeline_dependencies TO PUBLIC;

CREATE TRIGGER pipeline_dependencies_changed
 AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON incremental.pipeline_dependencies
 FOR EACH STATEMENT
 EXECUTE FUNCTION incremental._pipelines_changed();
ALTER TABLE incremental.pipeline_dependencies ENABLE ALWAYS TRIGGER pipeline_dependencies_changed;

/*
 * pipeline_stats says which streams a pipeline holds back (those whose
 * oldest unprocessed rows wait for it); while a run is in progress, how
 * far it has got: its batches and items so far, its items per second, the
 * batches to go (sequence pipelines) and when it should end at that rate;
 * and the pipelines it runs after, with those that hold it back now
 * (paused, failing, blocked, or of another owner, whose worker is not its
 * own).  Columns are only appended, so views over pipeline_stats stay.
 */
CREATE OR REPLACE VIEW incremental.pipeline_stats AS
WITH held AS MATERIALIZED (
    SELECT h.pipeline_name, pg_catalog.array_agg(s.stream ORDER BY s.stream::pg_catalog.text) AS streams
    FROM incremental._stream_status() s, pg_catalog.unnest(s.held_back_by) h(pipeline_name)
    GROUP BY h.pipeline_name),
stats AS MATERIALIZED (
    SELECT * FROM incremental._pipeline_statistics()),
parents AS MATERIALIZED (
    SELECT d.pipeline_name,
           pg_catalog.array_agg(d.depends_on ORDER BY d.depends_on) AS depends_on,
           pg_catalog.array_agg(d.depends_on ORDER BY d.depends_on) FILTER (
               WHERE ps.state OPERATOR(pg_catalog.=) ANY ('{paused,failing,blocked}')
                  OR ps.owner::pg_catalog.oid OPERATOR(pg_catalog.<>) cs.owner::pg_catalog.oid) AS waiting_for
    FROM incremental.pipeline_dependencies d
    JOIN stats ps ON ps.pipeline_name OPERATOR(pg_catalog.=) d.depends_on
    JOIN stats cs ON cs.pipeline_name OPERATOR(pg_catalog.=) d.pipeline_name
    GROUP BY d.pipeline_name)
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
       END AS estimated_end,
       parents.depends_on,
       parents.waiting_for
FROM stats st
LEFT JOIN held USING (pipeline_name)
LEFT JOIN parents USING (pipeline_name)
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

DROP FUNCTION incremental.alter_pipeline(text, text, text, bigint, interval, integer);
CREATE FUNCTION incremental.alter_pipeline(
    pipeline_name text,
    schedule text DEFAULT NULL,
    command text DEFAULT NULL,
    max_batch_size bigint DEFAULT NULL,
    min_delay interval DEFAULT NULL,
    max_consecutive_failures integer DEFAULT NULL,
    depends_on text[] DEFAULT NULL)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_alter_pipeline';
COMMENT ON FUNCTION incremental.alter_pipeline(text, text, text, bigint, interval, integer, text[])
 IS 'change a pipeline''s schedule, command, batch size, minimum delay or the pipelines it runs after, keeping its progress';

/* creation takes depends_on too, as the last argument */
DROP FUNCTION incremental.create_sequence_pipeline(text, regclass, text, text, bigint, boolean);
CREATE FUNCTION incremental.create_sequence_pipeline(
    pipeline_name text,
    source_table_name regclass,
    command text,
    schedule text DEFAULT '* * * * *',
    max_batch_size bigint DEFAULT NULL,
    execute_immediately boolean DEFAULT true,
    depends_on text[] DEFAULT NULL)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_create_sequence_pipeline';
COMMENT ON FUNCTION incremental.create_sequence_pipeline(text, regclass, text, text, bigint, boolean, text[])
 IS 'create a pipeline that processes new sequence values ($1, $2 bigint) of a table';

DROP FUNCTION incremental.create_time_interval_pipeline(text, interval, text, boolean, timestamptz, regclass, text, interval, boolean);
CREATE FUNCTION incremental.create_time_interval_pipeline(
    pipeline_name text,
    time_interval interval,
    command text,
    batched boolean DEFAULT true,
    start_time timestamptz DEFAULT NULL,
    source_table_name regclass DEFAULT NULL,
    schedule text DEFAULT '* * * * *',
    min_delay interval DEFAULT '30 seconds',
    execute_immediately boolean DEFAULT true,
    depends_on text[] DEFAULT NULL)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_create_time_interval_pipeline';
COMMENT ON FUNCTION incremental.create_time_interval_pipeline(text, interval, text, boolean, timestamptz, regclass, text, interval, boolean, text[])
 IS 'create a pipeline that processes passed time intervals ($1, $2 timestamptz)';

DROP FUNCTION incremental.create_file_list_pipeline(text, text, text, text, boolean, integer, text, boolean, integer);
CREATE FUNCTION incremental.create_file_list_pipeline(
    pipeline_name text,
    file_pattern text,
    command text,
    list_function text DEFAULT NULL,
    batched boolean DEFAULT false,
    max_batch_size integer DEFAULT 100,
    schedule text DEFAULT '*/15 * * * *',
    execute_immediately boolean DEFAULT true,
    max_batches_per_run integer DEFAULT -1,
    depends_on text[] DEFAULT NULL)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_create_file_list_pipeline';
COMMENT ON FUNCTION incremental.create_file_list_pipeline(text, text, text, text, boolean, integer, text, boolean, integer, text[])
 IS 'create a pipeline that processes new files ($1 text, or text[] when batched)';
