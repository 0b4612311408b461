/*
 * pg_incremental 2.1 to 2.2: continuous views.
 *
 * A continuous view is a view over a storage table that a sequence
 * pipeline keeps up to date: each batch of new source rows is aggregated
 * and merged into the stored state (src/continuous_views/).  This table
 * records which views are continuous views, and what keeps each one.
 */

\echo Use "ALTER EXTENSION pg_incremental UPDATE" to load this file. \quit

/*
 * A sequence pipeline may run its command in a time zone of its own, as
 * time interval pipelines do: a continuous view's batches compute its time
 * buckets in the zone the view was created in, whoever runs them.  NULL,
 * for pipelines created with create_sequence_pipeline: the session's.
 */
ALTER TABLE incremental.sequence_pipelines ADD COLUMN time_zone text;

CREATE TABLE incremental.continuous_view_definitions (
    view_name regclass NOT NULL PRIMARY KEY,
    pipeline_name text COLLATE "C" NOT NULL UNIQUE,
    source_table regclass NOT NULL,
    storage_table regclass NOT NULL,
    query text NOT NULL,
    realtime boolean NOT NULL,
    distinct_mode text,
    distinct_tables regclass[] NOT NULL DEFAULT '{}',
    ttl interval CHECK (ttl > '0'),
    ttl_column text,
    ttl_pipeline text COLLATE "C",
    sliding_window interval,
    read_tables regclass[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
SELECT pg_catalog.pg_extension_config_dump('incremental.continuous_view_definitions', '');
REVOKE ALL ON incremental.continuous_view_definitions FROM PUBLIC;
GRANT SELECT ON incremental.continuous_view_definitions TO PUBLIC;

/*
 * A continuous view depends on the tables its query reads, and it and its
 * tables on the extension: DROP TABLE of a source or lookup table and DROP
 * EXTENSION need CASCADE.  pg_dump keeps no such dependency, so they are
 * recorded whenever a row arrives, by creation or by pg_restore.
 */
CREATE FUNCTION incremental._record_continuous_view_dependencies()
 RETURNS trigger
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_record_continuous_view_dependencies';
REVOKE ALL ON FUNCTION incremental._record_continuous_view_dependencies() FROM PUBLIC;

CREATE TRIGGER record_dependencies
 AFTER INSERT ON incremental.continuous_view_definitions
 FOR EACH ROW
 EXECUTE FUNCTION incremental._record_continuous_view_dependencies();

/*
 * Merging float moments across stored rows, as PostgreSQL's own parallel
 * aggregation merges them: {n, Σx, Σ(x-x̄)²} and the six moments of the
 * regression aggregates {n, Σx, Σ(x-x̄)², Σy, Σ(y-ȳ)², Σ(x-x̄)(y-ȳ)}.
 * Real-time views use them, and so can queries that roll a continuous
 * view's storage up to a coarser grain.
 */
CREATE AGGREGATE incremental.merge_moments(double precision[]) (
    SFUNC = pg_catalog.float8_combine,
    STYPE = double precision[],
    INITCOND = '{0,0,0}',
    COMBINEFUNC = pg_catalog.float8_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE incremental.merge_moments(double precision[])
 IS 'merge {n, sum(x), sum((x - mean)^2)} states of float variances';

CREATE AGGREGATE incremental.merge_regr_moments(double precision[]) (
    SFUNC = pg_catalog.float8_regr_combine,
    STYPE = double precision[],
    INITCOND = '{0,0,0,0,0,0}',
    COMBINEFUNC = pg_catalog.float8_regr_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE incremental.merge_regr_moments(double precision[])
 IS 'merge the six moments of the regression aggregates';

CREATE FUNCTION incremental.create_continuous_view(
    view_name text,
    query text,
    schedule text DEFAULT '* * * * *',
    max_batch_size bigint DEFAULT 100000,
    realtime boolean DEFAULT false,
    "distinct" text DEFAULT NULL,
    ttl interval DEFAULT NULL,
    ttl_column text DEFAULT NULL,
    sliding_window interval DEFAULT NULL,
    sliding_column text DEFAULT NULL)
 RETURNS regclass
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_create_continuous_view';
COMMENT ON FUNCTION incremental.create_continuous_view(text, text, text, bigint, boolean, text, interval, text, interval, text)
 IS 'create a view of an aggregate query whose storage a sequence pipeline keeps up to date';

/* The pipeline of a continuous view, for the functions below */
CREATE FUNCTION incremental._continuous_view_pipeline(view regclass)
 RETURNS text
 LANGUAGE plpgsql STABLE
 SET search_path = pg_catalog, pg_temp
 AS $function$
DECLARE
    name text;
BEGIN
    SELECT d.pipeline_name INTO name
    FROM incremental.continuous_view_definitions d
    WHERE d.view_name OPERATOR(pg_catalog.=) view;
    IF name IS NULL THEN
        RAISE EXCEPTION '"%" is not a continuous view', view
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'incremental.continuous_views lists the continuous views.';
    END IF;
    RETURN name;
END;
$function$;

CREATE FUNCTION incremental.pause_continuous_view(view regclass)
 RETURNS void
 LANGUAGE sql
 SET search_path = pg_catalog, pg_temp
 AS $function$
SELECT incremental.pause_pipeline(incremental._continuous_view_pipeline(view));
$function$;
COMMENT ON FUNCTION incremental.pause_continuous_view(regclass)
 IS 'stop updating a continuous view; new rows wait, none are lost';

CREATE FUNCTION incremental.resume_continuous_view(view regclass)
 RETURNS void
 LANGUAGE sql
 SET search_path = pg_catalog, pg_temp
 AS $function$
SELECT incremental.resume_pipeline(incremental._continuous_view_pipeline(view));
$function$;
COMMENT ON FUNCTION incremental.resume_continuous_view(regclass)
 IS 'update a paused continuous view again, from where it stopped';

/*
 * Emptying the storage takes its ACCESS EXCLUSIVE lock, so it waits for a
 * batch that is merging into it, and the next batch starts from empty.
 */
CREATE FUNCTION incremental.truncate_continuous_view(view regclass)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path = pg_catalog, pg_temp
 AS $function$
BEGIN
    PERFORM incremental._continuous_view_pipeline(view);
    EXECUTE (SELECT pg_catalog.format('TRUNCATE %s', pg_catalog.array_to_string(
                 d.storage_table OPERATOR(pg_catalog.||) d.distinct_tables, ', '))
             FROM incremental.continuous_view_definitions d
             WHERE d.view_name OPERATOR(pg_catalog.=) view);
END;
$function$;
COMMENT ON FUNCTION incremental.truncate_continuous_view(regclass)
 IS 'empty a continuous view''s summary and keep counting new rows from here';

/*
 * Rebuilding resets the pipeline (taking its lock, so no batch runs in
 * between) and empties the storage in one transaction; the pipeline then
 * processes the whole source again in committed batches.
 */
CREATE FUNCTION incremental.rebuild_continuous_view(view regclass)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_rebuild_continuous_view';
COMMENT ON FUNCTION incremental.rebuild_continuous_view(regclass)
 IS 'recompute a continuous view from all rows of its source, in committed batches';

CREATE FUNCTION incremental.set_ttl(view regclass, ttl interval)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_set_ttl';
COMMENT ON FUNCTION incremental.set_ttl(regclass, interval)
 IS 'change how long a continuous view keeps its groups (NULL: forever)';

/*
 * Dropping a continuous view drops its pipeline and storage, however the
 * view is dropped (DROP VIEW, DROP SCHEMA ... CASCADE, DROP OWNED).  The
 * storage cannot be dropped on its own: the view reads it.
 */
CREATE FUNCTION incremental._drop_continuous_view_trigger()
 RETURNS event_trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path = pg_catalog, pg_temp
 AS $function$
DECLARE
    dropped record;
    table_id oid;
BEGIN
    FOR dropped IN
        DELETE FROM incremental.continuous_view_definitions d
        WHERE d.view_name::oid OPERATOR(pg_catalog.=) ANY (
            SELECT o.objid FROM pg_catalog.pg_event_trigger_dropped_objects() o
            WHERE o.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::regclass
              AND o.objsubid OPERATOR(pg_catalog.=) 0)
        RETURNING d.pipeline_name, d.ttl_pipeline, d.storage_table::oid AS storage_id,
                  d.distinct_tables::oid[] AS side_ids
    LOOP
        DELETE FROM incremental.pipelines p
        WHERE p.pipeline_name OPERATOR(pg_catalog.=) dropped.pipeline_name
           OR p.pipeline_name OPERATOR(pg_catalog.=) dropped.ttl_pipeline;
        FOR table_id IN
            SELECT c.oid FROM pg_catalog.pg_class c
            WHERE c.oid OPERATOR(pg_catalog.=) ANY (dropped.storage_id OPERATOR(pg_catalog.||) dropped.side_ids)
        LOOP
            EXECUTE pg_catalog.format('DROP TABLE %s', table_id::regclass);
        END LOOP;
    END LOOP;
END;
$function$;
REVOKE ALL ON FUNCTION incremental._drop_continuous_view_trigger() FROM PUBLIC;

CREATE EVENT TRIGGER incremental_drop_continuous_view_trigger
 ON sql_drop
 EXECUTE FUNCTION incremental._drop_continuous_view_trigger();

CREATE VIEW incremental.continuous_views AS
SELECT d.view_name,
       d.source_table,
       d.storage_table,
       d.pipeline_name,
       d.query,
       d.realtime,
       d.distinct_mode,
       d.distinct_tables,
       d.ttl,
       d.ttl_column,
       d.sliding_window,
       p.schedule,
       s.max_batch_size,
       st.state,
       st.pending,
       st.last_run_end,
       st.last_error,
       d.created_at
FROM incremental.continuous_view_definitions d
JOIN incremental.pipelines p USING (pipeline_name)
JOIN incremental.sequence_pipelines s USING (pipeline_name)
LEFT JOIN incremental.pipeline_stats st USING (pipeline_name);
GRANT SELECT ON incremental.continuous_views TO PUBLIC;
COMMENT ON VIEW incremental.continuous_views
 IS 'continuous views, with their storage, pipeline and how up to date they are';
