
# Copyright (c) 2026, the migrate authors

# Passwords are never printed: a connection string libpq cannot parse is
# refused without quoting it (on -d, a URI, PGMIGRATE_DBNAME, --json and a
# fleet); -W with several databases prompts once, in the parent; and a
# world-readable pg_migrate.conf with a password inside a dbname
# connection string gets the permissions warning.

use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('secrets');
create_db($node, 'one');
create_db($node, 'two');
my $dir = fixture('layouts/native');

my $bad_conninfo = 'host=/tmp password=abc S3CRETdef';
my $bad_uri      = 'postgresql://u:S3CRET%zz@x/t';

for my $case (
	[ 'conninfo with -d', {}, '-d', $bad_conninfo, 'status' ],
	[ 'URI with -d', {}, '-d', $bad_uri, 'status' ],
	[ 'conninfo with -d, --json', {}, '--json', '-d', $bad_conninfo, 'status' ],
	[ 'a fleet', {}, '-d', $node->connstr('one'), '-d', $bad_conninfo, 'status' ],
	[ 'PGMIGRATE_DBNAME', { PGMIGRATE_DBNAME => $bad_conninfo }, 'status' ],
	[ 'PGMIGRATE_DBNAME URI', { PGMIGRATE_DBNAME => $bad_uri }, 'status' ])
{
	my ($name, $env, @args) = @$case;
	my ($rc, $out, $err) = pgm_env($env, $node, undef, '--dir', $dir, @args);
	isnt($rc, 0, "$name: refused");
	unlike($out . $err, qr/S3CRET/, "$name: the password is not printed");
	like($err, qr/invalid connection string/, "$name: says the string is invalid");
}

# -W against two databases: one prompt, in the parent (the children would
# each read the terminal at once)
{
	my ($in, $out, $err) = ("secret\n", '', '');
	local %ENV = %ENV;
	$ENV{PGHOST} = $node->host;
	$ENV{PGPORT} = $node->port;
	IPC::Run::run([ 'pg_migrate', '-W', '-d', $node->connstr('one'), '-d',
			$node->connstr('two'), '--dir', $dir, 'status' ],
		'<', \$in, '>', \$out, '2>', \$err);
	is($? >> 8, 0, '-W with two databases: exit 0');
	my $prompts = () = $err =~ /Password/g;
	SKIP:
	{
		# simple_prompt() writes to /dev/tty when there is one
		skip 'a terminal takes the prompt', 1 if open(my $tty, '<', '/dev/tty');
		is($prompts, 1, '-W with two databases: one prompt');
	}
}

# a password inside a dbname of a readable configuration file
{
	my $confdir = PostgreSQL::Test::Utils::tempdir('conf');
	for my $value ($node->connstr('one') . ' password=hunter2',
		'postgresql://u:hunter2@localhost/one')
	{
		open my $fh, '>', "$confdir/pg_migrate.conf" or die;
		print $fh "[dev]\ndbname = \"$value\"\ndir = $dir\n";
		close $fh;
		chmod 0644, "$confdir/pg_migrate.conf";
		my ($rc, $out, $err) = pgm_env({}, undef, undef, '--config',
			"$confdir/pg_migrate.conf", '--env', 'dev', 'files');
		like($err, qr/holds a password and has group or world access/,
			'a password in a dbname of a readable file: warning');
		unlike($out . $err, qr/hunter2/, 'the password is not printed');
		chmod 0600, "$confdir/pg_migrate.conf";
		($rc, $out, $err) = pgm_env({}, undef, undef, '--config',
			"$confdir/pg_migrate.conf", '--env', 'dev', 'files');
		unlike($err, qr/group or world access/, 'mode 0600: no warning');
	}
}

$node->stop;
done_testing();
