# The connections a session keeps to the other nodes
# (src/distributed/node_connections.c): the scheduler's worker asks every
# node over one connection per node from batch to batch; a worker node
# restarted under it is asked through master_run_on_worker() once and over
# a new connection afterwards; a role whose password only Citus knows
# (pg_dist_authinfo) is asked through master_run_on_worker() every time.
# Every row is processed exactly once throughout.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use CitusCluster;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

skip_without_citus();

my ($coordinator, $worker1, $worker2) = new_citus_cluster('citus030');

# a distributed source ${prefix}events, counted per tenant into ${prefix}totals
# by pipeline ${prefix}totals every 200 ms
sub counting_pipeline
{
	my ($prefix) = @_;
	my ($e, $t) = ("${prefix}events", "${prefix}totals");
	return qq{
CREATE TABLE $e (tenant_id int NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, v int NOT NULL);
SELECT create_distributed_table('$e', 'tenant_id');
CREATE TABLE $t (tenant_id int PRIMARY KEY, n bigint NOT NULL);
SELECT create_distributed_table('$t', 'tenant_id', colocate_with => '$e');
SELECT incremental.create_sequence_pipeline('$t', '$e', \$\$
  INSERT INTO $t SELECT tenant_id, count(*) FROM $e WHERE id BETWEEN \$1 AND \$2
  GROUP BY tenant_id ON CONFLICT (tenant_id) DO UPDATE SET n = $t.n + EXCLUDED.n \$\$,
  schedule => '200 milliseconds');
};
}

$coordinator->safe_psql('postgres', counting_pipeline(''));

sub exact
{
	my ($table, $source) = @_;
	return qq{SELECT (SELECT coalesce(sum(n), 0) FROM $table) = (SELECT count(*) FROM $source)};
}

sub write_through_all
{
	my ($source) = @_;
	for my $node ($coordinator, $worker1, $worker2)
	{
		$node->safe_psql('postgres',
			"INSERT INTO $source (tenant_id, v) SELECT g % 20, g FROM generate_series(1, 10) g");
	}
}

# the pg_incremental backends on a worker: their pids, at most one expected
sub kept_backends
{
	my ($node, $role) = @_;
	return $node->safe_psql('postgres',
		"SELECT coalesce(string_agg(pid::text, ','), '') FROM pg_stat_activity "
		  . "WHERE application_name = 'pg_incremental' AND usename = '$role'");
}

write_through_all('events');
ok($coordinator->poll_query_until('postgres', exact('totals', 'events')),
	'the rows written through every node were counted');
my $first = kept_backends($worker1, 'postgres');
like($first, qr/^\d+$/, 'worker 1 has one backend of pg_incremental, the kept connection');
for (1 .. 5)
{
	write_through_all('events');
	ok($coordinator->poll_query_until('postgres', exact('totals', 'events')),
		'later rows were counted once');
}
is(kept_backends($worker1, 'postgres'), $first,
	'the batches since asked worker 1 over that same connection');

# the node restarts: the kept connection is dead
$worker2->restart;
write_through_all('events');
ok($coordinator->poll_query_until('postgres', exact('totals', 'events')),
	'after worker 2 restarted, its rows and the others were counted once');
ok( $worker2->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'pg_incremental'"),
	'and the worker keeps a new connection to it');
is( $coordinator->safe_psql(
		'postgres',
		"SELECT count(*) FROM incremental.pipeline_runs WHERE pipeline_name = 'public.totals' "
		  . "AND status <> 'succeeded'"),
	'0', 'no batch failed on the way');

# a role that must give a password on the workers, which only Citus knows
$coordinator->safe_psql(
	'postgres', q{
CREATE ROLE alice LOGIN PASSWORD 'alicesecret';
GRANT CREATE ON SCHEMA public TO alice;
INSERT INTO pg_dist_authinfo (nodeid, rolename, authinfo) VALUES (0, 'alice', 'password=alicesecret');
});
for my $worker ($worker1, $worker2)
{
	unlink($worker->data_dir . '/pg_hba.conf');
	$worker->append_conf('pg_hba.conf',
		"local all all trust\nhost all alice 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 trust\n");
	$worker->reload;
}
$coordinator->safe_psql('postgres', "SET ROLE alice;\n" . counting_pipeline('a_'));
for (1 .. 3)
{
	write_through_all('a_events');
	ok($coordinator->poll_query_until('postgres', exact('a_totals', 'a_events')),
		"alice's rows written through every node were counted once");
}
is(kept_backends($worker1, 'alice'), '',
	'worker 1 refused a connection without the password, and was asked through Citus');
is( $coordinator->safe_psql(
		'postgres',
		"SELECT count(*) FROM incremental.pipeline_runs WHERE pipeline_name = 'public.a_totals' "
		  . "AND status <> 'succeeded'"),
	'0', 'none of her batches failed');

$_->stop for ($coordinator, $worker1, $worker2);
done_testing();
