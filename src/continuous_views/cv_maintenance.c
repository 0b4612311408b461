/*-------------------------------------------------------------------------
 *
 * cv_maintenance.c
 *	  The options that need more than batches: ttl, sliding windows'
 *	  expiry, and partition_by/partition_duration; and the pipeline that
 *	  does their work.
 *
 * A view with a TTL hides expired groups at read time (its query reads the
 * TTL from the catalog), so the TTL holds whatever the maintenance does;
 * the maintenance pipeline then deletes them, in bounded batches, or drops
 * whole partitions of partitioned storage.  Partitions are created ahead
 * of the batches that will write them; a DEFAULT partition takes whatever
 * arrives first (NULL keys, old rows of the first backfill), and the
 * maintenance moves such rows into their partitions.  The work itself is
 * incremental._maintain_continuous_view() (sql/pg_incremental--2.1--2.2.sql),
 * which reads the view's definition at every run, so that set_ttl takes
 * effect at the next one.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "continuous_views/cv_maintenance.h"
#include "pipelines/time_interval.h"

static CVGroupKey *FindTimeKey(ContinuousViewDefinition *definition, const char *name,
							   const char *optionName, const char *purpose);
static void CheckPositiveInterval(Interval *interval, const char *optionName,
								  bool allowMonths, const char *hint);


void
PlanMaintenance(ContinuousViewDefinition *definition, ContinuousViewOptions *options,
				const char *pipelineName, CVMaintenance *maintenance)
{
	memset(maintenance, 0, sizeof(CVMaintenance));

	if (definition->slidingWindow != NULL)
	{
		if (options->ttl != NULL || options->ttlColumn != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a continuous view with a sliding window cannot have a ttl"),
					 errdetail("Its steps expire as they leave the window.")));
		if (options->partitionBy != NULL || options->partitionDuration != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a continuous view with a sliding window cannot be partitioned"),
					 errdetail("Its storage holds only the steps of one window.")));
		if (definition->hasExactDistinct)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a sliding window cannot keep exact distinct counts"),
					 errdetail("The window combines the counts of its steps, and exact counts of "
							   "distinct values do not add up across steps; HyperLogLog sketches "
							   "do."),
					 errhint("Pass distinct => 'hll' (CREATE EXTENSION hll first).")));

		/* steps are deleted one step after they left the window */
		maintenance->windowKey = llast(definition->groupKeys);
	}

	if (options->ttl != NULL || options->ttlColumn != NULL)
	{
		if (options->ttl != NULL)
			CheckTtl(options->ttl);
		maintenance->ttlKey = FindTimeKey(definition, options->ttlColumn, "ttl_column",
										  "a continuous view with a ttl");
		maintenance->ttlSource =
			psprintf("(SELECT d.ttl FROM incremental.continuous_view_definitions d "
					 "WHERE d.pipeline_name OPERATOR(pg_catalog.=) %s)",
					 quote_literal_cstr(pipelineName));
	}

	if (options->partitionBy != NULL || options->partitionDuration != NULL)
	{
		Oid			keyType;

		if (options->partitionDuration == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("partition_by needs partition_duration"),
					 errhint("Say how much time one partition holds, such as '1 day'.")));
		CheckPositiveInterval(options->partitionDuration, "partition_duration", false,
							  "Use an interval such as '1 day' or '1 hour'.");
		maintenance->partitionKey = FindTimeKey(definition, options->partitionBy,
												"partition_by", "partitioned storage");
		keyType = exprType((Node *) maintenance->partitionKey->expr);
		if (keyType == DATEOID &&
			(options->partitionDuration->time != 0 || options->partitionDuration->day == 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("partitions of a date key must hold whole days")));
	}

	if (maintenance->ttlKey != NULL || maintenance->windowKey != NULL ||
		maintenance->partitionKey != NULL)
		maintenance->pipelineName = psprintf("%s:maintenance", pipelineName);
}


/* A TTL must be longer than zero, at creation as in set_ttl */
void
CheckTtl(Interval *ttl)
{
	CheckPositiveInterval(ttl, "ttl", true, "Pass NULL to keep groups forever.");
}


/*
 * CreateMaintenancePipeline: a time interval pipeline of the view's owner
 * that runs every minute, without waiting for the source's writers.
 */
void
CreateMaintenancePipeline(const char *maintenancePipelineName, const char *viewPipelineName)
{
	TimeIntervalPipelineState state = {0};

	state.timeInterval.time = USECS_PER_MINUTE;
	state.batched = true;
	CreateTimeIntervalPipeline(maintenancePipelineName, &state, false, InvalidOid,
							   psprintf("SELECT incremental._maintain_continuous_view(%s, $2)",
										quote_literal_cstr(viewPipelineName)),
							   "1 minute", false);
}


/*
 * The group key of a date or time type that an option applies to: the one
 * named, or the only one there is.
 */
static CVGroupKey *
FindTimeKey(ContinuousViewDefinition *definition, const char *name, const char *optionName,
			const char *purpose)
{
	CVGroupKey *found = NULL;
	int			candidates = 0;
	ListCell   *cell;

	foreach(cell, definition->groupKeys)
	{
		CVGroupKey *key = lfirst(cell);
		Oid			typeId = exprType((Node *) key->expr);
		bool		isTime = typeId == DATEOID || typeId == TIMESTAMPOID ||
			typeId == TIMESTAMPTZOID;

		if (key->isWindowStep)
			continue;
		if (name != NULL)
		{
			if (strcmp(key->columnName, name) != 0)
				continue;
			if (!isTime)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("%s \"%s\" is of type %s", optionName, name,
								format_type_be(typeId)),
						 errhint("The %s must be a group key of type date, timestamp or "
								 "timestamptz.", optionName)));
			return key;
		}
		if (isTime)
		{
			found = key;
			candidates++;
		}
	}

	if (name != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s \"%s\" is not a group key of the view", optionName, name),
				 errhint("Name one of the GROUP BY columns, as the view names it.")));
	if (candidates != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 candidates == 0 ?
				 errmsg("%s needs a group key of type date, timestamp or timestamptz",
						purpose) :
				 errmsg("the continuous view has %d time keys", candidates),
				 errhint(candidates == 0 ?
						 "GROUP BY a time bucket, such as date_trunc('day', t, 'UTC')." :
						 "Say which one with %s.", optionName)));
	return found;
}


static void
CheckPositiveInterval(Interval *interval, const char *optionName, bool allowMonths,
					  const char *hint)
{
	if (DatumGetBool(DirectFunctionCall2(interval_le, IntervalPGetDatum(interval),
										 IntervalPGetDatum(palloc0(sizeof(Interval))))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be longer than zero", optionName),
				 errhint("%s", hint)));
	if (!allowMonths && interval->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be given in days or less", optionName),
				 errhint("%s", hint)));
}
