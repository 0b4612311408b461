/*
 * pg_incremental 2.3 to 2.4: roll-ups of continuous views.
 *
 * A continuous view may read another continuous view (minute -> hour ->
 * day).  The view read then appends each batch's states to a delta table,
 * a stream of its own, which the roll-up's pipeline consumes with the same
 * merge rules (src/continuous_views/cv_rollup.c).
 *
 * Aggregates can be added to a continuous view: its batches keep them from
 * then on, and a backfill merges them into the existing groups from the
 * rows still in the source (src/continuous_views/cv_add_column.c).
 */

\echo Use "ALTER EXTENSION pg_incremental UPDATE" to load this file. \quit

-- the stream the view's batches append their states to, for its roll-ups
ALTER TABLE incremental.continuous_view_definitions ADD COLUMN delta_table regclass;

CREATE FUNCTION incremental._combine_outside_rollup(anyelement, anyelement)
 RETURNS anyelement
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_combine_outside_rollup';

/*
 * In a roll-up's query, combine(column) merges the states that the view
 * read keeps for one of its aggregates; it is not evaluated anywhere else.
 */
CREATE AGGREGATE incremental.combine(anyelement) (
    SFUNC = incremental._combine_outside_rollup,
    STYPE = anyelement
);
COMMENT ON AGGREGATE incremental.combine(anyelement)
 IS 'in a roll-up''s query: an aggregate of the continuous view read, over coarser groups';

CREATE FUNCTION incremental._release_rollup_source(delta_table regclass)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_release_rollup_source';
REVOKE ALL ON FUNCTION incremental._release_rollup_source(regclass) FROM PUBLIC;

/*
 * As before, and: a view's delta table goes with it; once no roll-up reads
 * a delta table, the view read stops appending to it and it is dropped.
 */
CREATE OR REPLACE FUNCTION incremental._drop_continuous_view_trigger()
 RETURNS event_trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path = pg_catalog, pg_temp
 AS $function$
DECLARE
    dropped record;
    table_id oid;
    sources oid[] := '{}';
    source_id oid;
BEGIN
    FOR dropped IN
        DELETE FROM incremental.continuous_view_definitions d
        WHERE d.view_name::oid OPERATOR(pg_catalog.=) ANY (
            SELECT o.objid FROM pg_catalog.pg_event_trigger_dropped_objects() o
            WHERE o.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::regclass
              AND o.objsubid OPERATOR(pg_catalog.=) 0)
        RETURNING d.pipeline_name, d.maintenance_pipeline, d.storage_table::oid AS storage_id,
                  d.distinct_tables::oid[] AS side_ids, d.delta_table::oid AS delta_id,
                  d.source_table::oid AS source_id
    LOOP
        DELETE FROM incremental.pipelines p
        WHERE p.pipeline_name OPERATOR(pg_catalog.=) dropped.pipeline_name
           OR p.pipeline_name OPERATOR(pg_catalog.=) dropped.maintenance_pipeline;
        FOR table_id IN
            SELECT c.oid FROM pg_catalog.pg_class c
            WHERE c.oid OPERATOR(pg_catalog.=) ANY (dropped.storage_id OPERATOR(pg_catalog.||)
                  dropped.side_ids OPERATOR(pg_catalog.||) dropped.delta_id)
        LOOP
            EXECUTE pg_catalog.format('DROP TABLE %s', table_id::regclass);
        END LOOP;
        sources := sources OPERATOR(pg_catalog.||) dropped.source_id;
    END LOOP;
    FOREACH source_id IN ARRAY sources LOOP
        PERFORM incremental._release_rollup_source(source_id);
    END LOOP;
END;
$function$;

CREATE OR REPLACE VIEW incremental.continuous_views AS
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
       d.partition_column,
       d.partition_duration,
       d.maintenance_pipeline,
       p.schedule,
       s.max_batch_size,
       st.state,
       st.pending,
       st.last_run_end,
       st.last_error,
       d.created_at,
       d.delta_table
FROM incremental.continuous_view_definitions d
JOIN incremental.pipelines p USING (pipeline_name)
JOIN incremental.sequence_pipelines s USING (pipeline_name)
LEFT JOIN incremental.pipeline_stats st USING (pipeline_name);

/*
 * A pipeline without a schedule of its own that depends on others runs
 * after them: pipeline_stats shows it idle (or running, failing...), not
 * disabled, as 2.3 did.
 */
CREATE OR REPLACE FUNCTION incremental._pipeline_statistics()
 RETURNS TABLE (pipeline_name text, pipeline_type text, owner regrole, schedule text,
                state text, runs bigint, failures bigint, consecutive_failures integer,
                last_run_start timestamptz, last_run_end timestamptz, last_status text,
                last_success timestamptz, last_error text, last_error_sqlstate text,
                next_run timestamptz, total_exec_time double precision,
                mean_exec_time double precision, items_processed bigint, pending bigint,
                lag interval, stats_reset timestamptz, state_detail text)
 LANGUAGE sql STABLE
 SET jit = off
 AS $function$
-- why an owner's pipelines cannot run, once per owner (D16: the scheduler
-- runs a role's pipelines in a session logged in as that role)
WITH owners AS MATERIALIZED (
    SELECT owner.owner_id,
           CASE
               WHEN a.oid IS NULL THEN
                   pg_catalog.format('its owner (role %s) was dropped', owner.owner_id::pg_catalog.oid)
               WHEN NOT a.rolcanlogin THEN
                   pg_catalog.format('role %I does not have the LOGIN attribute', a.rolname)
               WHEN a.rolvaliduntil OPERATOR(pg_catalog.<) pg_catalog.now() THEN
                   pg_catalog.format('the login of role %I expired at %s', a.rolname, a.rolvaliduntil)
               WHEN NOT pg_catalog.has_database_privilege(a.oid,
                        (SELECT d.oid FROM pg_catalog.pg_database d
                         WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()),
                        'CONNECT') THEN
                   pg_catalog.format('role %I may not connect to this database', a.rolname)
           END AS login_problem
    FROM (SELECT DISTINCT pp.owner_id::pg_catalog.oid AS owner_id FROM incremental.pipelines pp) owner
    LEFT JOIN pg_catalog.pg_roles a ON a.oid OPERATOR(pg_catalog.=) owner.owner_id),
-- the pipelines whose lock a run holds right now, read once
running AS MATERIALIZED (
    SELECT (l.classid::pg_catalog.int8 OPERATOR(pg_catalog.<<) 32)
           OPERATOR(pg_catalog.|) l.objid::pg_catalog.int8 AS lock_key
    FROM pg_catalog.pg_locks l
    WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'
      AND l.objsubid OPERATOR(pg_catalog.=) 18768
      AND l.granted
      AND l.database OPERATOR(pg_catalog.=)
          (SELECT oid FROM pg_catalog.pg_database
           WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database()))
SELECT
    p.pipeline_name,
    CASE p.pipeline_type
        WHEN 's' THEN 'sequence' WHEN 't' THEN 'time_interval' WHEN 'f' THEN 'file_list'
    END AS pipeline_type,
    p.owner_id AS owner,
    p.schedule,
    st.state,
    COALESCE(r.total_runs, 0) AS runs,
    COALESCE(r.total_failures, 0) AS failures,
    COALESCE(r.consecutive_failures, 0) AS consecutive_failures,
    r.started_at AS last_run_start,
    r.ended_at AS last_run_end,
    r.status AS last_status,
    r.last_success,
    CASE WHEN pg_catalog.pg_has_role(p.owner_id, 'USAGE') THEN r.last_error_message END AS last_error,
    CASE WHEN pg_catalog.pg_has_role(p.owner_id, 'USAGE') THEN r.last_error_sqlstate END AS last_error_sqlstate,
    CASE
        WHEN NOT sched.runnable OR p.paused OR o.login_problem IS NOT NULL THEN NULL
        ELSE GREATEST(incremental.schedule_next_run(p.schedule, pg_catalog.now()), r.next_retry_at)
    END AS next_run,
    COALESCE(r.total_exec_time, 0) AS total_exec_time,
    CASE WHEN r.total_runs OPERATOR(pg_catalog.>) 0
         THEN r.total_exec_time OPERATOR(pg_catalog./) r.total_runs END AS mean_exec_time,
    COALESCE(r.total_items, 0) AS items_processed,
    CASE p.pipeline_type
        WHEN 's' THEN
            NULLIF(GREATEST(COALESCE(incremental._sequence_last_value(s.sequence_name),
                                     s.initial_sequence_number)
                            OPERATOR(pg_catalog.-) s.last_processed_sequence_number, -1), -1)
        WHEN 't' THEN
            incremental._intervals_passed(t.start_time, t.time_interval, t.last_processed_time,
                                          pg_catalog.now() OPERATOR(pg_catalog.-) t.min_delay,
                                          t.time_zone)
    END AS pending,
    CASE p.pipeline_type
        WHEN 't' THEN GREATEST(pg_catalog.now() OPERATOR(pg_catalog.-) t.last_processed_time,
                               interval '0')
    END AS lag,
    r.stats_reset,
    CASE st.state
        WHEN 'blocked' THEN o.login_problem
        WHEN 'paused' THEN p.paused_reason
        WHEN 'disabled' THEN
            CASE
                WHEN p.schedule IS NULL THEN 'runs only when executed by hand'
                WHEN p.scheduled_by OPERATOR(pg_catalog.=) 'pg_cron' THEN 'scheduled by pg_cron'
                ELSE 'the built-in scheduler is not running'
            END
    END AS state_detail
FROM incremental.pipelines p
CROSS JOIN LATERAL (SELECT (p.schedule IS NOT NULL
                            OR EXISTS (SELECT FROM incremental.pipeline_dependencies d
                                       WHERE d.pipeline_name OPERATOR(pg_catalog.=) p.pipeline_name))
                       AND p.scheduled_by OPERATOR(pg_catalog.=) 'internal'
                       AND incremental._scheduler_active() AS runnable) sched
LEFT JOIN owners o ON o.owner_id OPERATOR(pg_catalog.=) p.owner_id::pg_catalog.oid
LEFT JOIN incremental.sequence_pipelines s USING (pipeline_name)
LEFT JOIN incremental.time_interval_pipelines t USING (pipeline_name)
LEFT JOIN LATERAL (
    SELECT * FROM incremental.pipeline_runs pr
    WHERE pr.pipeline_name OPERATOR(pg_catalog.=) p.pipeline_name
    ORDER BY pr.run_id DESC LIMIT 1) r ON true
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN incremental._pipeline_lock_key(p.pipeline_name) IN (SELECT lock_key FROM running)
            THEN 'running'
        WHEN p.paused THEN 'paused'
        WHEN sched.runnable AND o.login_problem IS NOT NULL THEN 'blocked'
        WHEN r.consecutive_failures OPERATOR(pg_catalog.>) 0 THEN 'failing'
        WHEN NOT sched.runnable THEN 'disabled'
        ELSE 'idle'
    END AS state) st
$function$;

/*
 * The backfills of aggregates added to continuous views: the new
 * aggregates of the source rows up to backfill_through (the view's
 * progress when they were added) are merged into the view's groups in
 * committed batches, each recording how far it got; valid_from is the
 * first source id that was still there.
 */
CREATE TABLE incremental.continuous_view_backfills (
    backfill_id bigserial PRIMARY KEY,
    view_name regclass NOT NULL
        REFERENCES incremental.continuous_view_definitions (view_name) ON DELETE CASCADE,
    columns text[] NOT NULL,
    -- merges the new aggregates of the source rows $1 .. $2 into the storage
    command text NOT NULL,
    backfill_through bigint NOT NULL,
    backfilled_through bigint NOT NULL,
    valid_from bigint,
    -- the source has retention: the backfill runs in one transaction, which
    -- keeps the retention from dropping the rows it has yet to read
    one_transaction boolean NOT NULL,
    started_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    finished_at timestamptz
);
SELECT pg_catalog.pg_extension_config_dump('incremental.continuous_view_backfills', '');
SELECT pg_catalog.pg_extension_config_dump('incremental.continuous_view_backfills_backfill_id_seq', '');
REVOKE ALL ON incremental.continuous_view_backfills FROM PUBLIC;
GRANT SELECT ON incremental.continuous_view_backfills TO PUBLIC;

CREATE PROCEDURE incremental.add_continuous_view_column(view_name regclass, columns text)
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_add_continuous_view_column';
COMMENT ON PROCEDURE incremental.add_continuous_view_column(regclass, text)
 IS 'add aggregates to a continuous view, backfilled from the rows still in its source';

CREATE PROCEDURE incremental.backfill_continuous_view(view_name regclass)
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_backfill_continuous_view';
COMMENT ON PROCEDURE incremental.backfill_continuous_view(regclass)
 IS 'finish the backfill of aggregates added to a continuous view, after an interruption';
