# Chains under the scheduler: a -> b -> c, where b and c have no schedule
# of their own and run only because the pipeline before them committed
# progress, in the same round of the worker, after it.  While writers
# insert, every row is counted exactly once at the end of the chain; while
# b fails, c does not run at all and pipeline_stats says what it waits
# for; once b is fixed, the chain catches up.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);
use FindBin;
use lib $FindBin::RealBin;
use IncrementalTest;

my $node = new_scheduler_node('chains');
$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION pg_incremental;
	CREATE TABLE events (id bigserial PRIMARY KEY, v int NOT NULL);
	CREATE TABLE stage1 (id bigserial PRIMARY KEY, n bigint NOT NULL);
	CREATE TABLE stage2 (id bigserial PRIMARY KEY, n bigint NOT NULL);
	CREATE TABLE totals (n bigint NOT NULL);
	INSERT INTO totals VALUES (0);
	SELECT incremental.create_sequence_pipeline('a', 'events',
	    $$ INSERT INTO stage1 (n) SELECT count(*) FROM events WHERE id BETWEEN $1 AND $2 $$,
	    schedule => '100 milliseconds', execute_immediately => false);
	SELECT incremental.create_sequence_pipeline('b', 'stage1',
	    $$ INSERT INTO stage2 (n) SELECT sum(n) FROM stage1 WHERE id BETWEEN $1 AND $2 $$,
	    schedule => NULL, execute_immediately => false, depends_on => '{a}');
	SELECT incremental.create_sequence_pipeline('c', 'stage2',
	    $$ UPDATE totals SET n = n + (SELECT sum(n) FROM stage2 WHERE id BETWEEN $1 AND $2) $$,
	    schedule => NULL, execute_immediately => false, depends_on => '{b}');
});

my $script = $node->basedir . '/insert.sql';
open(my $fh, '>', $script) or die;
print $fh "INSERT INTO events (v) SELECT 1 FROM generate_series(1, 5);\n";
close $fh;
sub start_writers
{
	my ($seconds) = @_;
	my ($out, $err) = ('', '');
	return IPC::Run::start(
		[ 'pgbench', '-n', '-c', '2', '-T', $seconds, '-R', '50', '-f', $script,
		  $node->connstr('postgres') ],
		'>', \$out, '2>', \$err);
}

my $chain_done = q{
	SELECT (SELECT n FROM totals) = (SELECT count(*) FROM events)
	   AND (SELECT count(*) FROM events) > 0};

# 1. the chain under writers
my $writers = start_writers(8);
$writers->finish;
ok($node->poll_query_until('postgres', $chain_done),
	'c, which has no schedule, caught up: every row counted once at the end of the chain');

my $runs = $node->safe_psql(
	'postgres', q{
	SELECT string_agg(pipeline_name || '=' || n, ' ' ORDER BY pipeline_name)
	FROM (SELECT pipeline_name, count(*) AS n FROM incremental.pipeline_runs
	      WHERE status = 'succeeded' GROUP BY 1) r});
my %runs = map { split /=/ } split / /, $runs;
ok($runs{b} > 0 && $runs{c} > 0, "b and c ran ($runs)");
ok($runs{b} <= $runs{a} && $runs{c} <= $runs{b}, 'each ran at most once per run of the one before it');

# every run of b started right after a run of a ended, in the same round
is( $node->safe_psql(
		'postgres', q{
		SELECT count(*) FROM incremental.pipeline_runs b
		WHERE b.pipeline_name = 'b' AND NOT EXISTS (
		    SELECT FROM incremental.pipeline_runs a
		    WHERE a.pipeline_name = 'a' AND a.ended_at <= b.started_at
		      AND a.ended_at > b.started_at - interval '1 second')}),
	'0', 'every run of b followed a run of a within the same round');

# 2. b fails: c waits, a goes on
$node->safe_psql('postgres',
	'ALTER TABLE stage2 ADD CONSTRAINT never CHECK (n < 0) NOT VALID');
my $failed_at = $node->safe_psql('postgres', 'SELECT now()');
$writers = start_writers(4);
ok( $node->poll_query_until(
		'postgres', q{SELECT state = 'failing' FROM incremental.pipeline_stats WHERE pipeline_name = 'b'}),
	'b fails');
my $c_runs = $node->safe_psql('postgres',
	q{SELECT count(*) FROM incremental.pipeline_runs WHERE pipeline_name = 'c'});
is( $node->safe_psql(
		'postgres', q{SELECT waiting_for FROM incremental.pipeline_stats WHERE pipeline_name = 'c'}),
	'{b}', 'pipeline_stats says what c waits for');
$writers->finish;
sleep 2;
is( $node->safe_psql(
		'postgres', q{SELECT count(*) FROM incremental.pipeline_runs WHERE pipeline_name = 'c'}),
	$c_runs, 'c does not run while b fails');
ok( $node->safe_psql(
		'postgres', qq{
		SELECT count(*) > 0 FROM incremental.pipeline_runs
		WHERE pipeline_name = 'a' AND started_at > '$failed_at'}) eq 't',
	'a goes on meanwhile');

# 3. fixed: the chain catches up, exactly once
$node->safe_psql('postgres', 'ALTER TABLE stage2 DROP CONSTRAINT never');
ok($node->poll_query_until('postgres', $chain_done),
	'once b is fixed the chain catches up, every row counted once');
is( $node->safe_psql(
		'postgres', q{SELECT coalesce(waiting_for::text, '-') FROM incremental.pipeline_stats WHERE pipeline_name = 'c'}),
	'-', 'and c waits for nothing');

# 4. a cycle is refused
my ($rc, $out, $err) = $node->psql('postgres',
	q{SELECT incremental.alter_pipeline('a', depends_on => '{c}')});
like($err, qr/depends_on would make a cycle: a -> c -> b -> a/, 'a cycle is refused, with the cycle');

$node->stop;
done_testing();
