/*-------------------------------------------------------------------------
 *
 * pipeline_chain.c
 *	  Checking and recording which pipelines a pipeline runs after.
 *
 * A pipeline with depends_on runs right after any of the pipelines it
 * depends on commits new progress, in the same round of the scheduler's
 * worker and after it, and never while one of them is paused or failing
 * (src/scheduler/dispatch_run.c).  One worker runs one role's pipelines,
 * so a pipeline may only depend on pipelines of its own owner.  A cycle
 * would have every pipeline in it wait for the others: it is refused, with
 * the cycle in the message.  Concurrent changes are serialized by a lock
 * on the dependencies, so two sessions cannot each add half of a cycle.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "catalog/pipeline_dependency_catalog.h"
#include "pipelines/pipeline_chain.h"

static List *DependsOnNames(ArrayType *dependsOn);
static bool FindPath(List *dependencies, const char *from, const char *to, List **path);


void
SetPipelineDependsOn(const Pipeline *pipeline, ArrayType *dependsOn)
{
	List	   *parents = DependsOnNames(dependsOn);
	List	   *dependencies = NIL;
	ListCell   *cell;

	foreach(cell, parents)
	{
		const char *parentName = lfirst(cell);
		Pipeline   *parent;

		if (strcmp(parentName, pipeline->name) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("pipeline \"%s\" cannot depend on itself", pipeline->name)));
		parent = ReadPipeline(parentName, true);
		if (parent == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("pipeline \"%s\" does not exist", parentName),
					 errdetail("depends_on names the pipelines this one runs after."),
					 errhint("The pipelines are listed in incremental.pipelines.")));
		if (parent->ownerId != pipeline->ownerId)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("pipeline \"%s\" belongs to role %s, and pipeline \"%s\" to role %s",
							parentName, GetUserNameFromId(parent->ownerId, true),
							pipeline->name, GetUserNameFromId(pipeline->ownerId, true)),
					 errdetail("A chain of pipelines runs in one scheduler worker, which runs "
							   "as one role."),
					 errhint("Create the pipelines of a chain as the same role.")));
	}

	LockPipelineDependencies();

	/* the others' dependencies as they are now, and this one's as they will be */
	foreach(cell, ReadAllPipelineDependencies())
	{
		PipelineDependency *dependency = lfirst(cell);

		if (strcmp(dependency->pipelineName, pipeline->name) != 0)
			dependencies = lappend(dependencies, dependency);
	}
	foreach(cell, parents)
	{
		PipelineDependency *dependency = palloc(sizeof(PipelineDependency));
		List	   *path = NIL;

		/* a cycle: the parent already runs after this pipeline */
		if (FindPath(dependencies, lfirst(cell), pipeline->name, &path))
		{
			StringInfoData cycle;
			ListCell   *step;

			initStringInfo(&cycle);
			appendStringInfoString(&cycle, pipeline->name);
			foreach(step, path)
				appendStringInfo(&cycle, " -> %s", (char *) lfirst(step));
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("depends_on would make a cycle: %s", cycle.data),
					 errdetail("Each pipeline of a cycle would wait for the others."),
					 errhint("Remove one of the dependencies with alter_pipeline(..., "
							 "depends_on => ...).")));
		}
		dependency->pipelineName = pipeline->name;
		dependency->dependsOn = lfirst(cell);
		dependencies = lappend(dependencies, dependency);
	}

	ReplacePipelineParents(pipeline->name, parents);

	if (parents != NIL && pipeline->scheduledBy == PIPELINE_SCHEDULER_PG_CRON)
		ereport(WARNING,
				(errmsg("pipeline \"%s\" is scheduled by pg_cron, which does not run it "
						"after the pipelines it depends on", pipeline->name),
				 errdetail("Under pg_cron each pipeline runs on its own schedule."),
				 errhint("Chains need the built-in scheduler (incremental.scheduler = "
						 "'internal').")));
}


void
SetDependsOnArgument(FunctionCallInfo fcinfo, int argumentNumber, const char *pipelineName)
{
	if (PG_NARGS() <= argumentNumber || PG_ARGISNULL(argumentNumber))
		return;
	SetPipelineDependsOn(ReadPipeline(pipelineName, false),
						 PG_GETARG_ARRAYTYPE_P(argumentNumber));
}


void
RefuseToDropParent(const char *pipelineName)
{
	List	   *children = ReadPipelineChildren(pipelineName);

	if (children != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop pipeline \"%s\": pipeline \"%s\" depends on it",
						pipelineName, (char *) linitial(children)),
				 errhint("Change what it depends on first: SELECT incremental.alter_pipeline(%s, "
						 "depends_on => '{}');",
						 quote_literal_cstr(linitial(children)))));
}


/* The names of a text[], without NULLs or repeats, in their order */
static List *
DependsOnNames(ArrayType *dependsOn)
{
	Datum	   *elements;
	bool	   *nulls;
	int			count;
	List	   *names = NIL;

	if (ARR_NDIM(dependsOn) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("depends_on must be a one-dimensional array of pipeline names")));
	deconstruct_array(dependsOn, TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &count);
	for (int i = 0; i < count; i++)
	{
		char	   *name;
		ListCell   *cell;
		bool		seen = false;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("depends_on cannot contain NULL")));
		name = TextDatumGetCString(elements[i]);
		foreach(cell, names)
			seen |= strcmp(lfirst(cell), name) == 0;
		if (!seen)
			names = lappend(names, name);
	}
	return names;
}


/*
 * Whether 'to' can be reached from 'from' by following dependencies (from
 * a pipeline to those it depends on); *path gets the pipelines on the way,
 * 'from' first and 'to' last.  The graph has no cycle yet, so the search
 * ends.
 */
static bool
FindPath(List *dependencies, const char *from, const char *to, List **path)
{
	ListCell   *cell;

	if (strcmp(from, to) == 0)
	{
		*path = list_make1(pstrdup(from));
		return true;
	}

	foreach(cell, dependencies)
	{
		PipelineDependency *dependency = lfirst(cell);
		List	   *rest = NIL;

		CHECK_FOR_INTERRUPTS();
		check_stack_depth();
		if (strcmp(dependency->pipelineName, from) == 0 &&
			FindPath(dependencies, dependency->dependsOn, to, &rest))
		{
			*path = lcons(pstrdup(from), rest);
			return true;
		}
	}
	return false;
}
