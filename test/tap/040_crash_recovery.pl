# A worker killed with SIGKILL in the middle of a run (the postmaster then
# restarts the whole cluster) loses and duplicates nothing: the rollup
# equals a recomputation from the source afterwards.  A launcher that is
# terminated comes back and does not start a second worker for a database.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IncrementalTest;

my $node = new_scheduler_node('crash', extra_conf => "restart_after_crash = on\n");
$node->safe_psql('postgres', 'CREATE EXTENSION pg_incremental');

# Small batches that each take a while, so a kill lands inside one
create_sum_pipeline($node, 'postgres', 'slow', max_batch_size => 50,
	command_suffix => ' WHERE (SELECT true FROM pg_sleep(0.05))');
insert_events($node, 'postgres', 'slow', 2000);

my $pid;
ok( $node->poll_query_until(
		'postgres', q{
SELECT count(*) = 1 FROM pg_stat_activity
WHERE backend_type = 'pg_incremental worker' AND state = 'active' AND query LIKE 'UPDATE slow_totals%'}),
	'the worker is in the middle of a run');
$pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker'");
my $done_before = $node->safe_psql('postgres', 'SELECT row_count FROM slow_totals');
note("killing worker $pid after $done_before of 2000 rows");
kill 'KILL', $pid;

ok($node->poll_query_until('postgres', rollup_matches_source('slow')),
	'after the crash and recovery the pipeline catches up');
is($node->safe_psql('postgres', 'SELECT row_count, value_sum FROM slow_totals'),
	'2000|2001000', 'with every row counted exactly once');
ok($node->log_contains(qr/background worker "pg_incremental worker" \(PID $pid\) was terminated by signal 9/),
	'the kill happened');

# --- a terminated launcher comes back and adopts the running worker
my $launcher = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_incremental launcher'");
my $worker = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($launcher)");
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_incremental launcher' AND pid <> $launcher"),
	'the launcher restarts');
# give the new launcher time to (wrongly) start another worker
sleep(1);
is( $node->safe_psql(
		'postgres',
		"SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker'"),
	$worker,
	'the new launcher adopts the running worker instead of starting another');
insert_events($node, 'postgres', 'slow', 100);
wait_for_rollup($node, 'postgres', 'slow', 'and the pipeline keeps running');

# --- a terminated worker is relaunched
$node->safe_psql('postgres', "SELECT pg_terminate_backend($worker)");
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker' AND pid <> $worker"),
	'a terminated worker is relaunched');

$node->stop;
done_testing();
