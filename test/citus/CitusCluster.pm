# A Citus cluster for pg_incremental's tests: a coordinator and two
# workers on loopback, each with Citus and pg_incremental preloaded, the
# workers added with metadata (writes may go through any node).
#
# Citus is not in Debian's packages; without it installed, the tests
# that use this say so with skip_all.
package CitusCluster;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(skip_without_citus new_citus_cluster);

sub skip_without_citus
{
	my $libdir = `pg_config --pkglibdir`;
	chomp $libdir;
	plan skip_all => "Citus is not installed (no citus.so in $libdir); "
	  . "docs/citus.md says how to install it"
	  unless -e "$libdir/citus.so";
}

# Returns (coordinator, worker1, worker2), started, with citus and
# pg_incremental created in database postgres (CREATE EXTENSION
# pg_incremental on the coordinator is propagated to the workers).
sub new_citus_cluster
{
	my ($prefix) = @_;
	my @nodes;

	for my $name ('coordinator', 'worker1', 'worker2')
	{
		my $node = PostgreSQL::Test::Cluster->new("${prefix}_$name");
		$node->init;
		$node->append_conf(
			'postgresql.conf', qq{
shared_preload_libraries = 'citus,pg_incremental'
listen_addresses = '127.0.0.1'
incremental.naptime = '100ms'
max_worker_processes = 16
max_prepared_transactions = 20
max_connections = 100
citus.log_remote_commands = off
});
		$node->start;
		$node->safe_psql('postgres', 'CREATE EXTENSION citus');
		push @nodes, $node;
	}

	my ($coordinator, @workers) = @nodes;
	$coordinator->safe_psql('postgres',
		"SELECT citus_set_coordinator_host('127.0.0.1', " . $coordinator->port . ')');
	$coordinator->safe_psql('postgres',
		"SELECT citus_add_node('127.0.0.1', " . $_->port . ')')
	  for @workers;
	$coordinator->safe_psql('postgres', 'CREATE EXTENSION pg_incremental');

	return @nodes;
}

1;
