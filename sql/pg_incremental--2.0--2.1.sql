/*
 * pg_incremental 2.0 to 2.1.
 *
 * CREATE EXTENSION pg_incremental installs 2.1 by running the 2.0 install
 * script and then this one, so a fresh catalog and an updated one are the
 * same by construction.  Columns are only ever appended (src/catalog/
 * reads them by attribute number).
 */

\echo Use "ALTER EXTENSION pg_incremental UPDATE" to load this file. \quit

/*
 * Pipelines without a source store 0, as pg_incremental 1.3 does, rather
 * than NULL: code written against 1.3's catalog tests source_relation = 0.
 */
UPDATE incremental.pipelines SET source_relation = 0 WHERE source_relation IS NULL;
ALTER TABLE incremental.pipelines
    ALTER COLUMN source_relation SET DEFAULT 0,
    ALTER COLUMN source_relation SET NOT NULL;

/*
 * 1.3's positional form with an untyped fifth argument,
 * create_sequence_pipeline('p', 't', 'cmd', NULL, 'false'): an unknown
 * literal (or a driver's untyped parameter) prefers a text parameter, so
 * this overload takes it as 1.3 did, as execute_immediately.  A typed
 * boolean still reaches the boolean overload, a number the 1.4 form.
 */
CREATE FUNCTION incremental.create_sequence_pipeline(text, regclass, text, text, text)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_create_sequence_pipeline_v13_untyped';
COMMENT ON FUNCTION incremental.create_sequence_pipeline(text, regclass, text, text, text)
 IS 'pg_incremental 1.3 positional form with an untyped execute_immediately';

/*
 * A file list pipeline records its list function when it is created, as
 * 1.3 does; 2.0 stored NULL for "the session's default at every run",
 * which let whoever controlled the session's settings choose the code the
 * pipeline's owner ran.  Such pipelines get the default in force now.
 */
UPDATE incremental.file_list_pipelines
SET list_function = COALESCE(pg_catalog.current_setting('incremental.default_file_list_function', true),
                             'incremental.list_local_files')
WHERE list_function IS NULL;
ALTER TABLE incremental.file_list_pipelines ALTER COLUMN list_function SET NOT NULL;

/*
 * The recorded name is schema-qualified, as creation now records it, so
 * that no later search_path chooses the function: each name is resolved
 * with its pipeline's recorded search_path, as its runs resolved it.  A
 * name that resolves to nothing is left as it is (its runs fail, saying
 * so).
 */
DO $qualify_list_functions$
DECLARE
    saved_path text := pg_catalog.current_setting('search_path');
    listed record;
    resolved pg_catalog.regprocedure;
BEGIN
    FOR listed IN
        SELECT f.pipeline_name, f.list_function, p.search_path
        FROM incremental.file_list_pipelines f
        JOIN incremental.pipelines p USING (pipeline_name)
    LOOP
        PERFORM pg_catalog.set_config('search_path', COALESCE(listed.search_path, saved_path), true);
        resolved := pg_catalog.to_regprocedure(listed.list_function OPERATOR(pg_catalog.||) '(text)');
        PERFORM pg_catalog.set_config('search_path', saved_path, true);

        IF resolved IS NULL THEN
            RAISE WARNING 'list function "%" of pipeline "%" does not exist',
                listed.list_function, listed.pipeline_name;
            CONTINUE;
        END IF;

        UPDATE incremental.file_list_pipelines
        SET list_function = (SELECT pg_catalog.format('%I.%I', n.nspname, pr.proname)
                             FROM pg_catalog.pg_proc pr
                             JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) pr.pronamespace
                             WHERE pr.oid OPERATOR(pg_catalog.=) resolved)
        WHERE pipeline_name OPERATOR(pg_catalog.=) listed.pipeline_name;
    END LOOP;
END;
$qualify_list_functions$;

/*
 * The pg_cron job of a pipeline that pg_cron runs is known by its ID, which
 * no other role can imitate; 2.0 found jobs by name or command, and so
 * could remove another role's job.  For pipelines already in pg_cron, the
 * ID is that of the job the pipeline's owner scheduled with the
 * pipeline's command.
 */
ALTER TABLE incremental.pipelines ADD COLUMN cron_job_id bigint;

DO $record_cron_jobs$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RETURN;
    END IF;

    EXECUTE $sql$
        UPDATE incremental.pipelines p
        SET cron_job_id = (
            SELECT j.jobid FROM cron.job j
            WHERE j.jobname LIKE 'pipeline:%'
              AND j.database OPERATOR(pg_catalog.=) pg_catalog.current_database()
              AND j.username OPERATOR(pg_catalog.=)
                  (SELECT r.rolname FROM pg_catalog.pg_roles r WHERE r.oid = p.owner_id)
              AND (j.command OPERATOR(pg_catalog.=)
                   pg_catalog.format('call incremental.execute_pipeline(%L)', p.pipeline_name)
                   OR j.jobname OPERATOR(pg_catalog.=)
                      ('pipeline:' OPERATOR(pg_catalog.||) p.pipeline_name)::pg_catalog.name)
            ORDER BY j.command OPERATOR(pg_catalog.=)
                     pg_catalog.format('call incremental.execute_pipeline(%L)', p.pipeline_name) DESC,
                     j.jobid
            LIMIT 1)
        WHERE p.scheduled_by OPERATOR(pg_catalog.=) 'pg_cron' $sql$;
END;
$record_cron_jobs$;

/*
 * The scheduler now runs a role's pipelines in a session logged in as that
 * role, and only while the role may log in (2.0 ran every pipeline in a
 * session of the bootstrap superuser).  Say which owners that stops.
 */
DO $owners_who_cannot_log_in$
DECLARE
    owner record;
BEGIN
    FOR owner IN
        SELECT DISTINCT p.owner_id::pg_catalog.oid AS role_id, a.rolname
        FROM incremental.pipelines p
        JOIN pg_catalog.pg_roles a ON a.oid OPERATOR(pg_catalog.=) p.owner_id::pg_catalog.oid
        WHERE p.schedule IS NOT NULL
          AND p.scheduled_by OPERATOR(pg_catalog.=) 'internal'
          AND (NOT a.rolcanlogin
               OR a.rolvaliduntil OPERATOR(pg_catalog.<) pg_catalog.now()
               OR NOT pg_catalog.has_database_privilege(a.oid, pg_catalog.current_database(), 'CONNECT'))
    LOOP
        RAISE WARNING 'the scheduled pipelines of role "%" will not run: the role may not log in to this database',
            owner.rolname
            USING HINT = 'Grant it LOGIN (and CONNECT on the database), or give its pipelines to a role '
                         'that may log in with REASSIGN OWNED.';
    END LOOP;
END;
$owners_who_cannot_log_in$;

/*
 * pipeline_stats gets a state 'blocked' (the owner may not log in, so the
 * scheduler does not run the pipeline), a state_detail column saying why
 * a pipeline is blocked or disabled, and a NULL pending where a sequence
 * went back below the progress (the run fails, saying so).  The view is
 * replaced in place, its new column last, so that views and grants that
 * depend on it stay; its query moves to a function of a new name, since a
 * function cannot change the columns it returns.
 */

/*
 * A sequence's last value as SELECT last_value FROM the sequence reads it
 * (NULL before its first value, or without SELECT or USAGE on it), without
 * the lock of nextval() that pg_sequence_last_value() takes: a monitoring
 * query in a long transaction would otherwise hold up the sequence's
 * pipelines, which wait for the holders of that lock.
 */
CREATE FUNCTION incremental._sequence_last_value(pg_catalog.regclass)
 RETURNS bigint
 LANGUAGE C STRICT STABLE
 AS 'MODULE_PATHNAME', 'incremental_sequence_last_value';

CREATE FUNCTION incremental._pipeline_statistics()
 RETURNS TABLE (pipeline_name text, pipeline_type text, owner regrole, schedule text,
                state text, runs bigint, failures bigint, consecutive_failures integer,
                last_run_start timestamptz, last_run_end timestamptz, last_status text,
                last_success timestamptz, last_error text, last_error_sqlstate text,
                next_run timestamptz, total_exec_time double precision,
                mean_exec_time double precision, items_processed bigint, pending bigint,
                lag interval, stats_reset timestamptz, state_detail text)
 LANGUAGE sql STABLE
 SET jit = off
 AS $function$
-- why an owner's pipelines cannot run, once per owner (D16: the scheduler
-- runs a role's pipelines in a session logged in as that role)
WITH owners AS MATERIALIZED (
    SELECT owner.owner_id,
           CASE
               WHEN a.oid IS NULL THEN
                   pg_catalog.format('its owner (role %s) was dropped', owner.owner_id::pg_catalog.oid)
               WHEN NOT a.rolcanlogin THEN
                   pg_catalog.format('role %I does not have the LOGIN attribute', a.rolname)
               WHEN a.rolvaliduntil OPERATOR(pg_catalog.<) pg_catalog.now() THEN
                   pg_catalog.format('the login of role %I expired at %s', a.rolname, a.rolvaliduntil)
               WHEN NOT pg_catalog.has_database_privilege(a.oid,
                        (SELECT d.oid FROM pg_catalog.pg_database d
                         WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()),
                        'CONNECT') THEN
                   pg_catalog.format('role %I may not connect to this database', a.rolname)
           END AS login_problem
    FROM (SELECT DISTINCT pp.owner_id::pg_catalog.oid AS owner_id FROM incremental.pipelines pp) owner
    LEFT JOIN pg_catalog.pg_roles a ON a.oid OPERATOR(pg_catalog.=) owner.owner_id),
-- the pipelines whose lock a run holds right now, read once
running AS MATERIALIZED (
    SELECT (l.classid::pg_catalog.int8 OPERATOR(pg_catalog.<<) 32)
           OPERATOR(pg_catalog.|) l.objid::pg_catalog.int8 AS lock_key
    FROM pg_catalog.pg_locks l
    WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'
      AND l.objsubid OPERATOR(pg_catalog.=) 18768
      AND l.granted
      AND l.database OPERATOR(pg_catalog.=)
          (SELECT oid FROM pg_catalog.pg_database
           WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database()))
SELECT
    p.pipeline_name,
    CASE p.pipeline_type
        WHEN 's' THEN 'sequence' WHEN 't' THEN 'time_interval' WHEN 'f' THEN 'file_list'
    END AS pipeline_type,
    p.owner_id AS owner,
    p.schedule,
    st.state,
    COALESCE(r.total_runs, 0) AS runs,
    COALESCE(r.total_failures, 0) AS failures,
    COALESCE(r.consecutive_failures, 0) AS consecutive_failures,
    r.started_at AS last_run_start,
    r.ended_at AS last_run_end,
    r.status AS last_status,
    r.last_success,
    CASE WHEN pg_catalog.pg_has_role(p.owner_id, 'USAGE') THEN r.last_error_message END AS last_error,
    CASE WHEN pg_catalog.pg_has_role(p.owner_id, 'USAGE') THEN r.last_error_sqlstate END AS last_error_sqlstate,
    CASE
        WHEN NOT sched.runnable OR p.paused OR o.login_problem IS NOT NULL THEN NULL
        ELSE GREATEST(incremental.schedule_next_run(p.schedule, pg_catalog.now()), r.next_retry_at)
    END AS next_run,
    COALESCE(r.total_exec_time, 0) AS total_exec_time,
    CASE WHEN r.total_runs OPERATOR(pg_catalog.>) 0
         THEN r.total_exec_time OPERATOR(pg_catalog./) r.total_runs END AS mean_exec_time,
    COALESCE(r.total_items, 0) AS items_processed,
    CASE p.pipeline_type
        WHEN 's' THEN
            NULLIF(GREATEST(COALESCE(incremental._sequence_last_value(s.sequence_name),
                                     s.initial_sequence_number)
                            OPERATOR(pg_catalog.-) s.last_processed_sequence_number, -1), -1)
        WHEN 't' THEN
            incremental._intervals_passed(t.start_time, t.time_interval, t.last_processed_time,
                                          pg_catalog.now() OPERATOR(pg_catalog.-) t.min_delay,
                                          t.time_zone)
    END AS pending,
    CASE p.pipeline_type
        WHEN 't' THEN GREATEST(pg_catalog.now() OPERATOR(pg_catalog.-) t.last_processed_time,
                               interval '0')
    END AS lag,
    r.stats_reset,
    CASE st.state
        WHEN 'blocked' THEN o.login_problem
        WHEN 'disabled' THEN
            CASE
                WHEN p.schedule IS NULL THEN 'runs only when executed by hand'
                WHEN p.scheduled_by OPERATOR(pg_catalog.=) 'pg_cron' THEN 'scheduled by pg_cron'
                ELSE 'the built-in scheduler is not running'
            END
    END AS state_detail
FROM incremental.pipelines p
CROSS JOIN LATERAL (SELECT p.schedule IS NOT NULL
                       AND p.scheduled_by OPERATOR(pg_catalog.=) 'internal'
                       AND incremental._scheduler_active() AS runnable) sched
LEFT JOIN owners o ON o.owner_id OPERATOR(pg_catalog.=) p.owner_id::pg_catalog.oid
LEFT JOIN incremental.sequence_pipelines s USING (pipeline_name)
LEFT JOIN incremental.time_interval_pipelines t USING (pipeline_name)
LEFT JOIN LATERAL (
    SELECT * FROM incremental.pipeline_runs pr
    WHERE pr.pipeline_name OPERATOR(pg_catalog.=) p.pipeline_name
    ORDER BY pr.run_id DESC LIMIT 1) r ON true
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN incremental._pipeline_lock_key(p.pipeline_name) IN (SELECT lock_key FROM running)
            THEN 'running'
        WHEN p.paused THEN 'paused'
        WHEN sched.runnable AND o.login_problem IS NOT NULL THEN 'blocked'
        WHEN r.consecutive_failures OPERATOR(pg_catalog.>) 0 THEN 'failing'
        WHEN NOT sched.runnable THEN 'disabled'
        ELSE 'idle'
    END AS state) st
$function$;

CREATE OR REPLACE VIEW incremental.pipeline_stats AS
SELECT * FROM incremental._pipeline_statistics();
DROP FUNCTION incremental._pipeline_stats();

