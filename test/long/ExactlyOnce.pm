# Helpers of the reliability tests (test/tap/1NN_*.pl and test/long/*):
# pipelines whose every processed item leaves a row in a "seen" table, so
# losses and duplicates can be counted exactly, not only detected.
#
# For a sequence pipeline NAME: NAME_src (id bigserial, created_at) is the
# source and NAME_seen (id) gets one row per id each time the command
# processes it.  lost = source ids missing from NAME_seen; duplicates =
# rows of NAME_seen beyond one per id.  No unique index on NAME_seen: a
# duplicate must be counted, not turned into a failing run.
package ExactlyOnce;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(
  create_ids_pipeline
  ids_figures
  wait_ids_caught_up
  check_ids_exactly_once
  worker_pids
  server_log_crashes
);

# Options: schedule ('1 second'), max_batch_size (NULL), sleep (seconds
# each batch sleeps, to make it long enough to be interrupted), owner
# (role that creates the pipeline; default the connecting superuser).
sub create_ids_pipeline
{
	my ($node, $db, $name, %opts) = @_;
	my $schedule = $opts{schedule} // '1 second';
	my $batch = $opts{max_batch_size} // 'NULL';
	my $sleep = $opts{sleep} ? " AND (SELECT true FROM pg_sleep($opts{sleep}))" : '';
	my $setrole = $opts{owner} ? "SET ROLE $opts{owner};" : '';
	my $grant = $opts{owner}
	  ? "GRANT SELECT, INSERT ON ${name}_src, ${name}_seen TO $opts{owner};"
	  . " GRANT USAGE, SELECT ON SEQUENCE ${name}_src_id_seq TO $opts{owner};"
	  : '';

	$node->safe_psql(
		$db, qq{
CREATE TABLE ${name}_src (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE ${name}_seen (id bigint NOT NULL);
$grant
$setrole
SELECT incremental.create_sequence_pipeline('$name', '${name}_src',
  \$cmd\$INSERT INTO ${name}_seen SELECT id FROM ${name}_src WHERE id BETWEEN \$1 AND \$2$sleep\$cmd\$,
  schedule => '$schedule', max_batch_size => $batch, execute_immediately => false);
RESET ROLE;
});
}

# (source rows, processed rows, lost, duplicates) of pipeline $name
sub ids_figures
{
	my ($node, $db, $name) = @_;
	my $r = $node->safe_psql(
		$db, qq{
SELECT (SELECT count(*) FROM ${name}_src),
       (SELECT count(*) FROM ${name}_seen),
       (SELECT count(*) FROM ${name}_src s WHERE NOT EXISTS (SELECT FROM ${name}_seen x WHERE x.id = s.id)),
       (SELECT count(*) - count(DISTINCT id) FROM ${name}_seen)});
	return split /\|/, $r;
}

sub wait_ids_caught_up
{
	my ($node, $db, $name) = @_;
	return $node->poll_query_until(
		$db, qq{
SELECT NOT EXISTS (SELECT FROM ${name}_src s WHERE NOT EXISTS (SELECT FROM ${name}_seen x WHERE x.id = s.id))});
}

# Waits for the pipeline to catch up, then asserts 0 lost and 0
# duplicated and returns the figures.
sub check_ids_exactly_once
{
	my ($node, $db, $name, $what) = @_;
	ok(wait_ids_caught_up($node, $db, $name), "$what: pipeline $name catches up");
	my ($rows, $seen, $lost, $dups) = ids_figures($node, $db, $name);
	is($lost, 0, "$what: $name lost no row of $rows");
	is($dups, 0, "$what: $name processed no row twice");
	return ($rows, $seen, $lost, $dups);
}

# pids of the scheduler's workers (all databases), sorted
sub worker_pids
{
	my ($node) = @_;
	my $r = $node->safe_psql('postgres',
		"SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker'"
	);
	return $r;
}

# Number of processes the postmaster reported as killed by a signal,
# optionally ignoring signal 9 (the kills the test did itself)
sub server_log_crashes
{
	my ($node, %opts) = @_;
	my $log = slurp_file($node->logfile);
	my $n = 0;
	# the postmaster's reports of a backend or worker dying; not a child
	# program of COPY FROM PROGRAM interrupted by a timeout
	while ($log =~ /(?:server process|background worker "[^"]*") \(PID \d+\) was terminated by signal (\d+)/g)
	{
		$n++ unless $opts{ignore_kill} && $1 == 9;
	}
	return $n;
}

1;
