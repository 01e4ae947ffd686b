
# Copyright (c) 2026, the migrate authors

# status reads the directory as plan does (status --check exits 3 for files
# not deployed); tables escape control characters; the fleet summary's
# exit code is right-aligned; down with nothing to revert prints one line;
# init and the connect check refuse an extension too old or a stale 1.1
# install, without a success line first.

use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('status');
my $dir  = fixture('layouts/native');

# --- status sees the directory ----------------------------------------------
create_db($node, 'files');
{
	my ($rc, $out, $err) = pgm($node, 'files', '--dir', $dir, 'status', '--check');
	is($rc, 3, 'status --check with files not deployed: exit 3');
	like($out, qr/would register 3 new migrations/, 'status says what up would register');
	like($out, qr/create_tenants/, 'the files are in the table');
	is(migration_count($node, 'files'), '0', 'status registered nothing');

	($rc, $out, $err) = pgm($node, 'files', '--dir', $dir, 'up');
	is($rc, 0, 'up exits 0');
	($rc, $out, $err) = pgm($node, 'files', '--dir', $dir, 'status', '--check');
	is($rc, 0, 'status --check once deployed: exit 0');

	# an applied file edited afterwards: reported, not an error
	open my $fh, '>>', "$dir/2__create_invoices.up.sql" or die;
	print $fh "-- edited\n";
	close $fh;
	($rc, $out, $err) = pgm($node, 'files', '--dir', $dir, 'status', '--check');
	is($rc, 3, 'status --check with an applied file edited: exit 3');
	like($out, qr/1 applied migration differs from its files/, 'status says so');

	# no directory (the default "migrations" of a psql user): the registry only
	my $empty = PostgreSQL::Test::Utils::tempdir('nodir');
	chdir $empty or die;
	($rc, $out, $err) = pgm($node, 'files', 'status', '--check');
	is($rc, 0, 'status --check without a migrations directory: the registry only');
}

# --- plan --json: "registered" is a number ----------------------------------
create_db($node, 'planjson');
{
	# the key is written by sync.c, as up's is
	my ($rc, $out, $err) = pgm($node, 'planjson', '--dir', fixture('layouts/native'),
		'--json', 'plan');
	like($out, qr/"registered": 3\b/, 'plan --json: "registered" is a JSON number');
}

# --- control characters in a table ------------------------------------------
create_db($node, 'escape');
{
	# the server refuses control characters in names, not in error messages
	my $edir = PostgreSQL::Test::Utils::tempdir('escape');
	open my $fh, '>', "$edir/1__boom.up.sql" or die;
	print $fh "DO \$\$ BEGIN RAISE EXCEPTION E'evil\\x1b[2Jmessage'; END \$\$;\n";
	close $fh;
	open $fh, '>', "$edir/1__boom.down.sql" or die;
	print $fh "SELECT 1;\n";
	close $fh;
	my ($rc, $out, $err) = pgm($node, 'escape', '--dir', $edir, 'up');
	is($rc, 1, 'a migration that fails: exit 1');
	($rc, $out, $err) = pgm($node, 'escape', '--dir', $edir, 'status');
	is($rc, 0, 'status exits 0');
	unlike($out, qr/\x1b/, 'no escape character reaches the terminal');
	like($out, qr/evil\\x1b\[2Jmessage/, 'it is shown as \\x1b');
	my @lines = grep { /\|/ } split /\n/, $out;
	my %bar = map { index($_, '|') => 1 } @lines;
	is(scalar(keys %bar), 1, 'the columns stay aligned');
}

# --- down with nothing to revert --------------------------------------------
create_db($node, 'empty');
{
	my ($rc, $out, $err) = pgm($node, 'empty', 'down');
	is($rc, 0, 'down with nothing applied: exit 0');
	is($out, "nothing to revert\n", 'down prints only "nothing to revert"');
}

# --- the fleet summary: exit codes are numbers, right-aligned ---------------
{
	my ($rc, $out, $err) = pgm_env({}, $node, undef, '-d', $node->connstr('empty'),
		'-d', $node->connstr('files'), 'history');
	is($rc, 0, 'history over two databases: exit 0');
	like($out, qr/\| {5,}0 \| ok/, 'the exit code column is right-aligned');
}

# --- extension checks ---------------------------------------------------------
create_db($node, 'old', no_extension => 1);
$node->safe_psql('old', "CREATE EXTENSION migrate VERSION '1.0'");
{
	my ($rc, $out, $err) = pgm($node, 'old', 'init');
	is($rc, 1, 'init against 1.0: exit 1');
	unlike($out, qr/already installed/, 'no success line before the error');
	like($err, qr/needs 1\.1 or later/, 'the error says what is needed');
}
create_db($node, 'stale');
$node->safe_psql('stale', q{
	ALTER EXTENSION migrate DROP FUNCTION migrate.batch_target(text, integer);
	DROP FUNCTION migrate.batch_target(text, integer);
});
{
	my ($rc, $out, $err) = pgm($node, 'stale', 'status');
	is($rc, 1, 'a 1.1 install without batch_target(): exit 1');
	like($err, qr/predates this client/, 'the error says the install is stale');
	like($err, qr/ALTER EXTENSION migrate UPDATE/, 'the hint says what to do');
	($rc, $out, $err) = pgm($node, 'stale', 'init');
	is($rc, 1, 'init against the stale install: exit 1');
	unlike($out, qr/already installed/, 'no success line before the error');
}

$node->stop;
done_testing();
