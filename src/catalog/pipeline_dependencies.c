/*-------------------------------------------------------------------------
 *
 * pipeline_dependencies.c
 *	  Reading and writing incremental.pipeline_dependencies.
 *
 * Rows go with either of their pipelines (ON DELETE CASCADE) and follow
 * a rename (ON UPDATE CASCADE).  The table is small: reads scan it whole.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"

#include "catalog/catalog_access.h"
#include "catalog/pipeline_dependency_catalog.h"

static CatalogStatement DeleteParentsStatement = {
	.sql = "DELETE FROM incremental.pipeline_dependencies "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1",
	.nargs = 1,
	.argtypes = {TEXTOID},
};

static CatalogStatement InsertParentStatement = {
	.sql = "INSERT INTO incremental.pipeline_dependencies (pipeline_name, depends_on) "
	"VALUES ($1, $2)",
	.nargs = 2,
	.argtypes = {TEXTOID, TEXTOID},
};


List *
ReadAllPipelineDependencies(void)
{
	List	   *rows = ReadAllCatalogRows(CATALOG_PIPELINE_DEPENDENCIES,
										  Natts_pipeline_dependencies);
	List	   *dependencies = NIL;
	ListCell   *cell;

	foreach(cell, rows)
	{
		Datum	   *values = lfirst(cell);
		PipelineDependency *dependency = palloc(sizeof(PipelineDependency));

		dependency->pipelineName =
			TextDatumGetCString(values[Anum_pipeline_dependencies_pipeline_name - 1]);
		dependency->dependsOn =
			TextDatumGetCString(values[Anum_pipeline_dependencies_depends_on - 1]);
		dependencies = lappend(dependencies, dependency);
	}
	return dependencies;
}


/* The other ends of a pipeline's dependencies: its parents, or its children */
static List *
ReadRelatedPipelines(const char *pipelineName, bool parents)
{
	List	   *related = NIL;
	ListCell   *cell;

	foreach(cell, ReadAllPipelineDependencies())
	{
		PipelineDependency *dependency = lfirst(cell);
		const char *near = parents ? dependency->pipelineName : dependency->dependsOn;

		if (strcmp(near, pipelineName) == 0)
			related = lappend(related, parents ? dependency->dependsOn :
							  dependency->pipelineName);
	}
	return related;
}


List *
ReadPipelineParents(const char *pipelineName)
{
	return ReadRelatedPipelines(pipelineName, true);
}


List *
ReadPipelineChildren(const char *pipelineName)
{
	return ReadRelatedPipelines(pipelineName, false);
}


void
LockPipelineDependencies(void)
{
	LockRelationOid(CatalogTableId(CATALOG_PIPELINE_DEPENDENCIES), ShareRowExclusiveLock);
}


void
ReplacePipelineParents(const char *pipelineName, List *parents)
{
	Datum		key = CStringGetTextDatum(pipelineName);
	ListCell   *cell;

	ModifyCatalog(&DeleteParentsStatement, &key, NULL);
	foreach(cell, parents)
	{
		Datum		values[2] = {key, CStringGetTextDatum(lfirst(cell))};

		ModifyCatalog(&InsertParentStatement, values, NULL);
	}
}
