# Nothing a role without the right can do changes what another role's
# pipelines run, or disturbs them; roles that may not log in run nothing;
# no role can make a worker spin; @reboot runs once per server start; a
# role that owns pipelines elsewhere is not dropped.  (Review D1, D3, D11,
# D16, D17, D22, D23.)
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IncrementalTest;

my $node = new_scheduler_node('rights', extra_conf => "incremental.naptime = '1s'\n");

# --- D1: the owner of a database cannot choose the code that a
# superuser's file list pipeline runs
$node->safe_psql(
	'postgres', q{
CREATE EXTENSION pg_incremental;
CREATE ROLE dbowner LOGIN;
CREATE DATABASE app OWNER dbowner;
CREATE ROLE mallory LOGIN;
});
$node->safe_psql(
	'app', q{
CREATE EXTENSION pg_incremental;
CREATE TABLE loaded (path text);
SELECT incremental.create_file_list_pipeline('loader', '/nowhere/*.csv',
  $$INSERT INTO loaded VALUES ($1)$$, schedule := '1 second');
});
my ($ret, $out, $err) = $node->psql(
	'app', q{
SET ROLE dbowner;
CREATE FUNCTION public.evil(pattern text) RETURNS TABLE (path text) LANGUAGE plpgsql
  AS $f$ BEGIN ALTER ROLE dbowner SUPERUSER; RETURN; END $f$;
ALTER DATABASE app SET incremental.default_file_list_function = 'public.evil';
});
like($err, qr/permission denied to set parameter "incremental.default_file_list_function"/,
	'the owner of a database may not set the default list function');
is($node->safe_psql('app', "SELECT list_function FROM incremental.file_list_pipelines"),
	'incremental.list_local_files', 'the pipeline recorded its list function at creation');
# even a superuser's later setting does not change what the pipeline runs
my $app_worker = wait_for_new_worker($node, 'app', 'postgres', 0, 'the worker of app runs');
$node->safe_psql('app', "ALTER DATABASE app SET incremental.default_file_list_function = 'public.evil'");
$app_worker = wait_for_new_worker($node, 'app', 'postgres', $app_worker,
	'a new worker, logged in with the new database setting, serves app');
sleep 3;
is($node->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'dbowner'"),
	'f', 'the function the setting names never ran');
$node->safe_psql('app', 'ALTER DATABASE app RESET incremental.default_file_list_function');
$app_worker = wait_for_new_worker($node, 'app', 'postgres', $app_worker,
	'and logs in again once it is removed');

# --- D3: a role without rights on a database cannot stop its workers
for (1 .. 3)
{
	($ret, $out, $err) = $node->psql('postgres', 'SET ROLE mallory; DROP DATABASE app');
	like($err, qr/must be owner of database app/, 'DROP DATABASE by a role without the right fails');
	($ret, $out, $err) = $node->psql('postgres', 'SET ROLE mallory; CREATE DATABASE x TEMPLATE app');
	like($err, qr/permission denied to create database/, 'so does CREATE DATABASE ... TEMPLATE');
	($ret, $out, $err) = $node->psql('postgres', 'SET ROLE mallory; ALTER DATABASE app RENAME TO gone');
	like($err, qr/must be owner of database app/, 'and ALTER DATABASE ... RENAME');
}
is(worker_pid($node, 'app', 'postgres'), $app_worker, 'and the worker of app was never stopped');

# --- D16: a role that may not log in runs nothing, and monitoring says why
$node->safe_psql(
	'postgres', q{
CREATE ROLE alice LOGIN;
GRANT CREATE ON SCHEMA public TO alice;
SET ROLE alice;
CREATE TABLE alice_events (id bigserial PRIMARY KEY);
CREATE TABLE alice_seen (n bigint);
SELECT incremental.create_sequence_pipeline('alice_counts', 'alice_events',
  $$INSERT INTO alice_seen SELECT count(*) FROM alice_events WHERE id BETWEEN $1 AND $2$$,
  schedule => '1 second', execute_immediately => false);
INSERT INTO alice_events DEFAULT VALUES;
});
ok($node->poll_query_until('postgres', 'SELECT count(*) = 1 FROM alice_seen'), "alice's pipeline runs");

my %disable = (
	'NOLOGIN' => ['ALTER ROLE alice NOLOGIN', 'ALTER ROLE alice LOGIN',
		qr/role alice does not have the LOGIN attribute/],
	'an expired VALID UNTIL' => ["ALTER ROLE alice VALID UNTIL '2000-01-01'", "ALTER ROLE alice VALID UNTIL 'infinity'",
		qr/the login of role alice expired/],
	'no CONNECT privilege' => ['REVOKE CONNECT ON DATABASE postgres FROM PUBLIC',
		'GRANT CONNECT ON DATABASE postgres TO PUBLIC',
		qr/role alice may not connect to this database/],
);
for my $how (sort keys %disable)
{
	my ($off, $on, $detail) = @{ $disable{$how} };

	$node->safe_psql('postgres', $off);
	ok( $node->poll_query_until(
			'postgres',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker' AND usename = 'alice'"
		),
		"$how: alice's worker exits");
	is($node->safe_psql('postgres', "SELECT state FROM incremental.pipeline_stats WHERE pipeline_name = 'alice_counts'"),
		'blocked', "$how: pipeline_stats shows alice's pipeline as blocked");
	like($node->safe_psql('postgres', "SELECT state_detail FROM incremental.pipeline_stats WHERE pipeline_name = 'alice_counts'"),
		$detail, "$how: and says why");
	$node->safe_psql('postgres', 'INSERT INTO alice_events DEFAULT VALUES');
	sleep 2;
	is($node->safe_psql('postgres', 'SELECT count(*) FROM alice_seen'), '1', "$how: nothing ran");

	$node->safe_psql('postgres', $on);
	ok($node->poll_query_until('postgres', 'SELECT count(*) = 2 FROM alice_seen'),
		"$how: the pipeline runs again, without losing anything, once alice may log in");
	$node->safe_psql('postgres', 'TRUNCATE alice_seen; INSERT INTO alice_seen VALUES (1)');
}
ok($node->log_contains('does not run the pipelines of role "alice" in database "postgres": the role may not log in'),
	'the log says why');

# --- D17: a role that is not a superuser cannot schedule faster than the naptime
$node->safe_psql(
	'postgres', q{
CREATE TABLE listed (who name, at timestamptz DEFAULT clock_timestamp());
GRANT INSERT ON listed TO alice;
SET ROLE alice;
CREATE FUNCTION alice_list(pattern text) RETURNS TABLE (path text) LANGUAGE sql
  AS $$ INSERT INTO public.listed (who) VALUES ('alice') RETURNING NULL::text $$;
SELECT incremental.create_file_list_pipeline('alice_fast', 'x', $$SELECT $1$$,
  list_function => 'alice_list', schedule => '10 milliseconds', execute_immediately => false);
});
sleep 5;
my $calls = $node->safe_psql('postgres',
	"SELECT count(*) FROM listed WHERE who = 'alice' AND at > now() - interval '4 seconds'");
cmp_ok($calls, '<=', 6, "a '10 milliseconds' schedule of a non-superuser runs at most once per naptime (1 s): $calls runs in 4 s");
cmp_ok($calls, '>=', 2, 'and it does run');
$node->safe_psql('postgres', "SELECT incremental.drop_pipeline('alice_fast')");

# --- D22: @reboot runs once per server start, not at every worker start
$node->safe_psql(
	'postgres', q{
CREATE FUNCTION reboot_list(pattern text) RETURNS TABLE (path text) LANGUAGE sql
  AS $$ INSERT INTO public.listed (who) VALUES ('reboot') RETURNING NULL::text $$;
SELECT incremental.create_file_list_pipeline('at_reboot', 'x', $$SELECT $1$$,
  list_function => 'reboot_list', schedule => '@reboot', execute_immediately => false);
});
sleep 2;
is($node->safe_psql('postgres', "SELECT count(*) FROM listed WHERE who = 'reboot'"),
	'0', '@reboot created while the server runs waits for the next start');
$node->restart;
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM listed WHERE who = 'reboot'"),
	'@reboot runs at server start');
my $postgres_worker = worker_pid($node, 'postgres', 'postgres');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($postgres_worker)");
wait_for_new_worker($node, 'postgres', 'postgres', $postgres_worker, 'the worker is started again');
sleep 3;
is($node->safe_psql('postgres', "SELECT count(*) FROM listed WHERE who = 'reboot'"),
	'1', 'and @reboot did not run again');
$node->safe_psql('postgres', "SELECT incremental.drop_pipeline('at_reboot')");

# --- D11: incremental.timezone refuses zones with leap seconds
$node->append_conf('postgresql.conf', "incremental.timezone = 'right/UTC'\n");
$node->reload;
ok($node->poll_query_until('postgres', 'SELECT 1', '1'), 'the server runs after the reload');
sleep 1;
ok($node->log_contains('time zone "right/UTC" appears to use leap seconds'),
	'a leap-second zone is refused at reload');
is($node->safe_psql('postgres', 'SHOW incremental.timezone'), 'GMT', 'and the setting keeps its value');
is($node->safe_psql('postgres', 'SELECT count(*) >= 0 FROM incremental.pipeline_stats'), 't',
	'pipeline_stats still works');

# --- D23: a role that owns pipelines in another database is not dropped
$node->safe_psql('postgres', 'CREATE DATABASE other; GRANT CREATE ON DATABASE other TO alice');
$node->safe_psql(
	'other', q{
CREATE EXTENSION pg_incremental;
GRANT CREATE ON SCHEMA public TO alice;
SET ROLE alice;
CREATE TABLE e (id bigserial PRIMARY KEY);
SELECT incremental.create_sequence_pipeline('alice_other', 'e', $$SELECT $1, $2$$, schedule => '1 second');
});
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker' AND datname = 'other' AND usename = 'alice'"
	),
	"alice's worker serves the other database");
$node->safe_psql('postgres', "SELECT incremental.drop_pipeline('alice_counts')");
$node->safe_psql('postgres', 'REASSIGN OWNED BY alice TO postgres; DROP OWNED BY alice');
($ret, $out, $err) = $node->psql('postgres', 'DROP ROLE alice');
like($err, qr/role "alice" cannot be dropped because it owns pipelines.*\n.*in database "other"/,
	'DROP ROLE in one database is refused for a role with pipelines in another');
$node->safe_psql('other', 'REASSIGN OWNED BY alice TO postgres; DROP OWNED BY alice');
is($node->safe_psql('other', "SELECT owner_id FROM incremental.pipelines WHERE pipeline_name = 'alice_other'"),
	'postgres', 'REASSIGN OWNED gives the pipeline to the new owner');
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker' AND usename = 'alice'"
	),
	"alice's worker exits, having nothing left to run");
($ret, $out, $err) = $node->psql('postgres', 'DROP ROLE alice');
is($ret, 0, 'then the role can be dropped') or diag $err;

$node->stop;
done_testing();
