
# Copyright (c) 2026, the migrate authors

# redo reverts the newest applied migration and applies exactly it again,
# in one transaction: a failing re-apply leaves it applied as before; a
# pending migration registered out of order is not applied along with it
# (redo refuses); a migration that cannot run inside a transaction block
# is refused with a hint, and stays applied.

use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('redo');

# a directory of native-layout files: version => [up, down]
sub write_dir
{
	my ($dir, %files) = @_;
	mkdir $dir;
	while (my ($v, $scripts) = each %files)
	{
		my ($name, $up, $down) = @$scripts;
		open my $fh, '>', "$dir/${v}__$name.up.sql" or die;
		print $fh $up;
		close $fh;
		open $fh, '>', "$dir/${v}__$name.down.sql" or die;
		print $fh $down;
		close $fh;
	}
	return $dir;
}

sub applied
{
	my ($db) = @_;
	return applied_versions($node, $db);
}

my $base = PostgreSQL::Test::Utils::tempdir('redo');

# --- a re-apply that fails leaves the migration applied ---------------------
create_db($node, 'fails');
{
	# the down script forgets the table, so the second apply fails
	my $dir = write_dir("$base/fails",
		1 => [ 'one', "CREATE TABLE one (id integer);\n", "DROP TABLE one;\n" ],
		2 => [ 'two', "CREATE TABLE two (id integer);\n", "SELECT 1;\n" ]);
	my ($rc, $out, $err) = pgm($node, 'fails', '--dir', $dir, 'up');
	is($rc, 0, 'up exits 0');
	($rc, $out, $err) = pgm($node, 'fails', '--dir', $dir, 'redo');
	is($rc, 1, 'redo whose re-apply fails: exit 1');
	like($err, qr/already exists/, 'the server\'s error is shown');
	is(applied('fails'), '1 2', 'the migration is applied as before');
	is(psql_value($node, 'fails',
			"SELECT state FROM migrate.migration WHERE version = '2'"),
		'applied', 'its state is applied');
}

# --- a pending migration older than the newest applied one -----------------
create_db($node, 'outoforder');
{
	my $dir = write_dir("$base/ooo",
		1 => [ 'one',   "CREATE TABLE one (id integer);\n",   "DROP TABLE one;\n" ],
		3 => [ 'three', "CREATE TABLE three (id integer);\n", "DROP TABLE three;\n" ]);
	my ($rc, $out, $err) = pgm($node, 'outoforder', '--dir', $dir, 'up');
	is($rc, 0, 'up exits 0');
	# version 2 arrives later, registered but not applied
	write_dir("$base/ooo",
		2 => [ 'two', "CREATE TABLE two (id integer);\n", "DROP TABLE two;\n" ]);
	# rehearse registers (committed) without applying
	($rc, $out, $err) = pgm($node, 'outoforder', '--dir', $dir, 'rehearse');
	is(migration_count($node, 'outoforder', 'pending'), '1', 'version 2 is registered, pending');
	($rc, $out, $err) = pgm($node, 'outoforder', '--dir', $dir, 'redo');
	is($rc, 1, 'redo with an older pending migration: exit 1');
	like($err, qr/would also apply 1 other pending migration/, 'redo says why');
	is(psql_value($node, 'outoforder', "SELECT to_regclass('public.two') IS NULL"),
		't', 'the pending migration was not applied');
	is(psql_value($node, 'outoforder',
			"SELECT state FROM migrate.migration WHERE version = '3'"),
		'applied', 'the newest migration is applied as before');
	# nothing pending in between: redo works
	($rc, $out, $err) = pgm($node, 'outoforder', '--dir', $dir, 'up');
	is($rc, 0, 'up applies the older one');
	($rc, $out, $err) = pgm($node, 'outoforder', '--dir', $dir, 'redo');
	is($rc, 0, 'then redo exits 0');
	is(applied('outoforder'), '1 3 2', 'and leaves everything applied');
}

# --- a migration that cannot run inside a transaction block ----------------
create_db($node, 'concurrently');
{
	my $dir = write_dir("$base/conc",
		1 => [ 'one', "CREATE TABLE one (id integer);\n", "DROP TABLE one;\n" ],
		2 => [ 'idx', "CREATE INDEX CONCURRENTLY one_id ON one (id);\n",
			"DROP INDEX CONCURRENTLY one_id;\n" ]);
	my ($rc, $out, $err) = pgm($node, 'concurrently', '--dir', $dir, 'up');
	is($rc, 0, 'up of a non-transactional migration exits 0');
	($rc, $out, $err) = pgm($node, 'concurrently', '--dir', $dir, 'redo');
	is($rc, 1, 'redo of a non-transactional migration: exit 1');
	like($err, qr/cannot run inside a transaction block/, 'the server says why');
	like($err, qr/pg_migrate down.*pg_migrate up --to/, 'the hint says what to do');
	is(psql_value($node, 'concurrently',
			"SELECT state FROM migrate.migration WHERE version = '2'"),
		'applied', 'the migration stays applied');
	is(psql_value($node, 'concurrently', "SELECT to_regclass('public.one_id') IS NOT NULL"),
		't', 'its index is still there');
}

$node->stop;
done_testing();
