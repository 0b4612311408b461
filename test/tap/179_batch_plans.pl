# Plans made for the size of a batch (src/pipelines/command_planner.c):
# batches of about the same size share one plan in a session, whether a
# user's session or a scheduler worker runs them; a batch of another size
# gets a plan estimated for its own range, not the generic plan's guess;
# DDL and ANALYZE make the next batch plan again; and every row is counted
# once throughout.  pg_stat_statements counts the plans and auto_explain
# shows the estimates.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use FindBin;
use lib $FindBin::RealBin;
use IncrementalTest;

my $node = new_scheduler_node(
	'batch_plans', extra_conf => q{
shared_preload_libraries = 'pg_incremental,pg_stat_statements'
pg_stat_statements.track = all
pg_stat_statements.track_planning = on
});
$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION pg_stat_statements;
	CREATE EXTENSION pg_incremental;
	CREATE TABLE ev (id bigserial PRIMARY KEY, k int NOT NULL);
	INSERT INTO ev (k) SELECT g % 10 FROM generate_series(1, 200000) g;
	ANALYZE ev;
	CREATE TABLE sums (k int PRIMARY KEY, n bigint NOT NULL);
	SELECT incremental.create_sequence_pipeline('p', 'ev', $$
	    INSERT INTO sums SELECT k, count(*) FROM ev WHERE id BETWEEN $1 AND $2 GROUP BY k
	    ON CONFLICT (k) DO UPDATE SET n = sums.n + EXCLUDED.n $$, schedule => NULL);
	SELECT pg_stat_statements_reset();
});

my $exact = q{SELECT (SELECT sum(n) FROM sums) = (SELECT count(*) FROM ev)};

# calls and plans of the command, as pg_stat_statements counts them
sub command_counts
{
	my ($table) = @_;
	return $node->safe_psql(
		'postgres', qq{
		SELECT coalesce(sum(calls), 0) || ' calls, ' || coalesce(sum(plans), 0) || ' plans'
		FROM pg_stat_statements WHERE query LIKE 'INSERT INTO $table SELECT k, count(*)%'});
}

# batches of 8 to 15 ids (one class of size), in one session
sub small_batches
{
	my ($count) = @_;
	return join(
		"\n",
		map {
			"INSERT INTO ev (k) SELECT g % 10 FROM generate_series(1, " . (8 + $_ % 8)
			  . ") g; CALL incremental.execute_pipeline('p');"
		} 1 .. $count);
}

$node->safe_psql('postgres', small_batches(40));
is(command_counts('sums'), '40 calls, 1 plans',
	'forty batches of 8 to 15 ids in one session were planned once');
is($node->safe_psql('postgres', $exact), 't', 'and every row was counted once');

# DDL on the source: the next batch plans again, and sees the new index
$node->safe_psql('postgres',
	"CREATE INDEX ev_k ON ev (k);\n" . small_batches(5));
is(command_counts('sums'), '45 calls, 2 plans', 'a new index made the next batch plan again');

# a batch of 150,000 ids of 350,000, analysed: a plan of its own, estimated
# for its range (a generic plan would guess half a percent of the table)
my $log_offset = -s $node->logfile;
$node->safe_psql(
	'postgres', q{
	INSERT INTO ev (k) SELECT g % 10 FROM generate_series(1, 150000) g;
	ANALYZE ev;
	LOAD 'auto_explain';
	SET auto_explain.log_min_duration = 0;
	SET auto_explain.log_nested_statements = on;
	CALL incremental.execute_pipeline('p');
} . small_batches(5));
is(command_counts('sums'), '51 calls, 4 plans',
	'after ANALYZE, the large batch and the small ones that followed each had a plan of their own');
is($node->safe_psql('postgres', $exact), 't', 'every row was still counted once');

my $log = slurp_file($node->logfile, $log_offset);
my @estimates;
while ($log =~ /Query Text: \s*INSERT INTO sums.*?on ev\s+\(cost=[\d.]+\.\.[\d.]+ rows=(\d+)/gs)
{
	push @estimates, $1;
}
is(scalar(@estimates), 6, 'auto_explain logged the plans of the six batches');
cmp_ok($estimates[0], '>', 100000,
	'the large batch was planned for about its 150,000 rows');
ok(!grep({ $_ > 100 } @estimates[ 1 .. $#estimates ]),
	'the small batches after it for a few rows: ' . join(', ', @estimates[ 1 .. $#estimates ]));

# a partitioned source: a custom plan for every batch, which locks only the
# partitions its range needs (a plan with parameters would lock them all)
$node->safe_psql(
	'postgres', q{
	CREATE TABLE pev (id bigserial, k int NOT NULL) PARTITION BY RANGE (id);
	CREATE TABLE pev_1 PARTITION OF pev FOR VALUES FROM (1) TO (1000);
	CREATE TABLE pev_2 PARTITION OF pev FOR VALUES FROM (1000) TO (2000);
	CREATE TABLE pev_3 PARTITION OF pev FOR VALUES FROM (2000) TO (3000);
	CREATE TABLE psums (k int PRIMARY KEY, n bigint NOT NULL);
	SELECT incremental.create_sequence_pipeline('pp', 'pev', $$
	    INSERT INTO psums SELECT k, count(*) FROM pev WHERE id BETWEEN $1 AND $2 GROUP BY k
	    ON CONFLICT (k) DO UPDATE SET n = psums.n + EXCLUDED.n $$, schedule => NULL);
	SELECT pg_stat_statements_reset();
});
my $locked = $node->safe_psql(
	'postgres',
	join("\n",
		map {
			"INSERT INTO pev (k) SELECT g % 10 FROM generate_series(1, 10) g; "
			  . "CALL incremental.execute_pipeline('pp');"
		} 1 .. 10)
	  . q{
	BEGIN;
	INSERT INTO pev (k) SELECT g % 10 FROM generate_series(1, 10) g;
	CALL incremental.execute_pipeline('pp');
	SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
	WHERE l.locktype = 'relation' AND l.pid = pg_backend_pid() AND l.mode = 'AccessShareLock'
	  AND c.relname LIKE 'pev_%' AND c.relkind = 'r';
	COMMIT;
});
is($locked, 'pev_1', 'a batch of ids 101 to 110 read and locked only their partition');
is(command_counts('psums'), '11 calls, 11 plans', 'a partitioned source got a plan for every batch');
is( $node->safe_psql(
		'postgres', q{
	SELECT (SELECT sum(n) FROM psums) = (SELECT count(*) FROM pev)}),
	't', 'and every row of it was counted once');

# the scheduler's worker keeps its plans from one round to the next (the
# rows so far were processed at creation, in this session)
$node->safe_psql(
	'postgres', q{
	CREATE TABLE sched_sums (k int PRIMARY KEY, n bigint NOT NULL);
	SELECT incremental.create_sequence_pipeline('q', 'ev', $$
	    INSERT INTO sched_sums SELECT k, count(*) FROM ev WHERE id BETWEEN $1 AND $2 GROUP BY k
	    ON CONFLICT (k) DO UPDATE SET n = sched_sums.n + EXCLUDED.n $$,
	    schedule => '100 milliseconds');
	SELECT pg_stat_statements_reset();
});
for my $i (1 .. 25)
{
	$node->safe_psql('postgres',
		"INSERT INTO ev (k) SELECT g % 10 FROM generate_series(1, " . (8 + $i % 8) . ") g");
	usleep(250_000);
}
ok( $node->poll_query_until(
		'postgres', q{
		SELECT (SELECT sum(n) FROM sched_sums) = (SELECT count(*) FROM ev)}),
	'the scheduled pipeline counted every row once');
my ($calls, $plans) = command_counts('sched_sums') =~ /(\d+) calls, (\d+) plans/;
cmp_ok($calls, '>=', 15, "the worker ran $calls batches");
cmp_ok($plans, '<=', 2, "and planned them $plans times");

$node->stop;
done_testing();
