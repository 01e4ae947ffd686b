
# Copyright (c) 2026, the migrate authors

# Two pg_migrate up processes started at once against the same database:
# both exit 0, or one waits and the other fails cleanly with a message;
# every migration is applied exactly once (the history says so), and the
# schema is complete.  Run twice: on a fresh database (both register) and
# with everything registered already (both only apply).

use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('concurrency');
my $n    = 30;

# N migrations; the first sleeps, so that the two runs overlap
my $dir = PostgreSQL::Test::Utils::tempdir('concurrent') . '/migrations';
mkdir $dir or die;
for my $i (1 .. $n)
{
	my $t = sprintf('ledger_%03d', $i);
	my $sleep = $i == 1 ? "SELECT pg_catalog.pg_sleep(1);\n" : '';
	write_file(sprintf('%s/%d__create_%s.up.sql', $dir, $i, $t),
		"${sleep}CREATE TABLE $t (id bigint PRIMARY KEY, amount numeric NOT NULL);\n");
	write_file(sprintf('%s/%d__create_%s.down.sql', $dir, $i, $t), "DROP TABLE $t;\n");
}

sub start_up
{
	my ($db, $out, $err) = @_;
	local %ENV = %ENV;
	$ENV{PGHOST} = $node->host;
	$ENV{PGPORT} = $node->port;
	return IPC::Run::start([ 'pg_migrate', '-d', $node->connstr($db), '--dir', $dir, 'up' ],
		'<', \undef, '>', $out, '2>', $err);
}

sub race
{
	my ($db, $label) = @_;
	my ($out1, $err1, $out2, $err2) = ('', '', '', '');
	my $h1 = start_up($db, \$out1, \$err1);
	my $h2 = start_up($db, \$out2, \$err2);
	$h1->finish;
	my $rc1 = $? >> 8;
	$h2->finish;
	my $rc2 = $? >> 8;
	note("first: exit $rc1\n$out1$err1\nsecond: exit $rc2\n$out2$err2");

	my @rcs = sort ($rc1, $rc2);
	ok(($rcs[0] == 0 && $rcs[1] == 0) || ($rcs[0] == 0 && $rcs[1] == 1),
		"$label: both exit 0, or one 0 and one 1 (got $rc1 and $rc2)");
	if ($rcs[1] == 1)
	{
		my $err = $rc1 == 1 ? $err1 : $err2;
		like($err, qr/^pg_migrate: error: .*(lock|another|running|busy|concurrent|timeout)/mi,
			"$label: the one that failed says why");
	}
	is(migration_count($node, $db, 'applied'), $n, "$label: all $n applied");
	is( psql_value($node, $db,
			"SELECT count(*) FROM (SELECT version FROM migrate.event WHERE action = 'apply' AND outcome = 'success' GROUP BY version HAVING count(*) <> 1) x"),
		'0', "$label: each migration applied exactly once (history)");
	is( psql_value($node, $db,
			"SELECT count(DISTINCT version) FROM migrate.event WHERE action = 'apply' AND outcome = 'success'"),
		$n, "$label: the history has an apply of each");
	is(migration_count($node, $db), $n, "$label: each migration registered once");
	return;
}

{
	local $TODO = todo_unless('up', $node);
	create_db($node, 'race_fresh');
	race('race_fresh', 'fresh database');

	# everything registered, nothing applied: both only apply
	create_db($node, 'race_registered');
	my ($rc, $out, $err) = pgm($node, 'race_registered', '--dir', $dir, 'up', '--dry-run');
	note('registered by the dry run: ' . migration_count($node, 'race_registered'));
	race('race_registered', 'registered database');
}

$node->stop;
done_testing();
