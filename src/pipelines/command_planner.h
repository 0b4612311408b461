/*-------------------------------------------------------------------------
 *
 * command_planner.h
 *	  Plans of a pipeline's command made for the size of a batch, with the
 *	  values of the batch that first needed them as estimates.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_COMMAND_PLANNER_H
#define INCREMENTAL_COMMAND_PLANNER_H

#include "executor/spi.h"

/* How many sizes of batch get a plan of their own: a factor of 4 each */
#define BATCH_SIZE_CLASSES 32

extern void InstallCommandPlanner(void);
extern bool CommandNeedsCustomPlans(SPIPlanPtr plan);
extern int	BatchSizeClass(int nargs, Oid *argtypes, Datum *values);
extern int	ExecuteEstimatedPlan(SPIPlanPtr plan, int nargs, Oid *argtypes, Datum *values);

#endif							/* INCREMENTAL_COMMAND_PLANNER_H */
