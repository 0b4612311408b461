/*-------------------------------------------------------------------------
 *
 * pipeline_alter.h
 *	  Changing a pipeline without dropping it, for the layers above.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PIPELINE_ALTER_H
#define INCREMENTAL_PIPELINE_ALTER_H

/* Replaces the command of a pipeline whose command is generated */
extern void ReplaceGeneratedCommand(const char *pipelineName, const char *command);

#endif							/* INCREMENTAL_PIPELINE_ALTER_H */
