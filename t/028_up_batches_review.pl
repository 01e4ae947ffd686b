
# Copyright (c) 2026, the migrate authors

# up and validate, on what a review found wrong:
# - two `up --batch 2` at once: a chunk that the other process applied
#   first is not mistaken for one whose migrations were all skipped; both
#   exit 0 once everything is applied, each migration applied once;
# - validate on a Flyway project with an applied R__ file: a new V file is
#   pending, not out-of-order (repeatables sort after every number);
# - batches report overall progress ("batch 2 of 4: migrations 3-4 of
#   7"), plurals follow the numbers, and --json's "registered" is a number;
# - a backend killed while files are being registered: the message says
#   the connection was lost and blames no file.

use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = start_node('up_batches_review');

sub new_dir
{
	my ($name) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir($name) . '/migrations';
	mkdir $dir or die;
	return $dir;
}

sub start_pgm
{
	my ($db, $out, $err, @args) = @_;
	local %ENV = %ENV;
	$ENV{PGHOST} = $node->host;
	$ENV{PGPORT} = $node->port;
	delete $ENV{$_} for grep { /^PGMIGRATE_/ } keys %ENV;
	return IPC::Run::start([ 'pg_migrate', '-d', $node->connstr($db), @args ],
		'<', \undef, '>', $out, '2>', $err);
}

# poll QUERY until it returns 't' (at most about 60 s)
sub wait_for
{
	my ($db, $query) = @_;
	for (1 .. 600)
	{
		my $v = psql_value($node, $db, $query);
		return 1 if defined $v && $v eq 't';
		usleep(100_000);
	}
	return 0;
}

# --- 6: two up --batch 2 at once ------------------------------------------
{
	my $n   = 6;
	my $dir = new_dir('race');
	for my $i (1 .. $n)
	{
		write_file("$dir/${i}__create_shelf_$i.up.sql",
			"SELECT pg_catalog.pg_sleep(0.4);\nCREATE TABLE shelf_$i (id int);\n");
		write_file("$dir/${i}__create_shelf_$i.down.sql", "DROP TABLE shelf_$i;\n");
	}
	create_db($node, 'race');
	my ($out1, $err1, $out2, $err2) = ('', '', '', '');
	my $h1 = start_pgm('race', \$out1, \$err1, '--dir', $dir, '--batch', '2', 'up');

	# the second starts once the first has registered, while it applies
	ok(wait_for('race', "SELECT count(*) = $n FROM migrate.migration"),
		'the first up registered the files');
	my $h2 = start_pgm('race', \$out2, \$err2, '--dir', $dir, '--batch', '2', 'up');
	$h1->finish;
	my $rc1 = $? >> 8;
	$h2->finish;
	my $rc2 = $? >> 8;
	note("first: exit $rc1\n$out1$err1\nsecond: exit $rc2\n$out2$err2");

	is($rc1, 0, 'the first up exits 0');
	is($rc2, 0, 'the second up exits 0');
	unlike($out2 . $err2, qr/skipped by their preconditions/,
		'the second does not take the chunk the first applied for skipped migrations');
	is(migration_count($node, 'race', 'applied'), $n, "all $n applied");
	is( psql_value(
			$node, 'race',
			"SELECT count(*) FILTER (WHERE outcome = 'success') || '/' || count(DISTINCT version) FROM migrate.event WHERE action = 'apply'"
		),
		"$n/$n",
		'the history shows each migration applied once');
}

# --- 7: validate with an applied Flyway R__ -------------------------------
{
	my $dir = new_dir('flyway_repeatable');
	write_file("$dir/V1__create_items.sql", "CREATE TABLE items (id int, price int);\n");
	write_file("$dir/R__item_view.sql",
		"CREATE OR REPLACE VIEW item_view AS SELECT id FROM items;\n");
	create_db($node, 'flyway_repeatable');
	my ($rc, $out, $err) = pgm($node, 'flyway_repeatable', '--dir', $dir, 'up');
	is($rc, 0, 'a Flyway project with an R__ file deploys') or diag($err);

	write_file("$dir/V2__add_items_note.sql", "ALTER TABLE items ADD COLUMN note text;\n");
	($rc, $out, $err) = pgm($node, 'flyway_repeatable', '--json', '--dir', $dir, 'validate');
	is($rc, 3, 'validate finds the new V2 (pending: exit 3)');
	my $doc = eval { JSON::PP->new->decode($out) } // {};
	my @f = @{ $doc->{findings} // [] };
	is(scalar(@f), 1, 'one finding');
	is($f[0]{kind} // '', 'pending', 'V2 is pending, not out-of-order');
	is(norm_version($f[0]{version} // ''), '2', '... and it is V2');
}

# --- 8: overall progress, plurals, JSON number ----------------------------
{
	my $dir = new_dir('progress');
	for my $i (1 .. 7)
	{
		write_file("$dir/${i}__create_bin_$i.up.sql", "CREATE TABLE bin_$i (id int);\n");
	}
	create_db($node, 'progress');
	my ($rc, $out, $err) = pgm($node, 'progress', '--dir', $dir, '--batch', '2', 'up');
	is($rc, 0, 'up --batch 2 of 7 migrations exits 0') or diag($err);
	like($out, qr/^batch 1 of 4: migrations 1-2 of 7$/m, 'batch 1 of 4 announced');
	like($out, qr/^batch 2 of 4: migrations 3-4 of 7$/m, 'batch 2 of 4 announced');
	like($out, qr/^batch 4 of 4: migration 7 of 7$/m, 'the last batch of one migration');

	create_db($node, 'json_number');
	($rc, $out, $err) = pgm($node, 'json_number', '--json', '--dir', $dir, 'up');
	is($rc, 0, 'up --json exits 0');
	like($out, qr/"registered": 7[,}\s]/, '"registered" is a JSON number');

	# one new and one changed: "migrations", from the total
	my $plural = new_dir('plural');
	write_file("$plural/${_}__create_crate_$_.up.sql", "CREATE TABLE crate_$_ (id int);\n")
	  for 1 .. 3;
	create_db($node, 'plural');
	($rc, $out, $err) = pgm($node, 'plural', '--dir', $plural, '--to', '1', 'up');
	is($rc, 0, 'up --to 1');
	write_file("$plural/3__create_crate_3.up.sql", "CREATE TABLE crate_3 (id bigint);\n");
	write_file("$plural/4__create_crate_4.up.sql", "CREATE TABLE crate_4 (id int);\n");
	($rc, $out, $err) = pgm($node, 'plural', '--dir', $plural, '--to', '1', 'up');
	is($rc, 0, 'up with one new and one changed file');
	like($out, qr/^registered 1 new and 1 changed migrations$/m,
		'"1 new and 1 changed migrations"');

	# a failing third chunk: "by the 2 batches", a failing second: "by the 1 batch"
	my $fail = new_dir('fail');
	for my $i (1 .. 4)
	{
		my $up = $i == 3
		  ? "CREATE TABLE box_$i (id int REFERENCES no_such_table (id));\n"
		  : "CREATE TABLE box_$i (id int);\n";
		write_file("$fail/${i}__create_box_$i.up.sql", $up);
	}
	create_db($node, 'fail');
	($rc, $out, $err) = pgm($node, 'fail', '--dir', $fail, '--batch', '2', 'up');
	is($rc, 1, 'a failing second chunk: exit 1');
	like($err, qr/the 2 migrations applied by the 1 batch before it stay committed/,
		'"by the 1 batch before it"');
}

# --- 9: the backend is killed while files are registered ------------------
{
	my $n   = 3000;
	my $dir = new_dir('killed');
	write_file("$dir/${_}__m.up.sql", "CREATE TABLE killed_$_ (id int);\n") for 1 .. $n;
	create_db($node, 'killed');
	my ($out, $err) = ('', '');
	my $h = start_pgm('killed', \$out, \$err, '--dir', $dir, 'up');
	my $killed = wait_for('postgres',
		"SELECT count(pg_catalog.pg_terminate_backend(pid)) > 0 FROM pg_stat_activity WHERE datname = 'killed' AND query LIKE '%migrate.register%' AND pid <> pg_backend_pid()"
	);
	$h->finish;
	my $rc = $? >> 8;
	note("exit $rc\n$out$err");
  SKIP:
	{
		skip 'registration ended before its backend could be terminated', 4
		  unless $killed && $err =~ /terminat|connection/i;
		is($rc, 1, 'up exits 1');
		like($err, qr/^pg_migrate: error: .*connection to the server was lost/m,
			'the message says the connection was lost');
		unlike($err, qr/could not register version/, 'no file is blamed');
		is(migration_count($node, 'killed'), '0', 'nothing registered');
	}
}

$node->stop;
done_testing();
