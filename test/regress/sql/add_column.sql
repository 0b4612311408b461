-- Adding aggregates to a continuous view: kept by its batches from then on,
-- backfilled into the existing groups from the rows still in the source;
-- an interrupted backfill and writers under the scheduler are in
-- test/tap/178_add_column.pl
CREATE EXTENSION hll;
CREATE EXTENSION pg_incremental;
CREATE SCHEMA add_test;
SET search_path = add_test;

CREATE TABLE events (id bigserial PRIMARY KEY, t timestamptz NOT NULL, url text,
                     user_id int, latency int);
INSERT INTO events (t, url, user_id, latency)
SELECT '2026-01-01'::timestamptz + i * interval '7 seconds', 'u' || (i % 3), i % 50, i % 97
FROM generate_series(1, 3000) i;
CREATE VIEW per_hour WITH (incremental.continuous, incremental.max_batch_size = 1000,
                           incremental.distinct = 'hll') AS
    SELECT date_trunc('hour', t) AS hour, url, count(*) AS hits FROM events GROUP BY 1, 2;
CALL incremental.execute_pipeline('add_test.per_hour');

-- rows gone from the source before the column is added: valid_from says so
DELETE FROM events WHERE id <= 10;
CALL incremental.add_continuous_view_column('per_hour',
    'max(latency) AS slowest, avg(latency) AS mean, count(DISTINCT user_id) AS users');
SELECT columns, backfill_through, backfilled_through, valid_from, one_transaction,
       finished_at IS NOT NULL AS finished
FROM incremental.continuous_view_backfills;
\d per_hour
SELECT query FROM incremental.continuous_views;

-- the batches keep the new columns from then on
INSERT INTO events (t, url, user_id, latency)
SELECT '2026-01-01'::timestamptz + i * interval '5 seconds', 'u' || (i % 4), i % 70, i % 89
FROM generate_series(1, 2000) i;
CALL incremental.execute_pipeline('add_test.per_hour');
CREATE FUNCTION differences() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM (
        SELECT date_trunc('hour', t) AS hour, url, max(latency) AS slowest,
               avg(latency) AS mean, count(DISTINCT user_id) AS users
        FROM events GROUP BY 1, 2) d
    FULL JOIN per_hour v USING (hour, url)
    WHERE v.slowest IS DISTINCT FROM d.slowest OR v.mean IS DISTINCT FROM d.mean
       OR v.users IS DISTINCT FROM d.users $$;
SELECT count(*) AS groups, differences() FROM per_hour;
-- hits still counts the ten rows deleted after they were processed
SELECT sum(hits) AS hits, (SELECT count(*) FROM events) AS rows_now FROM per_hour;

-- a roll-up of it gets the new columns in its deltas; an aggregate already
-- kept only adds a column to the view
SELECT incremental.create_continuous_view('per_day', $$
    SELECT date_trunc('day', hour) AS day, sum(hits) AS hits FROM per_hour GROUP BY 1 $$);
CALL incremental.add_continuous_view_column('per_hour', 'count(*) AS hits_again, min(latency) AS fastest');
SELECT attname FROM pg_attribute
WHERE attrelid = 'per_hour_deltas'::regclass AND attnum > 0 ORDER BY attnum;
INSERT INTO events (t, url, user_id, latency) VALUES ('2026-01-02 01:00', 'u1', 1, 1000);
CALL incremental.execute_pipeline('add_test.per_hour');
CALL incremental.execute_pipeline('add_test.per_day');
SELECT h.hits = h.hits_again AS same, h.fastest, h.slowest
FROM per_hour h WHERE hour = '2026-01-02 01:00';
SELECT * FROM per_day ORDER BY day;

-- the column's dependencies: the source column it reads cannot be dropped
ALTER TABLE events DROP COLUMN latency;

-- what cannot be added
CALL incremental.add_continuous_view_column('per_hour', 'max(latency) AS slowest');
CALL incremental.add_continuous_view_column('per_hour', '1 + 1');
CALL incremental.add_continuous_view_column('per_hour', 'max(latency) AS m FROM events');
CALL incremental.add_continuous_view_column('per_hour', 'max(latency) AS m) x, (SELECT 1');
CALL incremental.add_continuous_view_column('per_hour', 'latency AS l');
CALL incremental.add_continuous_view_column('per_hour', 'string_agg(url, '','') AS urls');
CALL incremental.add_continuous_view_column('per_day', 'max(hits) AS most');
CALL incremental.add_continuous_view_column('events', 'max(latency) AS m');
CREATE VIEW exact WITH (incremental.continuous, incremental.distinct = 'exact') AS
    SELECT url, count(DISTINCT user_id) AS users FROM events GROUP BY 1;
CALL incremental.add_continuous_view_column('exact', 'count(DISTINCT latency) AS latencies');
-- a count(DISTINCT) is kept as the view keeps its others: a view without one
-- takes the default, HyperLogLog when hll is installed
CREATE VIEW plain WITH (incremental.continuous) AS
    SELECT url, count(*) AS n FROM events GROUP BY 1;
CALL incremental.add_continuous_view_column('plain', 'count(DISTINCT user_id) AS users');
SELECT view_name, distinct_mode FROM incremental.continuous_views
WHERE view_name::text IN ('exact', 'plain') ORDER BY 1;
-- nothing was changed by the refusals
SELECT count(*) AS columns FROM pg_attribute WHERE attrelid = 'per_hour'::regclass AND attnum > 0;

-- only the view's owner may add columns: not another role, nor a member of
-- the owner's role, which must SET ROLE first
CREATE ROLE add_other;
GRANT USAGE ON SCHEMA add_test TO add_other;
SET ROLE add_other;
CALL incremental.add_continuous_view_column('add_test.per_hour', 'min(user_id) AS u');
RESET ROLE;
CREATE ROLE add_owner;
GRANT add_owner TO add_other;
GRANT USAGE, CREATE ON SCHEMA add_test TO add_owner;
GRANT SELECT ON events TO add_owner;
GRANT SELECT ON SEQUENCE events_id_seq TO add_owner;
SET ROLE add_owner;
CREATE VIEW owned WITH (incremental.continuous) AS SELECT url, count(*) AS n FROM events GROUP BY 1;
RESET ROLE;
SET ROLE add_other;
CALL incremental.add_continuous_view_column('add_test.owned', 'min(user_id) AS u');
SET ROLE add_owner;
CALL incremental.add_continuous_view_column('add_test.owned', 'min(user_id) AS u');
RESET ROLE;

-- in a transaction block the backfill runs in that transaction
BEGIN;
CALL incremental.add_continuous_view_column('per_hour', 'min(user_id) AS first_user');
SELECT count(*) FILTER (WHERE first_user IS NULL) AS unfilled FROM per_hour;
ROLLBACK;
SELECT count(*) AS columns FROM pg_attribute WHERE attrelid = 'per_hour'::regclass AND attnum > 0;

-- rebuilding forgets the backfills (its batches keep every column), and is
-- refused while roll-ups read the view
SELECT incremental.rebuild_continuous_view('per_hour');
SELECT incremental.rebuild_continuous_view('per_day');
DROP VIEW per_day;
SELECT incremental.rebuild_continuous_view('per_hour');
SELECT count(*) FROM incremental.continuous_view_backfills;
CALL incremental.execute_pipeline('add_test.per_hour');
SELECT count(*) AS groups, differences() FROM per_hour;

DROP OWNED BY add_other, add_owner;
DROP ROLE add_other, add_owner;
DROP EXTENSION pg_incremental CASCADE;
DROP SCHEMA add_test CASCADE;
DROP EXTENSION hll;
