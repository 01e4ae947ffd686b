
# Copyright (c) 2026, the migrate authors

# What the layout reader does with input a review found mishandled:
# - Sqitch versions do not change spelling when a plan reaches 10,000
#   changes (0001 stays 0001: the server takes 00001 for another spelling
#   of a registered version);
# - Sqitch conflicts and requirements on other projects are reported on
#   stderr (they are not enforced), and a change required twice is one
#   dependency;
# - a file NAME that is not UTF-8 is refused by the client, naming the
#   file, before anything is registered;
# - a metadata.toml that is not "key = value" lines, or gives a key twice,
#   is refused with its file and line;
# - a large script is held once in memory, not twice.

use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('layout_input');

sub write_bytes
{
	my ($path, $bytes) = @_;
	open my $fh, '>:raw', $path or die "$path: $!";
	print $fh $bytes;
	close $fh or die "$path: $!";
	return;
}

sub files_json
{
	my ($dir) = @_;
	my ($rc, $out, $err) = pgm(undef, undef, '--json', '--dir', $dir, 'files');
	my $doc = eval { JSON::PP->new->decode($out) };
	return ($rc, $doc, $err);
}

# --- Sqitch: 10,001 changes keep the spelling of the first 9,999 ----------
{
	my $dir = PostgreSQL::Test::Utils::tempdir('sqitch_long') . '/plan';
	mkdir $dir or die;
	mkdir "$dir/deploy" or die;
	my $plan = "%syntax-version=1.0.0\n%project=long\n";
	for my $i (1 .. 10001)
	{
		$plan .= "c$i 2024-01-01T00:00:00Z Ann <ann\@example.com>\n";
		write_bytes("$dir/deploy/c$i.sql", "SELECT $i;\n");
	}
	write_bytes("$dir/sqitch.plan", $plan);
	my ($rc, $doc, $err) = files_json($dir);
	is($rc, 0, 'files reads a plan of 10,001 changes');
	my @v = map { $_->{version} } @{ $doc->{files} // [] };
	is($v[0],     '0001',  'the first change keeps version 0001');
	is($v[9998],  '9999',  'the 9,999th change is 9999');
	is($v[9999],  '10000', 'the 10,000th change is 10000');
	is($v[10000], '10001', 'the 10,001st change is 10001');
}

# --- Sqitch: conflicts, other projects, duplicate requirements ----------
{
	my $dir = fixture('layouts/sqitch-requires');
	my ($rc, $out, $err) = pgm(undef, undef, '--dir', $dir, 'files');
	is($rc, 0, 'files reads a plan with conflicts and foreign requirements');
	like($err, qr/^pg_migrate: warning: .*line 6: change "shelves" conflicts with "oldshelves".*not enforced/m,
		'a conflict is reported as not enforced');
	like($err, qr/^pg_migrate: warning: .*line 6: change "shelves" requires "inventory:items" of another project.*not enforced/m,
		'a requirement on another project is reported as not enforced');

	create_db($node, 'sqitch_requires');
	($rc, $out, $err) = pgm($node, 'sqitch_requires', '--dir', $dir, 'up');
	is($rc, 0, 'up deploys it') or diag($err);
	is( psql_value(
			$node, 'sqitch_requires',
			"SELECT dependencies FROM migrate.migration WHERE name = 'shelves'"),
		'{0001}',
		'racks, racks and racks@v1 are one dependency');
	is(migration_count($node, 'sqitch_requires', 'applied'),
		'2', 'both changes applied');
}

# --- a file name that is not UTF-8 ---------------------------------------
{
	my $dir = PostgreSQL::Test::Utils::tempdir('bad_name') . '/migrations';
	mkdir $dir or die;
	write_bytes("$dir/1__create_cafes.up.sql", "CREATE TABLE cafes (id int);\n");
	write_bytes("$dir/2__caf\xe9_menu.up.sql", "CREATE TABLE menu (id int);\n");

	my ($rc, $out, $err) = pgm(undef, undef, '--dir', $dir, 'files');
	is($rc, 1, 'files refuses a file name that is not UTF-8');
	like($err, qr/^pg_migrate: error: file name ".*2__caf\\xE9_menu\.up\.sql" is not valid UTF-8/m,
		'the message names the file, its bad byte escaped');
	unlike($err, qr/\xe9/, 'the bad byte itself is not printed');

	create_db($node, 'bad_name');
	my $before = registered($node, 'bad_name');
	($rc, $out, $err) = pgm($node, 'bad_name', '--dir', $dir, 'up');
	is($rc, 1, 'up refuses it too');
	like($err, qr/2__caf\\xE9_menu\.up\.sql/, 'up names the file');
	unlike($err, qr/portal parameter/, 'the server never sees the name');
	is(registered($node, 'bad_name'), $before, 'nothing registered');
}

# --- metadata.toml -------------------------------------------------------
{
	my ($rc, $out, $err) =
	  pgm(undef, undef, '--dir', fixture('layouts/diesel-garbage'), 'files');
	is($rc, 1, 'a metadata.toml line that is not "key = value" is refused');
	like($err, qr{2024-01-02-000000_index_a/metadata\.toml" line 2: expected "key = value"},
		'the message gives the file and the line');

	($rc, $out, $err) =
	  pgm(undef, undef, '--dir', fixture('layouts/diesel-dupkey'), 'files');
	is($rc, 1, 'a key given twice is refused');
	like($err, qr{metadata\.toml" line 4: key "run_in_transaction" is given twice \(first at line 2\)},
		'the message gives both lines');

	# comments, blank lines and sections are TOML: accepted, and only the
	# top-level run_in_transaction counts
	my $dir = fixture('layouts/diesel-sections');
	create_db($node, 'diesel_sections');
	($rc, $out, $err) = pgm($node, 'diesel_sections', '--dir', $dir, 'up');
	is($rc, 0, 'a metadata.toml with a section is accepted') or diag($err);
	is( psql_value(
			$node, 'diesel_sections',
			"SELECT transactional FROM migrate.migration WHERE name = 'index_a'"),
		'f',
		'the top-level run_in_transaction = false is kept');
}

# --- CR LF and a BOM: the checksum is still the server's -----------------
{
	my $dir = PostgreSQL::Test::Utils::tempdir('crlf') . '/migrations';
	mkdir $dir or die;
	write_bytes("$dir/1__crlf.up.sql",
		"\xef\xbb\xbf-- CR LF\r\nCREATE TABLE crlf (a text);\r\n\rSELECT 1;\r\r\n\n");
	my ($rc, $doc, $err) = files_json($dir);
	my $client = $doc->{files}[0]{checksum} // '';
	create_db($node, 'crlf');
	my $out;
	($rc, $out, $err) = pgm($node, 'crlf', '--dir', $dir, 'up');
	is($rc, 0, 'a CR LF script with a BOM deploys') or diag($err);
	is(psql_value($node, 'crlf', "SELECT checksum FROM migrate.migration"),
		$client, 'the client computes the checksum the server registered');
}

# --- a large script is held once -----------------------------------------
SKIP:
{
	skip 'no /usr/bin/time to measure the peak memory', 3
	  unless -x '/usr/bin/time';
	my $dir = PostgreSQL::Test::Utils::tempdir('large') . '/migrations';
	mkdir $dir or die;
	my $mb   = 64;
	my $line = "INSERT INTO t VALUES (1, '" . ('x' x 90) . "');\r\n";
	open my $fh, '>:raw', "$dir/1__large.up.sql" or die;
	print $fh "\xef\xbb\xbf-- a data migration\r\n";
	print $fh $line x int($mb * 1024 * 1024 / length($line));
	close $fh or die;

	my ($in, $out, $err) = ('', '', '');
	IPC::Run::run([ '/usr/bin/time', '-f', 'peak %M', 'pg_migrate', '--dir', $dir, 'files' ],
		'<', \$in, '>', \$out, '2>', \$err);
	is($? >> 8, 0, "files reads a $mb MB script");
	my ($peak_kb) = $err =~ /peak (\d+)/;
	ok(defined $peak_kb, 'the peak memory was measured');
	cmp_ok($peak_kb // 0, '<', int($mb * 1.5 * 1024),
		"the peak memory stays under 1.5 times the script ($mb MB)");
	note("peak memory: $peak_kb KB for a $mb MB script") if defined $peak_kb;
}

done_testing();
