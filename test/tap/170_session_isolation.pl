# A batch runs in a session that has only ever run code as the batch's
# owner (review D2).  What PostgreSQL keeps in a session across
# transactions - dblink named connections, session advisory locks,
# PL/Python's GD - must never reach another owner's pipeline.  Here a
# superuser's pipelines leave each of them behind, and mallory's pipelines,
# on one-second schedules in the same database, reach for them: with one
# worker per role, logged in as that role, they find nothing.  Also: the
# workers are logged in as their roles, one per role, and a database whose
# pipelines have one owner has one worker.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IncrementalTest;

my $node = new_scheduler_node('isolation');
my $connstr = $node->connstr('postgres');

$node->safe_psql(
	'postgres', qq{
CREATE EXTENSION pg_incremental;
CREATE EXTENSION dblink;
CREATE EXTENSION plpython3u;
CREATE ROLE mallory LOGIN;
CREATE TABLE loot (what text, value text, at timestamptz DEFAULT now());
GRANT INSERT, SELECT ON loot TO mallory;
-- the superuser's helpers: what its pipelines leave in the session
CREATE FUNCTION stash_secret() RETURNS text LANGUAGE plpython3u
  AS \$\$ GD['secret'] = 'hunter2'; return 'stashed' \$\$;
CREATE FUNCTION peek_secret() RETURNS text LANGUAGE plpython3u
  AS \$\$ return GD.get('secret', 'nothing') \$\$;
GRANT EXECUTE ON FUNCTION peek_secret() TO mallory;
});

# time interval pipelines with 1-second intervals: due every second
sub create_ticking
{
	my ($role, $name, $command) = @_;
	$node->safe_psql(
		'postgres', qq{
SET ROLE $role;
SELECT incremental.create_time_interval_pipeline('$name', '1 second', \$cmd\$$command\$cmd\$,
  start_time => now(), min_delay => '0', schedule => '1 second', execute_immediately => false);});
}

# --- the superuser's pipelines leave session state behind
create_ticking('postgres', 'keeps_connection',
	qq{SELECT CASE WHEN 'shared' = ANY(coalesce(dblink_get_connections(), '{}')) THEN 'kept'
	             ELSE dblink_connect('shared', \$conn\$$connstr\$conn\$) END WHERE \$1 < \$2});
create_ticking('postgres', 'holds_lock',
	q{SELECT pg_advisory_lock(4242) WHERE $1 < $2 AND NOT EXISTS
	    (SELECT FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND pid = pg_backend_pid())});
create_ticking('postgres', 'stashes', q{SELECT stash_secret() WHERE $1 < $2});

ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 3 FROM incremental.pipeline_stats WHERE pipeline_name IN ('keeps_connection', 'holds_lock', 'stashes') AND runs > 0 AND state <> 'failing'"
	),
	"the superuser's pipelines ran");
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.objid = 4242 AND a.backend_type = 'pg_incremental worker'"
	),
	"the superuser's worker holds the session advisory lock");

# --- mallory's pipelines reach for it
create_ticking('mallory', 'uses_connection',
	q{SELECT dblink_exec('shared', 'ALTER ROLE mallory SUPERUSER') WHERE $1 < $2});
create_ticking('mallory', 'releases_lock',
	q{INSERT INTO loot (what, value) SELECT 'unlock', pg_advisory_unlock(4242)::text WHERE $1 < $2});
create_ticking('mallory', 'reads_secret',
	q{INSERT INTO loot (what, value) SELECT 'gd', peek_secret() WHERE $1 < $2});

ok( $node->poll_query_until(
		'postgres',
		"SELECT count(DISTINCT what) = 2 FROM loot"),
	"mallory's pipelines ran");
ok( $node->poll_query_until(
		'postgres',
		"SELECT state = 'failing' FROM incremental.pipeline_stats WHERE pipeline_name = 'uses_connection'"
	),
	"mallory's pipeline does not find the superuser's dblink connection");
sleep 2;

is($node->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'"),
	'f', 'mallory did not become a superuser through the connection');
is($node->safe_psql('postgres', "SELECT string_agg(DISTINCT value, ',') FROM loot WHERE what = 'gd'"),
	'nothing', "mallory's pipeline does not see the superuser's PL/Python GD");
is($node->safe_psql('postgres', "SELECT string_agg(DISTINCT value, ',') FROM loot WHERE what = 'unlock'"),
	'false', "mallory's pipeline cannot release the superuser's session advisory lock");
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.objid = 4242 AND a.usename = 'postgres' AND a.backend_type = 'pg_incremental worker'"
	),
	'1', 'which the superuser still holds');

# --- the workers: one per role, each logged in as its role
is( $node->safe_psql(
		'postgres',
		"SELECT string_agg(usename || ':' || count, ',' ORDER BY usename) FROM (SELECT usename, count(*) FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker' AND datname = 'postgres' GROUP BY usename) w"
	),
	'mallory:1,postgres:1',
	'one worker per role, logged in as that role');

# --- a database whose pipelines all have one owner has one worker
$node->safe_psql('postgres', 'CREATE DATABASE single');
$node->safe_psql('single', 'CREATE EXTENSION pg_incremental; GRANT CREATE ON SCHEMA public TO mallory');
$node->safe_psql(
	'single', q{
SET ROLE mallory;
CREATE TABLE m_events (id bigserial PRIMARY KEY);
SELECT incremental.create_sequence_pipeline('m1', 'm_events', $$SELECT $1, $2$$, schedule => '1 second');
SELECT incremental.create_sequence_pipeline('m2', 'm_events', $$SELECT $1, $2$$, schedule => '1 second');
});
ok( $node->poll_query_until(
		'postgres',
		"SELECT string_agg(usename, ',') = 'mallory' FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker' AND datname = 'single'"
	),
	"mallory's two pipelines in another database: one worker, hers");

is(server_log_crashes($node), 0, 'no process crashed');
$node->stop;
done_testing();

sub server_log_crashes
{
	my ($n) = @_;
	my $log = slurp_file($n->logfile);
	my @crashes = $log =~ /(terminated by signal|server process .* was terminated)/g;
	return scalar @crashes;
}
