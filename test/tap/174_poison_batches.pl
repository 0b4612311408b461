# Poison batches: a pipeline whose runs fail max_consecutive_failures times
# in a row is paused by the scheduler, with the reason in pipeline_stats,
# and loses nothing: once resumed with the cause fixed, every row is
# processed exactly once.  The setting is incremental.max_consecutive_failures
# (server-wide) or the pipeline's own, by alter_pipeline, which wins.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IncrementalTest;

my $node = new_scheduler_node('poison', extra_conf => "incremental.max_consecutive_failures = 3\n");
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_incremental;
CREATE TABLE poison (on_fire boolean NOT NULL);
INSERT INTO poison VALUES (true);
});

# fails while poison.on_fire: 1 / 0 only then
create_sum_pipeline($node, 'postgres', 'poisoned', schedule => '100 milliseconds',
	command_suffix => ' WHERE (SELECT 1 / CASE WHEN on_fire THEN 0 ELSE 1 END FROM poison) = 1');
create_sum_pipeline($node, 'postgres', 'patient', schedule => '100 milliseconds',
	command_suffix => ' WHERE (SELECT 1 / CASE WHEN on_fire THEN 0 ELSE 1 END FROM poison) = 1');
$node->safe_psql('postgres',
	"SELECT incremental.alter_pipeline('patient', max_consecutive_failures => 0)");
insert_events($node, 'postgres', 'poisoned', 50);
insert_events($node, 'postgres', 'patient', 50);

# failures back off 1 s, 2 s, ...: the third comes after about 3 s
ok( $node->poll_query_until('postgres',
		"SELECT state = 'paused' FROM incremental.pipeline_stats WHERE pipeline_name = 'poisoned'"),
	'the scheduler pauses a pipeline after 3 failed runs in a row');
my $stats = $node->safe_psql('postgres',
	"SELECT consecutive_failures || ' ' || state_detail FROM incremental.pipeline_stats WHERE pipeline_name = 'poisoned'");
like($stats, qr/^3 paused by the scheduler after 3 failed runs in a row \(max_consecutive_failures 3\)/,
	'pipeline_stats says why') or diag $stats;
my $log = slurp_file($node->logfile);
like($log, qr/pipeline "poisoned" paused after 3 failed runs in a row/, 'and so does the log');

# the pipeline's own setting wins: 0 never pauses
sleep 4;
is( $node->safe_psql('postgres',
		"SELECT state || ' ' || (consecutive_failures >= 3) FROM incremental.pipeline_stats WHERE pipeline_name = 'patient'"),
	'failing true', 'a pipeline with max_consecutive_failures 0 keeps retrying');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM incremental.pipeline_runs WHERE pipeline_name = 'poisoned' AND status = 'failed'"),
	'3', 'a paused pipeline is not retried');

# fixed and resumed: nothing was lost, and the reason is gone
$node->safe_psql('postgres', q{
UPDATE poison SET on_fire = false;
SELECT incremental.resume_pipeline('poisoned');
});
wait_for_rollup($node, 'postgres', 'poisoned', 'once resumed, it catches up, every row exactly once');
is( $node->safe_psql('postgres',
		"SELECT state || ' ' || coalesce(state_detail, '-') FROM incremental.pipeline_stats WHERE pipeline_name = 'poisoned'"),
	'idle -', 'and the reason is cleared');
wait_for_rollup($node, 'postgres', 'patient', 'the patient pipeline catches up too');

$node->stop;
done_testing();
