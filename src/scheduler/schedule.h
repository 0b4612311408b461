/*-------------------------------------------------------------------------
 *
 * schedule.h
 *	  Parsing pipeline schedules and computing when they next fire.
 *
 * A schedule is one of
 *	 - a five-field cron expression as pg_cron accepts it (lists, ranges,
 *	   steps, month and day names, @hourly-style macros, '$' for the last
 *	   day of the month), evaluated in a time zone;
 *	 - an interval such as '10 seconds' or '5 minutes': the pipeline runs
 *	   that long after its previous run started.
 * A NULL schedule means "manual only" and never reaches this code.
 *
 * The parser knows nothing of the executor: text in, a small struct out.
 * It never throws for bad input; it returns false and an error message.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_SCHEDULE_H
#define INCREMENTAL_SCHEDULE_H

#include "datatype/timestamp.h"
#include "pgtime.h"

typedef enum ScheduleKind
{
	SCHEDULE_CRON,
	SCHEDULE_INTERVAL
} ScheduleKind;

typedef struct Schedule
{
	ScheduleKind kind;

	/* SCHEDULE_INTERVAL */
	int64		intervalUsecs;	/* > 0 */

	/* SCHEDULE_CRON: bit N set when the field matches value N */
	uint64		minutes;		/* 0-59 */
	uint32		hours;			/* 0-23 */
	uint32		daysOfMonth;	/* 1-31 */
	uint16		months;			/* 1-12 */
	uint8		daysOfWeek;		/* 0-6, Sunday = 0 (7 is folded into 0) */
	bool		dayOfMonthStar; /* day-of-month field was '*' */
	bool		dayOfWeekStar;	/* day-of-week field was '*' */
	bool		lastDayOfMonth; /* '$' in the day-of-month field */
	bool		wildcardTime;	/* the minute or hour field started with '*'
								 * (or @hourly): fires through the repeated
								 * hour when the clocks go back */
	bool		atStartup;		/* @reboot: once, when the scheduler starts */
} Schedule;

/*
 * Parses schedule text.  On success fills *schedule and returns true; on
 * failure returns false and sets *errorMessage to a palloc'd description
 * of what is wrong.
 */
extern bool ParseSchedule(const char *text, Schedule *schedule, char **errorMessage);

/* Text for errhint() listing the accepted forms */
extern const char *ScheduleFormsHint(void);

/*
 * The first time strictly after 'after' at which the schedule fires.  For
 * a cron schedule, evaluated in time zone 'tz' (minute resolution); for an
 * interval schedule, after + interval.  An @reboot schedule never fires
 * again after startup: DT_NOEND is returned.
 */
extern TimestampTz ScheduleNextRun(const Schedule *schedule, TimestampTz after, pg_tz *tz);

#endif							/* INCREMENTAL_SCHEDULE_H */
