# Exactly once under load: 16 pgbench clients insert for a minute
# (INCREMENTAL_LOAD_SECONDS; 600 in test/long/load.sh) while pipelines of
# all three kinds run on 1-second schedules:
#   ev_ids    sequence: copies every new id into ev_seen
#   ev_agg    sequence: per-bucket counts, merged with ON CONFLICT
#   ev_time   time interval, '1 second', batched, waits for ev's writers
#   ev_files  file list over a table of "files" the clients also insert
# At the end every table is compared with a full recomputation.  Prints
# the insert rate and the pipelines' lag, sampled during the run.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep time);
use List::Util qw(max sum);
use FindBin;
use lib $FindBin::RealBin;
use lib "$FindBin::RealBin/../long";
use IncrementalTest;
use ExactlyOnce;

my $seconds = $ENV{INCREMENTAL_LOAD_SECONDS} // 60;
my $clients = $ENV{INCREMENTAL_LOAD_CLIENTS} // 16;

my $node = new_scheduler_node('load', extra_conf => qq{
max_connections = 60
synchronous_commit = off
});
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_incremental;
CREATE TABLE ev (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), bucket int NOT NULL);
CREATE TABLE ev_seen (id bigint NOT NULL);
CREATE TABLE ev_agg (bucket int PRIMARY KEY, n bigint NOT NULL);
CREATE TABLE ev_time (range_start timestamptz NOT NULL, range_end timestamptz NOT NULL, n bigint NOT NULL);
CREATE TABLE files (path text NOT NULL);
CREATE TABLE files_seen (path text NOT NULL);
CREATE FUNCTION list_files(pattern text) RETURNS TABLE (path text) LANGUAGE sql STABLE
  AS $$ SELECT f.path FROM files f WHERE f.path LIKE pattern $$;

SELECT incremental.create_sequence_pipeline('ev_ids', 'ev',
  $$INSERT INTO ev_seen SELECT id FROM ev WHERE id BETWEEN $1 AND $2$$,
  schedule => '1 second', execute_immediately => false);
SELECT incremental.create_sequence_pipeline('ev_agg', 'ev',
  $$INSERT INTO ev_agg SELECT bucket, count(*) FROM ev WHERE id BETWEEN $1 AND $2 GROUP BY 1
    ON CONFLICT (bucket) DO UPDATE SET n = ev_agg.n + excluded.n$$,
  schedule => '1 second', max_batch_size => 20000, execute_immediately => false);
SELECT incremental.create_time_interval_pipeline('ev_time', '1 second',
  $$INSERT INTO ev_time SELECT $1, $2, count(*) FROM ev WHERE created_at >= $1 AND created_at < $2$$,
  start_time => date_trunc('second', now()), source_table_name => 'ev',
  min_delay => '1 second', schedule => '1 second', execute_immediately => false);
SELECT incremental.create_file_list_pipeline('ev_files', 'f%',
  $$INSERT INTO files_seen SELECT unnest($1::text[])$$, list_function => 'list_files',
  batched => true, max_batch_size => 2000, schedule => '1 second', execute_immediately => false);
});

my $dir = PostgreSQL::Test::Utils::tempdir;
PostgreSQL::Test::Utils::append_to_file("$dir/ev.sql",
	"\\set b random(1, 100)\nINSERT INTO ev (bucket) VALUES (:b);\n");
PostgreSQL::Test::Utils::append_to_file("$dir/file.sql",
	"INSERT INTO files VALUES ('f' || :client_id || '-' || random());\n");

my ($out, $err) = ('', '');
my $pgbench = IPC::Run::start(
	[
		'pgbench', '-n', '-c', $clients, '-j', 2, '-T', $seconds,
		'-f', "$dir/ev.sql\@9", '-f', "$dir/file.sql\@1",
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'>', \$out, '2>', \$err);

# sample the lag while the clients insert
my $lag_sql = q{
SELECT (SELECT last_value FROM ev_id_seq) - (SELECT last_processed_sequence_number FROM incremental.sequence_pipelines WHERE pipeline_name = 'ev_ids'),
       (SELECT last_value FROM ev_id_seq) - (SELECT last_processed_sequence_number FROM incremental.sequence_pipelines WHERE pipeline_name = 'ev_agg'),
       round(extract(epoch FROM now() - (SELECT last_processed_time FROM incremental.time_interval_pipelines WHERE pipeline_name = 'ev_time'))::numeric, 1),
       (SELECT count(*) FROM files) - (SELECT count(*) FROM incremental.processed_files WHERE pipeline_name = 'ev_files')};
my (@ids_lag, @agg_lag, @time_lag, @files_lag);
my $start = time();
while ($pgbench->pumpable && time() < $start + $seconds + 60)
{
	$pgbench->pump_nb;
	if (time() > $start + 2)
	{
		my ($a, $b, $c, $d) = split /\|/, $node->safe_psql('postgres', $lag_sql);
		push @ids_lag, $a;
		push @agg_lag, $b;
		push @time_lag, $c;
		push @files_lag, $d;
	}
	sleep(2);
}
$pgbench->finish;
ok($? == 0, 'pgbench ran') or diag($err);
my ($tps) = $out =~ /tps = ([\d.]+) \(without initial connection time\)/;
my ($transactions) = $out =~ /number of transactions actually processed: (\d+)/;

# catching up after the load stops
my $caught = time();
my $all_done = q{
SELECT (SELECT count(*) FROM ev) = (SELECT count(*) FROM ev_seen)
   AND (SELECT count(*) FROM ev) = (SELECT coalesce(sum(n), 0) FROM ev_agg)
   AND (SELECT last_processed_time FROM incremental.time_interval_pipelines WHERE pipeline_name = 'ev_time') > (SELECT max(created_at) FROM ev)
   AND (SELECT count(*) FROM files) = (SELECT count(*) FROM files_seen)};
ok($node->poll_query_until('postgres', $all_done), 'every pipeline catches up after the load');
my $catch_up = sprintf('%.1f', time() - $caught);

my ($rows, $lost, $dups) = split /\|/, $node->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM ev),
       (SELECT count(*) FROM ev e WHERE NOT EXISTS (SELECT FROM ev_seen s WHERE s.id = e.id)),
       (SELECT count(*) - count(DISTINCT id) FROM ev_seen)});
is($lost, 0, "sequence: no row lost of $rows");
is($dups, 0, 'sequence: no row processed twice');
is( $node->safe_psql('postgres', q{
SELECT count(*) FROM (SELECT bucket, count(*) AS n FROM ev GROUP BY 1) r FULL JOIN ev_agg a USING (bucket)
WHERE r.n IS DISTINCT FROM a.n}), 0, 'sequence aggregate: every bucket equals a recomputation');
my ($time_rows, $time_counted, $overlaps) = split /\|/, $node->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM ev WHERE created_at < (SELECT last_processed_time FROM incremental.time_interval_pipelines WHERE pipeline_name = 'ev_time')),
       (SELECT sum(n) FROM ev_time),
       (SELECT count(*) FROM ev_time a JOIN ev_time b ON a.ctid < b.ctid AND a.range_start < b.range_end AND b.range_start < a.range_end)});
is($time_counted, $time_rows, 'time interval: the counts add up to every row before the last processed time');
is($overlaps, 0, 'time interval: no interval processed twice');
my ($files, $files_lost, $files_dups) = split /\|/, $node->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM files),
       (SELECT count(*) FROM files f WHERE NOT EXISTS (SELECT FROM files_seen s WHERE s.path = f.path)),
       (SELECT count(*) - count(DISTINCT path) FROM files_seen)});
is($files_lost, 0, "file list: no file lost of $files");
is($files_dups, 0, 'file list: no file processed twice');
my $failures = $node->safe_psql('postgres',
	"SELECT coalesce(string_agg(pipeline_name || ': ' || last_error, '; '), 'none') FROM (SELECT DISTINCT ON (pipeline_name) pipeline_name, status AS last_run_status, error_message AS last_error, consecutive_failures, ended_at AS last_run_end, next_retry_at FROM incremental.pipeline_runs ORDER BY pipeline_name, run_id DESC) AS pipeline_run_state WHERE last_run_status = 'failed'");
is($failures, 'none', 'no pipeline failed');

sub avg { return @_ ? sprintf('%.1f', sum(@_) / @_) : 'n/a' }
diag("load: $clients clients, ${seconds}s, $transactions transactions, $tps tps; "
	  . "$rows events, $files files, lost $lost, duplicated $dups, files lost $files_lost, duplicated $files_dups");
diag(sprintf('lag during load (avg / max over %d samples): ev_ids %s / %s rows, ev_agg %s / %s rows, ev_time %s / %s s, ev_files %s / %s files; caught up %s s after the load',
	scalar(@ids_lag), avg(@ids_lag), max(@ids_lag) // 0, avg(@agg_lag), max(@agg_lag) // 0,
	avg(@time_lag), max(@time_lag) // 0, avg(@files_lag), max(@files_lag) // 0, $catch_up));
is(server_log_crashes($node), 0, 'no process crashed');

$node->stop;
done_testing();
