/*-------------------------------------------------------------------------
 *
 * pipeline_api.c
 *	  The SQL-callable functions common to all pipeline kinds: execute,
 *	  reset, drop, pause, resume and reset_stats.
 *
 * No function here is STRICT: a NULL argument gets an error that names
 * it, instead of silently doing nothing.  Every function that changes a
 * pipeline first takes the pipeline's lock, so it waits for a run in
 * progress rather than racing it.
 *
 * Pausing only keeps the scheduler from starting the pipeline: its
 * progress stays where it is, so after resume the next run processes
 * everything that arrived meanwhile, and nothing is lost.  Once
 * pause_pipeline has returned, no batch of the pipeline is running (it
 * waited for the lock), and the scheduler skips the pipeline from the
 * commit on.  A paused pipeline can still be run by hand.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "catalog/continuous_view_catalog.h"
#include "catalog/pipeline_catalog.h"
#include "catalog/stream_catalog.h"
#include "common/relation_name.h"
#include "pipelines/pipeline_access.h"
#include "pipelines/pipeline_chain.h"
#include "pipelines/pipeline_hooks.h"
#include "pipelines/pipeline_kinds.h"
#include "pipelines/pipeline_lock.h"
#include "pipelines/pipeline_run.h"
#include "pipelines/sequence.h"

PG_FUNCTION_INFO_V1(incremental_execute_pipeline);
PG_FUNCTION_INFO_V1(incremental_reset_pipeline);
PG_FUNCTION_INFO_V1(incremental_drop_pipeline);
PG_FUNCTION_INFO_V1(incremental_reset_stats);
PG_FUNCTION_INFO_V1(incremental_pause_pipeline);
PG_FUNCTION_INFO_V1(incremental_resume_pipeline);
PG_FUNCTION_INFO_V1(incremental_skip_range);

static void SetPausedFromSql(FunctionCallInfo fcinfo, bool paused);
static void RefuseForContinuousView(const char *pipelineName, const char *action,
									const char *hintFormat) pg_attribute_printf(3, 0);


/*
 * incremental.execute_pipeline(pipeline_name text, progress boolean)
 * processes everything new.  Called outside a transaction block, it commits
 * after each batch; with progress, it says how far it got every few seconds.
 */
Datum
incremental_execute_pipeline(PG_FUNCTION_ARGS)
{
	char	   *pipelineName = GetTextArgument(fcinfo, 0, "pipeline_name");
	bool		allowCommit = CallMayCommit(fcinfo);

	/* (the 2.2 procedure has no progress argument) */
	bool		reportProgress = PG_NARGS() > 1 && !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);

	ExecutePipelineToCompletion(pipelineName, allowCommit, reportProgress);

	PG_RETURN_VOID();
}


/*
 * incremental.reset_pipeline(pipeline_name text, execute_immediately bool)
 * forgets a pipeline's progress, so that everything is processed again.
 */
Datum
incremental_reset_pipeline(PG_FUNCTION_ARGS)
{
	char	   *pipelineName = GetTextArgument(fcinfo, 0, "pipeline_name");
	bool		executeImmediately;
	Pipeline   *pipeline;

	CheckArgumentNotNull(fcinfo, 1, "execute_immediately");
	executeImmediately = PG_GETARG_BOOL(1);

	pipeline = LockAndReadPipeline(pipelineName, PIPELINE_ACTION_RESET);

	/* (a view's maintenance pipeline may start over: it only expires) */
	if (pipeline->type == PIPELINE_TYPE_SEQUENCE)
		RefuseForContinuousView(pipelineName, "reset",
							"SELECT incremental.rebuild_continuous_view('%s'); recomputes "
							"the view from its source.");
	ResetPipelineProgress(pipeline);

	if (executeImmediately)
		ExecutePipelineToCompletion(pipelineName, false, false);

	PG_RETURN_VOID();
}


/*
 * ResetPipelineProgress forgets the progress of a pipeline the caller has
 * locked with LockAndReadPipeline(..., PIPELINE_ACTION_RESET).
 */
void
ResetPipelineProgress(const Pipeline *pipeline)
{
	switch (pipeline->type)
	{
		case PIPELINE_TYPE_SEQUENCE:
			ResetSequencePipeline(pipeline);
			break;
		case PIPELINE_TYPE_TIME_INTERVAL:
			ResetTimeIntervalPipeline(pipeline);
			break;
		case PIPELINE_TYPE_FILE_LIST:
			ResetFileListPipeline(pipeline);
			break;
	}

	FirePipelineEvent(PIPELINE_EVENT_RESET, pipeline);
}


/*
 * A continuous view's pipelines are changed through the view: dropping one
 * would leave the view frozen, resetting one would count every row twice.
 */
static void
RefuseForContinuousView(const char *pipelineName, const char *action, const char *hintFormat)
{
	Oid			viewId = ContinuousViewOfPipeline(pipelineName);

	if (OidIsValid(viewId))
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot %s pipeline \"%s\": it keeps continuous view %s up to date",
						action, pipelineName, QualifiedRelationName(viewId)),
				 errhint(hintFormat, QualifiedRelationName(viewId))));
}


/*
 * A table's retention is kept by its maintenance pipeline, which goes with
 * the retention.
 */
static void
RefuseForStream(const char *pipelineName)
{
	Oid			relationId = StreamOfPipeline(pipelineName);
	StreamDefinition *definition;

	if (!OidIsValid(relationId))
		return;
	definition = ReadStreamDefinition(relationId);
	if (definition != NULL && definition->partitionSize > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop pipeline \"%s\": it creates the partitions of stream %s",
						pipelineName, QualifiedRelationName(relationId)),
				 errhint("It goes with the stream: DROP TABLE %s;",
						 QualifiedRelationName(relationId))));
	ereport(ERROR,
			(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
			 errmsg("cannot drop pipeline \"%s\": it keeps the retention of table %s",
					pipelineName, QualifiedRelationName(relationId)),
			 errhint("Remove the retention instead: SELECT incremental.set_retention(%s, NULL);",
					 quote_literal_cstr(QualifiedRelationName(relationId)))));
}


/* incremental.drop_pipeline(pipeline_name text) */
Datum
incremental_drop_pipeline(PG_FUNCTION_ARGS)
{
	char	   *pipelineName = GetTextArgument(fcinfo, 0, "pipeline_name");
	Pipeline   *pipeline = LockAndReadPipeline(pipelineName, PIPELINE_ACTION_DROP);

	RefuseForContinuousView(pipelineName, "drop", "Drop the view instead: DROP VIEW %s;");
	RefuseForStream(pipelineName);
	RefuseToDropParent(pipelineName);

	DeletePipeline(pipelineName);
	FirePipelineEvent(PIPELINE_EVENT_DROPPED, pipeline);

	PG_RETURN_VOID();
}


/*
 * incremental.reset_stats(pipeline_name text) zeroes the counters of a
 * pipeline, or with NULL of every pipeline the caller may manage.  Each
 * pipeline's lock is taken so that a run in progress cannot write counters
 * computed from before the reset.
 */
Datum
incremental_reset_stats(PG_FUNCTION_ARGS)
{
	List	   *pipelines;
	ListCell   *pipelineCell;

	if (!PG_ARGISNULL(0))
	{
		char	   *pipelineName = text_to_cstring(PG_GETARG_TEXT_PP(0));

		(void) LockAndReadPipeline(pipelineName, PIPELINE_ACTION_RESET_STATS);
		ResetPipelineStats(pipelineName);
		PG_RETURN_VOID();
	}

	pipelines = ReadAllPipelines();
	foreach(pipelineCell, pipelines)
	{
		Pipeline   *pipeline = lfirst(pipelineCell);

		if (!has_privs_of_role(GetUserId(), pipeline->ownerId))
			continue;

		(void) LockPipeline(pipeline->name, false);
		ResetPipelineStats(pipeline->name);
	}

	PG_RETURN_VOID();
}


/* incremental.pause_pipeline(pipeline_name text) */
Datum
incremental_pause_pipeline(PG_FUNCTION_ARGS)
{
	SetPausedFromSql(fcinfo, true);
	PG_RETURN_VOID();
}


/* incremental.resume_pipeline(pipeline_name text) */
Datum
incremental_resume_pipeline(PG_FUNCTION_ARGS)
{
	SetPausedFromSql(fcinfo, false);
	PG_RETURN_VOID();
}


/*
 * SetPausedFromSql checks the argument and the caller's rights and sets
 * the flag.  The update wakes the scheduler at commit (the
 * pipelines_changed trigger), so a resumed pipeline catches up at once.
 */
static void
SetPausedFromSql(FunctionCallInfo fcinfo, bool paused)
{
	char	   *pipelineName = GetTextArgument(fcinfo, 0, "pipeline_name");
	Pipeline   *pipeline = LockAndReadPipeline(pipelineName,
											   paused ? PIPELINE_ACTION_PAUSE :
											   PIPELINE_ACTION_RESUME);

	if (pipeline->paused != paused)
		SetPipelinePaused(pipelineName, paused);
}


/*
 * PauseAfterConsecutiveFailures: the scheduler's answer to a poison batch,
 * a range that fails at every retry.  Pausing keeps everything (nothing is
 * skipped); the reason shows as the paused state's detail in
 * incremental.pipeline_stats, until resume_pipeline.
 */
bool
PauseAfterConsecutiveFailures(const char *pipelineName, TimestampTz createdAt, int32 failures,
							  int32 defaultLimit)
{
	Pipeline   *pipeline = ReadPipeline(pipelineName, true);
	int32		limit;

	if (pipeline == NULL || pipeline->createdAt != createdAt || pipeline->paused)
		return false;
	limit = pipeline->maxConsecutiveFailures >= 0 ? pipeline->maxConsecutiveFailures : defaultLimit;
	if (limit <= 0 || failures < limit)
		return false;

	PausePipelineWithReason(pipelineName,
							psprintf("paused by the scheduler after %d failed runs in a row "
									 "(max_consecutive_failures %d); resume it with "
									 "incremental.resume_pipeline once the cause is fixed",
									 failures, limit));
	ereport(LOG,
			(errmsg("pipeline \"%s\" paused after %d failed runs in a row", pipelineName,
					failures),
			 errdetail("Its max_consecutive_failures is %d.", limit),
			 errhint("Fix the cause of the failures (see incremental.pipeline_stats), then run "
					 "SELECT incremental.resume_pipeline('%s');", pipelineName)));
	return true;
}


/*
 * incremental.skip_range(pipeline_name, range_start, range_end) moves a
 * sequence or time interval pipeline's progress past a range it has not
 * processed, a poison batch say, and records the skip and who made it in
 * the run history.  The range must start where the next batch would.
 */
Datum
incremental_skip_range(PG_FUNCTION_ARGS)
{
	char	   *pipelineName = GetTextArgument(fcinfo, 0, "pipeline_name");
	char	   *first = GetTextArgument(fcinfo, 1, "range_start");
	char	   *last = GetTextArgument(fcinfo, 2, "range_end");
	Pipeline   *pipeline = LockAndReadPipeline(pipelineName, PIPELINE_ACTION_SKIP_RANGE);
	int64		items = 0;

	switch (pipeline->type)
	{
		case PIPELINE_TYPE_SEQUENCE:
			items = SkipSequenceRange(pipeline, first, last);
			break;
		case PIPELINE_TYPE_TIME_INTERVAL:
			items = SkipTimeIntervalRange(pipeline, first, last);
			break;
		case PIPELINE_TYPE_FILE_LIST:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("pipeline \"%s\" processes files, not ranges", pipelineName),
					 errhint("Skip a file with incremental.skip_file.")));
	}

	WriteSkippedRange(pipelineName, items, first, last, GetUserNameFromId(GetUserId(), false));
	ereport(NOTICE,
			(errmsg("pipeline \"%s\": skipped " INT64_FORMAT " %s from %s to %s", pipelineName,
					items, pipeline->type == PIPELINE_TYPE_SEQUENCE ? "values" : "intervals",
					first, last)));
	PG_RETURN_VOID();
}
