/*-------------------------------------------------------------------------
 *
 * pipeline_access.c
 *	  Reading the arguments of the SQL functions, and checking that the
 *	  current user may act on a pipeline.
 *
 * Only the owner of a pipeline, members of the owning role and superusers
 * may run, reset, drop, pause or otherwise change it.  The check is made
 * with the pipeline's lock held, after reading the pipeline, so that it
 * applies to the pipeline as it is, not as it was before a concurrent
 * drop and re-create.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "pipelines/pipeline_access.h"
#include "pipelines/pipeline_lock.h"

static const char *OwnerNameForMessage(Oid ownerId);


/*
 * LockAndReadPipeline takes the pipeline's lock, reads it, and checks that
 * the current user may perform the action on it.
 */
Pipeline *
LockAndReadPipeline(const char *pipelineName, PipelineAction action)
{
	Pipeline   *pipeline;

	(void) LockPipeline(pipelineName, false);
	pipeline = ReadPipeline(pipelineName, false);
	CheckPipelinePermission(pipeline, action);

	return pipeline;
}


/*
 * CheckPipelinePermission raises an error unless the current user has the
 * privileges of the pipeline's owner.  Each action has a message of its
 * own, so that every message is a whole sentence that translates.
 */
void
CheckPipelinePermission(const Pipeline *pipeline, PipelineAction action)
{
	const char *owner;

	if (has_privs_of_role(GetUserId(), pipeline->ownerId))
		return;

	owner = OwnerNameForMessage(pipeline->ownerId);

	switch (action)
	{
		case PIPELINE_ACTION_EXECUTE:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to execute pipeline \"%s\"", pipeline->name),
					 errdetail("Only the owner of the pipeline, role \"%s\", members of that role and superusers may execute it.",
							   owner)));
			break;
		case PIPELINE_ACTION_RESET:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to reset pipeline \"%s\"", pipeline->name),
					 errdetail("Only the owner of the pipeline, role \"%s\", members of that role and superusers may reset it.",
							   owner)));
			break;
		case PIPELINE_ACTION_DROP:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to drop pipeline \"%s\"", pipeline->name),
					 errdetail("Only the owner of the pipeline, role \"%s\", members of that role and superusers may drop it.",
							   owner)));
			break;
		case PIPELINE_ACTION_PAUSE:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to pause pipeline \"%s\"", pipeline->name),
					 errdetail("Only the owner of the pipeline, role \"%s\", members of that role and superusers may pause it.",
							   owner)));
			break;
		case PIPELINE_ACTION_RESUME:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to resume pipeline \"%s\"", pipeline->name),
					 errdetail("Only the owner of the pipeline, role \"%s\", members of that role and superusers may resume it.",
							   owner)));
			break;
		case PIPELINE_ACTION_SKIP_FILE:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to skip files of pipeline \"%s\"", pipeline->name),
					 errdetail("Only the owner of the pipeline, role \"%s\", members of that role and superusers may mark its files as processed.",
							   owner)));
			break;
		case PIPELINE_ACTION_RESET_STATS:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to reset the statistics of pipeline \"%s\"",
							pipeline->name),
					 errdetail("Only the owner of the pipeline, role \"%s\", members of that role and superusers may reset its statistics.",
							   owner)));
			break;
		case PIPELINE_ACTION_MOVE_SCHEDULE:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to move the schedule of pipeline \"%s\"",
							pipeline->name),
					 errdetail("Only the owner of the pipeline, role \"%s\", members of that role and superusers may move its schedule.",
							   owner)));
			break;
		case PIPELINE_ACTION_SKIP_RANGE:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to skip a range of pipeline \"%s\"", pipeline->name),
					 errdetail("Only the owner of the pipeline, role \"%s\", members of that role and superusers may skip what it would process.",
							   owner)));
			break;
		case PIPELINE_ACTION_ALTER:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to alter pipeline \"%s\"", pipeline->name),
					 errdetail("Only the owner of the pipeline, role \"%s\", members of that role and superusers may alter it.",
							   owner)));
			break;
	}
}


/*
 * CheckOwnerMayReadSource raises an error unless the role may read the
 * table: a pipeline locks its source and waits for the source's writers,
 * which PostgreSQL allows only to roles with a privilege on the table
 * (LOCK TABLE ... IN ACCESS SHARE MODE needs SELECT).  A table that no
 * longer exists passes: the lock that follows finds it gone.
 */
void
CheckOwnerMayReadSource(Oid relationId, Oid ownerId)
{
	bool		isMissing = false;

	if (pg_class_aclcheck_ext(relationId, ownerId, ACL_SELECT, &isMissing) == ACLCHECK_OK ||
		isMissing)
		return;

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for table %s", get_rel_name(relationId)),
			 errdetail("A pipeline locks its source table and waits for its writers, as role \"%s\", "
					   "which needs the SELECT privilege on it.",
					   OwnerNameForMessage(ownerId)),
			 errhint("Grant SELECT on the table to the pipeline's owner.")));
}


/* The owner's name, or a placeholder once the role is gone */
static const char *
OwnerNameForMessage(Oid ownerId)
{
	const char *name = GetUserNameFromId(ownerId, true);

	return name != NULL ? name : "(dropped)";
}


/*
 * CallMayCommit: whether a procedure runs in a CALL outside a transaction
 * block, where it may commit (SPI_connect_ext with SPI_OPT_NONATOMIC)
 */
bool
CallMayCommit(FunctionCallInfo fcinfo)
{
	CallContext *callContext = (CallContext *) fcinfo->context;

	return callContext != NULL && IsA(callContext, CallContext) && !callContext->atomic;
}


/* GetTextArgument returns a text argument as a C string; NULL is an error */
char *
GetTextArgument(FunctionCallInfo fcinfo, int argumentNumber, const char *argumentName)
{
	CheckArgumentNotNull(fcinfo, argumentNumber, argumentName);

	return text_to_cstring(PG_GETARG_TEXT_PP(argumentNumber));
}


void
CheckArgumentNotNull(FunctionCallInfo fcinfo, int argumentNumber, const char *argumentName)
{
	if (PG_ARGISNULL(argumentNumber))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s cannot be NULL", argumentName)));
}
