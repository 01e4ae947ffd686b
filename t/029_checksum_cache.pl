
# Copyright (c) 2026, the migrate authors

# The checksum cache (bin/cache.c) and the in-sync records: used when every
# input is unchanged, and never the reason a changed file is missed.
#
#  - a file edited keeping its size and mtime (touch -r): ctime changes;
#    validate reports it, up refuses it (applied) or deploys the new text
#    (pending)
#  - sqitch.plan edited the same way (an input that only injects header
#    lines)
#  - a damaged cache (a byte changed), a truncated cache, the cache of
#    another directory: not used, and the answers stay right
#  - a cache directory that cannot be written: everything works, no cache
#  - a cache writable by others: ignored
#  - concurrent writers: one whole cache file, no temporary file left
#  - an in-sync record made stale by a change of the registry (a revert in
#    SQL): up applies again
#  - --no-cache: no cache read or written
#
# Files changed less than 2 seconds before a read are not cached (bin/cache.c,
# CACHE_RACY_SECONDS): the test waits that long where it needs a cache.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;

use File::Copy qw(copy);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::RecursiveCopy;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('cache');

sub settle { sleep 3; return; }

# size and mtime (to the nanosecond) of a file, as stat(1) prints them
sub size_mtime
{
	my ($path) = @_;
	my $out = `stat -c '%s %y' '$path'`;
	chomp $out;
	return $out;
}

# replace FROM by TO (same length) in PATH, keeping its size and mtime
sub edit_keeping_times
{
	my ($path, $from, $to) = @_;
	die "edit must keep the size" unless length($from) == length($to);
	my $before = size_mtime($path);
	copy($path, "$path.ref") or die "copy: $!";
	system('touch', '-m', '-r', $path, "$path.ref") == 0 or die;
	my $text = slurp_file($path);
	$text =~ s/\Q$from\E/$to/ or die "\"$from\" not in $path";
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh;
	system('touch', '-m', '-r', "$path.ref", $path) == 0 or die;
	unlink "$path.ref";
	is(size_mtime($path), $before, "$path: same size and mtime after the edit");
	return;
}

# the cache file a verbose run names ("checksum cache written/used: PATH")
sub cache_file_of
{
	my ($err) = @_;
	return $err =~ /checksum cache (?:written|used): "([^"]+)"/ ? $1 : undef;
}

create_db($node, 'shop');
my $dir = fixture('layouts/native');
settle();

# --- a first up writes the cache; later runs use it --------------------------------
my ($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'up');
is($rc, 0, 'first up');
like($err, qr/checksum cache written/, 'first up writes the cache');
my $cache = cache_file_of($err);
ok(defined $cache && -f $cache, 'the cache file exists');
unlike($cache // '', qr/^\Q$dir\E/, 'the cache is outside the migrations directory');
is((stat $cache)[2] & 07777, 0600, 'the cache file is private (0600)');

($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'up');
is($rc, 0, 'second up');
like($err, qr/checksum cache used/, 'second up uses the cache');
like($out . $err, qr/nothing to apply/, 'nothing to apply');

($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'up');
is($rc, 0, 'third up');
like($err, qr/in sync with the checksum cache's read/,
	'third up: the in-sync record spares the registry fetch');
unlike($err, qr/FROM migrate\.migration AS m\s*$/m,
	'third up does not fetch the registry');

# the same --json document with and without the shortcut
{
	my ($rc1, $in_sync) = pgm($node, 'shop', '--dir', $dir, '--json', 'up');
	my ($rc2, $full) = pgm($node, 'shop', '--dir', $dir, '--json', '--no-cache', 'up');
	my ($d1, $d2) = map { eval { JSON::PP->new->decode($_) } // {} } ($in_sync, $full);
	is(join(',', sort keys %$d1), join(',', sort keys %$d2),
		'up --json in sync: the same keys as a full comparison');
	is($d1->{registered}, 0, 'up --json in sync: "registered" is 0');
	is_deeply($d1->{databases} // $d1->{migrations}, $d2->{databases} // $d2->{migrations},
		'up --json in sync: the same rows');
	($rc1, $in_sync) = pgm($node, 'shop', '--dir', $dir, '--json', 'status');
	($rc2, $full) = pgm($node, 'shop', '--dir', $dir, '--json', '--no-cache', 'status');
	($d1, $d2) = map { eval { JSON::PP->new->decode($_) } // {} } ($in_sync, $full);
	is(join(',', sort keys %$d1), join(',', sort keys %$d2),
		'status --json in sync: the same keys as a full comparison');
}

($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, 'validate');
is($rc, 0, 'validate finds nothing');

# --- an applied file edited keeping size and mtime -----------------------------------
my $f2 = "$dir/2__create_invoices.up.sql";
edit_keeping_times($f2, 'amount    numeric(12, 2)', 'amount    numeric(14, 2)');

($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'validate');
is($rc, 3, 'validate: the edit is found (exit 3)');
like($out, qr/2\b.*create_invoices/, 'validate names the edited migration');
like($err, qr/out of date/, 'the cache was out of date (ctime changed)');

($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, 'up');
is($rc, 1, 'up refuses new content for an applied migration');

($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, 'status', '--check');
is($rc, 3, 'status --check: the edit counts');
like($out . $err, qr/differ/, 'status says an applied migration differs from its file');

# back to the text that was applied: a cached read of the edited text must
# not linger either
edit_keeping_times($f2, 'amount    numeric(14, 2)', 'amount    numeric(12, 2)');
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, 'validate');
is($rc, 0, 'validate after restoring the text: nothing found');

# --- a pending file edited keeping size and mtime: up deploys the new text ----------
write_file("$dir/4__create_notes.up.sql",   "CREATE TABLE notes_a (id int);\n");
write_file("$dir/4__create_notes.down.sql", "DROP TABLE notes_a;\n");
settle();
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'status');
is($rc, 0, 'status with a new pending file');
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'status');
like($err, qr/checksum cache used/, 'status uses the cache');
edit_keeping_times("$dir/4__create_notes.up.sql", 'notes_a', 'notes_b');
edit_keeping_times("$dir/4__create_notes.down.sql", 'notes_a', 'notes_b');
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, 'up');
is($rc, 0, 'up after the edit');
is(psql_value($node, 'shop', "SELECT to_regclass('public.notes_b') IS NOT NULL"),
	't', 'up deployed the edited text (notes_b)');
is(psql_value($node, 'shop', "SELECT to_regclass('public.notes_a') IS NULL"),
	't', 'and not the cached one (notes_a)');
settle();
pgm($node, 'shop', '--dir', $dir, 'up');    # cache and in-sync record again

# --- a damaged cache ----------------------------------------------------------------
# (validate reads with other flags than up: a cache file of its own)
pgm($node, 'shop', '--dir', $dir, 'validate');
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'validate');
$cache = cache_file_of($err);
ok(defined $cache, 'the cache is used before it is damaged');
{
	open my $fh, '+<', $cache or die "$cache: $!";
	binmode $fh;
	my $size = -s $cache;
	seek $fh, $size - 40, 0;    # inside the last migration's checksums
	my $byte;
	read $fh, $byte, 1;
	seek $fh, $size - 40, 0;
	print $fh chr((ord($byte) + 1) % 256);
	close $fh;
}
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'validate');
is($rc, 0, 'validate with a damaged cache: nothing found (the damage is not believed)');
like($err, qr/damaged/, 'the damaged cache is said to be damaged');

# damaged again, and a file edited meanwhile: the edit is found
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'validate');
$cache = cache_file_of($err);
{
	open my $fh, '+<', $cache or die "$cache: $!";
	binmode $fh;
	seek $fh, 20, 0;
	print $fh "\xff\xff\xff\xff";
	close $fh;
}
edit_keeping_times($f2, 'amount    numeric(12, 2)', 'amount    numeric(14, 2)');
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, 'validate');
is($rc, 3, 'damaged cache and an edited file: the edit is found');
edit_keeping_times($f2, 'amount    numeric(14, 2)', 'amount    numeric(12, 2)');
settle();

# --- a truncated cache --------------------------------------------------------------
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'validate');
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'validate');
$cache = cache_file_of($err);
ok(defined $cache, 'cache in use before truncation');
truncate $cache, int((-s $cache) / 2) or die "truncate: $!";
edit_keeping_times($f2, 'amount    numeric(12, 2)', 'amount    numeric(14, 2)');
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'validate');
is($rc, 3, 'truncated cache and an edited file: the edit is found');
unlike($err, qr/checksum cache used/, 'the truncated cache is not used');
edit_keeping_times($f2, 'amount    numeric(14, 2)', 'amount    numeric(12, 2)');
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, 'validate');
is($rc, 0, 'validate after restoring: nothing found');

# --- the cache of another directory ------------------------------------------------
# B is a copy of A whose migration 2 differs (same size): B must not take A's
# cache, even when A's cache file is put where B's would be
my $dir_b = PostgreSQL::Test::Utils::tempdir('other') . '/migrations';
PostgreSQL::Test::RecursiveCopy::copypath($dir, $dir_b);
my $text = slurp_file("$dir_b/2__create_invoices.up.sql");
$text =~ s/numeric\(12, 2\)/numeric(14, 2)/;
write_file("$dir_b/2__create_invoices.up.sql", $text);
settle();
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir_b, '-v', 'validate');
is($rc, 3, 'directory B: its edit is found');
my $cache_b = cache_file_of($err);
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'validate');
my $cache_a = cache_file_of($err);
ok(defined $cache_a && defined $cache_b && $cache_a ne $cache_b,
	'two directories, two cache files');
copy($cache_a, $cache_b) or die "copy: $!";
chmod 0600, $cache_b;
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir_b, '-v', 'validate');
is($rc, 3, "directory B with A's cache in its place: B's edit is still found");
unlike($err, qr/checksum cache used/, "A's cache is not used for B");

# --- sqitch: sqitch.plan edited keeping size and mtime ------------------------------
create_db($node, 'library');
my $sq = fixture('layouts/sqitch');
settle();
($rc, $out, $err) = pgm($node, 'library', '--dir', $sq, 'up');
is($rc, 0, 'sqitch: up');
($rc, $out, $err) = pgm($node, 'library', '--dir', $sq, '-v', 'validate');
like($err, qr/checksum cache (used|written)/, 'sqitch: cached');
edit_keeping_times("$sq/sqitch.plan", 'loans [appschema patrons]',
	'loans [patrons appschema]');
($rc, $out, $err) = pgm($node, 'library', '--dir', $sq, 'validate');
is($rc, 3,
	'sqitch: the plan edit changes the injected @dependencies line: found');

# --- a cache directory that cannot be written ---------------------------------------
my $ro = PostgreSQL::Test::Utils::tempdir('readonly');
chmod 0555, $ro;
($rc, $out, $err) =
  pgm_env({ PGMIGRATE_CACHE_DIR => $ro }, $node, 'shop', '--dir', $dir, '-v', 'up');
is($rc, 0, 'up with a read-only cache directory works');
like($err, qr/checksum cache not written/, 'and says (with -v) that no cache was written');
($rc, $out, $err) =
  pgm_env({ PGMIGRATE_CACHE_DIR => $ro }, $node, 'shop', '--dir', $dir, 'validate');
is($rc, 0, 'validate with a read-only cache directory works');

# --- a cache writable by others is ignored -------------------------------------------
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'validate');
$cache = cache_file_of($err);
chmod 0666, $cache;
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'validate');
like($err, qr/ignored: not owned by this user, or writable by others/,
	'a cache file writable by others is ignored');
chmod 0600, $cache;

# --- concurrent writers --------------------------------------------------------------
my $conc = PostgreSQL::Test::Utils::tempdir('concurrent') . '/pg_migrate';
my @procs;
for my $i (1 .. 6)
{
	my ($in, $o, $e) = ('', '', '');
	local $ENV{PGHOST}              = $node->host;
	local $ENV{PGPORT}              = $node->port;
	local $ENV{PGMIGRATE_CACHE_DIR} = $conc;
	push @procs,
	  IPC::Run::start([ 'pg_migrate', '-d', $node->connstr('shop'), '--dir', $dir,
			'validate' ], '<', \$in, '>', \$o, '2>', \$e);
}
my $all_ok = 1;
for my $h (@procs)
{
	$h->finish;
	$all_ok = 0 if ($h->result(0) // 1) != 0;
}
ok($all_ok, 'six concurrent validate runs writing one cache all succeed');
opendir my $dh, $conc or die "$conc: $!";
my @left = grep { !/^\./ } readdir $dh;
closedir $dh;
is(scalar(grep { /\.tmp\./ } @left), 0, 'no temporary file is left behind');
is(scalar(grep { /\.cache$/ } @left), 1, 'one cache file');
($rc, $out, $err) = pgm_env({ PGMIGRATE_CACHE_DIR => $conc },
	$node, 'shop', '--dir', $dir, '-v', 'validate');
is($rc, 0, 'validate after the concurrent writers');
like($err, qr/checksum cache used/, 'uses the cache they wrote');

# --- the registry changed behind the in-sync record ----------------------------------
pgm($node, 'shop', '--dir', $dir, 'up');
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'up');
like($err, qr/in sync with the checksum cache's read/, 'in sync before the revert');
$node->safe_psql('shop', "SELECT * FROM migrate.revert(target => '3')");
is(migration_count($node, 'shop', 'applied'), 3, 'reverted to 3 applied of 4');
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'up');
is($rc, 0, 'up after the revert');
unlike($err, qr/in sync with the checksum cache's read/,
	'the in-sync record is not used after the registry changed');
is(migration_count($node, 'shop', 'applied'), 4, 'up applied the reverted migration again');

# --- --no-cache ------------------------------------------------------------------------
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', '--no-cache', 'up');
is($rc, 0, 'up --no-cache');
unlike($err, qr/checksum cache|in-sync record|in sync with/,
	'--no-cache neither reads nor writes the cache');

$node->stop;
done_testing();
