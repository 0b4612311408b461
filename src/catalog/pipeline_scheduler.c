/*-------------------------------------------------------------------------
 *
 * pipeline_scheduler.c
 *	  Where a pipeline's schedule lives: incremental.pipelines.scheduled_by.
 *
 * 'internal' pipelines are run by the extension's own workers; 'pg_cron'
 * pipelines by a pg_cron job named pipeline:<name>, whose ID cron_job_id
 * records, which the scheduler layer (src/scheduler/pg_cron_mode.c)
 * creates and removes.  The column
 * is what keeps a pipeline from being scheduled in both places: the
 * workers skip every pipeline that is not 'internal'.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#include "catalog/catalog_access.h"
#include "catalog/pipeline_scheduler.h"

static CatalogStatement UpdateSchedulerStatement = {
	.sql = "UPDATE incremental.pipelines "
	"SET scheduled_by = $2, schedule = $3, paused = $4, cron_job_id = $5 "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1",
	.nargs = 5,
	.argtypes = {TEXTOID, TEXTOID, TEXTOID, BOOLOID, INT8OID},
};


/* The column's text as the enum; the CHECK constraint allows only these */
PipelineScheduler
PipelineSchedulerFromText(Datum scheduledBy)
{
	char	   *value = TextDatumGetCString(scheduledBy);

	if (strcmp(value, "pg_cron") == 0)
		return PIPELINE_SCHEDULER_PG_CRON;
	return PIPELINE_SCHEDULER_INTERNAL;
}


/*
 * UpdatePipelineScheduler records which scheduler runs an existing
 * pipeline, with the schedule and paused flag it has there and, for
 * pg_cron, the ID of its job (0: none): the job is only ever found by that
 * ID, which no other role can imitate.
 */
void
UpdatePipelineScheduler(const char *pipelineName, PipelineScheduler scheduler,
						const char *schedule, bool paused, int64 cronJobId)
{
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	values[0] = CStringGetTextDatum(pipelineName);
	values[1] = CStringGetTextDatum(scheduler == PIPELINE_SCHEDULER_PG_CRON ?
									"pg_cron" : "internal");
	if (schedule != NULL)
		values[2] = CStringGetTextDatum(schedule);
	else
		nulls[2] = 'n';
	values[3] = BoolGetDatum(paused);
	values[4] = Int64GetDatum(cronJobId);
	if (cronJobId == 0)
		nulls[4] = 'n';

	ModifyCatalog(&UpdateSchedulerStatement, values, nulls);
}
