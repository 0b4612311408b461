# A hot standby runs nothing; once promoted it runs the pipelines by itself.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IncrementalTest;

my $primary = new_scheduler_node('primary', init => { allows_streaming => 1 });
$primary->safe_psql('postgres', 'CREATE EXTENSION pg_incremental');
create_sum_pipeline($primary, 'postgres', 'replicated');
insert_events($primary, 'postgres', 'replicated', 100);
wait_for_rollup($primary, 'postgres', 'replicated', 'the primary runs the pipeline');

$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

# Let the standby's postmaster pass a few naptimes; then look for processes
sleep(1);
is( $standby->safe_psql(
		'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'pg_incremental%'"),
	'0',
	'a hot standby starts no launcher and no worker');

$primary->stop;
$standby->promote;

ok( $standby->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker'"),
	'after promotion the scheduler starts by itself');
insert_events($standby, 'postgres', 'replicated', 100);
wait_for_rollup($standby, 'postgres', 'replicated', 'and runs the pipeline, continuing its progress');

$standby->stop;
done_testing();
