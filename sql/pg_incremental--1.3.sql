/*
 * pg_incremental 1.3: the catalog of the original pg_incremental (Crunchy
 * Data), as its documentation describes it, so that upgrades from it can
 * be installed and tested: CREATE EXTENSION pg_incremental VERSION '1.3',
 * then ALTER EXTENSION pg_incremental UPDATE.
 *
 * Only the shape matters.  This library implements version 2.0, and its C
 * functions refuse to work on this catalog (see
 * src/catalog/catalog_version.c): every function below that calls them
 * raises an error with a hint to run ALTER EXTENSION pg_incremental
 * UPDATE.  Pipelines of a 1.3 catalog are rows in its tables and jobs in
 * cron.job, which is exactly what the original left behind.
 *
 * As in the original, the schema and the drop-extension event trigger are
 * not members of the extension (the trigger outlives DROP EXTENSION to
 * unschedule the cron jobs), and no table is registered for pg_dump.
 */

\echo Use "CREATE EXTENSION pg_incremental VERSION '1.3'" to load this file. \quit

CREATE SCHEMA incremental;
GRANT USAGE ON SCHEMA incremental TO PUBLIC;

CREATE TABLE incremental.pipelines (
    pipeline_name text NOT NULL PRIMARY KEY,
    pipeline_type "char" NOT NULL,
    owner_id oid NOT NULL,
    source_relation regclass,
    command text,
    search_path text
);

CREATE TABLE incremental.sequence_pipelines (
    pipeline_name text NOT NULL PRIMARY KEY
        REFERENCES incremental.pipelines (pipeline_name) ON DELETE CASCADE ON UPDATE CASCADE,
    sequence_name regclass NOT NULL,
    last_processed_sequence_number bigint
);

CREATE TABLE incremental.time_interval_pipelines (
    pipeline_name text NOT NULL PRIMARY KEY
        REFERENCES incremental.pipelines (pipeline_name) ON DELETE CASCADE ON UPDATE CASCADE,
    time_interval interval NOT NULL,
    batched boolean NOT NULL DEFAULT false,
    min_delay interval NOT NULL,
    last_processed_time timestamptz
);

CREATE TABLE incremental.file_list_pipelines (
    pipeline_name text NOT NULL PRIMARY KEY
        REFERENCES incremental.pipelines (pipeline_name) ON DELETE CASCADE ON UPDATE CASCADE,
    file_pattern text NOT NULL,
    batched boolean NOT NULL DEFAULT false,
    list_function text,
    max_batch_size integer
);

CREATE TABLE incremental.processed_files (
    pipeline_name text NOT NULL
        REFERENCES incremental.pipelines (pipeline_name) ON DELETE CASCADE ON UPDATE CASCADE,
    path text NOT NULL,
    PRIMARY KEY (pipeline_name, path)
);

GRANT SELECT ON ALL TABLES IN SCHEMA incremental TO PUBLIC;

/* The functions of 1.3, with its argument names, order and defaults */
CREATE FUNCTION incremental.create_sequence_pipeline(
    pipeline_name text,
    source_table_name regclass,
    command text,
    schedule text DEFAULT '* * * * *',
    execute_immediately boolean DEFAULT true)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_create_sequence_pipeline';

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

CREATE FUNCTION incremental.create_file_list_pipeline(
    pipeline_name text,
    file_pattern text,
    command text,
    list_function text DEFAULT NULL,
    batched boolean DEFAULT false,
    max_batch_size integer DEFAULT 100,
    schedule text DEFAULT '*/15 * * * *',
    execute_immediately boolean DEFAULT true)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_create_file_list_pipeline';

CREATE PROCEDURE incremental.execute_pipeline(pipeline_name text)
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_execute_pipeline';

CREATE FUNCTION incremental.reset_pipeline(pipeline_name text, execute_immediately boolean DEFAULT true)
 RETURNS void
 LANGUAGE C STRICT
 AS 'MODULE_PATHNAME', 'incremental_reset_pipeline';

CREATE FUNCTION incremental.drop_pipeline(pipeline_name text)
 RETURNS void
 LANGUAGE C STRICT
 AS 'MODULE_PATHNAME', 'incremental_drop_pipeline';

CREATE FUNCTION incremental.skip_file(pipeline_name text, path text)
 RETURNS void
 LANGUAGE C STRICT
 AS 'MODULE_PATHNAME', 'incremental_skip_file';

/* Dropping a source table drops its pipelines */
CREATE FUNCTION incremental._drop_trigger()
 RETURNS event_trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path = pg_catalog
 AS $function$
DECLARE
    dropped record;
BEGIN
    FOR dropped IN
        SELECT objid FROM pg_event_trigger_dropped_objects()
        WHERE object_type IN ('table', 'foreign table', 'sequence')
    LOOP
        PERFORM incremental.drop_pipeline(p.pipeline_name)
        FROM incremental.pipelines p
        WHERE p.source_relation OPERATOR(pg_catalog.=) dropped.objid;
    END LOOP;
END;
$function$;

CREATE EVENT TRIGGER pipeline_drop_trigger
 ON sql_drop
 WHEN TAG IN ('DROP TABLE', 'DROP FOREIGN TABLE', 'DROP SEQUENCE')
 EXECUTE FUNCTION incremental._drop_trigger();

/* After DROP EXTENSION: unschedule the pipeline jobs, drop the schema */
CREATE FUNCTION incremental._drop_extension_trigger()
 RETURNS event_trigger
 LANGUAGE plpgsql
 SET search_path = pg_catalog
 AS $function$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects()
               WHERE object_type = 'extension' AND object_identity = 'pg_incremental') THEN
        IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
            PERFORM cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE 'pipeline:%';
        END IF;
        DROP SCHEMA IF EXISTS incremental CASCADE;
    END IF;
END;
$function$;

CREATE EVENT TRIGGER incremental_drop_extension_trigger
 ON sql_drop
 WHEN TAG IN ('DROP EXTENSION')
 EXECUTE FUNCTION incremental._drop_extension_trigger();

ALTER EXTENSION pg_incremental DROP EVENT TRIGGER incremental_drop_extension_trigger;
ALTER EXTENSION pg_incremental DROP FUNCTION incremental._drop_extension_trigger();
ALTER EXTENSION pg_incremental DROP SCHEMA incremental;
