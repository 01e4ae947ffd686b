
# Copyright (c) 2026, the migrate authors

# Many databases: -d repeated (and --dbs-from FILE) with --jobs 2, where one
# database fails: the exit status is non-zero, the others are deployed all
# the same, and the summary names each database.

use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('fleet');
my $dir  = fixture('layouts/native');
my @good = qw(tenant_a tenant_b tenant_c);
create_db($node, $_) for @good;
# tenant_bad: a table "tenants" exists already, so migration 1 fails there
create_db($node, 'tenant_bad');
$node->safe_psql('tenant_bad', 'CREATE TABLE tenants (id integer)');

my @d = map { ('-d', $node->connstr($_)) } @good[0 .. 1], 'tenant_bad', $good[2];
{
	local $TODO = todo_unless('up', $node);
	my ($rc, $out, $err) = pgm_env({}, $node, undef, @d, '--jobs', '2', '--dir', $dir, 'up');
	is($rc, 1, 'four databases, one failing, --jobs 2: exit 1');
	for my $db (@good)
	{
		is(migration_count($node, $db, 'applied'), '3', "$db: deployed although tenant_bad failed");
	}
	is(migration_count($node, 'tenant_bad', 'applied'), '0', 'tenant_bad: nothing applied');
	like($out . $err, qr/tenant_bad/, 'the output names the failing database');
	for my $db (@good)
	{
		like($out . $err, qr/\b\Q$db\E\b/, "the summary names $db");
	}
	like($err, qr/already exists/, 'the failing database\'s error is shown');

	# all deployed: a second run has nothing to do in the good ones
	$node->safe_psql('tenant_bad', 'DROP TABLE tenants');
	($rc, $out, $err) = pgm_env({}, $node, undef, @d, '-j', '2', '--dir', $dir, 'up');
	is($rc, 0, 'after the fix, the fleet run exits 0');
	is(migration_count($node, 'tenant_bad', 'applied'), '3', 'tenant_bad: deployed now');
}
{
	local $TODO = todo_unless('up', $node);
	my $list = PostgreSQL::Test::Utils::tempdir('fleet') . '/dbs.txt';
	create_db($node, 'tenant_d');
	create_db($node, 'tenant_e');
	open my $fh, '>', $list or die;
	print $fh "# tenants\n", $node->connstr('tenant_d'), "\n\n", $node->connstr('tenant_e'), "\n";
	close $fh;
	my ($rc, $out, $err) = pgm_env({}, $node, undef, '--dbs-from', $list, '--jobs', '2',
		'--dir', $dir, 'up');
	is($rc, 0, '--dbs-from FILE: exit 0');
	is(migration_count($node, $_, 'applied'), '3', "--dbs-from: $_ deployed") for qw(tenant_d tenant_e);
}
{
	local $TODO = todo_unless('command:plan', $node) // todo_unless('up', $node);
	my ($rc, $out, $err) = pgm_env({}, $node, undef, @d, '--jobs', '2', 'status', '--check');
	is($rc, 0, 'status --check over the fleet, everything applied: exit 0');
}

$node->stop;
done_testing();
