# Upgrading a database where pg_incremental 1.3 runs its pipelines through
# pg_cron jobs: ALTER EXTENSION pg_incremental UPDATE keeps every pipeline
# and its progress, and moves the jobs' schedules to the internal scheduler,
# or leaves them in pg_cron with incremental.scheduler = 'pg_cron'.
# 1.3 pipelines are written as the original left them: catalog rows plus
# pipeline:<name> jobs created by the pipeline's owner.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IncrementalTest;

my $node = new_scheduler_node(
	'migration', extra_conf => q{
shared_preload_libraries = 'pg_cron,pg_incremental'
cron.database_name = 'postgres'
cron.use_background_workers = on
});

$node->safe_psql(
	'postgres', q{
CREATE EXTENSION pg_cron;
CREATE ROLE alice LOGIN;
GRANT USAGE ON SCHEMA cron TO alice;
GRANT CREATE ON SCHEMA public TO alice;
});

# A 1.3 database: a sequence pipeline of alice's (events 1-3 processed), a
# paused time pipeline and a file list pipeline, each with its cron job.
sub install_1_3
{
	my ($suffix) = @_;
	$node->safe_psql(
		'postgres', qq{
CREATE EXTENSION pg_incremental VERSION '1.3';
SET ROLE alice;
CREATE TABLE sum${suffix}_events (id bigserial PRIMARY KEY, value bigint NOT NULL);
CREATE TABLE sum${suffix}_totals (row_count bigint NOT NULL, value_sum bigint NOT NULL);
INSERT INTO sum${suffix}_events (value) SELECT g FROM generate_series(1, 3) g;
INSERT INTO sum${suffix}_totals VALUES (3, 6);
SELECT cron.schedule('pipeline:sum$suffix', '* * * * *', 'call incremental.execute_pipeline(''sum$suffix'')');
RESET ROLE;
INSERT INTO incremental.pipelines VALUES
  ('sum$suffix', 's', 'alice'::regrole, 'sum${suffix}_events',
   \$\$UPDATE sum${suffix}_totals SET row_count = row_count + (SELECT count(*) FROM sum${suffix}_events WHERE id BETWEEN \$1 AND \$2),
        value_sum = value_sum + (SELECT coalesce(sum(value), 0) FROM sum${suffix}_events WHERE id BETWEEN \$1 AND \$2)\$\$,
   'public'),
  ('hourly$suffix', 't', 'postgres'::regrole, NULL, 'SELECT \$1, \$2', 'public'),
  ('files$suffix', 'f', 'postgres'::regrole, NULL, 'SELECT \$1', 'public');
INSERT INTO incremental.sequence_pipelines VALUES ('sum$suffix', 'sum${suffix}_events_id_seq', 3);
INSERT INTO incremental.time_interval_pipelines
  VALUES ('hourly$suffix', '1 hour', true, '30 seconds', '2025-06-01 10:00+00');
INSERT INTO incremental.file_list_pipelines VALUES ('files$suffix', '/nowhere/*.csv', false, NULL, 100);
INSERT INTO incremental.processed_files VALUES ('files$suffix', '/nowhere/a.csv');
SELECT cron.schedule('pipeline:hourly$suffix', '\@hourly', 'call incremental.execute_pipeline(''hourly$suffix'')');
SELECT cron.alter_job(jobid, active => false) FROM cron.job WHERE jobname = 'pipeline:hourly$suffix';
SELECT cron.schedule('pipeline:files$suffix', '*/15 * * * *', 'call incremental.execute_pipeline(''files$suffix'')');
SELECT cron.schedule('unrelated', '0 0 1 1 *', 'SELECT 1');
});
}

install_1_3('');

# the library refuses the 1.3 catalog, and the worker leaves it alone
my ($ret, $out, $err) =
  $node->psql('postgres', "CALL incremental.execute_pipeline('sum')");
like($err, qr/version 1\.3 is installed.*\n.*ALTER EXTENSION pg_incremental UPDATE/,
	'1.3 catalog: functions refuse with a hint to update');

$node->safe_psql('postgres', 'ALTER EXTENSION pg_incremental UPDATE');

is( $node->safe_psql(
		'postgres', q{
SELECT string_agg(format('%s %s %s %s %s %s', p.pipeline_name, p.owner_id, p.schedule,
                         p.paused, p.scheduled_by,
                         coalesce(s.last_processed_sequence_number::text, (t.last_processed_time AT TIME ZONE 'UTC')::text,
                                  (SELECT string_agg(path, ',') FROM incremental.processed_files f
                                   WHERE f.pipeline_name = p.pipeline_name))), E'\n'
                  ORDER BY p.pipeline_name)
FROM incremental.pipelines p
LEFT JOIN incremental.sequence_pipelines s USING (pipeline_name)
LEFT JOIN incremental.time_interval_pipelines t USING (pipeline_name)}),
	"files postgres */15 * * * * f internal /nowhere/a.csv\n"
	  . "hourly postgres \@hourly t internal 2025-06-01 10:00:00\n"
	  . "sum alice * * * * * f internal 3",
	'every pipeline, its owner and progress are kept; the cron schedules moved (inactive = paused)');
is($node->safe_psql('postgres', 'SELECT string_agg(jobname, \',\') FROM cron.job'),
	'unrelated', 'the pipeline jobs are gone, other jobs stay');

# the one wait: the internal scheduler runs the moved '* * * * *' schedule
insert_events($node, 'postgres', 'sum', 4);
wait_for_rollup($node, 'postgres', 'sum',
	'the internal scheduler continues the pipeline exactly where 1.3 left it');
is($node->safe_psql('postgres', 'SELECT row_count FROM sum_totals'),
	'7', 'no event was processed twice or skipped');

# Again with incremental.scheduler = 'pg_cron' (set for the database):
# the jobs stay and the pipelines say pg_cron runs them.
$node->safe_psql(
	'postgres', q{
DROP EXTENSION pg_incremental;
SELECT cron.unschedule('unrelated');
ALTER DATABASE postgres SET incremental.scheduler = 'pg_cron';
});
install_1_3('_kept');
$node->safe_psql('postgres', 'ALTER EXTENSION pg_incremental UPDATE');
is( $node->safe_psql(
		'postgres',
		"SELECT string_agg(pipeline_name || ' ' || coalesce(schedule, '-') || ' ' || scheduled_by, E'\\n' ORDER BY pipeline_name) FROM incremental.pipelines"
	),
	"files_kept */15 * * * * pg_cron\nhourly_kept \@hourly pg_cron\nsum_kept * * * * * pg_cron",
	"with incremental.scheduler = 'pg_cron' the pipelines stay with pg_cron");
is( $node->safe_psql(
		'postgres',
		"SELECT string_agg(jobname || ' ' || username, ',' ORDER BY jobname) FROM cron.job"
	),
	'pipeline:files_kept postgres,pipeline:hourly_kept postgres,pipeline:sum_kept alice,unrelated postgres',
	'and their jobs are kept as they were');

# from there, one call moves them all to the internal scheduler
is( $node->safe_psql(
		'postgres', "SELECT incremental.move_all_pipeline_schedules('internal')"),
	'3', 'move_all_pipeline_schedules moves every pipeline');
is($node->safe_psql('postgres', "SELECT count(*) FROM cron.job WHERE jobname LIKE 'pipeline:%'"),
	'0', 'and removes their jobs');

$node->safe_psql('postgres', 'ALTER DATABASE postgres RESET incremental.scheduler');
$node->stop;
done_testing();
