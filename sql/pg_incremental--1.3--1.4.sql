/*
 * pg_incremental 1.3 to 1.4, as the original made it: sequence pipelines
 * get max_batch_size, an argument placed before execute_immediately.
 * Only a step on the way to 2.0; see pg_incremental--1.3.sql.
 */

\echo Use "ALTER EXTENSION pg_incremental UPDATE TO '1.4'" to load this file. \quit

ALTER TABLE incremental.sequence_pipelines ADD COLUMN max_batch_size bigint;

DROP FUNCTION incremental.create_sequence_pipeline(text, regclass, text, text, boolean);

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
