# Sequence pipelines over a Citus distributed table, with writers on every
# node: each row is processed exactly once, the command runs once per node
# group range, pushed down; a node's sequence that went back, and
# TRUNCATE ... RESTART IDENTITY, fail the pipeline loudly; a removed node's
# last rows are processed; the workers schedule nothing.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use CitusCluster;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

skip_without_citus();

my ($coordinator, $worker1, $worker2) = new_citus_cluster('citus010');
my @all = ($coordinator, $worker1, $worker2);

$coordinator->safe_psql(
	'postgres', q{
CREATE TABLE events (tenant_id int NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, v int NOT NULL);
SELECT create_distributed_table('events', 'tenant_id');
CREATE INDEX ON events (id);
CREATE TABLE totals (tenant_id int PRIMARY KEY, n bigint NOT NULL, s bigint NOT NULL);
SELECT create_distributed_table('totals', 'tenant_id', colocate_with => 'events');
INSERT INTO events (tenant_id, v) SELECT g % 20, g FROM generate_series(1, 300) g;
});
$_->safe_psql('postgres',
	'INSERT INTO events (tenant_id, v) SELECT g % 20, g FROM generate_series(1, 100) g')
  for ($worker1, $worker2);

# pipelines live on the coordinator
my ($rc, $out, $err) = $worker1->psql('postgres',
	q{SELECT incremental.create_sequence_pipeline('w', 'events', 'SELECT $1, $2')});
like($err, qr/cannot create a pipeline on a Citus worker node/, 'a worker refuses to create a pipeline');

my $command = q{INSERT INTO totals SELECT tenant_id, count(*), sum(v) FROM events
  WHERE id BETWEEN $1 AND $2 GROUP BY tenant_id
  ON CONFLICT (tenant_id) DO UPDATE SET n = totals.n + EXCLUDED.n, s = totals.s + EXCLUDED.s};
($rc, $out, $err) = $coordinator->psql('postgres',
	"SELECT incremental.create_sequence_pipeline('totals', 'events', \$cmd\$$command\$cmd\$,
	   schedule => '1 second', max_batch_size => 200)");
is($rc, 0, 'pipeline created on the coordinator') or diag $err;
like($err, qr/from 281474976710657 to 281474976710756 of node group 1/,
	'the creation processed the rows written through worker 1 as its own range');

sub mismatches
{
	return $coordinator->safe_psql(
		'postgres', q{
SELECT count(*) FROM (SELECT tenant_id, count(*) n, sum(v) s FROM events GROUP BY 1) e
FULL JOIN totals t USING (tenant_id)
WHERE e.n IS DISTINCT FROM t.n OR e.s IS DISTINCT FROM t.s});
}
is(mismatches(), '0', 'the first run covered the rows of every node');

# the batch is pushed down: one statement per group range, run by Citus' tasks
my $plan = $coordinator->safe_psql('postgres',
	"PREPARE b(bigint, bigint) AS $command; EXPLAIN EXECUTE b(1, 10)");
like($plan, qr/Custom Scan \(Citus Adaptive\)/, 'the command is a distributed plan');
unlike($plan, qr/pull to coordinator|repartition/i, 'and is pushed down to the shards');

# Writers on all three nodes at once; each transaction inserts, waits, and
# inserts again, so ids commit out of order on every node.
my $script = PostgreSQL::Test::Utils::tempdir() . '/writer.sql';
PostgreSQL::Test::Utils::append_to_file(
	$script, q{
\set t random(0, 19)
BEGIN;
INSERT INTO events (tenant_id, v) VALUES (:t, 1), ((:t + 7) % 20, 2);
SELECT pg_sleep(random() * 0.15);
INSERT INTO events (tenant_id, v) VALUES ((:t + 3) % 20, 3);
END;
});
my @writers;
for my $node (@all)
{
	my ($o, $e) = ('', '');
	push @writers,
	  IPC::Run::start(
		[
			'pgbench', '-n', '-h', '127.0.0.1', '-p', $node->port, '-c', '2', '-T', '12',
			'-f', $script, 'postgres'
		],
		'>', \$o, '2>', \$e);
}
$_->finish for @writers;
ok(1, 'writers on all three nodes finished');

my $expected = $coordinator->safe_psql('postgres', 'SELECT count(*) FROM events');
ok( $coordinator->poll_query_until(
		'postgres', "SELECT coalesce(sum(n), 0) = $expected FROM totals"),
	"all $expected rows aggregated");
is(mismatches(), '0', 'every tenant equals a full recomputation: exactly once');
is( $coordinator->safe_psql(
		'postgres',
		'SELECT count(*) FROM incremental.sequence_pipeline_node_groups WHERE pipeline_name = \'totals\''),
	'2',
	'progress is kept for both worker groups');

# the workers' copies of the extension run nothing
for my $worker ($worker1, $worker2)
{
	is( $worker->safe_psql(
			'postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'pg_incremental%worker%' "
			  . "AND backend_type NOT LIKE '%launcher%'"),
		'0',
		'no pipeline worker on ' . $worker->name);
	is($worker->safe_psql('postgres', 'SELECT count(*) FROM incremental.pipelines'),
		'0', 'and no pipelines in its catalog');
}

# A node's sequence that went back (as Citus' metadata resync recreates it)
# fails the pipeline instead of skipping rows.
$coordinator->safe_psql('postgres', "SELECT incremental.pause_pipeline('totals')");
my $progress = $coordinator->safe_psql('postgres',
	"SELECT last_processed_sequence_number FROM incremental.sequence_pipeline_node_groups "
	  . "WHERE pipeline_name = 'totals' AND group_id = 1");
$worker1->safe_psql('postgres',
	"SELECT setval(pg_get_serial_sequence('events', 'id'), 281474976710657, false)");
($rc, $out, $err) = $coordinator->psql('postgres', "CALL incremental.execute_pipeline('totals')");
like($err, qr/sequence "events_id_seq" on node 127\.0\.0\.1:\d+ is behind the progress of pipeline "totals"/,
	'a worker sequence that went back fails the run');
like($err, qr/setval/, 'and the hint says how to move it past the progress');
$worker1->safe_psql('postgres',
	"SELECT setval(pg_get_serial_sequence('events', 'id'), $progress)");

# rows written through worker 2 while the pipeline is paused, then the node
# leaves the cluster: its group's last rows are still processed, once
$worker2->safe_psql('postgres',
	'INSERT INTO events (tenant_id, v) SELECT g % 20, 5 FROM generate_series(1, 40) g');
$coordinator->safe_psql('postgres',
	"SELECT citus_drain_node('127.0.0.1', " . $worker2->port . ", shard_transfer_mode => 'block_writes')");
$coordinator->safe_psql('postgres',
	"SELECT citus_remove_node('127.0.0.1', " . $worker2->port . ')');
($rc, $out, $err) = $coordinator->psql('postgres', "CALL incremental.execute_pipeline('totals')");
is($rc, 0, 'the run after the node left succeeds') or diag $err;
is(mismatches(), '0', 'the removed node\'s last rows were processed, once');
($rc, $out, $err) = $coordinator->psql('postgres', "CALL incremental.execute_pipeline('totals')");
unlike($err, qr/node group 2/, 'and its group is not processed again');

# TRUNCATE ... RESTART IDENTITY restarts the coordinator's sequence only
$coordinator->safe_psql('postgres', 'TRUNCATE events RESTART IDENTITY');
$coordinator->safe_psql('postgres', 'INSERT INTO events (tenant_id, v) VALUES (1, 1)');
($rc, $out, $err) = $coordinator->psql('postgres', "CALL incremental.execute_pipeline('totals')");
like($err, qr/is behind the progress of pipeline "totals"/,
	'TRUNCATE ... RESTART IDENTITY fails the run instead of skipping rows');

# the workers stayed quiet: nothing of ours in their logs
for my $worker ($worker1)
{
	my @lines = grep { /(ERROR|WARNING|FATAL):/ && !/cannot create a pipeline on a Citus worker/ }
	  split /\n/, PostgreSQL::Test::Utils::slurp_file($worker->logfile);
	is(join("\n", @lines), '', 'no errors or warnings in ' . $worker->name . "'s log but the refusal");
}

done_testing();
