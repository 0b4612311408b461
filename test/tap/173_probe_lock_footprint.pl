# Looking for new work in many sequence pipelines does not fill the shared
# lock table, which every session of the cluster needs: a look locks the
# sequence until its transaction ends, so the worker looks in groups.  Here
# the lock table holds a few hundred locks and the database has 1200
# sequence pipelines, each on its own sequence.  (Review D12.)
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IncrementalTest;

my $pipelines = 1200;
my $node = new_scheduler_node(
	'locks', extra_conf => q{
max_locks_per_transaction = 10
max_connections = 10
max_prepared_transactions = 0
incremental.naptime = '1s'
log_min_messages = debug1
});
$node->safe_psql('postgres',
	'CREATE EXTENSION pg_incremental; CREATE TABLE sink (pipeline int, id bigint)');

my $lock_slots = $node->safe_psql('postgres',
	"SELECT current_setting('max_locks_per_transaction')::int * (current_setting('max_connections')::int + current_setting('max_worker_processes')::int + current_setting('autovacuum_max_workers')::int + current_setting('max_wal_senders')::int + 1)"
);
cmp_ok($lock_slots, '<', $pipelines / 2,
	"the shared lock table ($lock_slots entries, and some slack) is far smaller than the pipelines");

# one transaction per pipeline: creating them all at once would not fit
my $script = '';
for my $i (1 .. $pipelines)
{
	$script .= qq{CREATE TABLE src_$i (id bigserial PRIMARY KEY);
SELECT incremental.create_sequence_pipeline('p_$i', 'src_$i',
  \$\$INSERT INTO sink SELECT $i, id FROM src_$i WHERE id BETWEEN \$1 AND \$2\$\$,
  schedule => '1 second', execute_immediately => false);
};
}
$node->safe_psql('postgres', $script);
is($node->safe_psql('postgres', 'SELECT count(*) FROM incremental.pipelines'),
	$pipelines, 'all pipelines exist');

# after a look finds nothing, all pipelines are due together, every second,
# and the looks take a few transactions, not one per pipeline
sleep(5);
my $commits_sql = "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'";
my $commits_before = $node->safe_psql('postgres', $commits_sql);
sleep(3);
my $commits = $node->safe_psql('postgres', $commits_sql) - $commits_before;
cmp_ok($commits, '<', $pipelines,
	"idle pipelines cost a few transactions a round ($commits in 3 s for $pipelines pipelines)");
$node->safe_psql('postgres',
	"INSERT INTO src_1 DEFAULT VALUES; INSERT INTO src_600 DEFAULT VALUES; INSERT INTO src_$pipelines DEFAULT VALUES"
);
ok( $node->poll_query_until(
		'postgres', "SELECT count(*) = 3 FROM sink WHERE pipeline IN (1, 600, $pipelines)"),
	'new rows in the first, a middle and the last pipeline are processed');
# a look that fails is logged at DEBUG1 only, and the pipeline is run instead
unlike(slurp_file($node->logfile), qr/out of shared memory/,
	'no transaction ran out of lock table space');

$node->safe_psql('postgres', "INSERT INTO src_$pipelines DEFAULT VALUES");
ok($node->poll_query_until('postgres', "SELECT count(*) = 2 FROM sink WHERE pipeline = $pipelines"),
	'and again, in the next rounds');
is($node->safe_psql('postgres', 'SELECT count(*) FROM sink'), '4', 'each row once');

$node->stop;
done_testing();
