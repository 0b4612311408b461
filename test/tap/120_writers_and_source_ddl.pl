# A pipeline waits for the transactions that write to its source, so it
# never skips a row committed late.  Here the writer is a long open
# transaction:
#  - without lock_timeout, the run waits, processes nothing beyond the
#    writer meanwhile, and processes everything exactly once after COMMIT;
#  - with lock_timeout (ALTER DATABASE SET), the run fails cleanly, is
#    recorded and backs off, the other pipelines run, and nothing is
#    skipped when the writer commits;
#  - the source is dropped, or truncated, while a run waits for a writer:
#    no crash, the worker survives, the other pipelines run, and a
#    truncated source goes on being processed exactly once.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use FindBin;
use lib $FindBin::RealBin;
use lib "$FindBin::RealBin/../long";
use IncrementalTest;
use ExactlyOnce;

my $node = new_scheduler_node('writers');
$node->safe_psql('postgres', q{CREATE DATABASE lt; ALTER DATABASE lt SET lock_timeout = '300ms'});
for my $db ('postgres', 'lt')
{
	$node->safe_psql($db, 'CREATE EXTENSION pg_incremental');
	create_ids_pipeline($node, $db, 'waiter');
	create_ids_pipeline($node, $db, 'other');
}

sub worker_waits_for_lock
{
	my ($db) = @_;
	return $node->poll_query_until('postgres', qq{
SELECT count(*) = 1 FROM pg_stat_activity
WHERE backend_type = 'pg_incremental worker' AND datname = '$db' AND wait_event_type = 'Lock'});
}

sub seen_count
{
	my ($db, $name) = @_;
	return $node->safe_psql($db, "SELECT count(*) FROM ${name}_seen");
}

# --- a long writer, no lock_timeout: the run waits
my $writer = $node->background_psql('postgres');
$writer->query_safe('BEGIN; INSERT INTO waiter_src SELECT FROM generate_series(1, 5)');
$node->safe_psql('postgres', 'INSERT INTO waiter_src SELECT FROM generate_series(1, 10)');
ok(worker_waits_for_lock('postgres'), 'the run waits for the open writer');
sleep(1);
is(seen_count('postgres', 'waiter'), 0, 'and processes nothing while it waits, not even later committed rows');
$writer->query_safe('COMMIT');
my ($rows, $seen, $lost, $dups) = check_ids_exactly_once($node, 'postgres', 'waiter', 'after the writer commits');
is($rows, 15, 'the writer\'s rows and the later rows');
diag("long writer, no lock_timeout: $rows rows, $lost lost, $dups duplicated");

# --- with lock_timeout: the run fails cleanly, others go on
$writer = $node->background_psql('lt');
$writer->query_safe('BEGIN; INSERT INTO waiter_src SELECT FROM generate_series(1, 5)');
$node->safe_psql('lt', 'INSERT INTO waiter_src SELECT FROM generate_series(1, 10)');
ok( $node->poll_query_until('lt', q{
SELECT count(*) = 1 FROM (SELECT DISTINCT ON (pipeline_name) pipeline_name, status AS last_run_status, error_message AS last_error, consecutive_failures, ended_at AS last_run_end, next_retry_at FROM incremental.pipeline_runs ORDER BY pipeline_name, run_id DESC) AS pipeline_run_state
WHERE pipeline_name = 'waiter' AND last_run_status = 'failed'
  AND last_error = 'canceling statement due to lock timeout' AND consecutive_failures >= 2}),
	'with lock_timeout the run fails cleanly, is recorded and retried');
$node->safe_psql('lt', 'INSERT INTO other_src SELECT FROM generate_series(1, 10)');
check_ids_exactly_once($node, 'lt', 'other', 'while a writer blocks another pipeline');
is(seen_count('lt', 'waiter'), 0, 'nothing of the blocked source was processed meanwhile');
$writer->query_safe('COMMIT');
($rows, $seen, $lost, $dups) = check_ids_exactly_once($node, 'lt', 'waiter', 'after the writer commits, with lock_timeout');
diag("long writer, lock_timeout 300ms: $rows rows, $lost lost, $dups duplicated");

# --- the source is truncated while a run waits for a writer
create_ids_pipeline($node, 'postgres', 'truncated');
$writer = $node->background_psql('postgres');
$writer->query_safe('BEGIN; INSERT INTO truncated_src SELECT FROM generate_series(1, 5)');
ok(worker_waits_for_lock('postgres'), 'a run waits for the writer of the source to truncate');
my $ddl = $node->background_psql('postgres');
$ddl->query_until(qr/started/, "\\echo started\nTRUNCATE truncated_src;\n");
$writer->query_safe('COMMIT');
$ddl->quit;
$node->safe_psql('postgres', 'INSERT INTO truncated_src SELECT FROM generate_series(1, 20)');
($rows, $seen, $lost, $dups) = check_ids_exactly_once($node, 'postgres', 'truncated', 'after TRUNCATE during a wait');
diag("source truncated during a wait: $rows rows after, $seen processed, $lost lost, $dups duplicated");

# --- the source is dropped while a run waits for a writer
create_ids_pipeline($node, 'postgres', 'dropped');
$writer = $node->background_psql('postgres');
$writer->query_safe('BEGIN; INSERT INTO dropped_src SELECT FROM generate_series(1, 5)');
ok(worker_waits_for_lock('postgres'), 'a run waits for the writer of the source to drop');
$ddl = $node->background_psql('postgres', on_error_stop => 0);
$ddl->query_until(qr/started/, "\\echo started\nDROP TABLE dropped_src;\n\\echo dropped :ERROR\n");
$writer->query_safe('COMMIT');
# the run holds the table (as its command would) before the sequence, like
# DROP TABLE: the DROP waits for the run, with no deadlock to break
like($ddl->query_until(qr/dropped \w+/, ''), qr/dropped false/,
	'DROP TABLE of a source that a run is using waits for the run and succeeds');
$ddl->quit;
ok( $node->poll_query_until('postgres',
		"SELECT to_regclass('dropped_src') IS NULL AND NOT EXISTS (SELECT FROM incremental.pipelines WHERE pipeline_name = 'dropped')"),
	'the source and its pipeline are gone');
$node->safe_psql('postgres', 'INSERT INTO other_src SELECT FROM generate_series(1, 10)');
check_ids_exactly_once($node, 'postgres', 'other', 'after the source of another pipeline was dropped');

my $worker_pids = worker_pids($node);
is(scalar(split /,/, $worker_pids), 2, 'one worker per database, none restarted by a crash');
is(server_log_crashes($node), 0, 'no process crashed');
unlike(slurp_file($node->logfile), qr/pg_incremental worker.*exited with exit code 1/,
	'no worker exited on an error');
$node->stop;
done_testing();
