-- The examples of README.md, as written there (the file pattern points to
-- files this test creates)
CREATE EXTENSION pg_incremental;
CREATE SCHEMA readme_test;
SET search_path = readme_test;

CREATE TABLE events (event_id bigserial PRIMARY KEY, event_time timestamptz DEFAULT now(),
                     client_id bigint, path text, response_time double precision);
CREATE TABLE events_agg (day timestamptz, event_count bigint, PRIMARY KEY (day));

SELECT incremental.create_sequence_pipeline('event-aggregation', 'events', $$
  INSERT INTO events_agg SELECT date_trunc('day', event_time), count(*) FROM events
  WHERE event_id BETWEEN $1 AND $2 GROUP BY 1
  ON CONFLICT (day) DO UPDATE SET event_count = events_agg.event_count + excluded.event_count $$,
  schedule := '1 second');

CREATE TABLE events_hourly (hour timestamptz PRIMARY KEY, event_count bigint);

-- (its first run reaches the current hour, which would make this output vary)
SET client_min_messages = warning;

SELECT incremental.create_time_interval_pipeline('hourly', '1 hour', $$
  INSERT INTO events_hourly SELECT date_trunc('hour', event_time), count(*) FROM events
  WHERE event_time >= $1 AND event_time < $2 GROUP BY 1 $$,
  source_table_name := 'events', min_delay := '1 minute');
RESET client_min_messages;

CREATE FUNCTION load_file(path text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('COPY events (event_time, client_id, path, response_time) FROM %L WITH (FORMAT csv)', path);
END $$;

COPY (SELECT '2026-01-01 10:00+00', 1, '/index.html', 0.5 UNION ALL
      SELECT '2026-01-01 11:30+00', 2, '/about.html', 1.5)
  TO '/tmp/pg_incremental_readme_1.csv' WITH (FORMAT csv);
SELECT incremental.create_file_list_pipeline('loader', '/tmp/pg_incremental_readme_*.csv', $$ SELECT load_file($1) $$);

CALL incremental.execute_pipeline('event-aggregation');

SELECT * FROM events_agg;
SELECT pipeline_name, pipeline_type, schedule FROM incremental.pipelines ORDER BY 1;

SET client_min_messages = warning;
DROP SCHEMA readme_test CASCADE;
DROP EXTENSION pg_incremental;
