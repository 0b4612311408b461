# incremental.scheduler = 'pg_cron': pipelines scheduled by the real pg_cron
# (Debian's postgresql-15-cron, 1.4), owned by the pipeline's owner, left
# alone by the internal scheduler, removed on drop and at DROP EXTENSION.
# pg_cron runs jobs at minute boundaries: this file waits for it once.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IncrementalTest;

my $node = new_scheduler_node(
	'pg_cron_mode', extra_conf => q{
shared_preload_libraries = 'pg_cron,pg_incremental'
cron.database_name = 'postgres'
cron.use_background_workers = on
});

$node->safe_psql(
	'postgres', q{
CREATE EXTENSION pg_cron;
CREATE EXTENSION pg_incremental;
CREATE ROLE alice LOGIN;
GRANT USAGE ON SCHEMA cron TO alice;
GRANT CREATE ON SCHEMA public TO alice;
});

sub jobs
{
	return $node->safe_psql('postgres',
		"SELECT jobname || ' ' || username || ' ' || schedule || ' ' || active || ' ' || command FROM cron.job ORDER BY jobname"
	);
}

# as alice, in pg_cron mode
sub as_alice
{
	my ($sql) = @_;
	return $node->psql('postgres',
		"SET ROLE alice; SET incremental.scheduler = 'pg_cron'; $sql");
}

# A yearly pg_cron pipeline next to a one-second internal one: once the
# internal one has run, the pg_cron one must still be untouched.
my ($ret, $out, $err) = as_alice(q{
CREATE TABLE yearly_events (id bigserial PRIMARY KEY, value bigint NOT NULL);
CREATE TABLE yearly_totals (row_count bigint NOT NULL, value_sum bigint NOT NULL);
INSERT INTO yearly_totals VALUES (0, 0);
SELECT incremental.create_sequence_pipeline('yearly', 'yearly_events',
  $$UPDATE yearly_totals SET row_count = row_count + ($2 - $1 + 1)$$,
  schedule => '0 0 1 1 *', execute_immediately => false);
});
is($ret, 0, 'a pipeline is created in pg_cron mode') or diag $err;
create_sum_pipeline($node, 'postgres', 'minutely', schedule => '* * * * *');
$node->safe_psql('postgres',
	"SELECT incremental.move_pipeline_schedule('minutely', 'pg_cron')");
create_sum_pipeline($node, 'postgres', 'control', schedule => '1 second');

# a name that would inject SQL if it were not quoted
my $evil = q{evil'); DROP TABLE yearly_totals; --};
(my $evil_sql = $evil) =~ s/'/''/g;
$node->safe_psql(
	'postgres', qq{
SET incremental.scheduler = 'pg_cron';
CREATE TABLE evil_runs (n int);
SELECT incremental.create_time_interval_pipeline('$evil_sql', '1 second',
  \$\$INSERT INTO evil_runs VALUES (1)\$\$, schedule => '* * * * *',
  start_time => now(), min_delay => '0', execute_immediately => false);
});

is( $node->safe_psql(
		'postgres',
		"SELECT string_agg(pipeline_name || ':' || scheduled_by, ',' ORDER BY pipeline_name) FROM incremental.pipelines"
	),
	"control:internal,$evil:pg_cron,minutely:pg_cron,yearly:pg_cron",
	'scheduled_by records where each schedule lives');
is( jobs(),
	"pipeline:$evil postgres * * * * * true call incremental.execute_pipeline('$evil_sql')\n"
	  . "pipeline:minutely postgres * * * * * true call incremental.execute_pipeline('minutely')\n"
	  . "pipeline:yearly alice 0 0 1 1 * true call incremental.execute_pipeline('yearly')",
	'jobs are named pipeline:<name>, owned by the pipeline owner, with a quoted command');

# a pg_cron pipeline whose command fails: its failures must show in the history
$node->safe_psql(
	'postgres', q{
SET incremental.scheduler = 'pg_cron';
CREATE TABLE failing_events (id bigserial PRIMARY KEY, d int NOT NULL);
INSERT INTO failing_events (d) VALUES (0);
SELECT incremental.create_sequence_pipeline('failing', 'failing_events',
  $$SELECT 1 / d FROM failing_events WHERE id BETWEEN $1 AND $2$$,
  schedule => '* * * * *', execute_immediately => false);
});

insert_events($node, 'postgres', $_, 5) for qw(control minutely);
$node->safe_psql('postgres',
	'INSERT INTO yearly_events (value) SELECT g FROM generate_series(1, 5) g');
wait_for_rollup($node, 'postgres', 'control', 'the internal scheduler runs');
$node->safe_psql('postgres', 'SELECT pg_sleep(0.5)');
is($node->safe_psql('postgres', 'SELECT row_count FROM yearly_totals'),
	'0', 'the internal scheduler leaves pg_cron pipelines alone');

# the one wait for pg_cron: up to a minute and a bit
wait_for_rollup($node, 'postgres', 'minutely', 'pg_cron runs the pipeline job');
ok( $node->poll_query_until(
		'postgres', 'SELECT count(*) > 0 FROM evil_runs'),
	'pg_cron runs the job of a pipeline with quotes in its name');
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) > 0 FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'pipeline:minutely' AND d.status = 'succeeded'"
	),
	'pg_cron recorded the run');
ok($node->safe_psql('postgres', "SELECT to_regclass('yearly_totals') IS NOT NULL") eq 't',
	'the name did not inject SQL');
ok( $node->poll_query_until(
		'postgres',
		"SELECT state = 'failing' AND last_error_sqlstate = '22012' FROM incremental.pipeline_stats WHERE pipeline_name = 'failing'"
	),
	'a pg_cron job that fails is recorded in the run history');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) > 0 FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'pipeline:failing' AND d.status = 'failed' AND d.return_message LIKE '%division by zero%'"
	),
	't', 'and pg_cron still sees the error');

# alter_pipeline moves the job to the new schedule, as the owner; pg_cron
# cannot run interval schedules, so those are refused and nothing changes
($ret, $out, $err) = as_alice(q{SELECT incremental.alter_pipeline('yearly', schedule => '0 0 2 1 *')});
is($ret, 0, 'alter_pipeline changes a pg_cron pipeline\'s schedule') or diag $err;
like(jobs(), qr/^pipeline:yearly alice 0 0 2 1 \* true /m, 'and its pg_cron job follows');
($ret, $out, $err) = as_alice(q{SELECT incremental.alter_pipeline('yearly', schedule => '10 seconds')});
like($err, qr/pg_cron cannot run pipeline "yearly" on schedule "10 seconds"/,
	'an interval schedule is refused for a pg_cron pipeline');
is($node->safe_psql('postgres', "SELECT schedule FROM incremental.pipelines WHERE pipeline_name = 'yearly'"),
	'0 0 2 1 *', 'and the schedule stays');

# rename_pipeline: the job takes the new name and command
($ret, $out, $err) = as_alice(q{SELECT incremental.rename_pipeline('yearly', 'annual')});
is($ret, 0, 'a pg_cron pipeline is renamed') or diag $err;
like(jobs(), qr/^pipeline:annual alice 0 0 2 1 \* true call incremental\.execute_pipeline\('annual'\)$/m,
	'and its pg_cron job follows the name');
unlike(jobs(), qr/pipeline:yearly/, 'the old job is gone');
as_alice(q{SELECT incremental.rename_pipeline('annual', 'yearly')});

# schedules pg_cron 1.4 cannot run are refused; so are taken job names
($ret, $out, $err) = as_alice(q{
SELECT incremental.create_sequence_pipeline('fast', 'yearly_events', $$SELECT $1, $2$$,
  schedule => '10 seconds');});
like($err, qr/pg_cron cannot run pipeline "fast" on schedule "10 seconds"/,
	'interval schedules are refused in pg_cron mode');
as_alice(q{SELECT cron.schedule('pipeline:dup', '0 0 1 1 *', 'SELECT 1')});
($ret, $out, $err) = as_alice(q{
SELECT incremental.create_sequence_pipeline('dup', 'yearly_events', $$SELECT $1, $2$$);});
like($err, qr/pg_cron job "pipeline:dup" of role "alice" already exists/,
	'a job of the same name that runs something else is not overwritten');
is($node->safe_psql('postgres', "SELECT count(*) FROM incremental.pipelines WHERE pipeline_name IN ('fast', 'dup')"),
	'0', 'and nothing is created');

# long names: cut and hashed, so two names alike in 63 bytes get two jobs
my $long = 'x' x 70;
($ret, $out, $err) = as_alice(qq{
SELECT incremental.create_sequence_pipeline('${long}1', 'yearly_events', \$\$SELECT \$1, \$2\$\$, execute_immediately => false);
SELECT incremental.create_sequence_pipeline('${long}2', 'yearly_events', \$\$SELECT \$1, \$2\$\$, execute_immediately => false);
});
is($ret, 0, 'pipelines with long names are created') or diag $err;
is( $node->safe_psql(
		'postgres',
		"SELECT count(DISTINCT jobname) FROM cron.job WHERE command LIKE '%${long}%' AND length(jobname) <= 63"
	),
	'2',
	'long names get distinct jobs');

# moving to the internal scheduler removes the job and keeps the schedule
$node->safe_psql('postgres', "SELECT cron.alter_job(jobid, schedule => '*/5 * * * *') FROM cron.job WHERE jobname = 'pipeline:minutely'");
$node->safe_psql('postgres',
	"SELECT incremental.move_pipeline_schedule('minutely', 'internal')");
is( $node->safe_psql(
		'postgres',
		"SELECT schedule || ' ' || scheduled_by || ' ' || (SELECT count(*) FROM cron.job WHERE jobname = 'pipeline:minutely') FROM incremental.pipelines WHERE pipeline_name = 'minutely'"
	),
	'*/5 * * * * internal 0',
	"moving to the internal scheduler takes pg_cron's schedule and removes the job");

# drop_pipeline (by a superuser, of alice's pipeline) and dropping the source
$node->safe_psql('postgres', "SELECT incremental.drop_pipeline('${long}1')");
is($node->safe_psql('postgres', "SELECT count(*) FROM cron.job WHERE command LIKE '%${long}1%'"),
	'0', "drop_pipeline removes the job, whoever owns it");
$node->safe_psql('postgres', 'DROP TABLE yearly_events CASCADE');
is($node->safe_psql('postgres', "SELECT count(*) FROM cron.job WHERE jobname LIKE 'pipeline:yearly%' OR command LIKE '%${long}2%'"),
	'0', 'dropping the source table removes the jobs of its pipelines');

# a pipeline's job is the one whose ID it recorded: jobs that another role
# named like it, or gave its command, are never touched (review D6)
$node->safe_psql(
	'postgres', q{
CREATE ROLE bob LOGIN;
CREATE ROLE mallory LOGIN;
GRANT USAGE ON SCHEMA cron TO bob, mallory;
SET ROLE bob;
SELECT cron.schedule('pipeline:nightly', '0 3 * * *', 'vacuum');
SELECT cron.schedule('bob-calls-nightly', '0 4 * * *', $$call incremental.execute_pipeline('nightly')$$);
});
($ret, $out, $err) = $node->psql(
	'postgres', q{
SET ROLE mallory;
SET incremental.scheduler = 'pg_cron';
SELECT incremental.create_time_interval_pipeline('nightly', '1 day', $$SELECT $1, $2$$,
  schedule := '0 1 * * *', execute_immediately := false);
SELECT incremental.move_pipeline_schedule('nightly', 'internal');
SELECT incremental.move_pipeline_schedule('nightly', 'pg_cron');
SELECT incremental.drop_pipeline('nightly');
});
is($ret, 0, "mallory creates, moves and drops a pipeline named like bob's jobs") or diag $err;
is( $node->safe_psql(
		'postgres',
		"SELECT string_agg(jobname || ' ' || username, ',' ORDER BY jobname) FROM cron.job WHERE jobname IN ('pipeline:nightly', 'bob-calls-nightly') OR username = 'mallory'"
	),
	'bob-calls-nightly bob,pipeline:nightly bob',
	"bob's jobs survive, mallory's pipeline left no job behind");
$node->safe_psql('postgres',
	"SELECT cron.unschedule(jobid) FROM cron.job WHERE username = 'bob'");

# DROP EXTENSION removes the remaining pipeline jobs, and only those
$node->safe_psql('postgres', 'DROP EXTENSION pg_incremental');
is( $node->safe_psql('postgres', 'SELECT string_agg(jobname, \',\') FROM cron.job'),
	'pipeline:dup', 'DROP EXTENSION removes the pipeline jobs and leaves the others');
$node->safe_psql('postgres', 'CREATE EXTENSION pg_incremental');
$node->safe_psql('postgres', 'DROP EXTENSION pg_cron');
$node->safe_psql('postgres', 'DROP EXTENSION pg_incremental');
pass('DROP EXTENSION works without pg_cron');

$node->stop;
done_testing();
