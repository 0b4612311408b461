/*-------------------------------------------------------------------------
 *
 * pg_cron_mode.c
 *	  Scheduling pipelines through pg_cron, the way pg_incremental 1.x did.
 *
 * With incremental.scheduler = 'pg_cron', a pipeline created with a
 * schedule gets a pg_cron job named pipeline:<name> whose command is
 * call incremental.execute_pipeline('<name>'), and its row in
 * incremental.pipelines says scheduled_by = 'pg_cron', which our workers
 * skip.  A pipeline is thus never scheduled in both places.
 *
 * Who owns a job.  pg_cron runs a job as the role that scheduled it
 * (cron.job.username), and lets roles see and unschedule only their own
 * jobs.  Jobs are therefore scheduled as the pipeline's owner, the role
 * its command runs as anyway, so pg_cron gives the job no more rights
 * than the pipeline has.  The owner needs USAGE on schema cron.  Removing
 * a job is part of dropping or moving a pipeline, which the owner, members
 * of the owning role and superusers may do; it runs as the bootstrap
 * superuser, the one role that can unschedule any role's job in pg_cron
 * 1.4, with a fixed statement and search_path.
 *
 * Which job is a pipeline's.  The one whose ID the pipeline recorded in
 * incremental.pipelines.cron_job_id when it scheduled it, and no other:
 * job names and commands are chosen by whoever schedules a job, so
 * another role could imitate them, but not an ID, which pg_cron never
 * reuses.  Job names are still "pipeline:<name>", as in 1.x, within
 * pg_cron's 63 bytes: when "pipeline:<name>" is longer, the name is cut
 * and a hash of the whole name appended; and a job of the owner's of the
 * same name that is not the pipeline's is an error, never overwritten.
 *
 * Every change to cron.job happens in the transaction that creates, moves
 * or drops the pipeline: both commit or neither does.  A pipeline's job
 * goes away with its catalog row (a row trigger, so dropping the source
 * table drops the job too), and DROP EXTENSION removes the jobs from an
 * event trigger that fires before the catalog is gone.  Nothing here
 * fails when pg_cron is not installed, except asking for pg_cron.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "catalog/catalog_version.h"
#include "catalog/pipeline_catalog.h"
#include "catalog/role_statement.h"
#include "pipelines/pipeline_lock.h"
#include "pipelines/pipeline_access.h"
#include "scheduler/pg_cron_mode.h"
#include "scheduler/schedule.h"

#define CRON_JOB_PREFIX "pipeline:"
#define CRON_JOB_HASH_CHARS 16

int			NewPipelineScheduler = PIPELINE_SCHEDULER_INTERNAL;

const struct config_enum_entry PipelineSchedulerOptions[] = {
	{"internal", PIPELINE_SCHEDULER_INTERNAL, false},
	{"pg_cron", PIPELINE_SCHEDULER_PG_CRON, false},
	{NULL, 0, false}
};

/* A pipeline's pg_cron job, as found in cron.job */
typedef struct CronJob
{
	bool		found;
	char	   *schedule;
	bool		active;
} CronJob;

PG_FUNCTION_INFO_V1(incremental_move_pipeline_schedule);
PG_FUNCTION_INFO_V1(incremental_move_all_pipeline_schedules);
PG_FUNCTION_INFO_V1(incremental_unschedule_pipeline_job);
PG_FUNCTION_INFO_V1(incremental_drop_extension_cleanup);

static void MovePipeline(Pipeline *pipeline, PipelineScheduler target);
static PipelineScheduler SchedulerFromArgument(FunctionCallInfo fcinfo, int argumentNumber);
static bool PgCronInstalled(void);
static void RequirePgCron(const char *pipelineName);
static void CheckPgCronSchedule(const char *pipelineName, const char *schedule);
static int64 ScheduleCronJob(const Pipeline *pipeline, const char *schedule, bool active);
static CronJob UnscheduleCronJob(int64 jobId);
static void RescheduleCronJob(const Pipeline *pipeline, bool keepJobSchedule);
static char *CronJobName(const char *pipelineName);
static char *CronJobCommand(const char *pipelineName);
static uint64 RunCronStatement(const char *sql, int nargs, Oid *argtypes, Datum *values,
							   Oid asUser, Datum *firstRow, int ncolumns);
static bool RoleMayUseCronSchema(Oid roleId);


/*
 * HandOverToPgCron is called for every new pipeline that has a schedule.
 * In pg_cron mode it schedules the pg_cron job, records that pg_cron runs
 * the pipeline and returns true; otherwise it does nothing and returns
 * false.  Errors (no pg_cron, a schedule pg_cron cannot run) abort the
 * creation.
 */
bool
HandOverToPgCron(const char *pipelineName, const char *schedule)
{
	Pipeline   *pipeline;

	if (NewPipelineScheduler != PIPELINE_SCHEDULER_PG_CRON || schedule == NULL)
		return false;

	pipeline = ReadPipeline(pipelineName, false);
	MovePipeline(pipeline, PIPELINE_SCHEDULER_PG_CRON);
	return true;
}


/*
 * HandOverCronJob moves the pg_cron job of a pipeline that was just given
 * to a new owner (REASSIGN OWNED; the pipeline as it is now) to that
 * owner: pg_cron runs a job as the role that scheduled it, which may be
 * about to be dropped.  The new owner needs USAGE on schema cron, as for
 * any pipeline of its own in pg_cron mode.
 */
void
HandOverCronJob(const Pipeline *pipeline)
{
	if (pipeline->scheduledBy != PIPELINE_SCHEDULER_PG_CRON || pipeline->cronJobId == 0 ||
		!PgCronInstalled())
		return;

	RescheduleCronJob(pipeline, true);
}


/*
 * RescheduleCronJob replaces a pipeline's pg_cron job by one scheduled as
 * its owner now, under its name now, keeping whether the job was active;
 * with the job's own schedule when keepJobSchedule, else the pipeline's.
 */
static void
RescheduleCronJob(const Pipeline *pipeline, bool keepJobSchedule)
{
	CronJob		job = UnscheduleCronJob(pipeline->cronJobId);
	char	   *schedule = pipeline->schedule;
	bool		active = !pipeline->paused;
	int64		jobId;

	if (job.found)
	{
		if (keepJobSchedule)
			schedule = job.schedule;
		active = job.active;
	}
	if (schedule == NULL)
		return;

	jobId = ScheduleCronJob(pipeline, schedule, active);
	UpdatePipelineScheduler(pipeline->name, PIPELINE_SCHEDULER_PG_CRON, schedule, !active, jobId);
}


/*
 * FollowScheduleChange gives the pg_cron job of a pipeline whose schedule
 * alter_pipeline changed, or that rename_pipeline renamed, its new
 * schedule, name and command, by scheduling the job again as the
 * pipeline's owner; a pipeline the built-in scheduler runs reads all of
 * it from the catalog and needs nothing.
 */
void
FollowScheduleChange(const char *pipelineName)
{
	Pipeline   *pipeline = ReadPipeline(pipelineName, false);

	if (pipeline->scheduledBy != PIPELINE_SCHEDULER_PG_CRON || pipeline->cronJobId == 0)
		return;

	RequirePgCron(pipeline->name);
	CheckPgCronSchedule(pipeline->name, pipeline->schedule);
	RescheduleCronJob(pipeline, false);
}


/*
 * incremental.move_pipeline_schedule(pipeline_name text, scheduler text)
 * moves one pipeline's schedule to 'internal' or 'pg_cron'.
 */
Datum
incremental_move_pipeline_schedule(PG_FUNCTION_ARGS)
{
	char	   *pipelineName = GetTextArgument(fcinfo, 0, "pipeline_name");
	PipelineScheduler target = SchedulerFromArgument(fcinfo, 1);
	Pipeline   *pipeline = LockAndReadPipeline(pipelineName, PIPELINE_ACTION_MOVE_SCHEDULE);

	MovePipeline(pipeline, target);

	PG_RETURN_VOID();
}


/*
 * incremental.move_all_pipeline_schedules(scheduler text) moves every
 * pipeline the caller may manage that is scheduled elsewhere, and returns
 * how many it moved.  Pipelines of other roles are left alone.
 */
Datum
incremental_move_all_pipeline_schedules(PG_FUNCTION_ARGS)
{
	PipelineScheduler target = SchedulerFromArgument(fcinfo, 0);
	List	   *pipelines = ReadAllPipelines();
	ListCell   *cell;
	int32		moved = 0;

	foreach(cell, pipelines)
	{
		Pipeline   *pipeline = lfirst(cell);

		if (pipeline->scheduledBy == target ||
			!has_privs_of_role(GetUserId(), pipeline->ownerId))
			continue;

		/* read again under the lock: it may have changed or gone */
		if (!LockPipeline(pipeline->name, false) ||
			(pipeline = ReadPipeline(pipeline->name, true)) == NULL ||
			pipeline->scheduledBy == target)
			continue;

		MovePipeline(pipeline, target);
		moved++;
	}

	PG_RETURN_INT32(moved);
}


/*
 * MovePipeline puts a pipeline's schedule where 'target' says.  Moving to
 * the scheduler it is already on repairs a missing pg_cron job.
 */
static void
MovePipeline(Pipeline *pipeline, PipelineScheduler target)
{
	if (target == PIPELINE_SCHEDULER_PG_CRON)
	{
		int64		jobId = pipeline->cronJobId;

		RequirePgCron(pipeline->name);
		if (pipeline->schedule != NULL)
		{
			CheckPgCronSchedule(pipeline->name, pipeline->schedule);
			jobId = ScheduleCronJob(pipeline, pipeline->schedule, !pipeline->paused);
		}
		UpdatePipelineScheduler(pipeline->name, PIPELINE_SCHEDULER_PG_CRON,
								pipeline->schedule, pipeline->paused, jobId);
	}
	else
	{
		const char *schedule = pipeline->schedule;
		bool		paused = pipeline->paused;

		if (pipeline->cronJobId != 0 && PgCronInstalled())
		{
			CronJob		job = UnscheduleCronJob(pipeline->cronJobId);

			/* pg_cron's job is the truth: cron.alter_job may have changed it */
			if (job.found && pipeline->scheduledBy == PIPELINE_SCHEDULER_PG_CRON)
			{
				schedule = job.schedule;
				paused = !job.active;
			}
		}

		if (schedule != NULL)
			CheckPipelineSchedule(schedule);
		/* the update wakes the worker at commit (pipelines_changed) */
		UpdatePipelineScheduler(pipeline->name, PIPELINE_SCHEDULER_INTERNAL,
								schedule, paused, 0);
	}
}


static PipelineScheduler
SchedulerFromArgument(FunctionCallInfo fcinfo, int argumentNumber)
{
	char	   *scheduler = GetTextArgument(fcinfo, argumentNumber, "scheduler");

	for (int i = 0; PipelineSchedulerOptions[i].name != NULL; i++)
	{
		if (strcmp(scheduler, PipelineSchedulerOptions[i].name) == 0)
			return (PipelineScheduler) PipelineSchedulerOptions[i].val;
	}

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown scheduler \"%s\"", scheduler),
			 errhint("Use 'internal' or 'pg_cron'.")));
	return PIPELINE_SCHEDULER_INTERNAL; /* keep the compiler quiet */
}


/*
 * incremental._unschedule_pipeline_job(), an AFTER DELETE row trigger on
 * incremental.pipelines for rows with scheduled_by = 'pg_cron': a deleted
 * pipeline's job goes with it, whether drop_pipeline deleted the row or
 * the drop of its source table did.
 */
Datum
incremental_unschedule_pipeline_job(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupleDesc;
	int			jobIdColumn;
	bool		isNull = true;
	Datum		jobId = (Datum) 0;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("incremental._unschedule_pipeline_job() can only be called as a DELETE trigger")));

	tupleDesc = RelationGetDescr(trigdata->tg_relation);
	jobIdColumn = SPI_fnumber(tupleDesc, "cron_job_id");
	if (jobIdColumn > 0)
		jobId = heap_getattr(trigdata->tg_trigtuple, jobIdColumn, tupleDesc, &isNull);

	if (!isNull && PgCronInstalled())
		(void) UnscheduleCronJob(DatumGetInt64(jobId));

	return PointerGetDatum(NULL);
}


/*
 * incremental._drop_extension_cleanup(), an event trigger at the start of
 * DROP EXTENSION: when pg_incremental is among the extensions dropped, it
 * removes the pg_cron jobs of its pipelines while the catalog still
 * exists.  If the drop fails, the transaction takes the removal back.
 */
Datum
incremental_drop_extension_cleanup(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata = (EventTriggerData *) fcinfo->context;
	DropStmt   *drop;
	bool		dropsUs = false;
	ListCell   *cell;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("incremental._drop_extension_cleanup() can only be called as an event trigger")));

	drop = (DropStmt *) trigdata->parsetree;
	if (drop == NULL || !IsA(drop, DropStmt) || drop->removeType != OBJECT_EXTENSION)
		PG_RETURN_VOID();

	foreach(cell, drop->objects)
	{
		Node	   *object = lfirst(cell);

		if (IsA(object, String) && strcmp(strVal(object), "pg_incremental") == 0)
			dropsUs = true;
	}

	/* an older catalog cannot be read; its jobs stay, as they did in 1.x */
	if (!dropsUs || !PgCronInstalled() || !InstalledVersionMatchesLibrary())
		PG_RETURN_VOID();

	foreach(cell, ReadAllPipelines())
	{
		Pipeline   *pipeline = lfirst(cell);

		if (pipeline->scheduledBy == PIPELINE_SCHEDULER_PG_CRON && pipeline->cronJobId != 0)
			(void) UnscheduleCronJob(pipeline->cronJobId);
	}

	PG_RETURN_VOID();
}


static bool
PgCronInstalled(void)
{
	return OidIsValid(get_extension_oid("pg_cron", true));
}


static void
RequirePgCron(const char *pipelineName)
{
	if (!PgCronInstalled())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot schedule pipeline \"%s\" with pg_cron: pg_cron is not "
						"installed in this database", pipelineName),
				 errdetail("incremental.scheduler is 'pg_cron', or the pipeline was asked "
						   "to move to pg_cron."),
				 errhint("Run CREATE EXTENSION pg_cron in this database (the one named by "
						 "cron.database_name), or SET incremental.scheduler = 'internal' "
						 "to use the built-in scheduler.")));
}


/* pg_cron 1.4 runs five-field cron expressions and macros, per minute */
static void
CheckPgCronSchedule(const char *pipelineName, const char *schedule)
{
	Schedule	parsed;
	char	   *errorMessage = NULL;

	if (ParseSchedule(schedule, &parsed, &errorMessage) &&
		parsed.kind == SCHEDULE_CRON && !parsed.lastDayOfMonth)
		return;

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("pg_cron cannot run pipeline \"%s\" on schedule \"%s\"",
					pipelineName, schedule),
			 errdetail("pg_cron 1.4 accepts five-field cron expressions and macros such "
					   "as '@hourly'; intervals such as '10 seconds' and '$' for the last "
					   "day of the month are for the built-in scheduler only."),
			 errhint("Use a cron expression such as '* * * * *', or SET "
					 "incremental.scheduler = 'internal'.")));
}


/*
 * ScheduleCronJob creates (or updates) the pipeline's pg_cron job, as the
 * pipeline's owner, and returns its ID.  A job of the owner's of that name
 * that runs something else is not ours to overwrite.
 */
static int64
ScheduleCronJob(const Pipeline *pipeline, const char *schedule, bool active)
{
	char	   *jobName = CronJobName(pipeline->name);
	char	   *command = CronJobCommand(pipeline->name);
	char	   *ownerName = GetUserNameFromId(pipeline->ownerId, false);
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Oid			jobIdType[1] = {INT8OID};
	Datum		values[3];
	Datum		jobId = (Datum) 0;

	if (!RoleMayUseCronSchema(pipeline->ownerId))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" may not schedule pg_cron jobs", ownerName),
				 errdetail("The job of pipeline \"%s\" runs as its owner, who needs USAGE "
						   "on schema cron.", pipeline->name),
				 errhint("Run GRANT USAGE ON SCHEMA cron TO %s as a superuser.",
						 quote_identifier(ownerName))));

	values[0] = CStringGetTextDatum(jobName);
	values[1] = CStringGetTextDatum(command);
	if (RunCronStatement("SELECT 1 FROM cron.job WHERE jobname OPERATOR(pg_catalog.=) $1 "
						 "AND username OPERATOR(pg_catalog.=) current_user "
						 "AND command OPERATOR(pg_catalog.<>) $2",
						 2, argtypes, values, pipeline->ownerId, NULL, 0) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("pg_cron job \"%s\" of role \"%s\" already exists", jobName, ownerName),
				 errdetail("It does not run pipeline \"%s\".", pipeline->name),
				 errhint("Unschedule that job with cron.unschedule, or give the pipeline "
						 "another name.")));

	values[1] = CStringGetTextDatum(schedule);
	values[2] = CStringGetTextDatum(command);
	(void) RunCronStatement("SELECT cron.schedule($1, $2, $3)",
							3, argtypes, values, pipeline->ownerId, &jobId, 1);

	/* cron.alter_job is for superusers in pg_cron 1.4 */
	if (!active)
		(void) RunCronStatement("SELECT cron.alter_job($1, active => false)",
								1, jobIdType, &jobId, BOOTSTRAP_SUPERUSERID, NULL, 0);

	return DatumGetInt64(jobId);
}


/*
 * UnscheduleCronJob removes the pg_cron job with the given ID, a pipeline's
 * recorded job, whoever it runs as now, and returns its schedule.  A job
 * that is gone already (cron.unschedule by hand) is no error.
 */
static CronJob
UnscheduleCronJob(int64 jobId)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	CronJob		job = {0};
	Datum		row[2];

	values[0] = Int64GetDatum(jobId);
	if (RunCronStatement("SELECT schedule, active, cron.unschedule(jobid) FROM cron.job "
						 "WHERE jobid OPERATOR(pg_catalog.=) $1",
						 1, argtypes, values, BOOTSTRAP_SUPERUSERID, row, 2) > 0)
	{
		job.found = true;
		job.schedule = TextDatumGetCString(row[0]);
		job.active = DatumGetBool(row[1]);
	}

	return job;
}


/*
 * CronJobName is "pipeline:<name>" when that fits pg_cron's 63-byte job
 * name, as in pg_incremental 1.x.  Longer names keep as much of the name
 * as fits, cut at a character boundary, plus a hash of all of it.
 */
static char *
CronJobName(const char *pipelineName)
{
	int			nameLength = strlen(pipelineName);
	int			room = NAMEDATALEN - 1 - strlen(CRON_JOB_PREFIX) - 1 - CRON_JOB_HASH_CHARS;
	uint64		hash;

	if (strlen(CRON_JOB_PREFIX) + nameLength <= NAMEDATALEN - 1)
		return psprintf(CRON_JOB_PREFIX "%s", pipelineName);

	hash = hash_bytes_extended((const unsigned char *) pipelineName, nameLength, 0);
	return psprintf(CRON_JOB_PREFIX "%.*s~%016llx",
					pg_mbcliplen(pipelineName, nameLength, room), pipelineName,
					(unsigned long long) hash);
}


/* The job's command, as pg_incremental 1.x wrote it; the literal is safe */
static char *
CronJobCommand(const char *pipelineName)
{
	return psprintf("call incremental.execute_pipeline(%s)",
					quote_literal_cstr(pipelineName));
}


/*
 * RunCronStatement runs one statement on pg_cron's objects as the given
 * role, with search_path pinned, and returns the number of rows.  The
 * first row's first 'ncolumns' columns are copied into firstRow.
 */
static uint64
RunCronStatement(const char *sql, int nargs, Oid *argtypes, Datum *values, Oid asUser,
				 Datum *firstRow, int ncolumns)
{
	return RunStatementAsRole(asUser, sql, NULL, nargs, argtypes, values, NULL,
							  firstRow, NULL, ncolumns);
}


/* Whether a role may use schema cron, which pg_cron does not grant */
static bool
RoleMayUseCronSchema(Oid roleId)
{
	Oid			cronNamespace = get_namespace_oid("cron", false);

#if PG_VERSION_NUM >= 160000
	return object_aclcheck(NamespaceRelationId, cronNamespace, roleId, ACL_USAGE) == ACLCHECK_OK;
#else
	return pg_namespace_aclcheck(cronNamespace, roleId, ACL_USAGE) == ACLCHECK_OK;
#endif
}
