# Helpers shared by the TAP tests of pg_incremental's scheduler.
#
# Every test builds the same small thing: a source table NAME_events, a
# rollup NAME_totals (row count and sum) and a sequence pipeline NAME that
# adds new events to the rollup.  Whether the rollup equals a full
# recomputation from the source is the exactly-once check: a lost batch
# makes it smaller, a duplicated one larger.
package IncrementalTest;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(
  new_scheduler_node
  create_sum_pipeline
  insert_events
  rollup_matches_source
  wait_for_rollup
  worker_count
  worker_pid
  wait_for_new_worker
);

# A node with the library preloaded and a short naptime, so tests poll
# for tenths of seconds, not seconds.
sub new_scheduler_node
{
	my ($name, %params) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);

	$node->init(%{ $params{init} // {} });
	$node->append_conf(
		'postgresql.conf', qq{
shared_preload_libraries = 'pg_incremental'
incremental.naptime = '100ms'
max_worker_processes = 16
} . ($params{extra_conf} // ''));
	$node->start unless $params{no_start};

	return $node;
}

# Creates NAME_events, NAME_totals and the pipeline NAME in database $db.
# Options: schedule (default '1 second'), max_batch_size, command_prefix
# (e.g. a data-modifying WITH) and command_suffix (e.g. a WHERE clause):
# the command must remain one statement.
sub create_sum_pipeline
{
	my ($node, $db, $name, %opts) = @_;
	my $schedule = $opts{schedule} // '1 second';
	my $batch = defined $opts{max_batch_size} ? $opts{max_batch_size} : 'NULL';
	my $prefix = $opts{command_prefix} // '';
	my $suffix = $opts{command_suffix} // '';

	$node->safe_psql(
		$db, qq{
CREATE TABLE ${name}_events (id bigserial PRIMARY KEY, value bigint NOT NULL);
CREATE TABLE ${name}_totals (row_count bigint NOT NULL, value_sum bigint NOT NULL);
INSERT INTO ${name}_totals VALUES (0, 0);
SELECT incremental.create_sequence_pipeline('$name', '${name}_events',
  \$cmd\$${prefix}UPDATE ${name}_totals
         SET row_count = row_count + (SELECT count(*) FROM ${name}_events WHERE id BETWEEN \$1 AND \$2),
             value_sum = value_sum + (SELECT coalesce(sum(value), 0) FROM ${name}_events WHERE id BETWEEN \$1 AND \$2)$suffix\$cmd\$,
  schedule => '$schedule', max_batch_size => $batch, execute_immediately => false);
});
}

sub insert_events
{
	my ($node, $db, $name, $count) = @_;
	$node->safe_psql($db,
		"INSERT INTO ${name}_events (value) SELECT g FROM generate_series(1, $count) g"
	);
}

# SQL that is true when the rollup equals a recomputation from the source
sub rollup_matches_source
{
	my ($name) = @_;
	return qq{SELECT t.row_count = e.c AND t.value_sum = e.s
FROM ${name}_totals t,
     (SELECT count(*) AS c, coalesce(sum(value), 0) AS s FROM ${name}_events) e};
}

# Waits until the scheduler has processed every event of pipeline $name
sub wait_for_rollup
{
	my ($node, $db, $name, $test_name) = @_;
	ok($node->poll_query_until($db, rollup_matches_source($name)), $test_name);
}

# Number of scheduler workers connected to database $db
sub worker_count
{
	my ($node, $db) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker' AND datname = '$db'"
	);
}

# The pid of the scheduler worker of role $role in database $db, '' if none
sub worker_pid
{
	my ($node, $db, $role) = @_;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker' AND datname = '$db' AND usename = '$role'"
	);
}

# Waits until a worker of $role in $db other than $old_pid runs (the worker
# logged in again, or was started again); returns its pid
sub wait_for_new_worker
{
	my ($node, $db, $role, $old_pid, $test_name) = @_;
	ok( $node->poll_query_until(
			'postgres',
			"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker' AND datname = '$db' AND usename = '$role' AND pid <> "
			  . ($old_pid || 0)),
		$test_name);
	return worker_pid($node, $db, $role);
}

1;
