/*-------------------------------------------------------------------------
 *
 * cv_window.h
 *	  Sliding windows of continuous views.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CV_WINDOW_H
#define INCREMENTAL_CV_WINDOW_H

#include "continuous_views/cv_definition.h"

/*
 * Takes PipelineDB's sliding window condition (column > clock_timestamp()
 * - interval, at the top of WHERE) out of the query; returns the column
 * and sets *window, or returns NULL.
 */
extern Node *TakeSlidingWindowCondition(Query *query, Interval **window);

/*
 * Adds the step key of the view's sliding window (from the options, or
 * the window and column found in WHERE) to the group keys; nothing when
 * the view has no window.
 */
extern void AddWindowStep(ContinuousViewDefinition *definition, ContinuousViewOptions *options,
						  Node *windowColumn, List **names);

/* Whether an expression is, or uses, the current time (now() and the like) */
extern bool IsCurrentTime(Node *node);
extern bool ContainsCurrentTime(Node *node);

#endif							/* INCREMENTAL_CV_WINDOW_H */
