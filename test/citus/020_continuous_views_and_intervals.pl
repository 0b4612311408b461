# A continuous view and a time interval pipeline over a Citus distributed
# table written through every node: the view equals its query, the
# interval pipeline runs with the wait on every node.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use CitusCluster;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

skip_without_citus();

my ($coordinator, $worker1, $worker2) = new_citus_cluster('citus020');

$coordinator->safe_psql(
	'postgres', q{
CREATE TABLE events (tenant_id int NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY,
                     at timestamptz NOT NULL DEFAULT now(), v int NOT NULL);
SELECT create_distributed_table('events', 'tenant_id');
CREATE INDEX ON events (id);
INSERT INTO events (tenant_id, v) SELECT g % 7, g FROM generate_series(1, 200) g;
});
my ($rc, $out, $err) = $coordinator->psql(
	'postgres', q{CREATE VIEW per_tenant WITH (incremental.continuous) AS
  SELECT tenant_id, count(*) AS n, sum(v) AS s, max(v) AS top FROM events GROUP BY tenant_id});
is($rc, 0, 'a continuous view over a distributed table is created') or diag $err;
like($err, qr/NOTICE:  the batches of continuous view "per_tenant" are not pushed down to the shards/,
	'with a NOTICE that its batches are not pushed down');

my $i = 0;
for my $node ($worker1, $worker2, $coordinator, $worker2)
{
	$i++;
	$node->safe_psql('postgres',
		"INSERT INTO events (tenant_id, v) SELECT g % 7, g * $i FROM generate_series(1, 75) g");
}
($rc, $out, $err) =
  $coordinator->psql('postgres', "CALL incremental.execute_pipeline('public.per_tenant')");
is($rc, 0, 'the view\'s pipeline runs') or diag $err;
like($err, qr/of node group 2/, 'over the ranges of the workers\' groups');
is( $coordinator->safe_psql(
		'postgres', q{
SELECT count(*) FROM (SELECT tenant_id, count(*) n, sum(v) s, max(v) top FROM events GROUP BY 1) e
FULL JOIN per_tenant p USING (tenant_id)
WHERE (e.n, e.s, e.top) IS DISTINCT FROM (p.n, p.s, p.top)}),
	'0',
	'the continuous view equals its query over rows written through every node');

# a time interval pipeline over the distributed table waits on every node
$coordinator->safe_psql(
	'postgres', q{
CREATE TABLE minutes (minute_start timestamptz PRIMARY KEY, n bigint);
SELECT incremental.create_time_interval_pipeline('minutes', '1 minute',
  $$INSERT INTO minutes SELECT $1, count(*) FROM events WHERE at >= $1 AND at < $2$$,
  source_table_name => 'events', start_time => now() - interval '3 minutes',
  execute_immediately => false);
});
($rc, $out, $err) = $coordinator->psql('postgres', "CALL incremental.execute_pipeline('minutes')");
is($rc, 0, 'a time interval pipeline over a distributed source runs') or diag $err;
is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM minutes'), '1',
	'and processed the two passed minutes as one batch') or diag $err;

# a pipeline owned by an ordinary role: its run reaches the other nodes as
# that role (Citus propagates the role and the table's privileges)
$coordinator->safe_psql(
	'postgres', q{
CREATE ROLE analyst LOGIN;
GRANT CREATE ON SCHEMA public TO analyst;
SET ROLE analyst;
CREATE TABLE clicks (tenant_id int NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, v int NOT NULL);
SELECT create_distributed_table('clicks', 'tenant_id');
CREATE TABLE click_totals (tenant_id int PRIMARY KEY, n bigint NOT NULL);
SELECT create_distributed_table('click_totals', 'tenant_id', colocate_with => 'clicks');
});
$worker1->safe_psql('postgres',
	'SET ROLE analyst; INSERT INTO clicks (tenant_id, v) SELECT g % 5, g FROM generate_series(1, 60) g');
($rc, $out, $err) = $coordinator->psql(
	'postgres', q{SET ROLE analyst;
SELECT incremental.create_sequence_pipeline('clicks', 'clicks',
  $$INSERT INTO click_totals SELECT tenant_id, count(*) FROM clicks WHERE id BETWEEN $1 AND $2
    GROUP BY 1 ON CONFLICT (tenant_id) DO UPDATE SET n = click_totals.n + EXCLUDED.n$$)});
is($rc, 0, 'an ordinary role creates a pipeline over its distributed table') or diag $err;
is($coordinator->safe_psql('postgres', 'SELECT sum(n) FROM click_totals'),
	'60', 'and its run counted the rows written through worker 1');

done_testing();
