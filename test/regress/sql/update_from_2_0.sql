-- ALTER EXTENSION pg_incremental UPDATE from 2.0 keeps every pipeline and
-- its progress, fills in what 2.1 records, and leaves a catalog identical to
-- a fresh CREATE EXTENSION (which runs the 2.0 script and the update, so the
-- two cannot drift; this checks the update against itself being replayed).

-- everything the extension defines, by name and definition (no OIDs); the
-- body names schema incremental, so it is checked once that exists
SET check_function_bodies = off;
CREATE FUNCTION pg_temp.extension_objects() RETURNS TABLE (kind text, name text, definition text)
LANGUAGE sql AS $$
    SELECT 'column', c.relname || ' #' || a.attnum || ' ' || a.attname,
           pg_catalog.format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
           || coalesce(' collate ' || co.collname, '')
    FROM pg_class c
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
    LEFT JOIN pg_collation co ON co.oid = a.attcollation AND co.collname <> 'default'
    WHERE c.relnamespace = 'incremental'::regnamespace
    UNION ALL
    SELECT 'relation', c.relname, c.relkind::text || ' ' || coalesce(c.relacl::text, '') || ' rls=' || c.relrowsecurity
    FROM pg_class c WHERE c.relnamespace = 'incremental'::regnamespace
    UNION ALL
    SELECT 'constraint', conrelid::regclass || '.' || conname, pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'incremental'::regnamespace
    UNION ALL
    SELECT 'index', i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
    WHERE c.relnamespace = 'incremental'::regnamespace
    UNION ALL
    SELECT 'trigger', tgrelid::regclass || '.' || tgname, pg_get_triggerdef(t.oid) || ' enabled=' || tgenabled::text
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE NOT t.tgisinternal AND c.relnamespace = 'incremental'::regnamespace
    UNION ALL
    SELECT 'policy', polrelid::regclass || '.' || polname,
           polcmd::text || ' ' || coalesce(pg_get_expr(polqual, polrelid), '')
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
    WHERE c.relnamespace = 'incremental'::regnamespace
    UNION ALL
    SELECT 'routine', p.oid::regprocedure::text,
           pg_get_functiondef(p.oid) || ' acl=' || coalesce(p.proacl::text, '')
    FROM pg_proc p WHERE p.pronamespace = 'incremental'::regnamespace AND p.prokind <> 'a'
    UNION ALL
    SELECT 'aggregate', p.oid::regprocedure::text,
           concat_ws(' ', a.aggtransfn, a.aggcombinefn, a.aggtranstype::regtype, a.agginitval,
                     'acl=' || coalesce(p.proacl::text, ''))
    FROM pg_proc p JOIN pg_aggregate a ON a.aggfnoid = p.oid
    WHERE p.pronamespace = 'incremental'::regnamespace
    UNION ALL
    SELECT 'view', c.relname, pg_get_viewdef(c.oid)
    FROM pg_class c WHERE c.relkind = 'v' AND c.relnamespace = 'incremental'::regnamespace
    UNION ALL
    SELECT 'event trigger', evtname, evtevent || ' ' || evtfoid::regproc || ' ' || coalesce(evttags::text, '')
    FROM pg_event_trigger
    UNION ALL
    SELECT 'comment', pg_describe_object(classoid, objoid, objsubid), description
    FROM pg_description
    WHERE (classoid, objoid) IN (SELECT classid, objid FROM pg_depend
                                 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e')
       OR (classoid = 'pg_class'::regclass AND objoid IN
              (SELECT oid FROM pg_class WHERE relnamespace = 'incremental'::regnamespace))
    UNION ALL
    SELECT 'member', pg_describe_object(classid, objid, objsubid), ''
    FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
      AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_incremental')
    UNION ALL
    SELECT 'dumped', unnest(extconfig)::regclass::text, '' FROM pg_extension
    WHERE extname = 'pg_incremental'
$$;
RESET check_function_bodies;

-- a 2.0 catalog with one pipeline of each kind, written as 2.0 wrote them
CREATE EXTENSION pg_incremental VERSION '2.0';
CREATE TABLE events (id bigserial PRIMARY KEY);
INSERT INTO events SELECT FROM generate_series(1, 5);
INSERT INTO incremental.pipelines (pipeline_name, pipeline_type, owner_id, source_relation,
                                   command, search_path, schedule)
VALUES ('seq', 's', 'postgres', 'events', 'SELECT $1, $2', 'public', '* * * * *'),
       ('ti', 't', 'postgres', NULL, 'SELECT $1, $2', 'public', NULL),
       ('files', 'f', 'postgres', NULL, 'SELECT $1', 'public', NULL),
       ('files2', 'f', 'postgres', NULL, 'SELECT $1', 'public', NULL);
INSERT INTO incremental.sequence_pipelines VALUES ('seq', 'events_id_seq', 3, NULL, 0);
INSERT INTO incremental.time_interval_pipelines
VALUES ('ti', '1 hour', true, '30 seconds', '2026-01-01 10:00+00', '2026-01-01 00:00+00', 'UTC');
INSERT INTO incremental.file_list_pipelines VALUES ('files', '/nowhere/*', false, NULL, 100, -1);
-- 2.0 stored a list function as given, resolved at every run
CREATE FUNCTION public.my_list(pattern text) RETURNS TABLE (path text) LANGUAGE sql
  AS $$ SELECT NULL::text WHERE false $$;
INSERT INTO incremental.file_list_pipelines VALUES ('files2', '/nowhere/*', false, 'my_list', 100, -1);
-- a view of the user's on pipeline_stats does not stop the update
CREATE VIEW my_stats AS SELECT pipeline_name, state FROM incremental.pipeline_stats;
INSERT INTO incremental.processed_files VALUES ('files', '/nowhere/a');

-- the library refuses to work on it until it is updated
CALL incremental.execute_pipeline('seq');
ALTER EXTENSION pg_incremental UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'pg_incremental';

-- progress kept; sources 0 where there is none; the list function recorded
SELECT pipeline_name, source_relation::oid <> 0 AS has_source, cron_job_id
FROM incremental.pipelines ORDER BY 1;
SELECT last_processed_sequence_number FROM incremental.sequence_pipelines;
SELECT last_processed_time FROM incremental.time_interval_pipelines;
SELECT pipeline_name, list_function FROM incremental.file_list_pipelines ORDER BY 1;
SELECT * FROM my_stats ORDER BY 1;
DROP VIEW my_stats;
SELECT path FROM incremental.processed_files;
CALL incremental.execute_pipeline('seq');
SELECT last_processed_sequence_number FROM incremental.sequence_pipelines;
SELECT pipeline_name, state, pending > 0 AS pending FROM incremental.pipeline_stats ORDER BY 1;

-- the updated catalog and a fresh one are the same
CREATE TEMP TABLE updated AS SELECT * FROM pg_temp.extension_objects();
DROP EXTENSION pg_incremental;
CREATE EXTENSION pg_incremental;
CREATE TEMP TABLE fresh AS SELECT * FROM pg_temp.extension_objects();
SELECT count(*) > 100 AS many_objects FROM fresh;
(SELECT 'only after the update' AS where_, * FROM updated EXCEPT SELECT 'only after the update', * FROM fresh)
UNION ALL
(SELECT 'only when fresh', * FROM fresh EXCEPT SELECT 'only when fresh', * FROM updated)
ORDER BY 1, 2, 3;

DROP EXTENSION pg_incremental;
DROP TABLE events;
DROP FUNCTION public.my_list(text);
