# Without shared_preload_libraries the core works by hand, and creating a
# scheduled pipeline warns that it will not run by itself.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IncrementalTest;

my $node = PostgreSQL::Test::Cluster->new('no_preload');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_incremental');

my ($ret, $stdout, $stderr) = $node->psql(
	'postgres', q{
CREATE TABLE manual_events (id bigserial PRIMARY KEY, value bigint NOT NULL);
CREATE TABLE manual_totals (row_count bigint NOT NULL, value_sum bigint NOT NULL);
INSERT INTO manual_totals VALUES (0, 0);
SELECT incremental.create_sequence_pipeline('manual', 'manual_events',
  $$UPDATE manual_totals
      SET row_count = row_count + (SELECT count(*) FROM manual_events WHERE id BETWEEN $1 AND $2),
          value_sum = value_sum + (SELECT coalesce(sum(value), 0) FROM manual_events WHERE id BETWEEN $1 AND $2)$$);
});
is($ret, 0, 'a scheduled pipeline can be created without the preload');
like($stderr, qr/WARNING:  pipeline "manual" will only run when executed by hand/,
	'with a warning that it only runs by hand');
like($stderr, qr/HINT:  Add pg_incremental to shared_preload_libraries/,
	'and a hint to preload the library');

($ret, $stdout, $stderr) = $node->psql('postgres',
	q{SELECT incremental.create_sequence_pipeline('unscheduled', 'manual_events', $$SELECT $1, $2$$, schedule => NULL)});
unlike($stderr, qr/WARNING/, 'a manual-only pipeline gets no warning');

insert_events($node, 'postgres', 'manual', 100);
$node->safe_psql('postgres', "CALL incremental.execute_pipeline('manual')");
is($node->safe_psql('postgres', rollup_matches_source('manual')), 't',
	'execute_pipeline works without the preload');
$node->safe_psql('postgres', "SELECT incremental.pause_pipeline('manual')");
$node->safe_psql('postgres', "SELECT incremental.resume_pipeline('manual')");
pass('pause and resume work without the preload');

is($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'pg_incremental%'"),
	'0', 'no scheduler process runs');

$node->stop;
done_testing();
