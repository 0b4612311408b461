# Hostile input: test/fuzz/fuzz.py calls every function of schema
# incremental with random, boundary and malicious arguments
# (INCREMENTAL_FUZZ_CALLS, 10,000 here) while the scheduler runs whatever
# pipelines the calls manage to create.  No backend may crash, every
# refusal must be a clean ERROR, and the catalog must be consistent after.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use FindBin;
use lib $FindBin::RealBin;
use lib "$FindBin::RealBin/../long";
use IncrementalTest;
use ExactlyOnce;

my $calls = $ENV{INCREMENTAL_FUZZ_CALLS} // 10000;
my $seed = $ENV{INCREMENTAL_FUZZ_SEED} // int(rand(1 << 30));

my $node = new_scheduler_node('fuzz');
$node->safe_psql('postgres', q{CREATE EXTENSION pg_incremental;
ALTER DATABASE postgres SET statement_timeout = '10s'});

local $ENV{PGHOST} = $node->host;
local $ENV{PGPORT} = $node->port;
local $ENV{PGDATABASE} = 'postgres';
my ($stdout, $stderr);
my $ok = IPC::Run::run(['python3', "$FindBin::RealBin/../fuzz/fuzz.py", '--calls', $calls, '--seed', $seed],
	'>', \$stdout, '2>', \$stderr);
diag($stdout);
diag($stderr) if $stderr;
ok($ok, "the fuzz run ends cleanly (seed $seed)");
like($stdout, qr/$calls calls made of $calls/, "all $calls calls were made");
like($stdout, qr/connection lost: no/, 'the connection was never lost');
like($stdout, qr/0 fatal\/panic/, 'no FATAL or PANIC');
like($stdout, qr/catalog consistent: yes/, 'the catalog is consistent afterwards');
is(server_log_crashes($node), 0, 'no process was terminated by a signal');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type IN ('pg_incremental launcher', 'pg_incremental worker')"),
	2, 'the launcher and the worker are still there');
$node->stop;
done_testing();
