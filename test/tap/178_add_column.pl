# Adding aggregates to a continuous view while writers insert and the
# scheduler runs its batches: the session adding them is killed in the
# middle of the backfill, which then holds a part of the old rows; CALL
# incremental.backfill_continuous_view goes on from the last committed
# batch, and the new columns end equal to the aggregates of the source,
# every row counted once, by the backfill or by the batches.
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

my $node = new_scheduler_node('add_column');
$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION pg_incremental;
	CREATE TABLE events (id bigserial PRIMARY KEY, k int NOT NULL, v int NOT NULL);
	-- v, slowly while "hold" has a row: the backfill's batches take a second
	CREATE TABLE hold ();
	CREATE FUNCTION gate(v int) RETURNS int LANGUAGE plpgsql STABLE AS $$
	BEGIN
	    IF v = 0 AND EXISTS (SELECT FROM hold) THEN
	        PERFORM pg_sleep(0.01);
	    END IF;
	    RETURN v;
	END $$;
	INSERT INTO events (k, v) SELECT g % 100, g % 1000 FROM generate_series(1, 600000) g;
	SELECT incremental.create_continuous_view('per_k', $$
	    SELECT k, count(*) AS n FROM events GROUP BY 1 $$, schedule => '200 milliseconds');
});
ok( $node->poll_query_until(
		'postgres', q{SELECT pending = 0 FROM incremental.pipeline_stats
		               WHERE pipeline_name = 'public.per_k'}),
	'the view processed the first 600000 rows');

my $script = $node->basedir . '/insert.sql';
open(my $fh, '>', $script) or die;
print $fh "INSERT INTO events (k, v) SELECT (random() * 99)::int, (random() * 999)::int "
  . "FROM generate_series(1, 10);\n";
close $fh;
my ($out, $err) = ('', '');
my $writers = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '2', '-T', '15', '-R', '50', '-f', $script,
	  $node->connstr('postgres') ],
	'>', \$out, '2>', \$err);

# the backfill's first batch commits; then its session is killed
$node->safe_psql('postgres', 'INSERT INTO hold DEFAULT VALUES');
my ($stdout, $stderr) = ('', '');
my $adder = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
	  q{CALL incremental.add_continuous_view_column('per_k',
	        'sum(gate(v)) AS total, max(v) AS biggest, avg(v) AS mean')} ],
	'>', \$stdout, '2>', \$stderr);
ok( $node->poll_query_until(
		'postgres', q{
		SELECT backfilled_through > 0 FROM incremental.continuous_view_backfills}),
	'the backfill committed a batch');
$node->safe_psql(
	'postgres', q{
	SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	WHERE query LIKE 'CALL incremental.add_continuous_view_column%'});
$adder->finish;
my $pending = $node->safe_psql(
	'postgres', q{
	SELECT backfilled_through < backfill_through AND finished_at IS NULL
	FROM incremental.continuous_view_backfills});
is($pending, 't', 'killed in the middle, the backfill is recorded as unfinished');
$node->safe_psql('postgres', 'DELETE FROM hold');

my $direct = q{
	SELECT count(*) FROM (SELECT k, sum(v) AS total, max(v) AS biggest, avg(v) AS mean
	                      FROM events GROUP BY 1) d
	FULL JOIN per_k p USING (k)
	WHERE p.total IS DISTINCT FROM d.total OR p.biggest IS DISTINCT FROM d.biggest
	   OR p.mean IS DISTINCT FROM d.mean OR p.n IS DISTINCT FROM (SELECT count(*) FROM events e WHERE e.k = d.k)};

# the view's batches go on meanwhile, with the new columns
$node->command_ok(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
	  q{CALL incremental.backfill_continuous_view('per_k')} ],
	'backfill_continuous_view finishes the backfill');
$writers->finish;
like($out, qr/number of transactions actually processed: [1-9]/, 'the writers inserted rows');
ok( $node->poll_query_until(
		'postgres', q{SELECT pending = 0 FROM incremental.pipeline_stats
		               WHERE pipeline_name = 'public.per_k'}),
	'the view caught up with the writers');
is($node->safe_psql('postgres', $direct),
	'0', 'the new columns equal the aggregates of the source, every row once');
is( $node->safe_psql(
		'postgres', q{
	SELECT backfilled_through = backfill_through AND finished_at IS NOT NULL
	       AND valid_from = 1
	FROM incremental.continuous_view_backfills}),
	't', 'the backfill is finished, valid from the first row');

$node->stop;
done_testing();
