# Continuous views and a time interval pipeline over a Citus distributed
# table written through every node: a view grouped by the distribution
# column keeps its storage beside the source's shards and its batches run
# there; the others keep it on the coordinator and say why; every view
# equals its query, a real-time one never counts a row twice, a roll-up of
# a distributed view equals the direct query; the interval pipeline runs
# with the wait on every node.
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

# A distributed table NAME (tenant_id, an identity id) and a sequence
# pipeline NAME counting its rows into NAME_total
sub counting_pipeline
{
	my ($name, $schedule, $max_batch_size) = @_;
	$coordinator->safe_psql(
		'postgres', qq{
CREATE TABLE $name (tenant_id int NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY);
SELECT create_distributed_table('$name', 'tenant_id');
CREATE TABLE ${name}_total (n bigint);
INSERT INTO ${name}_total VALUES (0);
SET client_min_messages = error;
SELECT incremental.create_sequence_pipeline('$name', '$name',
  \$\$UPDATE ${name}_total SET n = n + (SELECT count(*) FROM $name WHERE id BETWEEN \$1 AND \$2)\$\$,
  schedule => $schedule, max_batch_size => $max_batch_size);
});
	return;
}

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
unlike($err, qr/not pushed down/, 'grouped by the distribution column, its batches are pushed down');
is( $coordinator->safe_psql(
		'postgres', q{
SELECT s.colocationid = e.colocationid FROM pg_dist_partition s, pg_dist_partition e
WHERE s.logicalrelid = 'per_tenant_storage'::regclass AND e.logicalrelid = 'events'::regclass}),
	't',
	'its storage is distributed, co-located with the source');
my $command = $coordinator->safe_psql('postgres',
	"SELECT command FROM incremental.pipelines WHERE pipeline_name = 'public.per_tenant'");
my $plan = $coordinator->safe_psql('postgres',
	"PREPARE batch(bigint, bigint) AS $command; EXPLAIN (COSTS OFF) EXECUTE batch(1, 1000)");
like($plan, qr/\ACustom Scan \(Citus Adaptive\)/, 'Citus runs a batch on the shards');
unlike($plan, qr{INSERT/SELECT method}, 'without pulling rows to the coordinator');
is($worker1->safe_psql('postgres', "SELECT to_regclass('public.per_tenant') IS NULL"),
	't', 'the view itself stays on the coordinator');

($rc, $out, $err) = $coordinator->psql(
	'postgres', q{CREATE VIEW per_bucket WITH (incremental.continuous) AS
  SELECT v % 5 AS bucket, count(*) AS n, sum(v) AS s FROM events GROUP BY 1});
is($rc, 0, 'a view grouped by another column is created') or diag $err;
like(
	$err,
	qr/NOTICE:  the batches of continuous view "per_bucket" are not pushed down to the shards\n.*does not contain the source's distribution column "tenant_id"/,
	'with a NOTICE that says why its batches are not pushed down');
is( $coordinator->safe_psql(
		'postgres', q{SELECT count(*) FROM pg_dist_partition
WHERE logicalrelid = 'per_bucket_storage'::regclass}),
	'0',
	'its storage is a table on the coordinator');

# grouped by the distribution column, but joined with a table of the
# coordinator: Citus' plan for a batch says the rows go through it
$coordinator->safe_psql('postgres',
	'CREATE TABLE plans (tenant_id int PRIMARY KEY, plan text); INSERT INTO plans SELECT g, (g % 2)::text FROM generate_series(0, 6) g');
($rc, $out, $err) = $coordinator->psql(
	'postgres', q{SELECT incremental.create_continuous_view('per_plan',
  'SELECT e.tenant_id, p.plan, count(*) AS n FROM events e JOIN plans p USING (tenant_id) GROUP BY 1, 2')});
is($rc, 0, 'a view joining a coordinator table is created') or diag $err;
like(
	$err,
	qr/NOTICE:  the batches of continuous view "per_plan" are not pushed down to the shards\nDETAIL:  Citus runs the batch's INSERT ... SELECT by "[a-z ]+"/,
	'with the method Citus\'s plan of a batch names');

($rc, $out, $err) = $coordinator->psql(
	'postgres', q{SELECT incremental.create_continuous_view('live',
  'SELECT tenant_id, count(*) AS n FROM events GROUP BY tenant_id', realtime => true)});
is($rc, 0, 'a real-time view over the distributed table is created') or diag $err;
$coordinator->safe_psql('postgres', "CALL incremental.execute_pipeline('public.live')");

($rc, $out, $err) = $coordinator->psql(
	'postgres', q{SELECT incremental.create_continuous_view('tenants_total',
  'SELECT sum(n) AS n FROM per_tenant')});
is($rc, 0, 'a roll-up of the distributed view is created') or diag $err;

my $i = 0;
for my $node ($worker1, $worker2, $coordinator, $worker2)
{
	$i++;
	$node->safe_psql('postgres',
		"INSERT INTO events (tenant_id, v) SELECT g % 7, g * $i FROM generate_series(1, 75) g");
}

# the real-time view shows the coordinator's new rows at once and the
# workers' once processed, and never counts a processed row again
$coordinator->safe_psql('postgres', "CALL incremental.execute_pipeline('public.live')");
$worker1->safe_psql('postgres',
	'INSERT INTO events (tenant_id, v) SELECT g % 7, g FROM generate_series(1, 30) g');
$coordinator->safe_psql('postgres',
	'INSERT INTO events (tenant_id, v) SELECT g % 7, g FROM generate_series(1, 20) g');
is( $coordinator->safe_psql(
		'postgres', q{SELECT (SELECT sum(n) FROM live) - (SELECT count(*) FROM events)}),
	'-30',
	'a real-time view counts every row once, but for the 30 a worker wrote since its run');

($rc, $out, $err) =
  $coordinator->psql('postgres', "CALL incremental.execute_pipeline('public.per_tenant')");
is($rc, 0, 'the view\'s pipeline runs') or diag $err;
like($err, qr/of node group 2/, 'over the ranges of the workers\' groups');
for my $name ('public.per_bucket', 'public.live', 'public.tenants_total')
{
	($rc, $out, $err) =
	  $coordinator->psql('postgres', "CALL incremental.execute_pipeline('$name')");
	is($rc, 0, "pipeline $name runs") or diag $err;
}
is( $coordinator->safe_psql(
		'postgres', q{
SELECT count(*) FROM (SELECT tenant_id, count(*) n, sum(v) s, max(v) top FROM events GROUP BY 1) e
FULL JOIN per_tenant p USING (tenant_id)
WHERE (e.n, e.s, e.top) IS DISTINCT FROM (p.n, p.s, p.top)}),
	'0',
	'the continuous view equals its query over rows written through every node');
is( $coordinator->safe_psql(
		'postgres', q{
SELECT count(*) FROM (SELECT v % 5 AS bucket, count(*) n, sum(v) s FROM events GROUP BY 1) e
FULL JOIN per_bucket p USING (bucket) WHERE (e.n, e.s) IS DISTINCT FROM (p.n, p.s)}),
	'0',
	'so does the view with its storage on the coordinator');
is( $coordinator->safe_psql(
		'postgres', q{
SELECT count(*) FROM (SELECT tenant_id, count(*) n FROM events GROUP BY 1) e
FULL JOIN live p USING (tenant_id) WHERE e.n IS DISTINCT FROM p.n}),
	'0',
	'so does the real-time view once its pipeline ran');
is( $coordinator->safe_psql(
		'postgres', 'SELECT (SELECT n FROM tenants_total) = (SELECT count(*) FROM events)'),
	't',
	'and the roll-up of the distributed view');

# aggregates added to a distributed view are backfilled over every node
# group's range processed so far
$coordinator->safe_psql(
	'postgres', q{
SELECT incremental.create_continuous_view('widening',
  'SELECT tenant_id, count(*) AS n FROM events GROUP BY tenant_id');
CALL incremental.execute_pipeline('public.widening');
});
($rc, $out, $err) = $coordinator->psql('postgres',
	"CALL incremental.add_continuous_view_column('widening', 'min(v) AS low, sum(v) AS s')");
is($rc, 0, 'aggregates are added to a view whose rows came through every node') or diag $err;
like($err, qr/backfilling sequence values from 562949953421313 to/,
	'backfilled over the range of worker 2\'s group too');
$worker1->safe_psql('postgres',
	'INSERT INTO events (tenant_id, v) SELECT g % 7, -g FROM generate_series(1, 30) g');
$coordinator->safe_psql('postgres', "CALL incremental.execute_pipeline('public.widening')");
is( $coordinator->safe_psql(
		'postgres', q{
SELECT count(*) FROM (SELECT tenant_id, count(*) n, min(v) low, sum(v) s FROM events GROUP BY 1) e
FULL JOIN widening w USING (tenant_id) WHERE (e.n, e.low, e.s) IS DISTINCT FROM (w.n, w.low, w.s)}),
	'0',
	'the added aggregates equal their query, before and after the change');
is( $coordinator->safe_psql(
		'postgres', q{SELECT count(*), count(*) FILTER (WHERE finished_at IS NULL)
FROM incremental.continuous_view_backfills WHERE view_name = 'widening'::regclass}),
	'3|0',
	'one finished backfill per node group');

# a view with a ttl keeps its storage distributed too; its maintenance
# deletes the expired groups on every shard
($rc, $out, $err) = $coordinator->psql(
	'postgres', q{SELECT incremental.create_continuous_view('recent',
  $$SELECT tenant_id, date_trunc('hour', at, 'UTC') AS hour, count(*) AS n FROM events GROUP BY 1, 2$$,
  ttl => '2 hours')});
is($rc, 0, 'a view with a ttl is created') or diag $err;
unlike($err, qr/not pushed down/, 'grouped by the distribution column, it is pushed down');
$worker1->safe_psql('postgres',
	"INSERT INTO events (tenant_id, at, v) SELECT g % 7, now() - interval '5 hours', g FROM generate_series(1, 40) g");
$coordinator->safe_psql('postgres', "CALL incremental.execute_pipeline('public.recent')");
is( $coordinator->safe_psql(
		'postgres', q{SELECT count(*) > 0 FROM recent_storage WHERE hour < now() - interval '2 hours'}),
	't',
	'the storage holds groups older than its ttl');
($rc, $out, $err) =
  $coordinator->psql('postgres', "CALL incremental.execute_pipeline('public.recent:maintenance')");
is($rc, 0, 'its maintenance runs on the distributed storage') or diag $err;
is( $coordinator->safe_psql(
		'postgres', q{
SELECT (SELECT count(*) FROM recent_storage WHERE hour < now() - interval '2 hours'),
       (SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'recent_storage'::regclass),
       (SELECT sum(n) FROM recent) = (SELECT count(*) FROM events WHERE at > now() - interval '3 hours')}),
	'0|1|t',
	'and deleted the expired groups, and only those');

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

# the scheduler's look before a run: a pipeline over a table of the
# coordinator alone runs when its sequence moves; one over a distributed
# table always runs, so rows written through a worker are processed without
# any write on the coordinator, also for an identity column (whose sequence
# Citus does not list among its distributed objects)
$coordinator->safe_psql(
	'postgres', q{
CREATE TABLE local_events (id bigserial, v int);
CREATE TABLE local_total (n bigint);
INSERT INTO local_total VALUES (0);
SELECT incremental.create_sequence_pipeline('local_total', 'local_events',
  $$UPDATE local_total SET n = n + (SELECT count(*) FROM local_events WHERE id BETWEEN $1 AND $2)$$,
  schedule => '1 second');
});
counting_pipeline('taps', q{'1 second'}, 'NULL');
$worker2->safe_psql('postgres', 'INSERT INTO taps (tenant_id) SELECT g FROM generate_series(1, 25) g');
ok($coordinator->poll_query_until('postgres', 'SELECT n = 25 FROM taps_total'),
	'rows of an identity column written through a worker are processed on schedule');
$coordinator->safe_psql('postgres', 'INSERT INTO local_events (v) SELECT g FROM generate_series(1, 9) g');
ok($coordinator->poll_query_until('postgres', 'SELECT n = 9 FROM local_total'),
	'a pipeline over a coordinator table runs once its sequence moves');

# preview and skip_range see every node group
counting_pipeline('hops', 'NULL', 4);
$coordinator->safe_psql('postgres', 'INSERT INTO hops (tenant_id) SELECT g FROM generate_series(1, 6) g');
$worker1->safe_psql('postgres', 'INSERT INTO hops (tenant_id) SELECT g FROM generate_series(1, 9) g');
$worker2->safe_psql('postgres', 'INSERT INTO hops (tenant_id) SELECT g FROM generate_series(1, 3) g');
is( $coordinator->safe_psql(
		'postgres', q{SELECT string_agg(batch || ':' || first_item || '-' || last_item, ' ' ORDER BY batch, first_item::bigint)
FROM incremental.preview_pipeline('hops')}),
	'1:1-4 1:281474976710657-281474976710660 1:562949953421313-562949953421315 '
	  . '2:5-6 2:281474976710661-281474976710664 3:281474976710665-281474976710665',
	'preview_pipeline shows every group\'s ranges, batch by batch');
($rc, $out, $err) = $coordinator->psql('postgres',
	"SELECT incremental.skip_range('hops', '281474976710657', '281474976710658')");
is($rc, 0, 'skip_range skips a range of a worker\'s group') or diag $err;
($rc, $out, $err) = $coordinator->psql('postgres',
	"SELECT incremental.skip_range('hops', '281474976710659', '281474976710699')");
like($err, qr/ERROR:  the sequence of pipeline "hops" on node 127.0.0.1:\d+ has not reached 281474976710699 yet/,
	'but not beyond what the node has drawn');
($rc, $out, $err) = $coordinator->psql('postgres',
	"SELECT incremental.skip_range('hops', '281474976710661', '281474976710662')");
like($err, qr/ERROR:  no node group of pipeline "hops" would process 281474976710661 next/,
	'nor from where no group would go on');
$coordinator->safe_psql('postgres', "CALL incremental.execute_pipeline('hops')");
is($coordinator->safe_psql('postgres', 'SELECT n FROM hops_total'),
	'16', 'the run processed all but the two values skipped');
is( $coordinator->safe_psql(
		'postgres', q{SELECT string_agg(last_seen_sequence_number::text, ' ' ORDER BY group_id)
FROM incremental.sequence_pipeline_node_groups WHERE pipeline_name = 'hops'}),
	'281474976710665 562949953421315',
	'the run recorded the last value it saw in each worker\'s group');
$coordinator->safe_psql('postgres',
	"UPDATE incremental.sequence_pipeline_node_groups SET last_processed_sequence_number = last_processed_sequence_number - 3 WHERE pipeline_name = 'hops' AND group_id = 2");
is($coordinator->safe_psql('postgres', "SELECT pending FROM incremental.pipeline_stats WHERE pipeline_name = 'hops'"),
	'3', 'pipeline_stats counts the values a group had beyond its progress as pending');

# a backlog of the coordinator's group: the batches between the asks of
# the other nodes (at most one a second) take the coordinator's alone, and
# the workers' groups are taken along at the end
counting_pipeline('backlog', 'NULL', 10);
$coordinator->safe_psql('postgres',
	'INSERT INTO backlog (tenant_id) SELECT g FROM generate_series(1, 100) g');
$worker1->safe_psql('postgres', 'INSERT INTO backlog (tenant_id) SELECT g FROM generate_series(1, 25) g');
($rc, $out, $err) = $coordinator->psql('postgres', "CALL incremental.execute_pipeline('backlog')");
is($rc, 0, 'a backlog run with writes on two groups') or diag $err;
my @groups = ($err =~ /of node group (\d)/g);
is(join('', @groups), '0100000000011',
	'takes the coordinator\'s whole batches alone between the asks of the other nodes');
is($coordinator->safe_psql('postgres', 'SELECT n FROM backlog_total'),
	'125', 'and processes every row once');

done_testing();
