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
