--
-- Pipeline schedules: the accepted forms, when they fire, and how bad
-- schedules are refused.  Every "after" is a fixed timestamp.
--
CREATE EXTENSION pg_incremental;

SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';
SET timezone = 'GMT';

-- The next run of each schedule after one instant, in one time zone
CREATE FUNCTION pg_temp.next_runs(schedules text[], after timestamptz, tz text)
RETURNS TABLE (schedule text, next_run text)
LANGUAGE sql AS $$
	SELECT s,
	       CASE WHEN n = 'infinity' THEN 'never'
	            ELSE to_char(n AT TIME ZONE tz, 'Dy YYYY-MM-DD HH24:MI:SS.US') END
	FROM unnest(schedules) WITH ORDINALITY AS u (s, i),
	     incremental.schedule_next_run(s, after, tz) AS n
	ORDER BY i
$$;

-- Successive runs of one schedule: local time, UTC offset and UTC time
CREATE FUNCTION pg_temp.runs(schedule text, after timestamptz, tz text, count int)
RETURNS TABLE (local_time text, utc_time text)
LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz := after;
BEGIN
	FOR i IN 1 .. count LOOP
		t := incremental.schedule_next_run(schedule, t, tz);
		EXIT WHEN t = 'infinity';
		local_time := to_char(t AT TIME ZONE tz, 'Dy YYYY-MM-DD HH24:MI') || ' ' ||
			to_char((t AT TIME ZONE tz) - (t AT TIME ZONE 'GMT'), 'HH24:MI');
		utc_time := to_char(t AT TIME ZONE 'GMT', 'YYYY-MM-DD HH24:MI');
		RETURN NEXT;
	END LOOP;
END
$$;

-- The detail of the error a schedule raises, or 'valid'
CREATE FUNCTION pg_temp.problem(schedule text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	detail text;
BEGIN
	PERFORM incremental._schedule_is_valid(schedule);
	RETURN 'valid';
EXCEPTION WHEN invalid_parameter_value THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	RETURN detail;
END
$$;

--
-- NULL means "run only by hand"; it is a valid schedule that never fires.
--
SELECT incremental._schedule_is_valid(NULL) AS null_is_valid,
       incremental.schedule_next_run(NULL, '2024-03-30 22:17:30+00') AS null_schedule,
       incremental.schedule_next_run('@hourly', NULL) AS null_after;

--
-- Cron expressions: minute hour day-of-month month day-of-week.
-- 2024-03-30 22:17:30 GMT is a Saturday evening.
--
SELECT * FROM pg_temp.next_runs(ARRAY[
	'* * * * *',
	'*/15 * * * *',
	'5,35 * * * *',
	'10-20 * * * *',
	'0-30/10 23 * * *',
	'30 6 * * *',
	'0 */6 * * *',
	'0 9-17 * * *',
	'15 14 1 * *',
	'0 22 30 3 *',
	'  0   0 * *  *  ',
	'07 08 09 10 *'
], '2024-03-30 22:17:30+00', 'GMT');

-- Fields may be separated by any white space
SELECT pg_temp.problem(E'0\t0\n*\t*\t*') AS tabs_and_newlines;

-- "Strictly after": a schedule due at exactly "after" fires at its next match
SELECT * FROM pg_temp.next_runs(ARRAY['0 * * * *', '* * * * *', '10 seconds'],
	'2024-03-30 22:00:00+00', 'GMT');

-- Month and day names, in any case; 0 and 7 are both Sunday
SELECT * FROM pg_temp.next_runs(ARRAY[
	'0 0 1 jan *',
	'0 0 1 JUN-AUG *',
	'0 0 1 Jan,Apr,Jul,Oct *',
	'0 8 * * mon-fri',
	'0 8 * * Sat,Sun',
	'0 8 * * fri-sun',
	'0 8 * * 0',
	'0 8 * * 7',
	'0 8 * * 5-7',
	'0 8 * * */2',
	'0 8 * feb-dec/2 *'
], '2024-03-30 22:17:30+00', 'GMT');

-- Macros
SELECT * FROM pg_temp.next_runs(ARRAY[
	'@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight',
	'@hourly', '@HOURLY', ' @daily ', '@reboot'
], '2024-03-30 22:17:30+00', 'GMT');

-- '$' in the day-of-month field is the last day of the month
SELECT * FROM pg_temp.runs('0 0 $ * *', '2024-01-15 00:00+00', 'GMT', 4);
SELECT * FROM pg_temp.runs('0 12 1,15,$ * *', '2024-02-10 00:00+00', 'GMT', 4);
SELECT * FROM pg_temp.runs('0 0 $ 2 *', '2023-01-01 00:00+00', 'GMT', 3);

--
-- The two day fields: when both are restricted, a day matching either one
-- fires (the 13th, and every Friday); when either is '*', both must match.
--
SELECT * FROM pg_temp.runs('0 0 13 * fri', '2024-09-01 00:00+00', 'GMT', 6);
SELECT * FROM pg_temp.runs('0 0 13 * *', '2024-09-01 00:00+00', 'GMT', 3);
SELECT * FROM pg_temp.runs('0 0 * * fri', '2024-09-01 00:00+00', 'GMT', 3);
-- '$' counts as a restriction too: the last day of the month or a Monday
SELECT * FROM pg_temp.runs('0 0 $ * mon', '2024-09-20 00:00+00', 'GMT', 4);
-- As in pg_cron, a field starting with '*' counts as '*', steps included:
-- odd days that are also Mondays
SELECT * FROM pg_temp.runs('0 0 */2 * mon', '2024-09-01 00:00+00', 'GMT', 4);

--
-- Dates that are rare or impossible.  A schedule that cannot fire within
-- eight years never will, and its next run is infinity.
--
SELECT * FROM pg_temp.next_runs(ARRAY[
	'0 0 29 2 *',
	'0 0 30 2 *',
	'0 0 31 4,6,9,11 *',
	'0 0 31 * *'
], '2024-03-30 22:17:30+00', 'GMT');
-- February 29th across 2100, which is not a leap year
SELECT * FROM pg_temp.next_runs(ARRAY['0 0 29 2 *'], '2096-03-01 00:00+00', 'GMT');

--
-- Intervals: the next run is the previous start plus the interval, in
-- elapsed time (a day is always 24 hours).  Any interval PostgreSQL reads
-- is accepted, down to one millisecond, unless it has months or years.
--
SELECT * FROM pg_temp.next_runs(ARRAY[
	'1 second',
	'30 seconds',
	'10 seconds',
	'10 Seconds',
	'10s',
	'5 minutes',
	'1 hour',
	'1.5 hours',
	'1 day',
	'1 week',
	'1 day 2 hours 30 minutes',
	'500 milliseconds',
	'1 ms',
	'250 msec',
	'00:30:00',
	'1:30',
	'PT10S',
	'P1DT12H',
	'+5 minutes',
	'  2 hours  '
], '2024-03-30 22:17:30+00', 'GMT');

-- Validation does not depend on the session's IntervalStyle
SET intervalstyle = 'sql_standard';
SELECT pg_temp.problem('-1 day 25:00:00') AS sql_standard_style;
SET intervalstyle = 'postgres';
SELECT pg_temp.problem('-1 day 25:00:00') AS postgres_style;

--
-- Time zones.  Cron schedules are evaluated in the time_zone argument, or
-- when it is NULL in the incremental.timezone setting (GMT by default).
--
SELECT tz, to_char(n AT TIME ZONE tz, 'YYYY-MM-DD HH24:MI') AS local_time, n AS utc_time
FROM unnest(ARRAY['GMT', 'UTC', 'Europe/Amsterdam', 'America/New_York',
                  'Asia/Kolkata', 'Asia/Kathmandu', 'Pacific/Chatham']) AS tz,
     incremental.schedule_next_run('0 9 * * *', '2024-06-01 12:00+00', tz) AS n;

SELECT incremental.schedule_next_run('0 9 * * *', '2024-06-01 12:00+00')
       = incremental.schedule_next_run('0 9 * * *', '2024-06-01 12:00+00',
                                       current_setting('incremental.timezone')) AS default_zone_is_the_setting,
       incremental.schedule_next_run('0 9 * * *', '2024-06-01 12:00+00', NULL)
       = incremental.schedule_next_run('0 9 * * *', '2024-06-01 12:00+00',
                                       current_setting('incremental.timezone')) AS null_zone_is_the_setting;

-- Interval schedules do not depend on the zone
SELECT incremental.schedule_next_run('1 hour', '2024-06-01 12:00+00', 'Asia/Kathmandu') AS one_hour_later;

--
-- Daylight saving time, Europe/Amsterdam.  On 2024-03-31 the clocks jump
-- from 02:00 to 03:00 (+01 to +02): local times in the gap do not exist, so
-- a job at 02:30 skips that day and other jobs are unaffected.
--
SELECT * FROM pg_temp.runs('30 2 * * *', '2024-03-29 12:00+00', 'Europe/Amsterdam', 3);
SELECT * FROM pg_temp.runs('0 3 * * *', '2024-03-30 12:00+00', 'Europe/Amsterdam', 2);
SELECT * FROM pg_temp.runs('*/30 * * * *', '2024-03-31 00:15+00', 'Europe/Amsterdam', 4);

-- On 2024-10-27 the clocks go back from 03:00 to 02:00 (+02 to +01): local
-- times between 02:00 and 03:00 happen twice.  A job at a fixed time fires
-- at the first only; one whose minute or hour is a wildcard keeps running
-- through the repeated hour, on elapsed time, as in pg_cron and Vixie cron.
SELECT * FROM pg_temp.runs('30 2 * * *', '2024-10-25 12:00+00', 'Europe/Amsterdam', 3);
SELECT * FROM pg_temp.runs('*/30 * * * *', '2024-10-26 23:15+00', 'Europe/Amsterdam', 7);
SELECT * FROM pg_temp.runs('15 * * * *', '2024-10-26 23:00+00', 'Europe/Amsterdam', 4);
-- Only when "after" is itself in the repeated hour does its second pass count
SELECT * FROM pg_temp.runs('*/30 * * * *', '2024-10-27 01:10+00', 'Europe/Amsterdam', 3);
-- Intervals count elapsed time straight through both changes
SELECT * FROM pg_temp.runs('1 hour', '2024-10-26 23:00+00', 'Europe/Amsterdam', 4);

-- The same rules in New York (2024-03-10 and 2024-11-03); the default
-- schedule of sequence and time pipelines, every minute, has no gap
SELECT * FROM pg_temp.runs('30 2 * * *', '2024-03-09 12:00+00', 'America/New_York', 2);
SELECT * FROM pg_temp.runs('30 1 * * *', '2024-11-02 12:00+00', 'America/New_York', 2);
SELECT * FROM pg_temp.runs('* * * * *', '2024-11-03 05:58+00', 'America/New_York', 3);
SELECT * FROM pg_temp.runs('*/15 * * * *', '2024-11-03 05:40+00', 'America/New_York', 3);
SELECT * FROM pg_temp.runs('* * * * *', '2024-11-03 06:58+00', 'America/New_York', 3);

-- Non-finite "after": never
SELECT incremental.schedule_next_run('@hourly', 'infinity') AS after_infinity,
       incremental.schedule_next_run('10 seconds', '-infinity') AS after_minus_infinity;

--
-- Invalid schedules.  The error names the schedule, says what is wrong
-- with it, and lists the accepted forms.
--
\set VERBOSITY default
SELECT incremental._schedule_is_valid('61 * * * *');
SELECT incremental.schedule_next_run('every hour', '2024-03-30 22:17:30+00');
SELECT incremental.schedule_next_run('@hourly', '2024-03-30 22:17:30+00', 'Mars/Olympus_Mons');

-- One line per mistake
SELECT s AS schedule, pg_temp.problem(s) AS problem
FROM unnest(ARRAY[
	'',
	'   ',
	'* * * *',
	'* * * * * *',
	'0 0 0 * * * 2024',
	'60 * * * *',
	'* 24 * * *',
	'* * 0 * *',
	'* * 32 * *',
	'* * * 0 *',
	'* * * 13 *',
	'* * * * 8',
	'99999999999999999999 * * * *',
	'*/0 * * * *',
	'*/61 * * * *',
	'0 */25 * * *',
	'*/99999999999 * * * *',
	'5-1 * * * *',
	'0 0 * * sat-mon',
	'5/10 * * * *',
	'*/ * * * *',
	'1- * * * *',
	'-1 * * * *',
	'1-2-3 * * * *',
	',1 * * * *',
	'1, * * * *',
	'1,,2 * * * *',
	'x * * * *',
	'0 noon * * *',
	'* * * foo *',
	'* * * january *',
	'* * * * monday',
	'* * * * 1#2',
	'0 0 L * *',
	'? * * * *',
	'$ * * * *',
	'0 0 $-1 * *',
	'0 0 1-$ * *',
	'0 0 $/2 * *',
	'0 0 $$ * *',
	'0 0 * * $',
	'@',
	'@every',
	'@every 5m',
	'@hourly @daily',
	'garbage',
	'every 5 minutes',
	'10 fortnights',
	'10',
	'-5 minutes',
	'10 seconds ago',
	'0 seconds',
	'1 microsecond',
	'999 microseconds',
	'1 month',
	'1 year 1 day',
	'1 day -1 day',
	'99999999999999 days',
	'P1M',
	'ünïcödé * * * *',
	'1.5 * * * *',
	'10 seconds *',
	E'*\u00a0* * * *',
	E'* * * * *\u0001'
]) AS s;

-- Very long input is refused before any parsing
SELECT pg_temp.problem(repeat('1,', 600) || '1 * * * *') AS long_cron,
       pg_temp.problem(repeat('1 second ', 200)) AS long_interval;

DROP EXTENSION pg_incremental;
