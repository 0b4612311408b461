/*
 * pg_incremental 2.0: install script
 *
 * The control file puts the extension in pg_catalog, so every object below
 * is created with an explicit schema.  The schema "incremental" is a member
 * of the extension: pg_dump recreates it through CREATE EXTENSION, and DROP
 * EXTENSION removes it together with every pipeline.
 *
 * Column order of the catalog tables matters: the C code in src/catalog/
 * reads them by attribute number (see catalog_tables.h).  New columns are
 * only ever appended.  Names and paths use the "C" collation: they are
 * identifiers, compared byte by byte whatever the database's locale, which
 * also lets the C code probe the primary keys with plain scan keys.
 */

\echo Use "CREATE EXTENSION pg_incremental" to load this file. \quit

CREATE SCHEMA incremental;
GRANT USAGE ON SCHEMA incremental TO PUBLIC;

/* Internal: schedule validation, used by a CHECK constraint (src/scheduler/) */
CREATE FUNCTION incremental._schedule_is_valid(schedule text)
 RETURNS boolean
 LANGUAGE C IMMUTABLE PARALLEL SAFE
 AS 'MODULE_PATHNAME', 'incremental_schedule_is_valid';
COMMENT ON FUNCTION incremental._schedule_is_valid(text)
 IS 'raises an error describing the accepted forms when a schedule is invalid';

CREATE FUNCTION incremental.schedule_next_run(schedule text,
                                              after timestamptz DEFAULT pg_catalog.now(),
                                              time_zone text DEFAULT NULL)
 RETURNS timestamptz
 LANGUAGE C STABLE PARALLEL SAFE
 AS 'MODULE_PATHNAME', 'incremental_schedule_next_run';
COMMENT ON FUNCTION incremental.schedule_next_run(text, timestamptz, text)
 IS 'first time after "after" at which a schedule fires, in time_zone (default: incremental.timezone); infinity if never';

/*
 * One row per pipeline.  The first six columns are those of the original
 * pg_incremental; owner_id is a regrole so that it survives dump and restore.
 */
CREATE TABLE incremental.pipelines (
    pipeline_name text COLLATE "C" NOT NULL PRIMARY KEY,
    pipeline_type "char" NOT NULL CHECK (pipeline_type IN ('s', 't', 'f')),
    owner_id regrole NOT NULL,
    source_relation regclass,
    command text NOT NULL,
    search_path text,
    schedule text CHECK (incremental._schedule_is_valid(schedule)),
    paused boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    scheduled_by text NOT NULL DEFAULT 'internal'
        CHECK (scheduled_by IN ('internal', 'pg_cron'))
);

CREATE TABLE incremental.sequence_pipelines (
    pipeline_name text COLLATE "C" NOT NULL PRIMARY KEY
        REFERENCES incremental.pipelines (pipeline_name) ON DELETE CASCADE ON UPDATE CASCADE,
    sequence_name regclass NOT NULL,
    last_processed_sequence_number bigint NOT NULL,
    max_batch_size bigint CHECK (max_batch_size > 0),
    initial_sequence_number bigint NOT NULL
);

CREATE TABLE incremental.time_interval_pipelines (
    pipeline_name text COLLATE "C" NOT NULL PRIMARY KEY
        REFERENCES incremental.pipelines (pipeline_name) ON DELETE CASCADE ON UPDATE CASCADE,
    time_interval interval NOT NULL,
    batched boolean NOT NULL,
    min_delay interval NOT NULL,
    last_processed_time timestamptz NOT NULL,
    start_time timestamptz NOT NULL,
    time_zone text NOT NULL
);

CREATE TABLE incremental.file_list_pipelines (
    pipeline_name text COLLATE "C" NOT NULL PRIMARY KEY
        REFERENCES incremental.pipelines (pipeline_name) ON DELETE CASCADE ON UPDATE CASCADE,
    file_pattern text NOT NULL,
    batched boolean NOT NULL,
    list_function text,
    max_batch_size integer NOT NULL CHECK (max_batch_size > 0),
    max_batches_per_run integer NOT NULL DEFAULT -1
        CHECK (max_batches_per_run = -1 OR max_batches_per_run > 0)
);

CREATE TABLE incremental.processed_files (
    pipeline_name text COLLATE "C" NOT NULL
        REFERENCES incremental.pipelines (pipeline_name) ON DELETE CASCADE ON UPDATE CASCADE,
    path text COLLATE "C" NOT NULL,
    PRIMARY KEY (pipeline_name, path)
);

/* Definitions and progress are user data: pg_dump must keep them. */
SELECT pg_catalog.pg_extension_config_dump('incremental.pipelines', '');
SELECT pg_catalog.pg_extension_config_dump('incremental.sequence_pipelines', '');
SELECT pg_catalog.pg_extension_config_dump('incremental.time_interval_pipelines', '');
SELECT pg_catalog.pg_extension_config_dump('incremental.file_list_pipelines', '');
SELECT pg_catalog.pg_extension_config_dump('incremental.processed_files', '');

/* Anyone may read the catalog; only the extension's functions write it. */
REVOKE ALL ON ALL TABLES IN SCHEMA incremental FROM PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA incremental TO PUBLIC;

/*
 * Sequence pipelines.  The first signature is 1.4's (max_batch_size before
 * execute_immediately); the second, with unnamed parameters, keeps 1.3's
 * positional calls (..., schedule, execute_immediately) resolving.  Named
 * calls always reach the first.
 */
CREATE FUNCTION incremental.create_sequence_pipeline(
    pipeline_name text,
    source_table_name regclass,
    command text,
    schedule text DEFAULT '* * * * *',
    max_batch_size bigint DEFAULT NULL,
    execute_immediately boolean DEFAULT true)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_create_sequence_pipeline';
COMMENT ON FUNCTION incremental.create_sequence_pipeline(text, regclass, text, text, bigint, boolean)
 IS 'create a pipeline that processes new sequence values ($1, $2 bigint) of a table';

CREATE FUNCTION incremental.create_sequence_pipeline(text, regclass, text, text, boolean)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_create_sequence_pipeline_v13';
COMMENT ON FUNCTION incremental.create_sequence_pipeline(text, regclass, text, text, boolean)
 IS 'pg_incremental 1.3 positional form: (name, source, command, schedule, execute_immediately)';

CREATE FUNCTION incremental.create_time_interval_pipeline(
    pipeline_name text,
    time_interval interval,
    command text,
    batched boolean DEFAULT true,
    start_time timestamptz DEFAULT NULL,
    source_table_name regclass DEFAULT NULL,
    schedule text DEFAULT '* * * * *',
    min_delay interval DEFAULT '30 seconds',
    execute_immediately boolean DEFAULT true)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_create_time_interval_pipeline';
COMMENT ON FUNCTION incremental.create_time_interval_pipeline(text, interval, text, boolean, timestamptz, regclass, text, interval, boolean)
 IS 'create a pipeline that processes passed time intervals ($1, $2 timestamptz)';

CREATE FUNCTION incremental.create_file_list_pipeline(
    pipeline_name text,
    file_pattern text,
    command text,
    list_function text DEFAULT NULL,
    batched boolean DEFAULT false,
    max_batch_size integer DEFAULT 100,
    schedule text DEFAULT '*/15 * * * *',
    execute_immediately boolean DEFAULT true,
    max_batches_per_run integer DEFAULT -1)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_create_file_list_pipeline';
COMMENT ON FUNCTION incremental.create_file_list_pipeline(text, text, text, text, boolean, integer, text, boolean, integer)
 IS 'create a pipeline that processes new files ($1 text, or text[] when batched)';

CREATE PROCEDURE incremental.execute_pipeline(pipeline_name text)
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_execute_pipeline';
COMMENT ON PROCEDURE incremental.execute_pipeline(text)
 IS 'process all new data of a pipeline now; commits after each batch when called outside a transaction block';

CREATE FUNCTION incremental.reset_pipeline(pipeline_name text, execute_immediately boolean DEFAULT true)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_reset_pipeline';
COMMENT ON FUNCTION incremental.reset_pipeline(text, boolean)
 IS 'forget the progress of a pipeline, so that everything is processed again';

CREATE FUNCTION incremental.drop_pipeline(pipeline_name text)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_drop_pipeline';
COMMENT ON FUNCTION incremental.drop_pipeline(text)
 IS 'drop a pipeline and its progress';

CREATE FUNCTION incremental.skip_file(pipeline_name text, path text)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_skip_file';
COMMENT ON FUNCTION incremental.skip_file(text, text)
 IS 'mark a file as processed without running the command for it';

/* The default list function: files on the database server matching a glob */
CREATE FUNCTION incremental.list_local_files(pattern text)
 RETURNS TABLE (path text)
 LANGUAGE C STRICT
 AS 'MODULE_PATHNAME', 'incremental_list_local_files';
COMMENT ON FUNCTION incremental.list_local_files(text)
 IS 'list files on the database server that match a glob pattern (superuser or pg_read_server_files)';
REVOKE ALL ON FUNCTION incremental.list_local_files(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION incremental.list_local_files(text) TO pg_read_server_files;

/*
 * Dropping a source table or sequence drops the pipelines that read it.  The
 * trigger runs as the extension owner because users cannot write the catalog.
 */
CREATE FUNCTION incremental._drop_source_trigger()
 RETURNS event_trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path = pg_catalog, pg_temp
 AS $function$
DECLARE
    dropped_oids oid[];
BEGIN
    SELECT array_agg(objid) INTO dropped_oids
    FROM pg_event_trigger_dropped_objects()
    WHERE classid = 'pg_class'::regclass AND objsubid = 0;

    IF dropped_oids IS NULL THEN
        RETURN;
    END IF;

    DELETE FROM incremental.pipelines p
    WHERE p.source_relation::oid OPERATOR(pg_catalog.=) ANY (dropped_oids)
       OR p.pipeline_name OPERATOR(pg_catalog.=) ANY (
            SELECT s.pipeline_name FROM incremental.sequence_pipelines s
            WHERE s.sequence_name::oid OPERATOR(pg_catalog.=) ANY (dropped_oids));
END;
$function$;
REVOKE ALL ON FUNCTION incremental._drop_source_trigger() FROM PUBLIC;

CREATE EVENT TRIGGER incremental_drop_source_trigger
 ON sql_drop
 EXECUTE FUNCTION incremental._drop_source_trigger();

/*
 * pg_cron compatibility (src/scheduler/pg_cron_mode.c).  scheduled_by says
 * whether the built-in scheduler or a pg_cron job pipeline:<name> runs a
 * pipeline's schedule; incremental.scheduler picks it for new pipelines,
 * and these functions move pipelines between the two.
 */
CREATE FUNCTION incremental.move_pipeline_schedule(pipeline_name text, scheduler text)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_move_pipeline_schedule';
COMMENT ON FUNCTION incremental.move_pipeline_schedule(text, text)
 IS 'let the internal scheduler or pg_cron run a pipeline''s schedule';

CREATE FUNCTION incremental.move_all_pipeline_schedules(scheduler text)
 RETURNS integer
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_move_all_pipeline_schedules';
COMMENT ON FUNCTION incremental.move_all_pipeline_schedules(text)
 IS 'move the schedules of all pipelines you may manage to the internal scheduler or pg_cron';

/* A pipeline's pg_cron job goes with its row, however the row is deleted */
CREATE FUNCTION incremental._unschedule_pipeline_job()
 RETURNS trigger
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_unschedule_pipeline_job';
REVOKE ALL ON FUNCTION incremental._unschedule_pipeline_job() FROM PUBLIC;

CREATE TRIGGER unschedule_pipeline_job
 AFTER DELETE ON incremental.pipelines
 FOR EACH ROW WHEN (OLD.scheduled_by OPERATOR(pg_catalog.=) 'pg_cron')
 EXECUTE FUNCTION incremental._unschedule_pipeline_job();

/*
 * The built-in scheduler re-reads the pipelines when a transaction that
 * changed them commits (src/scheduler/commit_wakeup.c), however they were
 * changed: through the API, by the drop of a source table, or by hand.
 * ALWAYS, so that changes applied by logical replication count too.
 */
CREATE FUNCTION incremental._pipelines_changed()
 RETURNS trigger
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_pipelines_changed';
REVOKE ALL ON FUNCTION incremental._pipelines_changed() FROM PUBLIC;

CREATE TRIGGER pipelines_changed
 AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON incremental.pipelines
 FOR EACH STATEMENT
 EXECUTE FUNCTION incremental._pipelines_changed();
ALTER TABLE incremental.pipelines ENABLE ALWAYS TRIGGER pipelines_changed;

/*
 * DROP EXTENSION pg_incremental removes the pg_cron jobs of its pipelines.
 * The trigger fires before the drop, while the catalog still says which
 * jobs are ours, so it can be part of the extension: nothing is left
 * behind, and it does nothing when pg_cron is not installed.
 */
CREATE FUNCTION incremental._drop_extension_cleanup()
 RETURNS event_trigger
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_drop_extension_cleanup';
REVOKE ALL ON FUNCTION incremental._drop_extension_cleanup() FROM PUBLIC;

CREATE EVENT TRIGGER incremental_drop_extension_cleanup
 ON ddl_command_start
 WHEN TAG IN ('DROP EXTENSION')
 EXECUTE FUNCTION incremental._drop_extension_cleanup();

/*
 * Run history, one row per run that processed something or failed (a check
 * that finds nothing new writes nothing).  Each row also carries the
 * pipeline's cumulative statistics as of that run, so that recording a run
 * is a single small insert in the run's own transaction, and the newest row
 * of a pipeline is its statistics.  The scheduler trims old rows (by
 * incremental.history_retention and incremental.history_max_runs) but never
 * a pipeline's newest.  Monitoring data, not part of pg_dump.
 */
CREATE TABLE incremental.pipeline_runs (
    run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pipeline_name text COLLATE "C" NOT NULL
        REFERENCES incremental.pipelines (pipeline_name) ON DELETE CASCADE ON UPDATE CASCADE,
    started_at timestamptz NOT NULL,
    ended_at timestamptz NOT NULL,
    status text NOT NULL CHECK (status IN ('succeeded', 'failed')),
    triggered_by text NOT NULL CHECK (triggered_by IN ('scheduler', 'user')),
    batches integer NOT NULL,
    items_processed bigint NOT NULL,
    rows_processed bigint NOT NULL,
    range_start text,
    range_end text,
    error_message text,
    error_sqlstate text,
    next_retry_at timestamptz,
    -- the pipeline's statistics as of this run
    total_runs bigint NOT NULL,
    total_failures bigint NOT NULL,
    consecutive_failures integer NOT NULL,
    total_items bigint NOT NULL,
    total_exec_time double precision NOT NULL,
    last_success timestamptz,
    last_error_message text,
    last_error_sqlstate text,
    stats_reset timestamptz
);
CREATE INDEX pipeline_runs_pipeline_name_run_id_idx
    ON incremental.pipeline_runs (pipeline_name, run_id);
COMMENT ON TABLE incremental.pipeline_runs
 IS 'one row per pipeline run that processed data or failed; see incremental.pipeline_stats';

/* error messages may say more than a pipeline's definition: owners only */
ALTER TABLE incremental.pipeline_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY pipeline_runs_owner ON incremental.pipeline_runs FOR SELECT
 USING (EXISTS (SELECT 1 FROM incremental.pipelines p
                WHERE p.pipeline_name OPERATOR(pg_catalog.=) pipeline_runs.pipeline_name
                  AND pg_catalog.pg_has_role(p.owner_id, 'USAGE')));
GRANT SELECT ON incremental.pipeline_runs TO PUBLIC;

/* Internal helpers of the pipeline_stats view (src/pipelines/) */
CREATE FUNCTION incremental._pipeline_lock_key(pipeline_name text)
 RETURNS bigint
 LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
 AS 'MODULE_PATHNAME', 'incremental_pipeline_lock_key';
COMMENT ON FUNCTION incremental._pipeline_lock_key(text)
 IS 'the key of a pipeline''s advisory lock, as (pg_locks.classid << 32) | pg_locks.objid';

CREATE FUNCTION incremental._intervals_passed(start_time timestamptz, time_interval interval,
                                              from_time timestamptz, to_time timestamptz,
                                              time_zone text)
 RETURNS bigint
 LANGUAGE C STABLE STRICT PARALLEL SAFE
 AS 'MODULE_PATHNAME', 'incremental_intervals_passed';
COMMENT ON FUNCTION incremental._intervals_passed(timestamptz, interval, timestamptz, timestamptz, text)
 IS 'number of interval boundaries in (from_time, to_time], intervals aligned to start_time in time_zone';

CREATE FUNCTION incremental._scheduler_active()
 RETURNS boolean
 LANGUAGE C STABLE PARALLEL SAFE
 AS 'MODULE_PATHNAME', 'incremental_scheduler_active';
COMMENT ON FUNCTION incremental._scheduler_active()
 IS 'whether the built-in scheduler runs pipelines in this database';

/*
 * One row per pipeline, pg_stat style.  Counters come from the newest row of
 * pipeline_runs; "running" from the pipeline's advisory lock; pending work
 * from the catalog's progress (a sequence's last value needs privileges on
 * the sequence; files are not listed, since that can be expensive).
 *
 * The query lives in a function so that it can run with JIT off: with
 * thousands of pipelines its estimated cost passes jit_above_cost, and
 * compiling it would take longer than running it.
 */
CREATE FUNCTION incremental._pipeline_stats()
 RETURNS TABLE (pipeline_name text, pipeline_type text, owner regrole, schedule text,
                state text, runs bigint, failures bigint, consecutive_failures integer,
                last_run_start timestamptz, last_run_end timestamptz, last_status text,
                last_success timestamptz, last_error text, last_error_sqlstate text,
                next_run timestamptz, total_exec_time double precision,
                mean_exec_time double precision, items_processed bigint, pending bigint,
                lag interval, stats_reset timestamptz)
 LANGUAGE sql STABLE
 SET jit = off
 AS $function$
SELECT
    p.pipeline_name,
    CASE p.pipeline_type
        WHEN 's' THEN 'sequence' WHEN 't' THEN 'time_interval' WHEN 'f' THEN 'file_list'
    END AS pipeline_type,
    p.owner_id AS owner,
    p.schedule,
    CASE
        WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_locks l
                     WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'
                       AND l.objsubid OPERATOR(pg_catalog.=) 18768
                       AND l.granted
                       AND l.database OPERATOR(pg_catalog.=)
                           (SELECT oid FROM pg_catalog.pg_database
                            WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
                       AND ((l.classid::pg_catalog.int8 OPERATOR(pg_catalog.<<) 32)
                            OPERATOR(pg_catalog.|) l.objid::pg_catalog.int8)
                           OPERATOR(pg_catalog.=) incremental._pipeline_lock_key(p.pipeline_name))
            THEN 'running'
        WHEN p.paused THEN 'paused'
        WHEN r.consecutive_failures OPERATOR(pg_catalog.>) 0 THEN 'failing'
        WHEN p.schedule IS NULL OR NOT incremental._scheduler_active() THEN 'disabled'
        ELSE 'idle'
    END AS state,
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
        WHEN p.schedule IS NULL OR p.paused OR NOT incremental._scheduler_active() THEN NULL
        ELSE GREATEST(incremental.schedule_next_run(p.schedule, pg_catalog.now()), r.next_retry_at)
    END AS next_run,
    COALESCE(r.total_exec_time, 0) AS total_exec_time,
    CASE WHEN r.total_runs OPERATOR(pg_catalog.>) 0
         THEN r.total_exec_time OPERATOR(pg_catalog./) r.total_runs END AS mean_exec_time,
    COALESCE(r.total_items, 0) AS items_processed,
    CASE p.pipeline_type
        WHEN 's' THEN
            CASE WHEN pg_catalog.has_sequence_privilege(s.sequence_name, 'SELECT,USAGE')
                 THEN GREATEST(COALESCE(pg_catalog.pg_sequence_last_value(s.sequence_name),
                                        s.initial_sequence_number)
                               OPERATOR(pg_catalog.-) s.last_processed_sequence_number, 0)
            END
        WHEN 't' THEN
            incremental._intervals_passed(t.start_time, t.time_interval, t.last_processed_time,
                                          pg_catalog.now() OPERATOR(pg_catalog.-) t.min_delay,
                                          t.time_zone)
    END AS pending,
    CASE p.pipeline_type
        WHEN 't' THEN GREATEST(pg_catalog.now() OPERATOR(pg_catalog.-) t.last_processed_time,
                               interval '0')
    END AS lag,
    r.stats_reset
FROM incremental.pipelines p
LEFT JOIN incremental.sequence_pipelines s USING (pipeline_name)
LEFT JOIN incremental.time_interval_pipelines t USING (pipeline_name)
LEFT JOIN LATERAL (
    SELECT * FROM incremental.pipeline_runs pr
    WHERE pr.pipeline_name OPERATOR(pg_catalog.=) p.pipeline_name
    ORDER BY pr.run_id DESC LIMIT 1) r ON true
$function$;

CREATE VIEW incremental.pipeline_stats AS
SELECT * FROM incremental._pipeline_stats();
COMMENT ON VIEW incremental.pipeline_stats
 IS 'state, counters, last run and lag of every pipeline';
GRANT SELECT ON incremental.pipeline_stats TO PUBLIC;

CREATE FUNCTION incremental.reset_stats(pipeline_name text DEFAULT NULL)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_reset_stats';
COMMENT ON FUNCTION incremental.reset_stats(text)
 IS 'zero the counters of one pipeline, or of every pipeline the caller owns';

CREATE FUNCTION incremental.pause_pipeline(pipeline_name text)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_pause_pipeline';
COMMENT ON FUNCTION incremental.pause_pipeline(text)
 IS 'stop the scheduler from running a pipeline; its progress stays where it is';

CREATE FUNCTION incremental.resume_pipeline(pipeline_name text)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_resume_pipeline';
COMMENT ON FUNCTION incremental.resume_pipeline(text)
 IS 'let the scheduler run a paused pipeline again; it catches up on everything that arrived';
