
/* ---- end of the 2.0 install script: copy the 1.x catalog across ---- */

DO $upgrade$
DECLARE
    -- where the schedules of the pipeline:<name> cron jobs go
    keep_in_pg_cron boolean :=
        pg_catalog.current_setting('incremental.scheduler', true) IS NOT DISTINCT FROM 'pg_cron';
    has_max_batch_size boolean := EXISTS (
        SELECT 1 FROM pg_catalog.pg_attribute
        WHERE attrelid = 'incremental_1x_upgrade.sequence_pipelines'::pg_catalog.regclass
          AND attname = 'max_batch_size' AND NOT attisdropped);
    job record;
BEGIN
    -- 1.x had no schedule column: until a cron job says otherwise, manual only
    INSERT INTO incremental.pipelines
        (pipeline_name, pipeline_type, owner_id, source_relation, command, search_path,
         schedule, paused, scheduled_by)
    SELECT pipeline_name, pipeline_type, owner_id::pg_catalog.regrole, source_relation,
           command, search_path, NULL, false, 'internal'
    FROM incremental_1x_upgrade.pipelines;

    -- progress as it was; a reset goes back to 0, as in 1.x
    EXECUTE pg_catalog.format($sql$
        INSERT INTO incremental.sequence_pipelines
            (pipeline_name, sequence_name, last_processed_sequence_number, max_batch_size,
             initial_sequence_number)
        SELECT pipeline_name, sequence_name, COALESCE(last_processed_sequence_number, 0),
               %s, 0
        FROM incremental_1x_upgrade.sequence_pipelines $sql$,
        CASE WHEN has_max_batch_size
             THEN 'CASE WHEN max_batch_size > 0 THEN max_batch_size END'
             ELSE 'NULL::bigint' END);

    /*
     * 1.x ended intervals at date_bin(time_interval, now() - min_delay,
     * '2001-01-01'), the origin read in the session's time zone, and began
     * each run at last_processed_time.  2.0 begins at last_processed_time
     * too and ends at start_time + k * time_interval in time_zone: with
     * start_time on 1.x's grid at or before the progress mark and this
     * session's zone, the next range starts exactly where 1.x stopped and
     * ends on 1.x's grid.  (Intervals with months could never run in 1.x.)
     */
    INSERT INTO incremental.time_interval_pipelines
        (pipeline_name, time_interval, batched, min_delay, last_processed_time, start_time,
         time_zone)
    SELECT pipeline_name, time_interval, batched, min_delay, progress,
           CASE WHEN pg_catalog.date_part('year', time_interval) = 0
                 AND pg_catalog.date_part('month', time_interval) = 0
                THEN pg_catalog.date_bin(time_interval, progress,
                                         '2001-01-01 00:00'::timestamptz)
                ELSE progress END,
           pg_catalog.current_setting('TimeZone')
    FROM (SELECT *, COALESCE(last_processed_time, '2000-01-01 00:00+00'::timestamptz) AS progress
          FROM incremental_1x_upgrade.time_interval_pipelines) t;

    INSERT INTO incremental.file_list_pipelines
        (pipeline_name, file_pattern, batched, list_function, max_batch_size,
         max_batches_per_run)
    SELECT pipeline_name, file_pattern, batched, list_function,
           CASE WHEN max_batch_size > 0 THEN max_batch_size ELSE 100 END, -1
    FROM incremental_1x_upgrade.file_list_pipelines;

    INSERT INTO incremental.processed_files (pipeline_name, path)
    SELECT pipeline_name, path FROM incremental_1x_upgrade.processed_files;

    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RETURN;
    END IF;

    /*
     * Each pipeline's cron job: named pipeline:<name> (cut to 63 bytes by
     * pg_cron) or running its command.  A job's schedule and active flag
     * become the pipeline's schedule and paused flag.
     */
    FOR job IN
        SELECT DISTINCT ON (p.pipeline_name) p.pipeline_name, j.jobid, j.schedule, j.active
        FROM incremental.pipelines p
        JOIN cron.job j
          ON j.jobname LIKE 'pipeline:%'
         AND j.database = pg_catalog.current_database()
         -- the owner's own jobs only: another role's job of that name is not ours
         AND j.username = (SELECT r.rolname FROM pg_catalog.pg_roles r WHERE r.oid = p.owner_id)
         AND (j.jobname = ('pipeline:' || p.pipeline_name)::name
              OR j.command = pg_catalog.format('call incremental.execute_pipeline(%L)',
                                               p.pipeline_name))
        ORDER BY p.pipeline_name,
                 j.command = pg_catalog.format('call incremental.execute_pipeline(%L)',
                                               p.pipeline_name) DESC,
                 j.jobid
    LOOP
        BEGIN
            UPDATE incremental.pipelines
            SET schedule = job.schedule, paused = NOT job.active,
                scheduled_by = CASE WHEN keep_in_pg_cron THEN 'pg_cron' ELSE 'internal' END
            WHERE pipeline_name = job.pipeline_name;

            IF NOT keep_in_pg_cron THEN
                PERFORM cron.unschedule(job.jobid);
            END IF;
        EXCEPTION WHEN OTHERS THEN
            -- a schedule the built-in scheduler cannot read: pg_cron keeps it
            RAISE WARNING 'pipeline "%" stays scheduled by pg_cron job %: %',
                job.pipeline_name, job.jobid, SQLERRM;
            UPDATE incremental.pipelines
            SET paused = NOT job.active, scheduled_by = 'pg_cron'
            WHERE pipeline_name = job.pipeline_name;
        END;
    END LOOP;
END;
$upgrade$;

/* The 1.x catalog: a user's view on it stops the upgrade rather than vanish */
DROP TABLE incremental_1x_upgrade.processed_files, incremental_1x_upgrade.file_list_pipelines,
           incremental_1x_upgrade.time_interval_pipelines,
           incremental_1x_upgrade.sequence_pipelines, incremental_1x_upgrade.pipelines;

DO $drop_routines$
DECLARE
    routine regprocedure;
BEGIN
    FOR routine IN
        SELECT oid FROM pg_catalog.pg_proc
        WHERE pronamespace = 'incremental_1x_upgrade'::regnamespace
    LOOP
        EXECUTE pg_catalog.format('DROP ROUTINE %s', routine);
    END LOOP;
END;
$drop_routines$;

DROP SCHEMA incremental_1x_upgrade;
