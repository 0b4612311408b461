--
-- incremental.scheduler, and upgrades from pg_incremental 1.3 and 1.4.
-- pg_cron is not installed here: the pg_cron mode must refuse clearly and
-- create nothing.  The pg_cron side is tested in test/tap/080 and 081.
--
CREATE SCHEMA scheduler_setting;
SET search_path = scheduler_setting, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

CREATE EXTENSION pg_incremental;

CREATE TABLE events (id bigserial PRIMARY KEY, value int);
INSERT INTO events (value) SELECT g FROM generate_series(1, 5) g;

-- The setting: internal by default, pg_cron on request, nothing else
SHOW incremental.scheduler;
SET incremental.scheduler = 'cron';
SET incremental.scheduler = 'pg_cron';

-- Without pg_cron, a scheduled pipeline cannot be created in pg_cron mode
SELECT incremental.create_sequence_pipeline('cron-mode', 'events', $$ SELECT $1, $2 $$,
                                            schedule := '* * * * *');
SELECT count(*) AS pipelines FROM incremental.pipelines;

-- A pipeline without a schedule needs no scheduler
SELECT incremental.create_sequence_pipeline('manual', 'events', $$ SELECT $1, $2 $$,
                                            schedule := NULL, execute_immediately := false);
SELECT pipeline_name, schedule, scheduled_by FROM incremental.pipelines;

-- Moving between schedulers: pg_cron is required, names are checked
RESET incremental.scheduler;
SELECT incremental.create_sequence_pipeline('internal', 'events', $$ SELECT $1, $2 $$,
                                            schedule := '10 seconds', execute_immediately := false);
SELECT incremental.move_pipeline_schedule('internal', 'pg_cron');
SELECT incremental.move_pipeline_schedule('internal', 'elsewhere');
SELECT incremental.move_pipeline_schedule('internal', NULL);
SELECT incremental.move_all_pipeline_schedules('pg_cron');
-- moving to where a pipeline already is changes nothing
SELECT incremental.move_all_pipeline_schedules('internal');
SELECT pipeline_name, schedule, scheduled_by FROM incremental.pipelines ORDER BY 1;

-- The column only takes the two schedulers
\set VERBOSITY terse
UPDATE incremental.pipelines SET scheduled_by = 'cron';
\set VERBOSITY default

DROP EXTENSION pg_incremental;

--
-- The catalog of a fresh 2.0 install, as text, to compare with an upgrade
--

CREATE TABLE shapes (install text, item text);
CREATE FUNCTION shape_differences(upgrade text) RETURNS TABLE (only_in text, item text)
LANGUAGE sql AS $$
    (SELECT 'fresh', item FROM shapes WHERE install = 'fresh'
     EXCEPT SELECT 'fresh', item FROM shapes WHERE install = upgrade)
    UNION ALL
    (SELECT upgrade, item FROM shapes WHERE install = upgrade
     EXCEPT SELECT upgrade, item FROM shapes WHERE install = 'fresh')
$$;

CREATE EXTENSION pg_incremental;
CREATE FUNCTION catalog_shape() RETURNS SETOF text LANGUAGE sql AS $$
    SELECT 'version ' || extversion FROM pg_extension WHERE extname = 'pg_incremental'
    UNION ALL
    SELECT 'schema acl ' || coalesce(nspacl::text, '-')
    FROM pg_namespace WHERE nspname = 'incremental'
    UNION ALL
    SELECT format('relation %s kind %s acl %s rls %s', relname, relkind, relacl, relrowsecurity)
    FROM pg_class WHERE relnamespace = 'incremental'::regnamespace
    UNION ALL
    SELECT format('column %s.%s %s %s collate %s not null %s default %s identity %s',
                  c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
                  co.collname, a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity)
    FROM pg_class c
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_collation co ON co.oid = a.attcollation
    LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
    WHERE c.relnamespace = 'incremental'::regnamespace
    UNION ALL
    SELECT format('constraint %s on %s: %s', conname, conrelid::regclass, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace = 'incremental'::regnamespace
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
    WHERE c.relnamespace = 'incremental'::regnamespace
    UNION ALL
    SELECT format('routine %s acl %s: %s', p.oid::regprocedure, p.proacl, pg_get_functiondef(p.oid))
    FROM pg_proc p WHERE p.pronamespace = 'incremental'::regnamespace AND p.prokind <> 'a'
    UNION ALL
    SELECT format('aggregate %s acl %s: %s %s %s %s', p.oid::regprocedure, p.proacl,
                  a.aggtransfn, a.aggcombinefn, a.aggtranstype::regtype, a.agginitval)
    FROM pg_proc p JOIN pg_aggregate a ON a.aggfnoid = p.oid
    WHERE p.pronamespace = 'incremental'::regnamespace
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = 'incremental'::regnamespace AND NOT t.tgisinternal
    UNION ALL
    SELECT format('policy %s on %s: %s %s %s', policyname, tablename, cmd, roles, qual)
    FROM pg_policies WHERE schemaname = 'incremental'
    UNION ALL
    SELECT format('event trigger %s on %s tags %s: %s enabled %s',
                  evtname, evtevent, evttags, evtfoid::regprocedure, evtenabled)
    FROM pg_event_trigger
    UNION ALL
    SELECT 'member ' || pg_describe_object(d.classid, d.objid, d.objsubid)
    FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
    WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
      AND e.extname = 'pg_incremental'
    UNION ALL
    SELECT format('comment on %s: %s', pg_describe_object(d.classid, d.objid, 0), s.description)
    FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
    JOIN pg_description s ON s.classoid = d.classid AND s.objoid = d.objid
    WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
      AND e.extname = 'pg_incremental'
    UNION ALL
    SELECT format('dumped %s where %s', u.config::regclass, u.condition)
    FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u (config, condition)
    WHERE e.extname = 'pg_incremental'
$$;
INSERT INTO shapes SELECT 'fresh', catalog_shape();
DROP EXTENSION pg_incremental;

--
-- pg_incremental 1.3, as the original left it: pipelines are rows of its
-- tables (there are no cron jobs here).  Our library refuses to work on
-- that catalog until it is updated.
--
CREATE EXTENSION pg_incremental VERSION '1.3';
SELECT extversion FROM pg_extension WHERE extname = 'pg_incremental';
CALL incremental.execute_pipeline('events-sum');
SELECT incremental.create_sequence_pipeline('new', 'events', $$ SELECT $1, $2 $$);
SELECT incremental.create_file_list_pipeline('new', '/tmp/*.csv', $$ SELECT $1 $$);

CREATE TABLE sums (total bigint);
INSERT INTO sums VALUES (0);
CREATE TABLE hours (hour_start timestamptz, hour_end timestamptz);

INSERT INTO incremental.pipelines VALUES
    ('events-sum', 's', 'postgres'::regrole, 'events',
     'UPDATE sums SET total = total + (SELECT sum(value) FROM events WHERE id BETWEEN $1 AND $2)',
     'scheduler_setting, public'),
    ('hourly', 't', 'postgres'::regrole, NULL,
     'INSERT INTO hours VALUES ($1, $2)', 'scheduler_setting, public'),
    ('files', 'f', 'postgres'::regrole, NULL, 'SELECT $1', 'scheduler_setting, public');
-- events 1 and 2 were processed; hours up to 2024-03-01 05:00 were
INSERT INTO incremental.sequence_pipelines VALUES ('events-sum', 'events_id_seq', 2);
UPDATE sums SET total = 3;
INSERT INTO incremental.time_interval_pipelines
    VALUES ('hourly', '1 hour', false, '0 seconds', '2024-03-01 05:00+00');
INSERT INTO incremental.file_list_pipelines VALUES ('files', '/tmp/*.csv', true, NULL, 10);
INSERT INTO incremental.processed_files VALUES ('files', '/data/a.csv'), ('files', '/data/b.csv');

ALTER EXTENSION pg_incremental UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'pg_incremental';

-- every pipeline and its progress, the schedules manual (no cron jobs)
SELECT pipeline_name, pipeline_type, owner_id, source_relation, command IS NOT NULL AS command,
       search_path, schedule, paused, scheduled_by
FROM incremental.pipelines ORDER BY 1;
SELECT * FROM incremental.sequence_pipelines;
SELECT * FROM incremental.time_interval_pipelines;
SELECT * FROM incremental.file_list_pipelines;
SELECT * FROM incremental.processed_files ORDER BY path;

-- and they continue exactly where they were
CALL incremental.execute_pipeline('events-sum');
SELECT total = (SELECT sum(value) FROM events) AS sum_is_complete FROM sums;
-- (a reset goes back to where the 1.3 pipeline was at the upgrade)
SELECT incremental.reset_pipeline('hourly', false);
SELECT pipeline_name, last_processed_time FROM incremental.time_interval_pipelines;

-- the upgraded catalog is the fresh one
INSERT INTO shapes SELECT 'upgraded from 1.3', catalog_shape();
SELECT count(*) > 60 AS enough_items FROM shapes WHERE install = 'fresh';
SELECT * FROM shape_differences('upgraded from 1.3');

DROP EXTENSION pg_incremental;

--
-- 1.4 (1.3 plus max_batch_size for sequence pipelines) upgrades too
--
CREATE EXTENSION pg_incremental VERSION '1.3';
ALTER EXTENSION pg_incremental UPDATE TO '1.4';
INSERT INTO incremental.pipelines VALUES
    ('batched', 's', 'postgres'::regrole, 'events', 'SELECT $1, $2', 'scheduler_setting, public');
INSERT INTO incremental.sequence_pipelines VALUES ('batched', 'events_id_seq', 4, 1000);
ALTER EXTENSION pg_incremental UPDATE;
SELECT * FROM incremental.sequence_pipelines;
INSERT INTO shapes SELECT 'upgraded from 1.4', catalog_shape();
SELECT * FROM shape_differences('upgraded from 1.4');

DROP EXTENSION pg_incremental;
DROP SCHEMA scheduler_setting CASCADE;
