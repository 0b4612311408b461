# A pipeline waits for the transactions that write to its source, so it
# never skips a row committed late.  The scheduler waits at most 100 ms at a
# time, so that a long open writer holds up its pipeline only, never the
# others of its database.  Here the writer is a long open transaction:
#  - the held-up pipeline processes nothing meanwhile, is not failing, and
#    processes everything exactly once after COMMIT; the other pipeline of
#    the database runs all along; lock_timeout makes no difference;
#  - the source is dropped, or truncated, while a writer holds the pipeline
#    up: no crash, no deadlock, the worker survives, the other pipelines
#    run, and a truncated source goes on being processed exactly once.
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

# true once the scheduler has tried, and postponed, the pipeline a few times
sub held_up_a_while
{
	sleep(1);
	return 1;
}

sub failures
{
	my ($db, $name) = @_;
	return $node->safe_psql($db,
		"SELECT count(*) FROM incremental.pipeline_runs WHERE pipeline_name = '$name' AND status = 'failed'");
}

sub seen_count
{
	my ($db, $name) = @_;
	return $node->safe_psql($db, "SELECT count(*) FROM ${name}_seen");
}

# --- a long writer: it holds up its pipeline, and only that one
for my $db ('postgres', 'lt')
{
	my $writer = $node->background_psql($db);
	$writer->query_safe('BEGIN; INSERT INTO waiter_src SELECT FROM generate_series(1, 5)');
	$node->safe_psql($db, 'INSERT INTO waiter_src SELECT FROM generate_series(1, 10)');
	$node->safe_psql($db, 'INSERT INTO other_src SELECT FROM generate_series(1, 10)');
	check_ids_exactly_once($node, $db, 'other', "$db: another pipeline runs while a writer holds one up");
	held_up_a_while();
	is(seen_count($db, 'waiter'), 0,
		"$db: the held-up pipeline processes nothing meanwhile, not even later committed rows");
	is(failures($db, 'waiter'), 0, "$db: and does not fail: it is tried again later");
	$writer->query_safe('COMMIT');
	my ($rows, $seen, $lost, $dups) = check_ids_exactly_once($node, $db, 'waiter', "$db: after the writer commits");
	is($rows, 15, "$db: the writer's rows and the later rows");
	diag("$db: long writer: $rows rows, $lost lost, $dups duplicated");
}

my ($writer, $rows, $seen, $lost, $dups);

# --- the source is truncated while a run waits for a writer
create_ids_pipeline($node, 'postgres', 'truncated');
$writer = $node->background_psql('postgres');
$writer->query_safe('BEGIN; INSERT INTO truncated_src SELECT FROM generate_series(1, 5)');
ok(held_up_a_while(), 'a writer holds up the pipeline of the source to truncate');
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
ok(held_up_a_while(), 'a writer holds up the pipeline of the source to drop');
$ddl = $node->background_psql('postgres', on_error_stop => 0);
$ddl->query_until(qr/started/, "\\echo started\nDROP TABLE dropped_src;\n\\echo dropped :ERROR\n");
$writer->query_safe('COMMIT');
# a run locks the table (as its command would) before the sequence, like
# DROP TABLE: the DROP waits for a run, never deadlocks with it
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
