/*-------------------------------------------------------------------------
 *
 * catalog_tables.h
 *	  Names, primary keys and column numbers of the extension's tables.
 *
 * Private to src/catalog/.  The column numbers mirror the CREATE TABLE
 * statements in sql/pg_incremental--2.0.sql and the ALTER TABLE ... ADD
 * COLUMN of the updates after it (--2.0--2.1, ...): columns are only ever
 * appended, so they stay valid across upgrades.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CATALOG_TABLES_H
#define INCREMENTAL_CATALOG_TABLES_H

#define INCREMENTAL_SCHEMA "incremental"

/*
 * The tables this layer reads directly: by primary key, except pipeline_runs
 * (by its pipeline_name, run_id index)
 */
typedef enum CatalogTable
{
	CATALOG_PIPELINES,
	CATALOG_SEQUENCE_PIPELINES,
	CATALOG_TIME_INTERVAL_PIPELINES,
	CATALOG_FILE_LIST_PIPELINES,
	CATALOG_PROCESSED_FILES,
	CATALOG_PIPELINE_RUNS,
	CATALOG_STREAM_DEFINITIONS,
	CATALOG_PIPELINE_DEPENDENCIES,
	CATALOG_TABLE_COUNT
} CatalogTable;

/* incremental.pipelines */
#define Natts_pipelines							13
#define Anum_pipelines_pipeline_name			1
#define Anum_pipelines_pipeline_type			2
#define Anum_pipelines_owner_id					3
#define Anum_pipelines_source_relation			4
#define Anum_pipelines_command					5
#define Anum_pipelines_search_path				6
#define Anum_pipelines_schedule					7
#define Anum_pipelines_paused					8
#define Anum_pipelines_created_at				9
#define Anum_pipelines_scheduled_by				10
#define Anum_pipelines_cron_job_id				11
#define Anum_pipelines_max_consecutive_failures	12
#define Anum_pipelines_paused_reason			13

/* incremental.sequence_pipelines */
#define Natts_sequence_pipelines				6
#define Anum_sequence_pipelines_pipeline_name	1
#define Anum_sequence_pipelines_sequence_name	2
#define Anum_sequence_pipelines_last_processed	3
#define Anum_sequence_pipelines_max_batch_size	4
#define Anum_sequence_pipelines_initial_value	5
#define Anum_sequence_pipelines_time_zone		6

/* incremental.time_interval_pipelines */
#define Natts_time_interval_pipelines			7
#define Anum_time_interval_pipelines_pipeline_name	1
#define Anum_time_interval_pipelines_time_interval	2
#define Anum_time_interval_pipelines_batched	3
#define Anum_time_interval_pipelines_min_delay	4
#define Anum_time_interval_pipelines_last_processed_time 5
#define Anum_time_interval_pipelines_start_time 6
#define Anum_time_interval_pipelines_time_zone	7

/* incremental.file_list_pipelines */
#define Natts_file_list_pipelines				6
#define Anum_file_list_pipelines_pipeline_name	1
#define Anum_file_list_pipelines_file_pattern	2
#define Anum_file_list_pipelines_batched		3
#define Anum_file_list_pipelines_list_function	4
#define Anum_file_list_pipelines_max_batch_size 5
#define Anum_file_list_pipelines_max_batches_per_run 6

/* incremental.pipeline_dependencies */
#define Natts_pipeline_dependencies				2
#define Anum_pipeline_dependencies_pipeline_name 1
#define Anum_pipeline_dependencies_depends_on	2

/* incremental.stream_definitions */
#define Natts_stream_definitions				9
#define Anum_stream_definitions_stream			1
#define Anum_stream_definitions_id_column		2
#define Anum_stream_definitions_drop_consumed	3
#define Anum_stream_definitions_keep			4
#define Anum_stream_definitions_partition_size	5
#define Anum_stream_definitions_partitions_ahead 6
#define Anum_stream_definitions_maintenance_pipeline 7
#define Anum_stream_definitions_deleted_through 8
#define Anum_stream_definitions_created_at		9

/* incremental.processed_files */
#define Natts_processed_files					2
#define Anum_processed_files_pipeline_name		1
#define Anum_processed_files_path				2

/* incremental.pipeline_runs, read through its (pipeline_name, run_id) index */
#define PIPELINE_RUNS_NAME_INDEX				"pipeline_runs_pipeline_name_run_id_idx"
#define Natts_pipeline_runs						24
#define Anum_pipeline_runs_run_id				1
#define Anum_pipeline_runs_pipeline_name		2
#define Anum_pipeline_runs_batches				7
#define Anum_pipeline_runs_items_processed		8
#define Anum_pipeline_runs_rows_processed		9
#define Anum_pipeline_runs_range_end			11
#define Anum_pipeline_runs_total_runs			15
#define Anum_pipeline_runs_total_failures		16
#define Anum_pipeline_runs_consecutive_failures 17
#define Anum_pipeline_runs_total_items			18
#define Anum_pipeline_runs_total_exec_time		19
#define Anum_pipeline_runs_last_success			20
#define Anum_pipeline_runs_last_error_message	21
#define Anum_pipeline_runs_last_error_sqlstate	22
#define Anum_pipeline_runs_stats_reset			23
#define Anum_pipeline_runs_skipped_by			24

#endif							/* INCREMENTAL_CATALOG_TABLES_H */
