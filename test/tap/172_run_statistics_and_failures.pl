# The run history counts exactly what committed, however a run ends (a
# pause, a SIGTERM in the middle of a batch, a crash); a failure whose
# record cannot be written still backs off; the owner's statement_timeout,
# set after its worker started, applies to its batches.  (Review D13, D15,
# D21.)
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IncrementalTest;

my $node = new_scheduler_node('runs');
$node->safe_psql('postgres', 'CREATE EXTENSION pg_incremental');

sub progress
{
	my ($name) = @_;
	return $node->safe_psql('postgres',
		"SELECT last_processed_sequence_number FROM incremental.sequence_pipelines WHERE pipeline_name = '$name'"
	);
}

# Statistics and progress agree, and the rollup matches the source
sub check_counts
{
	my ($name, $test_name) = @_;
	my $stats = $node->safe_psql('postgres',
		"SELECT items_processed FROM incremental.pipeline_stats WHERE pipeline_name = '$name'");
	is($stats, progress($name), "$test_name: items_processed equals the progress");
	is($node->safe_psql('postgres', rollup_matches_source($name)),
		't', "$test_name: the rollup matches what was processed");
}

# --- D15: a backlog processed in slow batches of 10
create_sum_pipeline($node, 'postgres', 'slow',
	max_batch_size => 10,
	command_suffix => ' WHERE pg_sleep(0.1) IS NOT NULL');
$node->safe_psql('postgres',
	"INSERT INTO slow_events (value) SELECT g FROM generate_series(1, 300) g");

# paused in the middle of the backlog
ok($node->poll_query_until('postgres', "SELECT " . progress_sql('slow') . " >= 30"),
	'the scheduler works through the backlog');
$node->safe_psql('postgres', "SELECT incremental.pause_pipeline('slow')");
ok( $node->poll_query_until(
		'postgres',
		"SELECT state = 'paused' FROM incremental.pipeline_stats WHERE pipeline_name = 'slow'"),
	'the pause stops the run');
sleep(1);    # a batch that began before the pause was seen has committed
my $paused_at = progress('slow');
cmp_ok($paused_at, '<', 300, "paused before the end of the backlog ($paused_at of 300)");
is( $node->safe_psql(
		'postgres',
		"SELECT items_processed || ' ' || runs FROM incremental.pipeline_stats WHERE pipeline_name = 'slow'"
	),
	"$paused_at 1",
	'a run paused in the middle of a backlog is recorded with every batch it committed');

# stopped by SIGTERM, most likely in the middle of a batch (they sleep)
$node->safe_psql('postgres', "SELECT incremental.resume_pipeline('slow')");
ok($node->poll_query_until('postgres', "SELECT " . progress_sql('slow') . " >= $paused_at + 50"),
	'the resumed pipeline goes on');
my $pid = worker_pid($node, 'postgres', 'postgres');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
wait_for_new_worker($node, 'postgres', 'postgres', $pid, 'a new worker takes over');
my $terminated_at = progress('slow');

# and killed with the server, in an immediate shutdown
ok($node->poll_query_until('postgres', "SELECT " . progress_sql('slow') . " >= $terminated_at + 30"),
	'the new worker goes on with the backlog');
$node->stop('immediate');
$node->start;
wait_for_rollup($node, 'postgres', 'slow', 'the whole backlog is processed after the crash');
# (including the values that the crash skipped: they were logged ahead of use)
ok( $node->poll_query_until(
		'postgres',
		"SELECT " . progress_sql('slow') . " = last_value FROM slow_events_id_seq"),
	'every sequence value is processed');
check_counts('slow', 'after a pause, a SIGTERM and a crash');

# --- D13: the failure cannot be recorded (the history is locked and the
# owner has a lock_timeout), yet the pipeline backs off
$node->safe_psql(
	'postgres', q{
CREATE ROLE alice LOGIN;
ALTER ROLE alice SET lock_timeout = '100ms';
GRANT CREATE ON SCHEMA public TO alice;
SET ROLE alice;
CREATE SEQUENCE attempts;
CREATE TABLE poison_src (id bigserial PRIMARY KEY);
CREATE TABLE poison_sink (v bigint);
SELECT incremental.create_sequence_pipeline('poison', 'poison_src',
  $$INSERT INTO poison_sink SELECT id / (nextval('attempts') * 0) FROM poison_src WHERE id BETWEEN $1 AND $2$$,
  schedule => '1 second', execute_immediately => false);
});
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM pg_stat_activity WHERE usename = 'alice'"),
	"alice's worker starts");
my $alice_pid = worker_pid($node, 'postgres', 'alice');

my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN; LOCK TABLE incremental.pipeline_runs IN SHARE MODE');
$node->safe_psql('postgres', 'INSERT INTO poison_src DEFAULT VALUES');
ok($node->poll_query_until('postgres', "SELECT last_value > 0 AND is_called FROM attempts"),
	'the poisoned batch is tried');
my $t0 = time;
sleep(6);
my $attempts = $node->safe_psql('postgres', 'SELECT last_value FROM attempts');
my $elapsed = time - $t0;
# backoff: tried at 0, 1, 3 (and 7) seconds; without it, every naptime
cmp_ok($attempts, '<=', 5,
	"a failure that could not be recorded still backs off ($attempts tries in $elapsed s)");
cmp_ok($attempts, '>=', 2, 'and the pipeline is retried');
like(slurp_file($node->logfile), qr/canceling statement due to lock timeout/,
	'the failure to record the failure is logged');
$holder->query_safe('COMMIT');
$holder->quit;

ok( $node->poll_query_until(
		'postgres',
		"SELECT last_error LIKE '%division by zero%' AND consecutive_failures >= 1 FROM incremental.pipeline_stats WHERE pipeline_name = 'poison'"
	),
	'once the history can be written, the failure is recorded');
is(worker_pid($node, 'postgres', 'alice'), $alice_pid, "alice's worker never restarted");

# --- D21: settings stored for the owner after its worker logged in apply
# to the next batch, and so does their removal
my $log_offset = -s $node->logfile;
$node->safe_psql(
	'postgres', q{
SET ROLE alice;
CREATE TABLE sleepy_src (id bigserial PRIMARY KEY);
CREATE TABLE sleepy_sink (id bigint);
SELECT incremental.create_sequence_pipeline('sleepy', 'sleepy_src',
  $$INSERT INTO sleepy_sink SELECT id FROM sleepy_src WHERE id BETWEEN $1 AND $2 AND pg_sleep(1) IS NOT NULL$$,
  schedule => '1 second', execute_immediately => false);
RESET ROLE;
SELECT incremental.drop_pipeline('poison');
});
$node->safe_psql('postgres', "ALTER ROLE alice SET statement_timeout = '200ms'");
$node->safe_psql('postgres', 'INSERT INTO sleepy_src DEFAULT VALUES');
ok( $node->poll_query_until(
		'postgres',
		"SELECT last_error = 'canceling statement due to statement timeout' FROM incremental.pipeline_stats WHERE pipeline_name = 'sleepy'"
	),
	"the owner's statement_timeout, set after the worker started, cancels a batch that runs longer");
is($node->safe_psql('postgres', 'SELECT count(*) FROM sleepy_sink'),
	'0', 'the cancelled batch left nothing behind');
isnt(worker_pid($node, 'postgres', 'alice'), $alice_pid, 'the worker logged in again to take the setting');
$node->safe_psql('postgres', 'ALTER ROLE alice RESET statement_timeout; ALTER ROLE alice RESET lock_timeout');
ok($node->poll_query_until('postgres', 'SELECT count(*) = 1 FROM sleepy_sink'),
	'once the setting is removed, the retry succeeds');
is(progress('sleepy'), 1, 'and the row is processed once');

# ALTER DATABASE ... SET reaches the worker too
$node->safe_psql('postgres', "ALTER DATABASE postgres SET statement_timeout = '200ms'");
$node->safe_psql('postgres', 'INSERT INTO sleepy_src DEFAULT VALUES');
ok( $node->poll_query_until(
		'postgres',
		"SELECT last_error = 'canceling statement due to statement timeout' AND consecutive_failures = 1 FROM incremental.pipeline_stats WHERE pipeline_name = 'sleepy'"
	),
	"the database's statement_timeout applies to the next batch");
$node->safe_psql('postgres', 'ALTER DATABASE postgres RESET statement_timeout');
ok($node->poll_query_until('postgres', 'SELECT count(*) = 2 FROM sleepy_sink'),
	'and its removal too');
unlike(substr(slurp_file($node->logfile), $log_offset), qr/exited unexpectedly/,
	'logging in again is not a failure');

$node->stop;
done_testing();

sub progress_sql
{
	my ($name) = @_;
	return "(SELECT last_processed_sequence_number FROM incremental.sequence_pipelines WHERE pipeline_name = '$name')";
}
