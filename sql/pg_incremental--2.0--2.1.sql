/*
 * pg_incremental 2.0 to 2.1.
 *
 * CREATE EXTENSION pg_incremental installs 2.1 by running the 2.0 install
 * script and then this one, so a fresh catalog and an updated one are the
 * same by construction.  Columns are only ever appended (src/catalog/
 * reads them by attribute number).
 */

\echo Use "ALTER EXTENSION pg_incremental UPDATE" to load this file. \quit

/*
 * Pipelines without a source store 0, as pg_incremental 1.3 does, rather
 * than NULL: code written against 1.3's catalog tests source_relation = 0.
 */
UPDATE incremental.pipelines SET source_relation = 0 WHERE source_relation IS NULL;
ALTER TABLE incremental.pipelines
    ALTER COLUMN source_relation SET DEFAULT 0,
    ALTER COLUMN source_relation SET NOT NULL;

/*
 * 1.3's positional form with an untyped fifth argument,
 * create_sequence_pipeline('p', 't', 'cmd', NULL, 'false'): an unknown
 * literal (or a driver's untyped parameter) prefers a text parameter, so
 * this overload takes it as 1.3 did, as execute_immediately.  A typed
 * boolean still reaches the boolean overload, a number the 1.4 form.
 */
CREATE FUNCTION incremental.create_sequence_pipeline(text, regclass, text, text, text)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_create_sequence_pipeline_v13_untyped';
COMMENT ON FUNCTION incremental.create_sequence_pipeline(text, regclass, text, text, text)
 IS 'pg_incremental 1.3 positional form with an untyped execute_immediately';

/*
 * A file list pipeline records its list function when it is created, as
 * 1.3 does; 2.0 stored NULL for "the session's default at every run",
 * which let whoever controlled the session's settings choose the code the
 * pipeline's owner ran.  Such pipelines get the default in force now.
 */
UPDATE incremental.file_list_pipelines
SET list_function = COALESCE(pg_catalog.current_setting('incremental.default_file_list_function', true),
                             'incremental.list_local_files')
WHERE list_function IS NULL;
ALTER TABLE incremental.file_list_pipelines ALTER COLUMN list_function SET NOT NULL;

/*
 * The pg_cron job of a pipeline that pg_cron runs is known by its ID, which
 * no other role can imitate; 2.0 found jobs by name or command, and so
 * could remove another role's job.  For pipelines already in pg_cron, the
 * ID is that of the job the pipeline's owner scheduled with the
 * pipeline's command.
 */
ALTER TABLE incremental.pipelines ADD COLUMN cron_job_id bigint;

DO $record_cron_jobs$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RETURN;
    END IF;

    EXECUTE $sql$
        UPDATE incremental.pipelines p
        SET cron_job_id = (
            SELECT j.jobid FROM cron.job j
            WHERE j.database OPERATOR(pg_catalog.=) pg_catalog.current_database()
              AND j.username OPERATOR(pg_catalog.=)
                  (SELECT r.rolname FROM pg_catalog.pg_roles r WHERE r.oid = p.owner_id)
              AND (j.command OPERATOR(pg_catalog.=)
                   pg_catalog.format('call incremental.execute_pipeline(%L)', p.pipeline_name)
                   OR j.jobname OPERATOR(pg_catalog.=)
                      ('pipeline:' OPERATOR(pg_catalog.||) p.pipeline_name)::pg_catalog.name)
            ORDER BY j.command OPERATOR(pg_catalog.=)
                     pg_catalog.format('call incremental.execute_pipeline(%L)', p.pipeline_name) DESC,
                     j.jobid
            LIMIT 1)
        WHERE p.scheduled_by OPERATOR(pg_catalog.=) 'pg_cron' $sql$;
END;
$record_cron_jobs$;
