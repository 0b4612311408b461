# Exactly once under concurrent writers: pgbench clients insert through the
# partitioned table in multi-statement transactions while the pipeline is
# executed over and over in small batches; afterwards the incremental
# aggregate equals a full recomputation.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('concurrent');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_incremental'");
$node->append_conf('postgresql.conf', "incremental.enabled = off");
$node->start;

$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION pg_incremental;
	CREATE TABLE events (id bigserial PRIMARY KEY, client int NOT NULL, at timestamptz DEFAULT now())
		PARTITION BY HASH (id);
	CREATE TABLE events_0 PARTITION OF events FOR VALUES WITH (MODULUS 2, REMAINDER 0);
	CREATE TABLE events_1 PARTITION OF events FOR VALUES WITH (MODULUS 2, REMAINDER 1);
	CREATE TABLE totals (client int PRIMARY KEY, n bigint NOT NULL);
	SELECT incremental.create_sequence_pipeline('totals', 'events', $$
		INSERT INTO totals SELECT client, count(*) FROM events WHERE id BETWEEN $1 AND $2 GROUP BY 1
		ON CONFLICT (client) DO UPDATE SET n = totals.n + excluded.n $$,
		max_batch_size := 500, schedule := NULL);
});

# writers: multi-row transactions through the parent and straight into partitions
my $script = $node->basedir . '/insert.sql';
PostgreSQL::Test::Utils::append_to_file(
	$script, q{
\set client random(1, 20)
BEGIN;
INSERT INTO events (client) VALUES (:client), (:client + 1);
INSERT INTO events (client) SELECT :client FROM generate_series(1, 3);
COMMIT;
});

# pgbench's output goes to files: a pipe nobody drains could stall it
my $pgbench_log = $node->basedir . '/pgbench.log';
my $pgbench = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '4', '-j', '2', '-T', '5', '-f', $script, '-d', $node->connstr('postgres') ],
	'>', $pgbench_log, '2>&1');

# run the pipeline over and over while the writers write
my $runs = 0;
my $deadline = time() + 5;
while (time() < $deadline)
{
	$node->safe_psql('postgres', q{CALL incremental.execute_pipeline('totals')});
	$runs++;
}
$pgbench->finish;
is($pgbench->result(0), 0, 'pgbench finished')
  or diag(PostgreSQL::Test::Utils::slurp_file($pgbench_log));

$node->safe_psql('postgres', q{CALL incremental.execute_pipeline('totals')});

my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM events');
cmp_ok($rows, '>', 100, "writers inserted $rows rows during $runs runs");
is( $node->safe_psql(
		'postgres', q{
		SELECT count(*) FROM (
			SELECT client, count(*) AS n FROM events GROUP BY 1
			EXCEPT SELECT client, n FROM totals) missing}),
	'0',
	'no row lost: every count matches a full recomputation');
is($node->safe_psql('postgres', 'SELECT sum(n) FROM totals'),
	$rows, 'no row counted twice');

$node->stop;
done_testing();
