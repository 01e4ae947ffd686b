
# Copyright (c) 2026, the migrate authors

# Issue 11's production guard rails in the client:
#  - up --force --skip-backup --expect-fingerprint FP, down --force
#    --skip-backup: passed by name, and only when given (the SQL a call
#    without them sends is unchanged); usage errors for other commands
#  - the configuration's "environment" key asserts the server's
#    migrate.environment (set by a superuser), and never sets it
#  - unapprove VERSION, settings, plan's approval column and count
#
# The server side lands in other work packages: the tests of what the
# server does with the new arguments run where the server has them
# (to_regprocedure of the new signatures) and are skipped otherwise; the
# tests of what the client sends and checks run everywhere.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;

use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('guard_rails');
create_db($node, 'shop');
my $dir = fixture('layouts/native');

my $has = sub {
	my ($sig) = @_;
	return psql_value($node, 'shop', "SELECT to_regprocedure('$sig') IS NOT NULL")
	  eq 't';
};
my $server_apply =
  $has->('migrate.apply(text, boolean, boolean, boolean, text)');
my $server_revert_all = $has->('migrate.revert_all(boolean, boolean)');
my $server_unapprove  = $has->('migrate.unapprove(text)');
my $server_settings = psql_value($node, 'shop',
	"SELECT to_regclass('migrate.effective_settings') IS NOT NULL") eq 't';
note("server: apply with guard arguments: "
	  . ($server_apply ? 'yes' : 'no')
	  . ", unapprove: "
	  . ($server_unapprove ? 'yes' : 'no')
	  . ", effective_settings: "
	  . ($server_settings ? 'yes' : 'no'));

# --- usage --------------------------------------------------------------------------
my ($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, 'status', '--force');
is($rc, 2, 'status --force: usage error');
like($err, qr/option --force cannot be used with command "status"/, 'and says so');
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, 'down', '--expect-fingerprint', 'x');
is($rc, 2, 'down --expect-fingerprint: usage error');
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, 'history', '--skip-backup');
is($rc, 2, 'history --skip-backup: usage error');
($rc, $out, $err) = pgm(undef, undef, '--help');
like($out, qr/--expect-fingerprint/, '--help lists --expect-fingerprint');
like($out, qr/unapprove VERSION/,     '--help lists unapprove');
like($out, qr/settings/,              '--help lists settings');

# --- what up sends ---------------------------------------------------------------
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', '--to', '1', 'up');
is($rc, 0, 'up --to 1 without guard options');
like($err, qr/FROM migrate\.apply\(\$1, \$2\)/,
	'without the options, apply() is called as before');
unlike($err, qr/force =>|skip_backup =>|expect_fingerprint =>/,
	'no new argument is sent');

my $fp_wrong = 'deadbeef';    # short: --verbose shows it whole
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', '--to', '2',
	'--force', '--skip-backup', '--expect-fingerprint', $fp_wrong, 'up');
like($err,
	qr/FROM migrate\.apply\(\$1, \$2, force => true, skip_backup => true, expect_fingerprint => \$3\)/,
	'the options are passed by name');
like($err, qr/\$3 = '$fp_wrong'/, 'the fingerprint is a parameter');
is($rc, 1, 'up with a fingerprint the schema does not have fails');
is(migration_count($node, 'shop', 'applied'), 1, 'and applies nothing');

SKIP:
{
	skip 'the server has no apply(..., force, skip_backup, expect_fingerprint) yet', 3
	  unless $server_apply;
	like($err, qr/MG014|fingerprint/, 'the refusal names the fingerprint');
	my $fp = psql_value($node, 'shop', 'SELECT migrate.fingerprint()');
	($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '--to', '2',
		'--expect-fingerprint', $fp, 'up');
	is($rc, 0, 'up with the schema\'s own fingerprint');
	is(migration_count($node, 'shop', 'applied'), 2, 'applies');
}

# batches: only the first checks the fingerprint (later ones run on the
# schema the earlier made)
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', '--batch', '1',
	'--expect-fingerprint', $fp_wrong, 'up');
my @with_fp = ($err =~ /query: [^\n]*expect_fingerprint =>/g);
ok(@with_fp <= 1, 'at most one batch carries the fingerprint');

# --- what down sends ----------------------------------------------------------------
pgm($node, 'shop', '--dir', $dir, 'up');
($rc, $out, $err) = pgm($node, 'shop', '-v', '--force', '--skip-backup', 'down');
like($err,
	qr/migrate\.revert\(steps => \$1::pg_catalog\.int4, dry_run => \$2::pg_catalog\.bool, force => true, skip_backup => true\) r/,
	'down --force --skip-backup: passed by name to revert()');
($rc, $out, $err) = pgm($node, 'shop', '-v', '--force', '--all', 'down');
like($err, qr/migrate\.revert_all\(force => true\) r/,
	'down --all --force: revert_all(force => true)');
($rc, $out, $err) = pgm($node, 'shop', '-v', '--steps', '1', 'down');
like($err,
	qr/migrate\.revert\(steps => \$1::pg_catalog\.int4, dry_run => \$2::pg_catalog\.bool\) r/,
	'down without the options: revert() as before');
SKIP:
{
	skip 'the server has no revert_all(force, skip_backup) yet', 1
	  unless $server_revert_all;
	pgm($node, 'shop', '--dir', $dir, 'up');
	($rc, $out, $err) = pgm($node, 'shop', '--force', '--skip-backup', '--all', 'down');
	is($rc, 0, 'down --all --force --skip-backup reverts');
}

# --- the configuration's environment is asserted, not set ---------------------------
my $conf = PostgreSQL::Test::Utils::tempdir('conf') . '/pg_migrate.conf';
my ($host, $port) = ($node->host, $node->port);
write_file($conf, <<"CONF");
[production]
host = $host
port = $port
dbname = shop
dir = $dir
environment = production
CONF

($rc, $out, $err) = pgm_env({}, undef, undef, '--config', $conf, '--env', 'production', 'status');
is($rc, 1, 'environment = production, server without one: refused');
like($err,
	qr/the configuration expects migrate\.environment = 'production', but the server sets no environment/,
	'the message says what the server has');
like($err, qr/ALTER DATABASE \.\.\. SET migrate\.environment = 'production'/,
	'the hint says how a superuser sets it');

$node->safe_psql('postgres',
	"ALTER DATABASE shop SET migrate.environment = 'production'");
# with wp11-1 merged, production must exist as a row; it is created by the
# extension, so the status below works either way
($rc, $out, $err) = pgm_env({}, undef, undef, '--config', $conf, '--env', 'production', 'status');
is($rc, 0, 'the server\'s environment matches: status works');

($rc, $out, $err) = pgm_env({ PGMIGRATE_ENVIRONMENT => 'staging' },
	undef, undef, '--config', $conf, '--env', 'production', 'status');
is($rc, 1, 'PGMIGRATE_ENVIRONMENT=staging against a production server: refused');
like($err, qr/expects migrate\.environment = 'staging', but the server's is 'production'/,
	'and names both');
is(psql_value($node, 'shop', 'SHOW migrate.environment'), 'production',
	'the client did not change the setting');

# --- settings, unapprove, plan --------------------------------------------------------
($rc, $out, $err) = pgm($node, 'shop', 'settings');
if ($server_settings)
{
	is($rc, 0, 'settings');
	like($out, qr/production/, 'settings shows the environment');
}
else
{
	is($rc, 1, 'settings on a server without environments: exit 1');
	like($err, qr/has no environments/, 'and says why');
}

pgm($node, 'shop', '--dir', $dir, 'up');
($rc, $out, $err) = pgm($node, 'shop', 'unapprove', '3');
if ($server_unapprove)
{
	pgm($node, 'shop', 'approve', '3');
	($rc, $out, $err) = pgm($node, 'shop', 'unapprove', '3');
	is($rc, 0, 'unapprove');
	is(psql_value($node, 'shop',
			"SELECT approved_at IS NULL FROM migrate.migration WHERE version = '3'"),
		't', 'the approval is gone');
}
else
{
	is($rc, 1, 'unapprove on a server without it: exit 1');
	like($err, qr/has no unapprove\(\)/, 'and says why');
}

# plan: an approval column; with approval required, how many wait
$node->safe_psql('postgres', "ALTER DATABASE shop RESET migrate.environment");
pgm($node, 'shop', '--all', 'down');
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, 'plan');
is($rc, 0, 'plan');
like($out, qr/\bapproved\b/, 'plan shows whether each migration is approved');
unlike($out . $err, qr/wait.* for approval/, 'no environment: nothing is said to wait');
SKIP:
{
	skip 'the server has no environments yet', 2 unless $server_settings;
	$node->safe_psql('shop',
		"SELECT migrate.configure('development', require_approval => true)");
	$node->safe_psql('postgres',
		"ALTER DATABASE shop SET migrate.environment = 'development'");
	($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, 'plan');
	is($rc, 0, 'plan where approval is required');
	like($out . $err, qr/3 of 3 migrations wait for approval/,
		'plan says how many wait for approval');
}

$node->stop;
done_testing();
