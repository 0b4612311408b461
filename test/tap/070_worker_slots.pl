# When max_worker_processes leaves no room, the launcher warns at start,
# logs the failure to start a worker once (not at every retry), never
# spins, and serves the database once there is room.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IncrementalTest;

# the launcher and the logical replication launcher take both slots
my $node = new_scheduler_node('slots', extra_conf => "max_worker_processes = 2\n");
$node->safe_psql('postgres', 'CREATE EXTENSION pg_incremental');
create_sum_pipeline($node, 'postgres', 'starved');
insert_events($node, 'postgres', 'starved', 10);

ok( $node->poll_query_until(
		'postgres',
		"SELECT pg_read_file('" . $node->logfile . "') LIKE '%LOG:  pg_incremental could not start a worker in database \"postgres\"%'"),
	'the failed start is logged');
# several retries happen meanwhile (1 s, 2 s backoff)
sleep(3);
my $log = slurp_file($node->logfile);
my $count = () = $log =~ /\] LOG:  pg_incremental could not start a worker/g;
is($count, 1, 'once, not at every retry');
like($log, qr/WARNING:  incremental.max_workers \(4\) exceeds what max_worker_processes \(2\) leaves/,
	'the launcher warns about the budget at start');
is($node->safe_psql('postgres', rollup_matches_source('starved')), 'f', 'nothing ran meanwhile');

$node->append_conf('postgresql.conf', "max_worker_processes = 8\n");
$node->restart;
wait_for_rollup($node, 'postgres', 'starved', 'with room for a worker the database is served');

$node->stop;
done_testing();
