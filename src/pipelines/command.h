/*-------------------------------------------------------------------------
 *
 * command.h
 *	  Validating a pipeline's command, and running pipeline work as the
 *	  pipeline's owner.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_COMMAND_H
#define INCREMENTAL_COMMAND_H

#include "catalog/pipeline_catalog.h"

/* What SwitchToPipelineOwner saved, for RestoreFromPipelineOwner */
typedef struct OwnerSwitch
{
	Oid			savedUserId;
	int			savedSecurityContext;
	int			gucNestLevel;
} OwnerSwitch;

extern void ValidatePipelineCommand(const char *command, int nargs, Oid *argtypes);
extern void CheckPipelineOwner(const Pipeline *pipeline);
extern void SwitchToPipelineOwner(const Pipeline *pipeline, OwnerSwitch *ownerSwitch);
extern void UsePipelineSearchPath(const Pipeline *pipeline);
extern void SetPipelineTimeZone(const char *timeZone);
extern void RestoreFromPipelineOwner(OwnerSwitch *ownerSwitch);
extern uint64 ExecutePipelineCommand(const Pipeline *pipeline, int nargs, Oid *argtypes,
									 Datum *values);

#endif							/* INCREMENTAL_COMMAND_H */
