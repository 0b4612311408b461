/*
 * pg_incremental 2.5 to 2.6: continuous views on Citus keep their storage
 * beside the source's shards.
 *
 * A view grouped by the distribution column of a distributed source has
 * its storage distributed, co-located (src/continuous_views/cv_placement.c).
 * The expiry of a ttl or a sliding window deleted in batches chosen by
 * ctid, which Citus cannot plan on a distributed table: on one, each shard
 * now deletes its expired groups at once.  Whether a table is distributed
 * is asked of src/distributed/, through _is_distributed_table().
 *
 * A sequence pipeline's pending values in pipeline_stats counted the
 * coordinator's group only.  Each run now records, per other node group,
 * the last value it saw there (last_seen_sequence_number), and pending
 * adds what those groups had beyond their progress at the last run.
 */

\echo Use "ALTER EXTENSION pg_incremental UPDATE" to load this file. \quit

CREATE FUNCTION incremental._is_distributed_table(relation regclass)
 RETURNS bool
 LANGUAGE C STRICT STABLE
 AS 'MODULE_PATHNAME', 'incremental_is_distributed_table';
COMMENT ON FUNCTION incremental._is_distributed_table(regclass)
 IS 'whether Citus keeps the table (distributed, reference or Citus local): false without Citus';

CREATE OR REPLACE FUNCTION incremental._maintain_continuous_view(view_pipeline text, at timestamptz)
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

    -- expired groups, in bounded batches; (tableoid, ctid) is unique across
    -- partitions.  Citus cannot plan that on a distributed storage, whose
    -- shards each delete theirs at once.
    IF cutoff IS NOT NULL THEN
        FOR t IN SELECT unnest(d.storage_table OPERATOR(pg_catalog.||) d.distinct_tables) LOOP
            IF incremental._is_distributed_table(t) THEN
                EXECUTE pg_catalog.format('DELETE FROM %1$s WHERE %2$I < $1', t, expiry_column)
                    USING cutoff;
            ELSE
                EXECUTE pg_catalog.format(
                    'DELETE FROM %1$s WHERE (tableoid, ctid) IN '
                    '(SELECT tableoid, ctid FROM %1$s WHERE %2$I < $1 LIMIT 50000)', t, expiry_column)
                    USING cutoff;
            END IF;
            GET DIAGNOSTICS deleted = ROW_COUNT;
            changed := changed OPERATOR(pg_catalog.+) deleted;
        END LOOP;
    END IF;

    RETURN changed;
END;
$function$;

ALTER TABLE incremental.sequence_pipeline_node_groups
    ADD COLUMN last_seen_sequence_number bigint;
COMMENT ON COLUMN incremental.sequence_pipeline_node_groups.last_seen_sequence_number
    IS 'the last value of the group''s sequence at the last run that read it (NULL: none yet)';

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
            -- on Citus, the other node groups' values seen by the last run
            OPERATOR(pg_catalog.+)
            COALESCE((SELECT pg_catalog.sum(GREATEST(g.last_seen_sequence_number
                                                     OPERATOR(pg_catalog.-)
                                                     g.last_processed_sequence_number, 0))
                      FROM incremental.sequence_pipeline_node_groups g
                      WHERE g.pipeline_name OPERATOR(pg_catalog.=) p.pipeline_name), 0)::bigint
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
CROSS JOIN LATERAL (SELECT (p.schedule IS NOT NULL
                            OR EXISTS (SELECT FROM incremental.pipeline_dependencies d
                                       WHERE d.pipeline_name OPERATOR(pg_catalog.=) p.pipeline_name))
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
