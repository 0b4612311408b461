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
