
# Copyright (c) 2026, the migrate authors

# up --batch N commits after every N migrations and says so; when a later
# chunk fails, the chunks before it stay applied.  --single-transaction
# keeps all-or-nothing.

use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('batches');
my $n    = 25;

sub make_dir
{
	my ($name, $fail_last) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir($name) . '/migrations';
	mkdir $dir or die;
	for my $i (1 .. $n)
	{
		my $t = sprintf('batch_%03d', $i);
		my $up = ($fail_last && $i == $n)
		  ? "CREATE TABLE $t (id integer REFERENCES no_such_table (id));\n"
		  : "CREATE TABLE $t (id integer PRIMARY KEY, note text);\n";
		write_file("$dir/${i}__create_$t.up.sql", $up);
		write_file("$dir/${i}__create_$t.down.sql", "DROP TABLE $t;\n");
	}
	return $dir;
}

my $good = make_dir('good', 0);
my $bad  = make_dir('bad', 1);
{
	local $TODO = todo_unless('up', $node);
	create_db($node, 'batched');
	my ($rc, $out, $err) = pgm($node, 'batched', '--dir', $good, '--batch', '10', 'up');
	is($rc, 0, 'up --batch 10 exits 0');
	like($out . $err, qr/batch/i, 'up --batch says it commits in batches');
	is(migration_count($node, 'batched', 'applied'), $n, "all $n applied");

	create_db($node, 'batched_fail');
	($rc, $out, $err) = pgm($node, 'batched_fail', '--dir', $bad, '--batch', '10', 'up');
	is($rc, 1, 'up --batch 10 with a failing migration 25: exit 1');
	like($err, qr/no_such_table/, '... with the server\'s message');
	is(migration_count($node, 'batched_fail', 'applied'), '20',
		'the two chunks before the failing one stay applied');

	create_db($node, 'single');
	($rc, $out, $err) = pgm($node, 'single', '--dir', $bad, '--single-transaction', 'up');
	is($rc, 1, 'up --single-transaction with a failing migration: exit 1');
	is(migration_count($node, 'single', 'applied'), '0', '--single-transaction: nothing applied');
}

$node->stop;
done_testing();
