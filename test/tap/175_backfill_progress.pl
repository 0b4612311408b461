# Progress of long work: a backfill of many batches shows, in
# incremental.pipeline_stats while it runs, its batches and items so far,
# its items per second, the batches to go and an estimated end; and
# CALL incremental.execute_pipeline(name, progress => true) says how far it
# got in a NOTICE every few seconds, and when it is done.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('progress');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_incremental'");
$node->append_conf('postgresql.conf', "incremental.enabled = off");
$node->start;

# 40 batches of 100 ids, each taking 0.2 s: an 8 s backfill
$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION pg_incremental;
	CREATE TABLE events (id bigserial PRIMARY KEY, v int);
	CREATE TABLE sums (n bigint);
	INSERT INTO events (v) SELECT 1 FROM generate_series(1, 4000);
	SELECT incremental.create_sequence_pipeline('backfill', 'events',
	    $$ INSERT INTO sums SELECT count(*) FROM events, pg_sleep(0.2) WHERE id BETWEEN $1 AND $2 $$,
	    schedule := NULL, max_batch_size := 100, execute_immediately := false);
});

my ($out, $err) = ('', '');
my $call = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
	  q{CALL incremental.execute_pipeline('backfill', progress => true)} ],
	'>', \$out, '2>', \$err);

# while it runs
my $seen = '';
for (my $i = 0; $i < 100; $i++)
{
	$seen = $node->safe_psql(
		'postgres', q{
		SELECT state, run_batches, run_items, items_per_second > 0, batches_to_go,
		       estimated_end > now(), estimated_end < now() + interval '1 minute'
		FROM incremental.pipeline_stats WHERE pipeline_name = 'backfill'});
	last if $seen =~ /^running\|([1-9]\d*)\|/ && $1 >= 5;
	usleep(200_000);
}
my @f = split /\|/, $seen;
is($f[0], 'running', 'pipeline_stats shows the backfill running') or diag $seen;
cmp_ok($f[1], '>=', 5, 'with the batches done so far');
is($f[2], $f[1] * 100, 'and the items done so far');
is($f[3], 't', 'its items per second');
is($f[4], 40 - $f[1], 'the batches to go');
is($f[5] . $f[6], 'tt', 'and an estimated end, soon');

$call->finish;
my $notices = () = $err =~ /NOTICE:  pipeline "backfill": \d+ batches, \d+ items in [\d.]+ s \(\d+ items\/s\); \d+ items to go, about \d+ s more/g;
ok($notices >= 1 && $notices <= 2, "progress NOTICEs every few seconds of an 8 s run ($notices)")
  or diag $err;
like($err, qr/NOTICE:  pipeline "backfill": done, 40 batches, 4000 items in [\d.]+ s/,
	'and one when it is done');
is($node->safe_psql('postgres', 'SELECT count(*), sum(n) FROM sums'), '40|4000',
	'the backfill processed every row once, in 40 batches');
is( $node->safe_psql(
		'postgres', q{
		SELECT coalesce(run_batches::text, '-') || ' ' || coalesce(estimated_end::text, '-')
		FROM incremental.pipeline_stats WHERE pipeline_name = 'backfill'}),
	'- -', 'no progress is shown once the run is over');

$node->stop;
done_testing();
