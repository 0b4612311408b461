/*-------------------------------------------------------------------------
 *
 * time_interval_api.c
 *	  incremental.create_time_interval_pipeline().
 *
 * The pipeline's time zone is the creating session's, and its intervals
 * are aligned to start_time (2000-01-01 in that zone when batched and not
 * given); see time_interval.c for how intervals are computed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "catalog/pipeline_catalog.h"
#include "pipelines/pipeline_access.h"
#include "pipelines/pipeline_chain.h"
#include "pipelines/pipeline_create.h"
#include "pipelines/time_interval.h"

PG_FUNCTION_INFO_V1(incremental_create_time_interval_pipeline);

static void CheckIntervalNotNegative(const Interval *interval, const char *argumentName);
static void CheckSourceTable(Oid relationId);


/*
 * incremental.create_time_interval_pipeline(pipeline_name, time_interval,
 *		command, batched, start_time, source_table_name, schedule, min_delay,
 *		execute_immediately)
 */
Datum
incremental_create_time_interval_pipeline(PG_FUNCTION_ARGS)
{
	char	   *pipelineName = GetTextArgument(fcinfo, 0, "pipeline_name");
	char	   *command;
	char	   *schedule = NULL;
	Oid			sourceRelationId = InvalidOid;
	bool		executeImmediately;
	bool		hasStartTime = false;
	TimeIntervalPipelineState state = {0};

	CheckArgumentNotNull(fcinfo, 1, "time_interval");
	state.timeInterval = *PG_GETARG_INTERVAL_P(1);
	command = GetTextArgument(fcinfo, 2, "command");
	CheckArgumentNotNull(fcinfo, 3, "batched");
	state.batched = PG_GETARG_BOOL(3);
	if (!PG_ARGISNULL(5))
		sourceRelationId = PG_GETARG_OID(5);
	if (!PG_ARGISNULL(6))
		schedule = text_to_cstring(PG_GETARG_TEXT_PP(6));
	CheckArgumentNotNull(fcinfo, 7, "min_delay");
	state.minDelay = *PG_GETARG_INTERVAL_P(7);
	CheckArgumentNotNull(fcinfo, 8, "execute_immediately");
	executeImmediately = PG_GETARG_BOOL(8);

	if (!PG_ARGISNULL(4))
	{
		state.startTime = PG_GETARG_TIMESTAMPTZ(4);
		if (TIMESTAMP_NOT_FINITE(state.startTime))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("start_time must be a finite time")));
		hasStartTime = true;
	}

	CreateTimeIntervalPipeline(pipelineName, &state, hasStartTime, sourceRelationId, command,
							   schedule, executeImmediately);
	SetDependsOnArgument(fcinfo, 9, pipelineName);

	PG_RETURN_VOID();
}

/*
 * CreateTimeIntervalPipeline creates a time interval pipeline from its
 * interval, batched and minimum delay in 'given', and its start time when
 * hasStartTime.  Layers above the pipelines (continuous views) create their
 * pipelines through this function.
 */
void
CreateTimeIntervalPipeline(const char *pipelineName, const TimeIntervalPipelineState *given,
						   bool hasStartTime, Oid sourceRelationId, const char *command,
						   const char *schedule, bool executeImmediately)
{
	Oid			argtypes[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
	TimeIntervalPipelineState state = *given;
	Pipeline   *pipeline;

	CheckIntervalNotNegative(&state.timeInterval, "time_interval");
	if (state.timeInterval.month == 0 && state.timeInterval.day == 0 &&
		state.timeInterval.time == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time_interval must be longer than zero"),
				 errhint("Use an interval such as '1 hour', '1 day' or '1 month'.")));
	CheckIntervalNotNegative(&state.minDelay, "min_delay");

	if (OidIsValid(sourceRelationId))
		CheckSourceTable(sourceRelationId);

	state.timeZone = pstrdup(pg_get_timezone_name(session_timezone));

	if (!hasStartTime && !state.batched)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("start_time is required when batched is false"),
				 errdetail("Without it, every interval since 2000-01-01 would be processed "
						   "one at a time."),
				 errhint("Pass the start of the first interval to process.")));
	else if (!hasStartTime)
	{
		/* 2000-01-01 00:00 in the pipeline's time zone */
		state.startTime = DatumGetTimestampTz(DirectFunctionCall1(timestamp_timestamptz,
																  TimestampGetDatum(0)));
	}
	state.lastProcessedTime = state.startTime;

	pipeline = BeginPipelineCreation(pipelineName, PIPELINE_TYPE_TIME_INTERVAL,
									 sourceRelationId, command, schedule,
									 lengthof(argtypes), argtypes);
	InsertTimeIntervalPipelineState(pipelineName, &state);
	FinishPipelineCreation(pipeline, executeImmediately);
}



static void
CheckIntervalNotNegative(const Interval *interval, const char *argumentName)
{
	if (interval->month < 0 || interval->day < 0 || interval->time < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s cannot be negative", argumentName),
				 errdetail("No part of the interval (months, days, time) may be negative.")));
}


/* The source of a time interval pipeline is only used to wait for writers */
static void
CheckSourceTable(Oid relationId)
{
	char		relationKind = get_rel_relkind(relationId);

	if (relationKind != RELKIND_RELATION && relationKind != RELKIND_PARTITIONED_TABLE &&
		relationKind != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relationId)),
				 errhint("source_table_name names the table whose writers the pipeline "
						 "waits for before processing an interval.")));

	CheckOwnerMayReadSource(relationId, GetUserId());
}
