# Crashes in the middle of a run lose and duplicate nothing, and the
# scheduler comes back by itself:
#  - kill -9 of the per-database worker while it is inside a batch,
#    repeated (INCREMENTAL_KILL_ROUNDS, 5 here, 20+ in test/long/faults.sh);
#  - pg_ctl -m immediate during a run, then a restart;
#  - kill -9 of the launcher during a run: one worker per database after.
# Each pipeline writes every id it processes into a "seen" table, so the
# figures count lost and duplicated rows exactly.
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

my $rounds = $ENV{INCREMENTAL_KILL_ROUNDS} // 5;
my $rows_per_round = $ENV{INCREMENTAL_KILL_ROWS} // 600;

my $node = new_scheduler_node('kill', extra_conf => "restart_after_crash = on\n");
$node->safe_psql('postgres', 'CREATE EXTENSION pg_incremental');

# batches of 40 ids that take ~50 ms each: a kill lands inside one
create_ids_pipeline($node, 'postgres', 'killed', max_batch_size => 40, sleep => 0.05);
# a second pipeline in the same worker, not slowed down
create_ids_pipeline($node, 'postgres', 'bystander', max_batch_size => 100);

my $active_query = q{
SELECT pid FROM pg_stat_activity
WHERE backend_type = 'pg_incremental worker' AND state = 'active'
  AND query LIKE 'INSERT INTO killed_seen%'};

# Waits until the worker is inside a batch of "killed", after a random
# extra delay, and returns its pid (or undef)
sub worker_in_batch
{
	my $pid;
	for (1 .. 600)
	{
		$pid = $node->safe_psql('postgres', $active_query);
		last if $pid ne '';
		usleep(20_000);
	}
	return undef if $pid eq '';
	usleep(int(rand(40_000)));
	return $pid;
}

my ($kills, $mid_run) = (0, 0);
for my $round (1 .. $rounds)
{
	$node->safe_psql('postgres',
		"INSERT INTO killed_src SELECT FROM generate_series(1, $rows_per_round);"
		  . "INSERT INTO bystander_src SELECT FROM generate_series(1, 100)");
	my $pid = worker_in_batch();
	next unless defined $pid;
	my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM killed_seen');
	kill 'KILL', $pid;
	$kills++;
	$mid_run++ if $before < $round * $rows_per_round;
	# the postmaster restarts everything; the launcher starts the worker again
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker'")
	  or diag("round $round: no worker after the crash");
}
is($kills, $rounds, "the worker was killed inside a batch in each of $rounds rounds");

my ($rows, $seen, $lost, $dups) = check_ids_exactly_once($node, 'postgres', 'killed', 'after kill -9 rounds');
check_ids_exactly_once($node, 'postgres', 'bystander', 'after kill -9 rounds');
my $crashes = () = slurp_file($node->logfile) =~
  /background worker "pg_incremental worker" \(PID \d+\) was terminated by signal 9/g;
is($crashes, $kills, 'every kill was a crash of the worker, and nothing else crashed');
is(server_log_crashes($node, ignore_kill => 1), 0, 'no process died of another signal');
diag("kill -9 of the worker: $kills kills ($mid_run mid-run), $rows rows, $seen processed, $lost lost, $dups duplicated");

# --- immediate shutdown in the middle of a run
$node->safe_psql('postgres', "INSERT INTO killed_src SELECT FROM generate_series(1, $rows_per_round)");
ok(defined worker_in_batch(), 'a run is in progress before the immediate shutdown');
$node->stop('immediate');
$node->start;
($rows, $seen, $lost, $dups) = check_ids_exactly_once($node, 'postgres', 'killed', 'after pg_ctl -m immediate');
diag("immediate shutdown: $rows rows, $lost lost, $dups duplicated");

# --- kill -9 of the launcher in the middle of a run
$node->safe_psql('postgres', "INSERT INTO killed_src SELECT FROM generate_series(1, $rows_per_round)");
ok(defined worker_in_batch(), 'a run is in progress before the launcher is killed');
my $launcher = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_incremental launcher'");
kill 'KILL', $launcher;
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_incremental launcher' AND pid <> $launcher"),
	'the launcher comes back');
$node->safe_psql('postgres', "INSERT INTO killed_src SELECT FROM generate_series(1, 100)");
($rows, $seen, $lost, $dups) = check_ids_exactly_once($node, 'postgres', 'killed', 'after kill -9 of the launcher');
# watch for a second worker for a while (the new launcher must not start one)
my $max_workers = 0;
for (1 .. 20)
{
	my $n = worker_count($node, 'postgres');
	$max_workers = $n if $n > $max_workers;
	usleep(100_000);
}
is($max_workers, 1, 'never two workers for the database');
diag("kill -9 of the launcher: $rows rows, $lost lost, $dups duplicated, at most $max_workers worker");

$node->stop;
done_testing();
