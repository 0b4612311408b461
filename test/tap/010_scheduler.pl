# The scheduler runs pipelines on their schedules, as their owners, in
# committed batches; failures are isolated and retried; pause, resume,
# incremental.enabled and a reloaded naptime behave as documented.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IncrementalTest;

my $node = new_scheduler_node('scheduler');
$node->safe_psql('postgres', 'CREATE EXTENSION pg_incremental');

# --- a scheduled pipeline runs and catches up, without a manual call
create_sum_pipeline($node, 'postgres', 'basic');
insert_events($node, 'postgres', 'basic', 1000);
wait_for_rollup($node, 'postgres', 'basic', 'scheduled pipeline processed the first rows');
insert_events($node, 'postgres', 'basic', 500);
wait_for_rollup($node, 'postgres', 'basic', 'scheduled pipeline caught up with later rows');

is( $node->safe_psql(
		'postgres',
		"SELECT last_status, consecutive_failures, runs > 0, items_processed FROM incremental.pipeline_stats WHERE pipeline_name = 'basic'"
	),
	'succeeded|0|t|1500',
	'the runs are counted in pipeline_stats');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) > 0, bool_and(triggered_by = 'scheduler'), sum(items_processed) FROM incremental.pipeline_runs WHERE pipeline_name = 'basic'"
	),
	't|t|1500',
	'the scheduled runs are in the run history');

# --- the processes show up with recognisable backend types, idle workers
#     hold no snapshot
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_incremental launcher' AND datname IS NULL"
	),
	'1',
	'one launcher, connected to no database');
is(worker_count($node, 'postgres'), '1', 'one worker for the database');
ok( $node->poll_query_until(
		'postgres',
		"SELECT backend_xmin IS NULL AND state = 'idle' FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker'"
	),
	'an idle worker holds no snapshot');

# --- a pipeline runs as its owner
$node->safe_psql(
	'postgres', q{
CREATE ROLE alice LOGIN;
GRANT CREATE ON SCHEMA public TO alice;
SET ROLE alice;
CREATE TABLE owner_events (id bigserial PRIMARY KEY);
CREATE TABLE owner_log (who name);
SELECT incremental.create_sequence_pipeline('owner_check', 'owner_events',
  $$INSERT INTO owner_log SELECT current_user WHERE $1 <= $2$$,
  schedule => '1 second', execute_immediately => false);
INSERT INTO owner_events DEFAULT VALUES;
});
ok($node->poll_query_until('postgres', 'SELECT count(*) > 0 FROM owner_log'),
	'pipeline of a non-superuser ran');
is($node->safe_psql('postgres', 'SELECT DISTINCT who FROM owner_log'),
	'alice', 'it ran as its owner');

# ... and with its owner's rights only: alice may not read this table
$node->safe_psql(
	'postgres', q{
CREATE TABLE secret (x int);
SET ROLE alice;
CREATE TABLE sneaky_events (id bigserial PRIMARY KEY);
SELECT incremental.create_sequence_pipeline('sneaky', 'sneaky_events',
  $$INSERT INTO owner_log SELECT 'stolen' FROM secret WHERE $1 <= $2$$,
  schedule => '1 second', execute_immediately => false);
INSERT INTO sneaky_events DEFAULT VALUES;
});
ok( $node->poll_query_until(
		'postgres',
		"SELECT last_error LIKE 'permission denied for table secret' FROM incremental.pipeline_stats WHERE pipeline_name = 'sneaky'"
	),
	'a pipeline cannot use rights its owner lacks');
$node->safe_psql('postgres', "SELECT incremental.drop_pipeline('sneaky')");

# ... with its owner's settings, as a session of the owner would have them,
# except any that would change who it runs as; its own search_path wins
$node->safe_psql(
	'postgres', q{
CREATE SCHEMA alice_role_path;
ALTER ROLE alice SET work_mem = '7MB';
ALTER ROLE alice IN DATABASE postgres SET lock_timeout = '42s';
ALTER ROLE alice SET search_path = alice_role_path;
ALTER ROLE alice SET role = 'postgres';
CREATE TABLE settings_log (who name, work_mem text, lock_timeout text, path text);
GRANT INSERT ON settings_log TO alice;
SET ROLE alice;
SET search_path = public;
CREATE TABLE settings_events (id bigserial PRIMARY KEY);
SELECT incremental.create_sequence_pipeline('settings_check', 'settings_events',
  $$INSERT INTO settings_log SELECT current_user, current_setting('work_mem'),
      current_setting('lock_timeout'), current_setting('search_path') WHERE $1 <= $2$$,
  schedule => '1 second', execute_immediately => false);
INSERT INTO settings_events DEFAULT VALUES;
});
ok($node->poll_query_until('postgres', 'SELECT count(*) > 0 FROM settings_log'),
	'a pipeline whose owner has settings runs');
is($node->safe_psql('postgres', 'SELECT who, work_mem, lock_timeout, path FROM settings_log'),
	'alice|7MB|42s|public',
	'with ALTER ROLE settings (also IN DATABASE), its own search_path, and never another role');
$node->safe_psql(
	'postgres', q{
SELECT incremental.drop_pipeline('settings_check');
ALTER ROLE alice RESET ALL;
ALTER ROLE alice IN DATABASE postgres RESET ALL;
});

# --- a failing pipeline is recorded and retried, and blocks nobody
$node->safe_psql(
	'postgres', q{
CREATE TABLE broken_events (id bigserial PRIMARY KEY);
SELECT incremental.create_sequence_pipeline('broken', 'broken_events',
  $$SELECT 1 / ($1 - $1)$$, schedule => '1 second', execute_immediately => false);
INSERT INTO broken_events DEFAULT VALUES;
});
create_sum_pipeline($node, 'postgres', 'healthy');
insert_events($node, 'postgres', 'healthy', 100);
wait_for_rollup($node, 'postgres', 'healthy', 'a healthy pipeline runs next to a failing one');
ok( $node->poll_query_until(
		'postgres',
		"SELECT consecutive_failures >= 2 AND state = 'failing' AND last_status = 'failed'
		        AND last_error LIKE '%division by zero%' AND last_error_sqlstate = '22012'
		        AND next_run > last_run_end
		   FROM incremental.pipeline_stats WHERE pipeline_name = 'broken'"
	),
	'the failure is recorded and retried');
insert_events($node, 'postgres', 'healthy', 100);
wait_for_rollup($node, 'postgres', 'healthy', 'the healthy pipeline keeps running');
ok( $node->log_contains(qr/ERROR:  division by zero\n.*CONTEXT:.*\n\s+scheduled run of pipeline "broken"/),
	'the error is logged with the pipeline name');
$node->safe_psql('postgres', "SELECT incremental.drop_pipeline('broken')");

# --- backlogs are processed as sequences of committed batches, and two
#     pipelines with a backlog take turns
$node->safe_psql('postgres',
	'CREATE TABLE backlog_batches (pipeline text, first_id bigint, last_id bigint, started timestamptz)');
for my $name ('backlog_a', 'backlog_b')
{
	create_sum_pipeline($node, 'postgres', $name, max_batch_size => 100,
		command_prefix =>
		  "WITH logged AS (INSERT INTO backlog_batches VALUES ('$name', \$1, \$2, now())) ");
	$node->safe_psql('postgres', "SELECT incremental.pause_pipeline('$name')");
	insert_events($node, 'postgres', $name, 1000);
}
# paused for longer than their schedule, both are due the moment they resume
sleep(1.2);
$node->safe_psql('postgres',
	"SELECT incremental.resume_pipeline(name) FROM (VALUES ('backlog_a'), ('backlog_b')) v(name)");
wait_for_rollup($node, 'postgres', 'backlog_a', 'a backlog is processed');
wait_for_rollup($node, 'postgres', 'backlog_b', 'and so is another one');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*), count(DISTINCT started), sum(last_id - first_id + 1) FROM backlog_batches WHERE pipeline = 'backlog_a'"),
	'10|10|1000',
	'in ten batches, each in its own transaction, covering every row once');
is( $node->safe_psql(
		'postgres', q{
SELECT max(started) FILTER (WHERE pipeline = 'backlog_a') > min(started) FILTER (WHERE pipeline = 'backlog_b')
   AND max(started) FILTER (WHERE pipeline = 'backlog_b') > min(started) FILTER (WHERE pipeline = 'backlog_a')
FROM backlog_batches}),
	't',
	'the two backlogs take turns instead of one waiting for the other');

# --- pause and resume lose nothing
$node->safe_psql('postgres', "SELECT incremental.pause_pipeline('basic')");
is($node->safe_psql('postgres', "SELECT paused FROM incremental.pipelines WHERE pipeline_name = 'basic'"),
	't', 'pause_pipeline sets the flag');
my $before = $node->safe_psql('postgres', 'SELECT row_count FROM basic_totals');
insert_events($node, 'postgres', 'basic', 100);
# twenty naptimes and more than one schedule period
sleep(2);
is($node->safe_psql('postgres', 'SELECT row_count FROM basic_totals'),
	$before, 'a paused pipeline is not run by the scheduler');
$node->safe_psql('postgres', "SELECT incremental.resume_pipeline('basic')");
wait_for_rollup($node, 'postgres', 'basic', 'after resume everything that arrived is processed');

$node->safe_psql('postgres', "SELECT incremental.pause_pipeline('basic')");
insert_events($node, 'postgres', 'basic', 10);
$node->safe_psql('postgres', "CALL incremental.execute_pipeline('basic')");
ok($node->safe_psql('postgres', rollup_matches_source('basic')) eq 't',
	'a paused pipeline can still be executed by hand');
$node->safe_psql('postgres', "SELECT incremental.resume_pipeline('basic')");

my ($ret, $stdout, $stderr) =
  $node->psql('postgres', 'SELECT incremental.pause_pipeline(NULL)');
like($stderr, qr/pipeline_name cannot be NULL/, 'NULL pipeline name is a clear error');
($ret, $stdout, $stderr) =
  $node->psql('postgres', "SELECT incremental.resume_pipeline('no_such_pipeline')");
like($stderr, qr/pipeline "no_such_pipeline" does not exist/, 'unknown pipeline is a clear error');
($ret, $stdout, $stderr) = $node->psql('postgres',
	"SET client_min_messages = error; CREATE ROLE mallory; SET ROLE mallory; SELECT incremental.pause_pipeline('owner_check')");
like($stderr, qr/permission denied to pause pipeline "owner_check"/,
	'only the owner or a superuser may pause');
$node->safe_psql('postgres', "SET ROLE alice; SELECT incremental.pause_pipeline('owner_check'); SELECT incremental.resume_pipeline('owner_check')");
pass('the owner may pause and resume');

# --- a reloaded naptime takes effect
# A schedule changed behind the scheduler's back (with the trigger that wakes
# it disabled) is only seen when the worker next wakes up, so how long that
# takes shows the naptime in force.
# Other pipelines would wake the worker every second: pause them.
$node->safe_psql('postgres',
	"SELECT incremental.pause_pipeline(pipeline_name) FROM incremental.pipelines WHERE pipeline_name <> 'basic'"
);
$node->safe_psql('postgres', "ALTER SYSTEM SET incremental.naptime = '1h'");
$node->reload;
$node->safe_psql('postgres',
	"UPDATE incremental.pipelines SET schedule = '0 0 1 1 *' WHERE pipeline_name = 'basic'");
# let the worker see the yearly schedule, then sleep for the new naptime
sleep(2);
$node->safe_psql('postgres', q{
	ALTER TABLE incremental.pipelines DISABLE TRIGGER pipelines_changed;
	UPDATE incremental.pipelines SET schedule = '1 second' WHERE pipeline_name = 'basic';
	ALTER TABLE incremental.pipelines ENABLE ALWAYS TRIGGER pipelines_changed;
});
insert_events($node, 'postgres', 'basic', 10);
sleep(2);
is($node->safe_psql('postgres', rollup_matches_source('basic')), 'f',
	'with a naptime of an hour, a silent schedule change is not seen yet');
$node->safe_psql('postgres', "ALTER SYSTEM SET incremental.naptime = '100ms'");
$node->reload;
wait_for_rollup($node, 'postgres', 'basic', 'after reloading a short naptime it is');

# --- incremental.enabled = off stops runs
$node->safe_psql('postgres', 'ALTER SYSTEM SET incremental.enabled = off');
$node->reload;
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker'"),
	'workers exit when the scheduler is disabled');
insert_events($node, 'postgres', 'basic', 10);
sleep(2);
is($node->safe_psql('postgres', rollup_matches_source('basic')), 'f',
	'nothing runs while disabled');
$node->safe_psql('postgres', 'ALTER SYSTEM SET incremental.enabled = on');
$node->reload;
wait_for_rollup($node, 'postgres', 'basic', 'runs resume when enabled again');

$node->stop;
done_testing();
