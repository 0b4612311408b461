# Commands that fail in every way a command can fail, under the scheduler:
# an error, an out-of-memory error, a program limit, a cancel from
# pg_cancel_backend, statement_timeout, an owner that lost its privileges
# or was dropped.  Each time the worker survives (same pid), the failure is
# recorded in incremental.pipeline_runs, backoff applies, the other
# pipeline of the database keeps running, and once the cause is gone the
# failing pipeline catches up with every row exactly once.  Also: when
# max_worker_processes is exhausted at run time, one log line, and the
# database is served once a slot frees up.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use FindBin;
use lib $FindBin::RealBin;
use lib "$FindBin::RealBin/../long";
use IncrementalTest;
use ExactlyOnce;

my $node = new_scheduler_node('fail');

# fault(name) does what faults says for that pipeline; the commands call it
# for every row, so a fault hits any batch that has rows
my $fault_setup = q{
CREATE EXTENSION pg_incremental;
CREATE TABLE faults (pipeline text PRIMARY KEY, mode text NOT NULL);
GRANT SELECT ON faults TO PUBLIC;
CREATE FUNCTION fault(p text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE m text;
BEGIN
  SELECT mode INTO m FROM faults WHERE pipeline = p;
  IF m = 'error' THEN
    RAISE EXCEPTION 'injected failure';
  ELSIF m = 'oom' THEN
    RAISE EXCEPTION USING ERRCODE = 'out_of_memory', MESSAGE = 'out of memory',
      DETAIL = 'Failed on request of size 1073741824 in memory context "ExecutorState".';
  ELSIF m = 'huge' THEN
    PERFORM repeat('x', 1073741824);
  ELSIF m = 'sleep' THEN
    PERFORM pg_sleep(600);
  END IF;
  RETURN true;
END $$;
};

sub create_faulty
{
	my ($db, $name) = @_;
	$node->safe_psql($db, qq{
CREATE TABLE ${name}_src (id bigserial PRIMARY KEY);
CREATE TABLE ${name}_seen (id bigint NOT NULL);
INSERT INTO faults VALUES ('$name', 'none');
SELECT incremental.create_sequence_pipeline('$name', '${name}_src',
  \$\$INSERT INTO ${name}_seen SELECT id FROM ${name}_src WHERE id BETWEEN \$1 AND \$2 AND fault('$name')\$\$,
  schedule => '1 second', execute_immediately => false);});
}

$node->safe_psql('postgres', $fault_setup);
create_faulty('postgres', 'faulty');
create_ids_pipeline($node, 'postgres', 'healthy');

my $worker = worker_pids($node);
sub set_fault
{
	my ($db, $name, $mode) = @_;
	$node->safe_psql($db, "UPDATE faults SET mode = '$mode' WHERE pipeline = '$name';"
		  . "INSERT INTO ${name}_src SELECT FROM generate_series(1, 10);"
		  . ($db eq 'postgres' ? "INSERT INTO healthy_src SELECT FROM generate_series(1, 10);" : ''));
}

# polls for the run state of pipeline $name to satisfy $cond (bounded)
sub wait_run_state
{
	my ($db, $name, $cond, $seconds) = @_;
	my $deadline = time() + ($seconds // 60);
	while (time() < $deadline)
	{
		return 1 if $node->safe_psql($db,
			"SELECT count(*) FROM (SELECT DISTINCT ON (pipeline_name) pipeline_name, status AS last_run_status, error_message AS last_error, consecutive_failures, ended_at AS last_run_end, next_retry_at FROM incremental.pipeline_runs ORDER BY pipeline_name, run_id DESC) AS pipeline_run_state WHERE pipeline_name = '$name' AND ($cond)") eq '1';
		usleep(100_000);
	}
	return 0;
}

# --- an error, three times in a row: backoff doubles, others go on
set_fault('postgres', 'faulty', 'error');
ok(wait_run_state('postgres', 'faulty',
		"last_run_status = 'failed' AND consecutive_failures >= 3 AND last_error = 'injected failure'"),
	'a failing command is recorded, and retried');
my $backoff = $node->safe_psql('postgres',
	"SELECT consecutive_failures, round(extract(epoch FROM next_retry_at - last_run_end)) FROM (SELECT DISTINCT ON (pipeline_name) pipeline_name, status AS last_run_status, error_message AS last_error, consecutive_failures, ended_at AS last_run_end, next_retry_at FROM incremental.pipeline_runs ORDER BY pipeline_name, run_id DESC) AS pipeline_run_state WHERE pipeline_name = 'faulty'");
my ($failures, $wait) = split /\|/, $backoff;
is($wait, 2**($failures - 1), "backoff after $failures failures is $wait s (1 s doubling)");
check_ids_exactly_once($node, 'postgres', 'healthy', 'while another pipeline fails');
ok($node->log_contains(qr/ERROR:  injected failure\n.*CONTEXT:  PL\/pgSQL .*\n.*\n\s*scheduled run of pipeline "faulty"/),
	'the failure is logged with the pipeline named');
set_fault('postgres', 'faulty', 'none');
check_ids_exactly_once($node, 'postgres', 'faulty', 'after the error is gone');
ok(wait_run_state('postgres', 'faulty', "last_run_status = 'succeeded' AND consecutive_failures = 0"),
	'a success resets the backoff');

# --- out-of-memory style errors
for my $case (['oom', 'out of memory'], ['huge', 'requested length too large'])
{
	my ($mode, $message) = @$case;
	set_fault('postgres', 'faulty', $mode);
	ok(wait_run_state('postgres', 'faulty', "last_run_status = 'failed' AND last_error = '$message'"),
		"an error \"$message\" is recorded");
	set_fault('postgres', 'faulty', 'none');
	check_ids_exactly_once($node, 'postgres', 'faulty', "after \"$message\"");
}
check_ids_exactly_once($node, 'postgres', 'healthy', 'after the memory errors');

# --- pg_cancel_backend of a batch in progress
set_fault('postgres', 'faulty', 'sleep');
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker' AND wait_event = 'PgSleep'"),
	'the worker is stuck in a command');
$node->safe_psql('postgres', "UPDATE faults SET mode = 'none'; SELECT pg_cancel_backend($worker)");
ok(wait_run_state('postgres', 'faulty', "last_run_status = 'failed' AND last_error = 'canceling statement due to user request'"),
	'the cancelled batch is recorded as failed');
check_ids_exactly_once($node, 'postgres', 'faulty', 'after a cancel');

# --- pg_cancel_backend of an idle worker does nothing
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker' AND state = 'idle'"),
	'the worker is idle');
$node->safe_psql('postgres', "SELECT pg_cancel_backend($worker)");
usleep(500_000);
set_fault('postgres', 'faulty', 'none');
check_ids_exactly_once($node, 'postgres', 'faulty', 'after a cancel of the idle worker');
is(worker_pids($node), $worker, 'the worker survived every failure and cancel');

# --- statement_timeout (here from ALTER DATABASE) cancels a scheduled batch
$node->safe_psql('postgres', q{CREATE DATABASE timeouts;
ALTER DATABASE timeouts SET statement_timeout = '1s'});
$node->safe_psql('timeouts', $fault_setup);
create_faulty('timeouts', 'slow');
set_fault('timeouts', 'slow', 'sleep');
ok(wait_run_state('timeouts', 'slow', "last_run_status = 'failed' AND last_error = 'canceling statement due to statement timeout'", 30),
	'statement_timeout cancels a scheduled batch');
set_fault('timeouts', 'slow', 'none');
check_ids_exactly_once($node, 'timeouts', 'slow', 'after a statement timeout');

# --- an owner that loses its privileges, then is dropped
$node->safe_psql('postgres', 'CREATE ROLE alice LOGIN');
create_ids_pipeline($node, 'postgres', 'alices', owner => 'alice');
$node->safe_psql('postgres', 'INSERT INTO alices_src SELECT FROM generate_series(1, 10)');
check_ids_exactly_once($node, 'postgres', 'alices', 'owned by alice');
$node->safe_psql('postgres', 'REVOKE INSERT ON alices_seen FROM alice; INSERT INTO alices_src DEFAULT VALUES');
ok(wait_run_state('postgres', 'alices', "last_run_status = 'failed' AND last_error = 'permission denied for table alices_seen'"),
	'an owner without privileges: the pipeline fails clearly');
set_fault('postgres', 'faulty', 'none');
check_ids_exactly_once($node, 'postgres', 'healthy', 'while alice lacks privileges');
$node->safe_psql('postgres', 'GRANT INSERT ON alices_seen TO alice');
check_ids_exactly_once($node, 'postgres', 'alices', 'after the grant is back');
$node->safe_psql('postgres', 'DROP OWNED BY alice; DROP ROLE alice; INSERT INTO alices_src DEFAULT VALUES');
is($node->safe_psql('postgres', "SELECT count(*) FROM incremental.pipelines WHERE pipeline_name = 'alices'"),
	'0', 'DROP OWNED drops the pipelines of the role, so that DROP ROLE leaves none behind');
set_fault('postgres', 'faulty', 'none');
check_ids_exactly_once($node, 'postgres', 'healthy', 'while the owner of another pipeline is gone');
check_ids_exactly_once($node, 'postgres', 'faulty', 'while the owner of another pipeline is gone');
is(worker_pids($node) =~ /\b$worker\b/ ? 1 : 0, 1, 'the worker of postgres is still the same process');
is(server_log_crashes($node), 0, 'no process crashed');
$node->stop;

# --- max_worker_processes exhausted at run time: the launcher, the logical
# replication launcher and one worker take all three slots
my $slots = new_scheduler_node('slots', extra_conf => "max_worker_processes = 3\n");
for my $db ('one', 'two')
{
	$slots->safe_psql('postgres', "CREATE DATABASE $db");
	$slots->safe_psql($db, 'CREATE EXTENSION pg_incremental');
	create_sum_pipeline($slots, $db, 'p');
	insert_events($slots, $db, 'p', 10);
}
ok( $slots->poll_query_until(
		'postgres',
		"SELECT pg_read_file('" . $slots->logfile . "') LIKE '%LOG:  pg_incremental could not start a worker in database \"%'"),
	'a database without a slot is logged');
my $served = $slots->safe_psql('postgres',
	"SELECT datname FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker'");
my $starved = $served eq 'one' ? 'two' : 'one';
wait_for_rollup($slots, $served, 'p', "database $served is served");
sleep(2);
is($slots->safe_psql($starved, rollup_matches_source('p')), 'f', "database $starved waits for a slot");
$slots->safe_psql($served, 'DROP EXTENSION pg_incremental');
wait_for_rollup($slots, $starved, 'p', "once the slot is free, database $starved is served without a restart");
my $lines = () = slurp_file($slots->logfile) =~ /\] LOG:  pg_incremental could not start a worker/g;
is($lines, 1, 'the shortage was logged once');
$slots->stop;

done_testing();
