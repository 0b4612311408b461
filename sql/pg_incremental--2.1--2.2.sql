/*
 * pg_incremental 2.1 to 2.2: continuous views.
 *
 * A continuous view is a view over a storage table that a sequence
 * pipeline keeps up to date: each batch of new source rows is aggregated
 * and merged into the stored state (src/continuous_views/).  This table
 * records which views are continuous views, and what keeps each one.
 */

\echo Use "ALTER EXTENSION pg_incremental UPDATE" to load this file. \quit

/*
 * A sequence pipeline may run its command in a time zone of its own, as
 * time interval pipelines do: a continuous view's batches compute its time
 * buckets in the zone the view was created in, whoever runs them.  NULL,
 * for pipelines created with create_sequence_pipeline: the session's.
 */
ALTER TABLE incremental.sequence_pipelines ADD COLUMN time_zone text;

CREATE TABLE incremental.continuous_view_definitions (
    view_name regclass NOT NULL PRIMARY KEY,
    pipeline_name text COLLATE "C" NOT NULL UNIQUE,
    source_table regclass NOT NULL,
    storage_table regclass NOT NULL,
    query text NOT NULL,
    realtime boolean NOT NULL,
    distinct_mode text,
    distinct_tables regclass[] NOT NULL DEFAULT '{}',
    ttl interval CHECK (ttl > '0'),
    ttl_column text,
    maintenance_pipeline text COLLATE "C",
    sliding_window interval,
    read_tables regclass[] NOT NULL DEFAULT '{}',
    window_column text,
    sliding_column text,
    partition_column text,
    partition_duration interval,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
SELECT pg_catalog.pg_extension_config_dump('incremental.continuous_view_definitions', '');
REVOKE ALL ON incremental.continuous_view_definitions FROM PUBLIC;
GRANT SELECT ON incremental.continuous_view_definitions TO PUBLIC;

/*
 * A continuous view depends on the tables its query reads, and it and its
 * tables on the extension: DROP TABLE of a source or lookup table and DROP
 * EXTENSION need CASCADE.  pg_dump keeps no such dependency, so they are
 * recorded whenever a row arrives, by creation or by pg_restore.
 */
CREATE FUNCTION incremental._record_continuous_view_dependencies()
 RETURNS trigger
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_record_continuous_view_dependencies';
REVOKE ALL ON FUNCTION incremental._record_continuous_view_dependencies() FROM PUBLIC;

CREATE TRIGGER record_dependencies
 AFTER INSERT ON incremental.continuous_view_definitions
 FOR EACH ROW
 EXECUTE FUNCTION incremental._record_continuous_view_dependencies();

/*
 * Merging float moments across stored rows, as PostgreSQL's own parallel
 * aggregation merges them: {n, Σx, Σ(x-x̄)²} and the six moments of the
 * regression aggregates {n, Σx, Σ(x-x̄)², Σy, Σ(y-ȳ)², Σ(x-x̄)(y-ȳ)}.
 * Real-time views use them, and so can queries that roll a continuous
 * view's storage up to a coarser grain.
 */
CREATE AGGREGATE incremental.merge_moments(double precision[]) (
    SFUNC = pg_catalog.float8_combine,
    STYPE = double precision[],
    INITCOND = '{0,0,0}',
    COMBINEFUNC = pg_catalog.float8_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE incremental.merge_moments(double precision[])
 IS 'merge {n, sum(x), sum((x - mean)^2)} states of float variances';

CREATE AGGREGATE incremental.merge_regr_moments(double precision[]) (
    SFUNC = pg_catalog.float8_regr_combine,
    STYPE = double precision[],
    INITCOND = '{0,0,0,0,0,0}',
    COMBINEFUNC = pg_catalog.float8_regr_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE incremental.merge_regr_moments(double precision[])
 IS 'merge the six moments of the regression aggregates';

CREATE FUNCTION incremental.create_continuous_view(
    view_name text,
    query text,
    schedule text DEFAULT '* * * * *',
    max_batch_size bigint DEFAULT 100000,
    realtime boolean DEFAULT false,
    "distinct" text DEFAULT NULL,
    ttl interval DEFAULT NULL,
    ttl_column text DEFAULT NULL,
    sliding_window interval DEFAULT NULL,
    sliding_column text DEFAULT NULL,
    partition_by text DEFAULT NULL,
    partition_duration interval DEFAULT NULL)
 RETURNS regclass
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_create_continuous_view';
COMMENT ON FUNCTION incremental.create_continuous_view(text, text, text, bigint, boolean, text, interval, text, interval, text, text, interval)
 IS 'create a view of an aggregate query whose storage a sequence pipeline keeps up to date';

/*
 * What the next run of a pipeline would process, batch by batch: the
 * first and last item (sequence value, interval bound or file), how many
 * items, and the command with its arguments.  Nothing runs, and no lock
 * that writers or a run wait for is taken.
 */
CREATE FUNCTION incremental.preview_pipeline(pipeline_name text, max_batches integer DEFAULT 100)
 RETURNS TABLE (batch integer, first_item text, last_item text, items bigint,
                command text, arguments text[])
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_preview_pipeline';
COMMENT ON FUNCTION incremental.preview_pipeline(text, integer)
 IS 'show what the next run of a pipeline would process, without running it';

/*
 * Poison batches: after max_consecutive_failures failed runs in a row (the
 * pipeline's own, or incremental.max_consecutive_failures; 0: never) the
 * scheduler pauses the pipeline and says why in paused_reason, which
 * pipeline_stats shows as the paused state's detail.  resume_pipeline and
 * pause_pipeline clear it.
 */
ALTER TABLE incremental.pipelines
    ADD COLUMN max_consecutive_failures integer CHECK (max_consecutive_failures >= 0),
    ADD COLUMN paused_reason text;

CREATE OR REPLACE FUNCTION incremental._pipeline_statistics()
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
        WHEN 'paused' THEN p.paused_reason
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

/*
 * Changing a pipeline without dropping it: each setting given is checked
 * as creation checks it and applies from the next batch; NULL keeps a
 * setting.  max_batch_size 0 removes a sequence pipeline's limit.
 */
CREATE FUNCTION incremental.alter_pipeline(
    pipeline_name text,
    schedule text DEFAULT NULL,
    command text DEFAULT NULL,
    max_batch_size bigint DEFAULT NULL,
    min_delay interval DEFAULT NULL,
    max_consecutive_failures integer DEFAULT NULL)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_alter_pipeline';
COMMENT ON FUNCTION incremental.alter_pipeline(text, text, text, bigint, interval, integer)
 IS 'change a pipeline''s schedule, command, batch size or minimum delay, keeping its progress';

CREATE FUNCTION incremental.rename_pipeline(pipeline_name text, new_name text)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_rename_pipeline';
COMMENT ON FUNCTION incremental.rename_pipeline(text, text)
 IS 'rename a pipeline, keeping its progress, history and pg_cron job';

/*
 * Skipping a range a pipeline cannot process (a poison batch): the progress
 * moves past it, and the run history records the skip and who made it.
 */
ALTER TABLE incremental.pipeline_runs
    DROP CONSTRAINT pipeline_runs_status_check,
    ADD CONSTRAINT pipeline_runs_status_check
        CHECK (status IN ('succeeded', 'failed', 'skipped')),
    ADD COLUMN skipped_by text;

CREATE FUNCTION incremental.skip_range(pipeline_name text, range_start text, range_end text)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_skip_range';
COMMENT ON FUNCTION incremental.skip_range(text, text, text)
 IS 'move a pipeline past a range it has not processed, and record who skipped it';

/* The pipeline of a continuous view, for the functions below */
CREATE FUNCTION incremental._continuous_view_pipeline(view regclass)
 RETURNS text
 LANGUAGE plpgsql STABLE
 SET search_path = pg_catalog, pg_temp
 AS $function$
DECLARE
    name text;
BEGIN
    SELECT d.pipeline_name INTO name
    FROM incremental.continuous_view_definitions d
    WHERE d.view_name OPERATOR(pg_catalog.=) view;
    IF name IS NULL THEN
        RAISE EXCEPTION '"%" is not a continuous view', view
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'incremental.continuous_views lists the continuous views.';
    END IF;
    RETURN name;
END;
$function$;

CREATE FUNCTION incremental.pause_continuous_view(view regclass)
 RETURNS void
 LANGUAGE sql
 SET search_path = pg_catalog, pg_temp
 AS $function$
SELECT incremental.pause_pipeline(incremental._continuous_view_pipeline(view));
$function$;
COMMENT ON FUNCTION incremental.pause_continuous_view(regclass)
 IS 'stop updating a continuous view; new rows wait, none are lost';

CREATE FUNCTION incremental.resume_continuous_view(view regclass)
 RETURNS void
 LANGUAGE sql
 SET search_path = pg_catalog, pg_temp
 AS $function$
SELECT incremental.resume_pipeline(incremental._continuous_view_pipeline(view));
$function$;
COMMENT ON FUNCTION incremental.resume_continuous_view(regclass)
 IS 'update a paused continuous view again, from where it stopped';

/*
 * Emptying the storage takes its ACCESS EXCLUSIVE lock, so it waits for a
 * batch that is merging into it, and the next batch starts from empty.
 */
CREATE FUNCTION incremental.truncate_continuous_view(view regclass)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path = pg_catalog, pg_temp
 AS $function$
BEGIN
    PERFORM incremental._continuous_view_pipeline(view);
    EXECUTE (SELECT pg_catalog.format('TRUNCATE %s', pg_catalog.array_to_string(
                 d.storage_table OPERATOR(pg_catalog.||) d.distinct_tables, ', '))
             FROM incremental.continuous_view_definitions d
             WHERE d.view_name OPERATOR(pg_catalog.=) view);
END;
$function$;
COMMENT ON FUNCTION incremental.truncate_continuous_view(regclass)
 IS 'empty a continuous view''s summary and keep counting new rows from here';

/*
 * Rebuilding resets the pipeline (taking its lock, so no batch runs in
 * between) and empties the storage in one transaction; the pipeline then
 * processes the whole source again in committed batches.
 */
CREATE FUNCTION incremental.rebuild_continuous_view(view regclass)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_rebuild_continuous_view';
COMMENT ON FUNCTION incremental.rebuild_continuous_view(regclass)
 IS 'recompute a continuous view from all rows of its source, in committed batches';

/*
 * The work of a continuous view's maintenance pipeline (<pipeline>:maintenance,
 * every minute, as the view's owner; 'at' is the end of the passed interval):
 *  - partitioned storage: partitions for the next three durations, and for
 *    rows that landed in the DEFAULT partition (a backfill, late rows),
 *    which are moved into them; partitions wholly expired are dropped;
 *  - expired groups (older than the TTL, or steps one step past a sliding
 *    window) are deleted, at most 50,000 rows per table per run, from the
 *    storage and the side tables of exact distinct counts.
 * The definition is read at every run, so set_ttl takes effect at the next.
 */
CREATE FUNCTION incremental._maintain_continuous_view(view_pipeline text, at timestamptz)
 RETURNS bigint
 LANGUAGE plpgsql
 SET search_path = pg_catalog, pg_temp
 AS $function$
DECLARE
    d incremental.continuous_view_definitions;
    storage_name text;
    storage_schema text;
    default_partition text;
    key_type regtype;
    bin_type text;
    expiry_column text;
    cutoff timestamptz;
    part record;
    part_name text;
    locked boolean := false;
    changed bigint := 0;
    deleted bigint;
    t regclass;
BEGIN
    SELECT * INTO d FROM incremental.continuous_view_definitions c
    WHERE c.pipeline_name OPERATOR(pg_catalog.=) view_pipeline;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    cutoff := CASE
        WHEN d.ttl IS NOT NULL THEN at OPERATOR(pg_catalog.-) d.ttl
        WHEN d.sliding_window IS NOT NULL
        THEN (at OPERATOR(pg_catalog.-) d.sliding_window)
                OPERATOR(pg_catalog.-) (d.sliding_window OPERATOR(pg_catalog./) 20)
    END;
    expiry_column := coalesce(d.ttl_column, d.window_column);

    IF d.partition_column IS NOT NULL THEN
        SELECT c.relname, n.nspname INTO storage_name, storage_schema
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
        WHERE c.oid OPERATOR(pg_catalog.=) d.storage_table::oid;
        default_partition := pg_catalog.format('%I.%I', storage_schema,
                                pg_catalog.left(storage_name, 55) OPERATOR(pg_catalog.||) '_default');
        SELECT a.atttypid::regtype INTO key_type FROM pg_catalog.pg_attribute a
        WHERE a.attrelid OPERATOR(pg_catalog.=) d.storage_table::oid
          AND a.attname OPERATOR(pg_catalog.=) d.partition_column;
        -- timestamps bin as such, dates as the midnight of their day; time
        -- zones bin from midnight UTC, and partitions are named in UTC
        bin_type := CASE WHEN key_type OPERATOR(pg_catalog.=) 'timestamptz'::regtype
                         THEN 'timestamptz' ELSE 'timestamp' END;

        -- the partitions the next batches write, and those of rows in DEFAULT
        FOR part IN EXECUTE pg_catalog.format(
            'SELECT b::%2$s::text AS low, (b OPERATOR(pg_catalog.+) %1$L::interval)::%2$s::text AS high, '
            '       pg_catalog.to_char(b%6$s, ''YYYYMMDD_HH24MISS'') AS label '
            'FROM (SELECT pg_catalog.date_bin(%1$L, $1::%3$s, %7$L::%3$s) '
            '             OPERATOR(pg_catalog.+) (k OPERATOR(pg_catalog.*) %1$L::interval) AS b '
            '      FROM pg_catalog.generate_series(0, 2) k '
            '      UNION SELECT * FROM (SELECT DISTINCT pg_catalog.date_bin(%1$L, %4$I::%3$s, %7$L::%3$s) '
            '                           FROM %5$s WHERE %4$I IS NOT NULL LIMIT 16) r) bins '
            'WHERE $2 IS NULL OR b OPERATOR(pg_catalog.+) %1$L::interval OPERATOR(pg_catalog.>) $2 '
            'ORDER BY b',
            d.partition_duration, key_type, bin_type, d.partition_column, default_partition,
            CASE WHEN bin_type OPERATOR(pg_catalog.=) 'timestamptz' THEN ' AT TIME ZONE ''UTC''' ELSE '' END,
            CASE WHEN bin_type OPERATOR(pg_catalog.=) 'timestamptz' THEN '2000-01-01 00:00:00+00'
                 ELSE '2000-01-01 00:00:00' END)
            USING at, cutoff
        LOOP
            part_name := pg_catalog.format('%I.%I', storage_schema,
                pg_catalog.left(storage_name, 40) OPERATOR(pg_catalog.||) '_p' OPERATOR(pg_catalog.||) part.label);
            CONTINUE WHEN pg_catalog.to_regclass(part_name) IS NOT NULL;
            IF NOT locked THEN
                -- batches wait for the move; taken first, so none deadlocks with it
                EXECUTE pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', d.storage_table);
                locked := true;
            END IF;
            EXECUTE pg_catalog.format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                                      part_name, d.storage_table);
            EXECUTE pg_catalog.format('WITH moved AS (DELETE FROM %1$s WHERE %2$I >= %3$L::%6$s AND %2$I < %4$L::%6$s '
                                      'RETURNING *) INSERT INTO %5$s SELECT * FROM moved',
                                      default_partition, d.partition_column, part.low, part.high, part_name,
                                      key_type);
            EXECUTE pg_catalog.format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)',
                                      d.storage_table, part_name, part.low, part.high);
            changed := changed OPERATOR(pg_catalog.+) 1;
        END LOOP;

        -- partitions that hold only expired groups go whole
        IF cutoff IS NOT NULL THEN
            FOR t IN
                SELECT i.inhrelid::regclass FROM pg_catalog.pg_inherits i
                JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
                WHERE i.inhparent OPERATOR(pg_catalog.=) d.storage_table::oid
                  AND pg_catalog.pg_get_expr(c.relpartbound, c.oid) OPERATOR(pg_catalog.~) '^FOR VALUES FROM'
                  AND (pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                               'TO \(''([^'']*)''\)'))[1]::timestamptz
                      OPERATOR(pg_catalog.<=) cutoff
            LOOP
                IF NOT locked THEN
                    EXECUTE pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', d.storage_table);
                    locked := true;
                END IF;
                EXECUTE pg_catalog.format('DROP TABLE %s', t);
                changed := changed OPERATOR(pg_catalog.+) 1;
            END LOOP;
        END IF;
    END IF;

    -- expired groups, in bounded batches; (tableoid, ctid) is unique across partitions
    IF cutoff IS NOT NULL THEN
        FOR t IN SELECT unnest(d.storage_table OPERATOR(pg_catalog.||) d.distinct_tables) LOOP
            EXECUTE pg_catalog.format(
                'DELETE FROM %1$s WHERE (tableoid, ctid) IN '
                '(SELECT tableoid, ctid FROM %1$s WHERE %2$I < $1 LIMIT 50000)', t, expiry_column)
                USING cutoff;
            GET DIAGNOSTICS deleted = ROW_COUNT;
            changed := changed OPERATOR(pg_catalog.+) deleted;
        END LOOP;
    END IF;

    RETURN changed;
END;
$function$;

CREATE FUNCTION incremental.set_ttl(view regclass, ttl interval)
 RETURNS void
 LANGUAGE C
 AS 'MODULE_PATHNAME', 'incremental_set_ttl';
COMMENT ON FUNCTION incremental.set_ttl(regclass, interval)
 IS 'change how long a continuous view keeps its groups (NULL: forever)';

/*
 * Dropping a continuous view drops its pipeline and storage, however the
 * view is dropped (DROP VIEW, DROP SCHEMA ... CASCADE, DROP OWNED).  The
 * storage cannot be dropped on its own: the view reads it.
 */
CREATE FUNCTION incremental._drop_continuous_view_trigger()
 RETURNS event_trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path = pg_catalog, pg_temp
 AS $function$
DECLARE
    dropped record;
    table_id oid;
BEGIN
    FOR dropped IN
        DELETE FROM incremental.continuous_view_definitions d
        WHERE d.view_name::oid OPERATOR(pg_catalog.=) ANY (
            SELECT o.objid FROM pg_catalog.pg_event_trigger_dropped_objects() o
            WHERE o.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::regclass
              AND o.objsubid OPERATOR(pg_catalog.=) 0)
        RETURNING d.pipeline_name, d.maintenance_pipeline, d.storage_table::oid AS storage_id,
                  d.distinct_tables::oid[] AS side_ids
    LOOP
        DELETE FROM incremental.pipelines p
        WHERE p.pipeline_name OPERATOR(pg_catalog.=) dropped.pipeline_name
           OR p.pipeline_name OPERATOR(pg_catalog.=) dropped.maintenance_pipeline;
        FOR table_id IN
            SELECT c.oid FROM pg_catalog.pg_class c
            WHERE c.oid OPERATOR(pg_catalog.=) ANY (dropped.storage_id OPERATOR(pg_catalog.||) dropped.side_ids)
        LOOP
            EXECUTE pg_catalog.format('DROP TABLE %s', table_id::regclass);
        END LOOP;
    END LOOP;
END;
$function$;
REVOKE ALL ON FUNCTION incremental._drop_continuous_view_trigger() FROM PUBLIC;

CREATE EVENT TRIGGER incremental_drop_continuous_view_trigger
 ON sql_drop
 EXECUTE FUNCTION incremental._drop_continuous_view_trigger();

CREATE VIEW incremental.continuous_views AS
SELECT d.view_name,
       d.source_table,
       d.storage_table,
       d.pipeline_name,
       d.query,
       d.realtime,
       d.distinct_mode,
       d.distinct_tables,
       d.ttl,
       d.ttl_column,
       d.sliding_window,
       d.partition_column,
       d.partition_duration,
       d.maintenance_pipeline,
       p.schedule,
       s.max_batch_size,
       st.state,
       st.pending,
       st.last_run_end,
       st.last_error,
       d.created_at
FROM incremental.continuous_view_definitions d
JOIN incremental.pipelines p USING (pipeline_name)
JOIN incremental.sequence_pipelines s USING (pipeline_name)
LEFT JOIN incremental.pipeline_stats st USING (pipeline_name);
GRANT SELECT ON incremental.continuous_views TO PUBLIC;
COMMENT ON VIEW incremental.continuous_views
 IS 'continuous views, with their storage, pipeline and how up to date they are';
