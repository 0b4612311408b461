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
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
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
 * The scheduler (src/scheduler/).  pipeline_run_state is what the scheduler
 * remembers of each pipeline's last scheduled run: interval schedules count
 * from last_run_start, and failures back off until next_retry_at.  It is
 * bookkeeping that rebuilds itself, so pg_dump leaves it out.
 */
CREATE TABLE incremental.pipeline_run_state (
    pipeline_name text COLLATE "C" NOT NULL PRIMARY KEY
        REFERENCES incremental.pipelines (pipeline_name) ON DELETE CASCADE ON UPDATE CASCADE,
    last_run_start timestamptz,
    last_run_end timestamptz,
    last_run_status text,
    last_error text,
    consecutive_failures integer NOT NULL DEFAULT 0,
    next_retry_at timestamptz
);
GRANT SELECT ON incremental.pipeline_run_state TO PUBLIC;

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
