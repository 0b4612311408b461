# Exactly once under concurrency: four sessions insert for a few seconds
# while the scheduler runs the pipeline every second, and a manual
# execute_pipeline competes with it.  The rollup must equal a
# recomputation from the source.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IncrementalTest;

my $node = new_scheduler_node('concurrent');
$node->safe_psql('postgres', 'CREATE EXTENSION pg_incremental');
create_sum_pipeline($node, 'postgres', 'busy');

$node->pgbench(
	'--no-vacuum --client=4 --jobs=2 --time=4',
	0,
	[qr/processed/],
	[qr/^$/],
	'four writers insert while the scheduler runs',
	{
		'insert_events' => q{
\set value random(1, 1000)
INSERT INTO busy_events (value) VALUES (:value);
}
	});

# a manual run waits for the scheduled one instead of overlapping it
$node->safe_psql('postgres', "CALL incremental.execute_pipeline('busy')");

my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM busy_events');
note("$rows rows inserted by four writers");
wait_for_rollup($node, 'postgres', 'busy', 'every row was processed exactly once');
cmp_ok(
	$node->safe_psql('postgres',
		"SELECT count(*) FROM incremental.pipeline_runs WHERE pipeline_name = 'busy' AND triggered_by = 'scheduler' AND status = 'succeeded'"
	),
	'>=', 1,
	'the scheduler ran the pipeline');

$node->stop;
done_testing();
