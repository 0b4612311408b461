# pg_dump and pg_restore keep every pipeline, its owner and its exact
# progress: after a restore, a run processes only what is new.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump_restore');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_incremental'");
$node->append_conf('postgresql.conf', "incremental.enabled = off");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE source_db');
$node->safe_psql('postgres', 'CREATE ROLE tap_owner');
$node->safe_psql(
	'source_db', q{
	CREATE EXTENSION pg_incremental;
	GRANT CREATE ON SCHEMA public TO tap_owner;
	SET ROLE tap_owner;
	CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY, at timestamptz NOT NULL, client int);
	CREATE TABLE totals (client int PRIMARY KEY, n bigint);
	CREATE TABLE days (day timestamptz PRIMARY KEY, n bigint);
	CREATE TABLE inbox (path text);
	CREATE TABLE loaded (path text);
	CREATE FUNCTION list_inbox(pattern text) RETURNS TABLE (path text)
		LANGUAGE sql AS $$ SELECT path FROM inbox WHERE path LIKE pattern $$;
	INSERT INTO events (at, client)
		SELECT '2026-01-01'::timestamptz + g * interval '1 hour', g % 5 FROM generate_series(1, 100) g;
	INSERT INTO inbox VALUES ('f1'), ('f2');
	SELECT incremental.create_sequence_pipeline('totals', 'events', $$
		INSERT INTO totals SELECT client, count(*) FROM events WHERE id BETWEEN $1 AND $2 GROUP BY 1
		ON CONFLICT (client) DO UPDATE SET n = totals.n + excluded.n $$, max_batch_size := 40);
	SELECT incremental.create_time_interval_pipeline('days', '1 day', $$
		INSERT INTO days SELECT $1, count(*) FROM events WHERE at >= $1 AND at < $2 $$,
		batched := false, start_time := '2026-01-01', schedule := '@daily');
	SELECT incremental.create_file_list_pipeline('files', '%', $$ INSERT INTO loaded VALUES ($1) $$,
		list_function := 'list_inbox', schedule := NULL);
	SELECT incremental.skip_file('files', 'f3');
	CREATE VIEW per_client WITH (incremental.continuous, incremental.max_batch_size = 30,
	                             incremental.distinct = 'exact') AS
		SELECT client, count(*) AS n, count(DISTINCT date_trunc('day', at, 'UTC')) AS days
		FROM events GROUP BY client;
	CALL incremental.execute_pipeline('public.per_client');
	SELECT incremental.create_stream('clicks', 'client int', partition_size := 50,
	                                 partitions_ahead := 1);
	INSERT INTO clicks (client) SELECT g % 3 FROM generate_series(1, 120) g;
	CREATE VIEW clicks_per_client WITH (incremental.continuous) AS
		SELECT client, count(*) AS n FROM clicks GROUP BY client;
	CALL incremental.execute_pipeline('public.clicks_per_client');
	SELECT incremental._maintain_stream('clicks:retention');
	-- a roll-up, over a view that got a column after its creation
	CREATE VIEW daily WITH (incremental.continuous) AS
		SELECT date_trunc('day', at, 'UTC') AS day, count(*) AS n FROM events GROUP BY 1;
	CALL incremental.execute_pipeline('public.daily');
	CALL incremental.add_continuous_view_column('daily', 'max(client) AS top');
	SELECT incremental.create_continuous_view('all_days', $v$
		SELECT sum(n) AS n, max(top) AS top FROM daily $v$, schedule => NULL);
	RESET ROLE;
	SELECT incremental.create_sequence_pipeline('paused-later', 'events', $$ SELECT $1, $2 $$);
});

my $catalog_query = q{
	SELECT pipeline_name, pipeline_type, owner_id, source_relation, command, search_path,
	       schedule, paused FROM incremental.pipelines ORDER BY 1;
	SELECT * FROM incremental.sequence_pipelines ORDER BY 1;
	SELECT * FROM incremental.time_interval_pipelines ORDER BY 1;
	SELECT * FROM incremental.file_list_pipelines ORDER BY 1;
	SELECT * FROM incremental.processed_files ORDER BY 1, 2;
	SELECT view_name, pipeline_name, source_table, storage_table, query, realtime,
	       distinct_mode, distinct_tables FROM incremental.continuous_view_definitions;
	SELECT * FROM per_client ORDER BY client;
	SELECT stream, id_column, drop_consumed, keep, partition_size, partitions_ahead,
	       maintenance_pipeline FROM incremental.stream_definitions;
	SELECT c.relname, c.relowner::regrole, pg_get_expr(c.relpartbound, c.oid)
	FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	WHERE i.inhparent = 'clicks'::regclass ORDER BY 1;
	SELECT stream, retention, consumers, consumed_through, last_id, partitions FROM incremental.streams;
	SELECT * FROM clicks_per_client ORDER BY client;
	SELECT view_name, source_table, delta_table FROM incremental.continuous_views
	ORDER BY view_name::text;
	SELECT columns, backfill_through, backfilled_through, valid_from
	FROM incremental.continuous_view_backfills;
	SELECT * FROM daily ORDER BY day;
	SELECT * FROM all_days;
};
my $before = $node->safe_psql('source_db', $catalog_query);
like($before, qr/totals\|s\|tap_owner\|events/, 'owner recorded by name');
like($before, qr/^clicks\|consumed\|\{public\.clicks_per_client\}\|120\|120\|2$/m,
	'a stream whose consumed partitions were dropped');

my $dump = $node->basedir . '/source.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('source_db') ],
	'pg_dump of a database with pipelines');

$node->safe_psql('postgres', 'CREATE DATABASE restored_db');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored_db'), $dump ],
	'pg_restore succeeds');

my $after = $node->safe_psql('restored_db', $catalog_query);
is($after, $before, 'definitions, owners and progress survive dump and restore');

# new data after the restore: only it is processed
$node->safe_psql(
	'restored_db', q{
	INSERT INTO events (at, client) SELECT '2026-02-01', 7 FROM generate_series(1, 3);
	INSERT INTO inbox VALUES ('f3'), ('f4');
	CALL incremental.execute_pipeline('totals');
	CALL incremental.execute_pipeline('files');
	CALL incremental.execute_pipeline('public.per_client');
});
is( $node->safe_psql(
		'restored_db', q{
		SELECT (SELECT array_agg(client || ':' || n ORDER BY client) FROM totals) =
		       (SELECT array_agg(client || ':' || n ORDER BY client)
		        FROM (SELECT client, count(*) AS n FROM events GROUP BY 1) c)}),
	't',
	'after the restore each row is counted once');
is( $node->safe_psql(
		'restored_db', q{
		SELECT count(*) FROM (
		    (SELECT * FROM per_client
		     EXCEPT SELECT client, count(*), count(DISTINCT date_trunc('day', at, 'UTC'))
		            FROM events GROUP BY client)
		    UNION ALL
		    (SELECT client, count(*), count(DISTINCT date_trunc('day', at, 'UTC'))
		     FROM events GROUP BY client
		     EXCEPT SELECT * FROM per_client)) d}),
	'0',
	'the restored continuous view continues where it was, exactly');
# the restored stream goes on: ids continue, consumed partitions go
$node->safe_psql(
	'restored_db', q{
	SET ROLE tap_owner;
	INSERT INTO clicks (client) SELECT g % 3 FROM generate_series(1, 100) g;
	CALL incremental.execute_pipeline('public.clicks_per_client');
	SELECT incremental._maintain_stream('clicks:retention');
});
is( $node->safe_psql(
		'restored_db', q{
		SELECT string_agg(client || ':' || n, ',' ORDER BY client) || ' ' ||
		       (SELECT min(id) || '-' || max(id) || ' ' || count(*) FROM clicks) || ' ' ||
		       (SELECT partitions || ' ' || consumed_through FROM incremental.streams
		        WHERE stream = 'clicks'::regclass)
		FROM clicks_per_client}),
	'0:73,1:74,2:73 200-220 21 2 220',
	'the restored stream keeps its ids, its consumer and its retention');
# the restored roll-up goes on, through the restored delta table
$node->safe_psql(
	'restored_db', q{
	SET ROLE tap_owner;
	CALL incremental.execute_pipeline('public.daily');
	CALL incremental.execute_pipeline('public.all_days');
});
is( $node->safe_psql(
		'restored_db', q{
		SELECT (SELECT n || ' ' || top FROM all_days)
		       = (SELECT count(*) || ' ' || max(client) FROM events)}),
	't', 'the restored roll-up and the added column count every row once');
is($node->safe_psql('restored_db', 'SELECT string_agg(path, \',\' ORDER BY path) FROM loaded'),
	'f1,f2,f4', 'skipped and processed files stay done after the restore');

# the restored pipelines run as their restored owner
is( $node->safe_psql(
		'restored_db',
		q{SELECT owner_id::text FROM incremental.pipelines WHERE pipeline_name = 'totals'}),
	'tap_owner',
	'owner restored as the same role');

my ($rc, $out, $err) = $node->psql('restored_db', 'DROP TABLE events');
like($err, qr/view per_client depends on table events/,
	'the restored view still depends on its source');
$node->safe_psql('restored_db',
	'DROP VIEW per_client; DROP VIEW clicks_per_client; DROP VIEW daily CASCADE');
is( $node->safe_psql(
		'restored_db', q{
		SELECT count(*) FROM pg_class WHERE relname LIKE 'per_client%'}),
	'0', 'dropping the restored view drops its storage and side table');

$node->safe_psql('restored_db', 'DROP EXTENSION pg_incremental');
is($node->safe_psql('restored_db', q{SELECT count(*) FROM pg_namespace WHERE nspname = 'incremental'}),
	'0', 'DROP EXTENSION removes the schema');

$node->stop;
done_testing();
