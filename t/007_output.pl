
# Copyright (c) 2026, the migrate authors

# Output: --json prints one document that JSON::PP parses, with the
# documented keys; a pipe (not a terminal) and NO_COLOR get no escape codes;
# --quiet prints nothing on success; a password given in the connection
# string never appears in the output, not with --verbose, not in an error.

use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('output');
create_db($node, 'out');
my $dir = fixture('layouts/native');

sub run { return pgm($node, 'out', '--dir', $dir, @_); }

# rows of a --json document: the first array of objects found under KEY
# (or anywhere when KEY is not there)
sub json_rows
{
	my ($doc, $key) = @_;
	return $doc->{$key} if ref $doc eq 'HASH' && ref $doc->{$key} eq 'ARRAY';
	my @todo = ($doc);
	while (my $x = shift @todo)
	{
		if (ref $x eq 'ARRAY')
		{
			return $x if @$x && ref $x->[0] eq 'HASH';
			push @todo, @$x;
		}
		elsif (ref $x eq 'HASH')
		{
			push @todo, values %$x;
		}
	}
	return undef;
}

# --- --json ------------------------------------------------------------------------
{
	local $TODO = todo_unless('json', $node) // todo_unless('up', $node);
	my ($rc, $out, $err) = run('--json', 'up');
	is($rc, 0, 'up --json exits 0');
	my $doc = eval { decode_json($out) };
	ok(ref $doc eq 'HASH', 'up --json prints one JSON object') or diag("$@: $out");

	for my $case (
		[ status  => 'migrations', [qw(version name state)] ],
		[ plan    => 'plan',       [] ],
		[ history => 'history',    [qw(action version)] ],
		[ files   => 'files',      [qw(version name up down checksum)] ])
	{
		my ($cmd, $key, $keys) = @$case;
		($rc, $out, $err) = run('--json', $cmd);
		is($rc, 0, "$cmd --json exits 0");
		$doc = eval { decode_json($out) };
		ok(ref $doc eq 'HASH', "$cmd --json prints one JSON object") or diag("$@: $out");
		next unless ref $doc eq 'HASH';
		# the keys every document has (doc/cli.md, Output)
		for my $k (qw(command messages errors exit_code))
		{
			ok(exists $doc->{$k}, "$cmd --json has \"$k\"");
		}
		is($doc->{command}, $cmd, "$cmd --json: \"command\" is $cmd");
		is($doc->{exit_code}, 0, "$cmd --json: \"exit_code\" is 0");
		next unless @$keys;
		my $rows = json_rows($doc, $key);
		ok(defined $rows && @$rows, "$cmd --json has rows under \"$key\"");
		for my $k (@$keys)
		{
			ok(defined $rows && exists $rows->[0]{$k}, "$cmd --json rows have \"$k\"");
		}
	}
	($rc, $out, $err) = run('--json', 'status');
	my $rows = json_rows(eval { decode_json($out) } // {}, 'migrations') // [];
	is(join(' ', map { norm_version($_->{version}) } @$rows), '1 2 3',
		'status --json lists the three versions in order');
	is(join(' ', map { $_->{state} } @$rows), 'applied applied applied',
		'status --json gives each state');

	# an error with --json: still the message on stderr, exit 1
	($rc, $out, $err) = pgm($node, 'out', '--dir', "$dir/no_such_dir", '--json', 'up');
	is($rc, 1, 'up --json with a missing directory: exit 1');
	like($err, qr/no_such_dir/, 'up --json error: the message is on stderr');
	$doc = eval { decode_json($out) };
	ok(ref $doc eq 'HASH', 'up --json error: still one JSON document') or diag("$@: $out");
	is(ref $doc eq 'HASH' ? $doc->{exit_code} : undef, 1, 'up --json error: "exit_code" is 1');
	like(ref $doc eq 'HASH' ? join(' ', map { $_->{message} // '' } @{ $doc->{errors} // [] }) : '',
		qr/no_such_dir/, 'up --json error: the message is in "errors"');
}

# --- no escape codes in a pipe, nor with NO_COLOR --------------------------------
{
	local $TODO = todo_unless('command:plan', $node) // todo_unless('up', $node);
	for my $cmd (qw(status plan history files validate))
	{
		my ($rc, $out, $err) = run($cmd);
		unlike($out . $err, qr/\e/, "$cmd into a pipe: no escape codes");
	}
	# a terminal with NO_COLOR: no colour either (IPC::Run needs IO::Pty
	# for a terminal: Debian libio-pty-perl)
	my $have_pty = eval { require IO::Pty; 1 };
	for my $cmd ($have_pty ? qw(status history) : ())
	{
		my $out = '';
		local %ENV = %ENV;
		$ENV{NO_COLOR} = '1';
		$ENV{PGHOST}   = $node->host;
		$ENV{PGPORT}   = $node->port;
		IPC::Run::run([ 'pg_migrate', '-d', $node->connstr('out'), '--dir', $dir, $cmd ],
			'<', \undef, '>pty>', \$out, '2>', \my $err);
		like($out, qr/create_tenants/, "$cmd on a terminal with NO_COLOR prints the table");
		unlike($out, qr/\e\[[0-9;]*m/, "$cmd on a terminal with NO_COLOR: no colour codes");
	}
}

# --- --quiet ------------------------------------------------------------------------
create_db($node, 'quiet');
{
	local $TODO = todo_unless('up', $node);
	my ($rc, $out, $err) = pgm($node, 'quiet', '--dir', $dir, '--quiet', 'up');
	is($rc, 0, 'up --quiet exits 0');
	is($out, '', 'up --quiet prints nothing on stdout');
	is($err, '', 'up --quiet prints nothing on stderr');
	is(migration_count($node, 'quiet', 'applied'), '3', 'up --quiet applied all three');
}

# --- passwords are never printed ------------------------------------------------------
{
	my $secret = 'Pw-Secret-4242';
	my $conn   = $node->connstr('out') . " password=$secret";
	my ($out, $err);
	for my $cmd (qw(status up plan history validate))
	{
		my ($rc, $o, $e) = pgm_env({}, undef, undef, '-d', $conn, '--dir', $dir, '--verbose', $cmd);
		unlike($o . $e, qr/\Q$secret\E/, "$cmd --verbose with a password in -d: not printed");
	}
	my $host = $node->host;
	my $port = $node->port;
	my ($rc, $o, $e) = pgm_env({}, undef, undef, '-d',
		"host=$host port=$port dbname=no_such_db password=$secret", '--verbose', 'status');
	is($rc, 1, 'connection to a missing database: exit 1');
	like($e, qr/no_such_db/, '... the message names the database');
	unlike($o . $e, qr/\Q$secret\E/, '... and not the password');
	($rc, $o, $e) = pgm_env({}, undef, undef, '-d',
		"postgresql://postgres:$secret\@/no_such_db?host=$host&port=$port", '--verbose', 'status');
	is($rc, 1, 'a URI with a password to a missing database: exit 1');
	unlike($o . $e, qr/\Q$secret\E/, '... the password of the URI is not printed');
	($rc, $o, $e) = pgm_env({ PGPASSWORD => $secret }, undef, undef, '-d',
		$node->connstr('out'), '--verbose', '--dir', $dir, 'status');
	unlike($o . $e, qr/\Q$secret\E/, 'PGPASSWORD is not printed with --verbose');
	# the fleet summary names each database: without its password
	($rc, $o, $e) = pgm_env({}, undef, undef, '-d', $conn, '-d',
		"host=$host port=$port dbname=no_such_db password=$secret", '--dir', $dir, 'status');
	isnt($rc, 0, 'two databases, one missing: non-zero exit');
	unlike($o . $e, qr/\Q$secret\E/, 'two databases: no password in the summary');
}

$node->stop;
done_testing();
