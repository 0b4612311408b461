# Monitoring with the scheduler running: the state column follows a
# pipeline from running to failing and back to idle (even when the run
# that recovers finds nothing new), a repeating failure is logged once, not
# at every retry, and the history is trimmed to incremental.history_max_runs
# without losing the counters.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use IncrementalTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = new_scheduler_node('monitoring',
	extra_conf => "incremental.history_max_runs = 3\n");
$node->safe_psql('postgres', 'CREATE EXTENSION pg_incremental');

sub stats
{
	my ($name, $columns) = @_;
	return $node->safe_psql('postgres',
		"SELECT $columns FROM incremental.pipeline_stats WHERE pipeline_name = '$name'");
}

# --- a run in progress shows as running, with its command in pg_stat_activity
$node->safe_psql(
	'postgres', q{
CREATE TABLE slow_events (id bigserial PRIMARY KEY);
SELECT incremental.create_sequence_pipeline('slow', 'slow_events',
  $$SELECT pg_sleep(3) WHERE $1 <= $2$$, schedule => '1 second', execute_immediately => false);
INSERT INTO slow_events DEFAULT VALUES;
});
ok($node->poll_query_until('postgres',
		"SELECT state = 'running' FROM incremental.pipeline_stats WHERE pipeline_name = 'slow'"),
	'a pipeline whose command is running shows as running');
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker' AND query LIKE '%pg_sleep(3)%'"),
	'1', 'the worker shows the command it runs');
ok($node->poll_query_until('postgres',
		"SELECT state = 'idle' AND runs = 1 FROM incremental.pipeline_stats WHERE pipeline_name = 'slow'"),
	'and idle once it is done');
$node->safe_psql('postgres', "SELECT incremental.drop_pipeline('slow')");

# --- failing, logged once while the same failure repeats
$node->safe_psql(
	'postgres', q{
CREATE TABLE switch (fail boolean NOT NULL);
INSERT INTO switch VALUES (true);
CREATE TABLE flaky_events (id bigserial PRIMARY KEY);
CREATE FUNCTION flaky_step(bigint, bigint) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
	IF (SELECT fail FROM switch) THEN
		RAISE EXCEPTION 'flaky step failed';
	END IF;
END $f$;
SELECT incremental.create_sequence_pipeline('flaky', 'flaky_events',
  $$SELECT flaky_step($1, $2)$$, schedule => '1 second', execute_immediately => false);
INSERT INTO flaky_events DEFAULT VALUES;
});
ok($node->poll_query_until('postgres',
		"SELECT state = 'failing' AND consecutive_failures >= 3 FROM incremental.pipeline_stats WHERE pipeline_name = 'flaky'"),
	'a pipeline that keeps failing shows as failing');
is(stats('flaky', 'last_error || \'|\' || last_error_sqlstate'), 'flaky step failed|P0001',
	'with its last error and SQLSTATE');
my $failures = stats('flaky', 'consecutive_failures');
my $logged = () = slurp_file($node->logfile) =~ /ERROR:  flaky step failed/g;
is($logged, 1, "the same failure is logged once, not at each of $failures retries");
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM incremental.pipeline_runs WHERE pipeline_name = 'flaky' AND status = 'failed' AND error_message = 'flaky step failed' AND next_retry_at > ended_at"),
	$failures < 3 ? $failures : 3,
	'every failure is in the history, with its retry time (trimmed to 3 rows)');

# --- fixed: the next run succeeds and the state recovers
$node->safe_psql('postgres', 'UPDATE switch SET fail = false');
ok($node->poll_query_until('postgres',
		"SELECT state = 'idle' AND consecutive_failures = 0 AND last_status = 'succeeded' AND items_processed = 1 FROM incremental.pipeline_stats WHERE pipeline_name = 'flaky'"),
	'after the cause is fixed, the pipeline catches up and is idle again');
ok($node->log_contains(qr/pipeline "flaky" ran again without error after \d+ failures/),
	'the recovery is logged');

# a failure series that ends with nothing new to process also recovers
$node->safe_psql('postgres', 'UPDATE switch SET fail = true');
$node->safe_psql('postgres', 'INSERT INTO flaky_events DEFAULT VALUES');
ok($node->poll_query_until('postgres',
		"SELECT state = 'failing' FROM incremental.pipeline_stats WHERE pipeline_name = 'flaky'"),
	'failing again');
$node->safe_psql('postgres', q{
UPDATE switch SET fail = false;
CALL incremental.execute_pipeline('flaky');
});
ok($node->poll_query_until('postgres',
		"SELECT state = 'idle' AND consecutive_failures = 0 FROM incremental.pipeline_stats WHERE pipeline_name = 'flaky'"),
	'a scheduled run that finds nothing new after failures records the recovery');

# --- the history is trimmed, the counters are not
create_sum_pipeline($node, 'postgres', 'counted', schedule => '1 second');
for my $round (1 .. 6)
{
	insert_events($node, 'postgres', 'counted', 10);
	$node->poll_query_until('postgres',
		"SELECT items_processed = 10 * $round FROM incremental.pipeline_stats WHERE pipeline_name = 'counted'");
}
is(stats('counted', 'runs || \'|\' || items_processed'), '6|60', 'six runs counted');
# a restarted worker trims right away
$node->safe_psql('postgres',
	"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker'");
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 3 FROM incremental.pipeline_runs WHERE pipeline_name = 'counted'"),
	'the history keeps incremental.history_max_runs runs per pipeline');
is(stats('counted', 'runs || \'|\' || items_processed'), '6|60',
	'and the counters still cover every run');

$node->stop;
done_testing();
