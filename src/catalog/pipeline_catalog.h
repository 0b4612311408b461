/*-------------------------------------------------------------------------
 *
 * pipeline_catalog.h
 *	  The only interface to the extension's tables in schema "incremental".
 *
 * Everything above this layer works with the structs below and never
 * builds catalog SQL itself.  Reads use the tables' primary key indexes
 * directly and see the latest committed state (plus this transaction's own
 * changes), so a caller that has just waited for a pipeline's lock reads
 * the progress the previous holder committed.  Writes run as the owner of
 * the catalog tables, since users may only read them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PIPELINE_CATALOG_H
#define INCREMENTAL_PIPELINE_CATALOG_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/timestamp.h"

/* pipelines.pipeline_type */
typedef enum PipelineType
{
	PIPELINE_TYPE_SEQUENCE = 's',
	PIPELINE_TYPE_TIME_INTERVAL = 't',
	PIPELINE_TYPE_FILE_LIST = 'f'
} PipelineType;

/* pipelines.scheduled_by: which scheduler runs the pipeline's schedule */
typedef enum PipelineScheduler
{
	PIPELINE_SCHEDULER_INTERNAL,	/* 'internal': our background workers */
	PIPELINE_SCHEDULER_PG_CRON	/* 'pg_cron': a cron job pipeline:<name> */
} PipelineScheduler;

/* A row of incremental.pipelines */
typedef struct Pipeline
{
	char	   *name;
	PipelineType type;
	Oid			ownerId;
	Oid			sourceRelationId;	/* InvalidOid when there is none */
	char	   *command;
	char	   *searchPath;		/* NULL: the command runs with the default */
	char	   *schedule;		/* NULL: runs only when executed by hand */
	bool		paused;
	PipelineScheduler scheduledBy;
	int64		cronJobId;		/* the pg_cron job that runs it, or 0 */
	TimestampTz createdAt;		/* tells a pipeline from a later one of the
								 * same name */
	int32		maxConsecutiveFailures; /* -1: incremental.max_consecutive_failures */
	char	   *pausedReason;	/* why the scheduler paused it, or NULL */
} Pipeline;

/* A row of incremental.sequence_pipelines */
typedef struct SequencePipelineState
{
	Oid			sequenceId;
	int64		lastProcessed;	/* highest value handed to the command */
	int64		maxBatchSize;	/* 0: no limit */
	int64		initialValue;	/* lastProcessed after creation or reset */
	char	   *timeZone;		/* the command's TimeZone; NULL: the session's */
} SequencePipelineState;

/*
 * A row of incremental.sequence_pipeline_node_groups: a sequence pipeline's
 * progress in one Citus node group other than the coordinator's
 */
typedef struct NodeGroupProgress
{
	int32		groupId;
	int64		lastProcessed;
	int64		minValue;		/* the first value the group's sequence can draw */
	int64		maxValue;		/* ...and the last */
	bool		hasLastSeen;	/* false: keep the stored lastSeen */
	int64		lastSeen;		/* the group's last value at the last run */
} NodeGroupProgress;

/* A row of incremental.time_interval_pipelines */
typedef struct TimeIntervalPipelineState
{
	Interval	timeInterval;
	bool		batched;
	Interval	minDelay;
	TimestampTz lastProcessedTime;	/* end of the last processed interval */
	TimestampTz startTime;		/* intervals are aligned to this */
	char	   *timeZone;		/* intervals are computed in this zone */
} TimeIntervalPipelineState;

/* A row of incremental.file_list_pipelines */
typedef struct FileListPipelineState
{
	char	   *filePattern;
	bool		batched;
	char	   *listFunction;	/* schema-qualified, resolved at creation */
	int32		maxBatchSize;
	int32		maxBatchesPerRun;	/* -1: no limit */
} FileListPipelineState;

/* How a pipeline stood before a run: what the run's failure carries on */
typedef struct PipelineStanding
{
	int32		consecutiveFailures;
	TimestampTz lastSuccess;	/* 0: none */
} PipelineStanding;

/*
 * What to write to a run's row in incremental.pipeline_runs: the figures
 * of the batches done since the run's last write, and how the run stands.
 */
typedef struct PipelineRunRecord
{
	const char *pipelineName;
	int64		runId;			/* the row the run wrote last; 0: none */
	PipelineStanding *standing; /* set when a row is inserted, used when
								 * the run's failure updates it */
	TimestampTz startedAt;
	TimestampTz endedAt;
	bool		succeeded;
	bool		byScheduler;
	int32		batches;		/* added by this write */
	int64		itemsProcessed;
	int64		rowsProcessed;
	double		execTimeMs;		/* time spent in those batches */
	const char *rangeStart;		/* of the first batch; NULL: nothing processed */
	const char *rangeEnd;		/* of the last batch; NULL: unchanged */
	const char *errorMessage;	/* failures only */
	const char *errorSqlstate;
	TimestampTz nextRetryAt;	/* 0: no retry planned */
} PipelineRunRecord;

/* What the newest row of incremental.pipeline_runs says about a pipeline */
typedef struct PipelineRunSummary
{
	TimestampTz lastRunStart;
	int32		consecutiveFailures;
	TimestampTz nextRetryAt;	/* 0: none */
} PipelineRunSummary;

/* pipelines */
extern Pipeline *ReadPipeline(const char *pipelineName, bool missingOk);
extern List *ReadAllPipelines(void);
extern void CheckPipelineSchedule(const char *schedule);
extern void InsertPipeline(const Pipeline *pipeline);
extern void SetPipelinePaused(const char *pipelineName, bool paused);
extern void PausePipelineWithReason(const char *pipelineName, const char *reason);
extern void UpdatePipelineMaxConsecutiveFailures(const char *pipelineName, int32 limit);
extern void SetPipelineOwner(const char *pipelineName, Oid ownerId);
extern void DeletePipeline(const char *pipelineName);
extern void RenamePipeline(const char *pipelineName, const char *newName);
extern void UpdatePipelineDefinition(const char *pipelineName, const char *command,
									 bool changeSchedule, const char *schedule);
extern void UpdatePipelineScheduler(const char *pipelineName, PipelineScheduler scheduler,
									const char *schedule, bool paused, int64 cronJobId);

/* sequence_pipelines */
extern SequencePipelineState *ReadSequencePipelineState(const char *pipelineName);
extern SequencePipelineState *TryReadSequencePipelineState(const char *pipelineName);
extern void InsertSequencePipelineState(const char *pipelineName,
										const SequencePipelineState *state);
extern void UpdateLastProcessedSequenceNumber(const char *pipelineName,
											  int64 lastProcessed);
extern void UpdateSequenceMaxBatchSize(const char *pipelineName, int64 maxBatchSize);
extern List *ReadNodeGroupProgress(const char *pipelineName);
extern void WriteNodeGroupProgress(const char *pipelineName, const NodeGroupProgress *group);
extern void ForgetNodeGroupProgress(const char *pipelineName, int32 groupId);

/* time_interval_pipelines */
extern TimeIntervalPipelineState *ReadTimeIntervalPipelineState(const char *pipelineName);
extern void InsertTimeIntervalPipelineState(const char *pipelineName,
											const TimeIntervalPipelineState *state);
extern void UpdateLastProcessedTime(const char *pipelineName,
									TimestampTz lastProcessedTime);
extern void UpdateTimeIntervalMinDelay(const char *pipelineName, const Interval *minDelay);

/* file_list_pipelines and processed_files */
extern FileListPipelineState *ReadFileListPipelineState(const char *pipelineName);
extern void InsertFileListPipelineState(const char *pipelineName,
										const FileListPipelineState *state);
extern void UpdateFileListMaxBatchSize(const char *pipelineName, int32 maxBatchSize);
extern int	KeepUnprocessedFiles(const char *pipelineName, char **paths, int count);
extern void InsertProcessedFiles(const char *pipelineName, List *paths);
extern void DeleteProcessedFiles(const char *pipelineName);

/* pipeline_runs */
extern int64 WritePipelineRun(const PipelineRunRecord *record);
extern bool ReadPipelineRunSummary(const char *pipelineName, PipelineRunSummary *summary);
extern void ResetPipelineStats(const char *pipelineName);
extern void WriteSkippedRange(const char *pipelineName, int64 items, const char *rangeStart,
							  const char *rangeEnd, const char *skippedBy);
extern uint64 TrimPipelineRuns(int64 retentionSeconds, int32 maxRunsPerPipeline);

#endif							/* INCREMENTAL_PIPELINE_CATALOG_H */
