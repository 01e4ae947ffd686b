
# Copyright (c) 2026, the migrate authors

# pg_migrate.conf: [development] and [production] sections with their own
# database and directory, --env choosing one, PGMIGRATE_* variables
# overriding any key, an unknown section refused with exit 2, and a password
# in the file never printed.

use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('environments');
create_db($node, $_) for qw(env_dev env_prod env_override env_otherdir env_cmdline);

my $native = fixture('layouts/native');
my $golang = fixture('layouts/golang');
my $conf   = PostgreSQL::Test::Utils::tempdir('conf') . '/pg_migrate.conf';
my ($host, $port) = ($node->host, $node->port);
write_file($conf, <<"CONF");
# pg_migrate.conf of the TAP tests
[development]
host = $host
port = $port
dbname = env_dev
dir = $native

[production]
host = $host
port = $port
dbname = env_prod
dir = $native
password = conf-Secret-77
CONF
# a file holding a password is the user's alone (pg_migrate warns otherwise)
chmod 0600, $conf or die;

sub run_env
{
	my ($env, @args) = @_;
	# no -d: the connection comes from the file
	return pgm_env($env, undef, undef, '--config', $conf, @args);
}

{
	local $TODO = todo_unless('conf', $node) // todo_unless('up', $node);
	my ($rc, $out, $err) = run_env({}, '--env', 'development', 'up');
	is($rc, 0, '--env development up exits 0');
	is(migration_count($node, 'env_dev', 'applied'), '3', 'development: deployed into its database');
	is(migration_count($node, 'env_prod'), '0', 'development: production untouched');

	($rc, $out, $err) = run_env({}, '--env', 'production', '--verbose', 'up');
	is($rc, 0, '--env production up exits 0');
	is(migration_count($node, 'env_prod', 'applied'), '3', 'production: deployed into its database');
	unlike($out . $err, qr/conf-Secret-77/, 'production: the password of the file is never printed (--verbose)');

	($rc, $out, $err) = run_env({ PGMIGRATE_ENV => 'production' }, 'status');
	is($rc, 0, 'PGMIGRATE_ENV=production status exits 0');
	unlike($out . $err, qr/conf-Secret-77/, 'status: the password is never printed');

	# PGMIGRATE_* overrides a key of the chosen section
	($rc, $out, $err) = run_env({ PGMIGRATE_DBNAME => 'env_override' },
		'--env', 'development', 'up');
	is($rc, 0, 'PGMIGRATE_DBNAME overrides dbname: up exits 0');
	is(migration_count($node, 'env_override', 'applied'), '3',
		'PGMIGRATE_DBNAME: deployed into the overriding database');

	($rc, $out, $err) = run_env({ PGMIGRATE_DBNAME => 'env_otherdir', PGMIGRATE_DIR => $golang },
		'--env', 'development', 'up');
	is($rc, 0, 'PGMIGRATE_DIR overrides dir: up exits 0');
	is(psql_value($node, 'env_otherdir', "SELECT to_regclass('public.books') IS NOT NULL"),
		't', 'PGMIGRATE_DIR: the other directory was deployed');

	# the command line wins over the file
	($rc, $out, $err) = run_env({}, '--env', 'development', '--dir', $golang,
		'-d', 'dbname=env_cmdline', 'up');
	is($rc, 0, '--dir and -d override the section: up exits 0');
	is(psql_value($node, 'env_cmdline', "SELECT to_regclass('public.books') IS NOT NULL"),
		't', '--dir and -d: the directory of the command line went to its database');
	unlike($err, qr/warning/, 'a configuration file of mode 0600: no warning');
}
{
	local $TODO = todo_unless('conf', $node);
	my ($rc, $out, $err) = run_env({}, '--env', 'staging', 'status');
	is($rc, 2, 'an --env the file does not have: exit 2');
	like($err, qr/staging/, '... naming it');
	($rc, $out, $err) = pgm_env({}, undef, undef, '--config', "$conf.missing",
		'--env', 'development', 'status');
	is($rc, 2, 'a --config file that does not exist: exit 2');
	like($err, qr/pg_migrate\.conf\.missing/, '... naming it');
}

$node->stop;
done_testing();
