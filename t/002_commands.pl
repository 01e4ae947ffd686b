
# Copyright (c) 2026, the migrate authors

# Every command of pg_migrate on the project's own layout (three
# migrations: 1 tenants, 2 invoices, 3 invoice_totals), checked by exit
# status and by what the database holds afterwards: --help, --version,
# usage errors, init, files, plan, status, up (--to, --dry-run), down
# (--steps, --to, --to-tag, --all, --dry-run), redo, tag, history,
# rehearse, approve, resolve; and a second up registers nothing.

use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('commands');
my $db   = 'cmds';
my $dir  = fixture('layouts/native');

sub run { return pgm($node, $db, '--dir', $dir, @_); }

sub applied { return applied_versions($node, $db); }

# --- --help, --version, usage ---------------------------------------------
{
	my ($rc, $out, $err) = pgm(undef, undef, '--help');
	is($rc, 0, '--help exits 0');
	like($out, qr/^Usage:/m, '--help prints a usage');
	for my $cmd (qw(status plan up down redo validate rehearse history tag new
		approve resolve files init))
	{
		like($out, qr/^\s+\Q$cmd\E\b/m, "--help lists $cmd");
	}
	($rc, $out, $err) = pgm(undef, undef, '-?');
	is($rc, 0, '-? exits 0');
	($rc, $out, $err) = pgm(undef, undef, '--version');
	is($rc, 0, '--version exits 0');
	like($out, qr/^pg_migrate \(migrate\) \d+\.\d+/, '--version as PostgreSQL tools print it');

	($rc, $out, $err) = pgm(undef, undef);
	is($rc, 2, 'no command: exit 2');
	like($err, qr/^pg_migrate: error: /m, '... pg_migrate: error: on stderr');
	like($err, qr/Try "pg_migrate --help"/, '... and a hint at --help');
	($rc, $out, $err) = pgm(undef, undef, '--no-such-option', 'status');
	is($rc, 2, 'unknown option: exit 2');
	($rc, $out, $err) = pgm(undef, undef, '--steps', '0', 'down');
	is($rc, 2, '--steps 0: exit 2');
	like($err, qr/--steps/, '... naming the option');
	($rc, $out, $err) = pgm(undef, undef, '--jobs', 'x', 'status');
	is($rc, 2, '--jobs x: exit 2');
}
{
	local $TODO = todo_unless('command:plan', $node);
	my ($rc, $out, $err) = pgm($node, 'postgres', 'no_such_command');
	is($rc, 2, 'unknown command: exit 2');
	like($err, qr/no_such_command/, '... naming it');
}

# --- init -------------------------------------------------------------------
create_db($node, $db, no_extension => 1);
{
	local $TODO = todo_unless('command:plan', $node);
	my ($rc, $out, $err) = run('status');
	is($rc, 1, 'status without the extension: exit 1');
	like($err, qr/extension|init/i, '... saying the extension is missing');
	unlike($err, qr/^.*XX000/m, '... not as an internal error');

	($rc, $out, $err) = run('init');
	is($rc, 0, 'init exits 0');
	is(psql_value($node, $db, "SELECT count(*) FROM pg_extension WHERE extname = 'migrate'"),
		'1', 'init created the extension');
	($rc, $out, $err) = run('init');
	is($rc, 0, 'init again exits 0 (already there)');
}
$node->safe_psql($db, 'CREATE EXTENSION IF NOT EXISTS migrate');

# --- files, plan, up --dry-run, up --to -------------------------------------
{
	local $TODO = todo_unless('layouts', $node);
	my ($rc, $out, $err) = run('files');
	is($rc, 0, 'files exits 0');
	like($out, qr/create_tenants/, 'files names the migrations');
	like($out, qr/[0-9a-f]{64}|[0-9a-f]{12}/, 'files shows checksums');
}
{
	local $TODO = todo_unless('up', $node);
	my ($rc, $out, $err) = run('up', '--dry-run');
	is($rc, 0, 'up --dry-run exits 0');
	is(migration_count($node, $db, 'applied'), '0', 'up --dry-run applies nothing');
	like($out, qr/invoice_totals|3/, 'up --dry-run reports what it would do');

	($rc, $out, $err) = run('up', '--to', '1');
	is($rc, 0, 'up --to 1 exits 0');
	is(applied(), '1', 'up --to 1 applied only version 1');
}
{
	local $TODO = todo_unless('command:plan', $node) // todo_unless('up', $node);
	my ($rc, $out, $err) = run('plan');
	is($rc, 0, 'plan exits 0');
	like($out, qr/create_invoices/, 'plan shows migration 2');
	like($out, qr/invoice_totals/, 'plan shows migration 3');
	unlike($out, qr/create_tenants/, 'plan leaves out the applied migration 1');
	($rc, $out, $err) = run('plan', '--to', '2');
	is($rc, 0, 'plan --to 2 exits 0');
	unlike($out, qr/invoice_totals/, 'plan --to 2 leaves out 3');
	($rc, $out, $err) = run('plan', '--check');
	is($rc, 3, 'plan --check with pending migrations: exit 3');
}
{
	local $TODO = todo_unless('command:plan', $node) // todo_unless('up', $node);
	my ($rc, $out, $err) = run('status');
	is($rc, 0, 'status exits 0');
	like($out, qr/create_tenants.*applied/s, 'status shows 1 applied');
	like($out, qr/pending/, 'status shows the pending ones');
	($rc, $out, $err) = run('status', '--check');
	is($rc, 3, 'status --check with pending migrations: exit 3');
}

# --- up, and a second up that has nothing to do ------------------------------
{
	local $TODO = todo_unless('up', $node);
	my ($rc, $out, $err) = run('up');
	is($rc, 0, 'up exits 0');
	is(applied(), '1 2 3', 'up applied 2 and 3 after 1');

	my $reg    = registered($node, $db);
	my $events = event_count($node, $db);
	($rc, $out, $err) = run('up');
	is($rc, 0, 'up with nothing to do exits 0');
	is(registered($node, $db), $reg, 'a second up registers nothing (migrate.migration unchanged)');
	is(event_count($node, $db), $events, 'a second up leaves the history unchanged');
}
{
	local $TODO = todo_unless('command:plan', $node) // todo_unless('up', $node);
	my ($rc, $out, $err) = run('status', '--check');
	is($rc, 0, 'status --check with everything applied: exit 0');
	($rc, $out, $err) = run('plan', '--check');
	is($rc, 0, 'plan --check with nothing to do: exit 0');
}

# --- history, tag -------------------------------------------------------------
{
	local $TODO = todo_unless('command:history', $node) // todo_unless('up', $node);
	my ($rc, $out, $err) = run('history');
	is($rc, 0, 'history exits 0');
	like($out, qr/register/, 'history shows registrations');
	like($out, qr/apply/, 'history shows applications');
	like($out, qr/invoice_totals/, 'history names the migrations');
}
{
	local $TODO = todo_unless('command:tag', $node) // todo_unless('up', $node);
	my ($rc, $out, $err) = run('tag', 'all-three');
	is($rc, 0, 'tag NAME exits 0');
	is(norm_version(psql_value($node, $db, "SELECT migrate.tag_version('all-three')")),
		'3', 'tag NAME tags the newest applied migration');
	($rc, $out, $err) = run('tag', 'first', '1');
	is($rc, 0, 'tag NAME VERSION exits 0');
	is(norm_version(psql_value($node, $db, "SELECT migrate.tag_version('first')")),
		'1', 'tag NAME VERSION tags that version');
	($rc, $out, $err) = run('tag');
	is($rc, 2, 'tag without a name: exit 2');
}

# --- down in all its forms, redo --------------------------------------------
{
	local $TODO = todo_unless('command:down', $node) // todo_unless('up', $node);
	my ($rc, $out, $err) = run('down', '--dry-run');
	is($rc, 0, 'down --dry-run exits 0');
	is(applied(), '1 2 3', 'down --dry-run reverts nothing');

	($rc, $out, $err) = run('down');
	is($rc, 0, 'down exits 0');
	is(applied(), '1 2', 'down reverts the newest migration (default --steps 1)');
	run('up');

	($rc, $out, $err) = run('down', '--steps', '2');
	is($rc, 0, 'down --steps 2 exits 0');
	is(applied(), '1', 'down --steps 2 reverted 3 and 2');
	run('up');

	($rc, $out, $err) = run('down', '--to', '2');
	is($rc, 0, 'down --to 2 exits 0');
	is(applied(), '1 2', 'down --to 2 reverted what lies after 2');
	run('up');

	($rc, $out, $err) = run('down', '--to-tag', 'first');
	is($rc, 0, 'down --to-tag first exits 0');
	is(applied(), '1', 'down --to-tag first returned to version 1');
	($rc, $out, $err) = run('down', '--to-tag', 'no-such-tag');
	is($rc, 1, 'down --to-tag with an unknown tag: exit 1');
	like($err, qr/no-such-tag/, '... naming the tag');
	run('up');

	($rc, $out, $err) = run('down', '--all');
	is($rc, 0, 'down --all exits 0');
	is(applied(), '', 'down --all reverted everything');
	is(psql_value($node, $db, "SELECT to_regclass('public.tenants') IS NULL"), 't',
		'... and the tables are gone');

	($rc, $out, $err) = run('down', '--all', '--steps', '1');
	is($rc, 2, 'down with two of --steps/--to/--to-tag/--all: exit 2');
	run('up');
	is(applied(), '1 2 3', 'up after down --all applies all three again');

	my $before = psql_value($node, $db, 'SELECT max(id) FROM migrate.event');
	($rc, $out, $err) = run('redo');
	is($rc, 0, 'redo exits 0');
	is(applied(), '1 2 3', 'redo leaves all three applied');
	is( psql_value($node, $db,
			"SELECT string_agg(action || ' ' || version, ', ' ORDER BY id) FROM migrate.event WHERE id > $before AND outcome = 'success' AND action IN ('apply', 'revert')"),
		'revert 3, apply 3', 'redo reverted and applied the newest migration');
}

# --- rehearse, approve ------------------------------------------------------
create_db($node, 'rehearse');
{
	local $TODO = todo_unless('command:rehearse', $node) // todo_unless('up', $node);
	my ($rc, $out, $err) = pgm($node, 'rehearse', '--dir', $dir, 'rehearse');
	is($rc, 0, 'rehearse exits 0');
	like($out, qr/invoice_totals/, 'rehearse reports each migration');
	is(migration_count($node, 'rehearse'), '3', 'rehearse registered the files');
	is(migration_count($node, 'rehearse', 'applied'), '0', 'rehearse applied nothing');
	is(psql_value($node, 'rehearse', "SELECT to_regclass('public.tenants') IS NULL"),
		't', 'rehearse left no table behind');
}
{
	local $TODO = todo_unless('command:approve', $node) // todo_unless('up', $node);
	my ($rc, $out, $err) = pgm($node, 'rehearse', '--dir', $dir, 'approve', '2');
	is($rc, 0, 'approve VERSION exits 0');
	is( psql_value($node, 'rehearse',
			"SELECT approved_at IS NOT NULL FROM migrate.migration WHERE version = '2'"),
		't', 'approve recorded the approval');
	($rc, $out, $err) = pgm($node, 'rehearse', '--dir', $dir, 'approve', '99');
	is($rc, 1, 'approve of an unknown version: exit 1');
	like($err, qr/99/, '... naming it');
	($rc, $out, $err) = pgm($node, 'rehearse', '--dir', $dir, 'approve');
	is($rc, 2, 'approve without a version: exit 2');
}

# --- resolve: a non-transactional migration that fails half-way is dirty -----
create_db($node, 'dirty');
my $dirty_dir = PostgreSQL::Test::Utils::tempdir('dirty') . '/migrations';
mkdir $dirty_dir or die;
write_file("$dirty_dir/1__create_parts.up.sql",
	"CREATE TABLE parts (id integer PRIMARY KEY, code text, kind text);\n");
write_file("$dirty_dir/1__create_parts.down.sql", "DROP TABLE parts;\n");
write_file("$dirty_dir/2__index_parts.up.sql",
	"CREATE INDEX CONCURRENTLY parts_code_idx ON parts (code);\n"
	  . "CREATE INDEX CONCURRENTLY parts_kind_idx ON parts (no_such_column);\n");
write_file("$dirty_dir/2__index_parts.down.sql",
	"DROP INDEX CONCURRENTLY IF EXISTS parts_kind_idx;\n"
	  . "DROP INDEX CONCURRENTLY IF EXISTS parts_code_idx;\n");
{
	local $TODO = todo_unless('up', $node);
	my ($rc, $out, $err) = pgm($node, 'dirty', '--dir', $dirty_dir, 'up');
	is($rc, 1, 'up of a failing non-transactional migration: exit 1');
	like($err, qr/no_such_column/, '... with the server\'s message');
}
SKIP:
{
	my $state = psql_value($node, 'dirty',
		"SELECT state FROM migrate.migration WHERE version = '2'") // '';
	skip "migration 2 is '$state', not dirty", 6 unless $state eq 'dirty';
	local $TODO = todo_unless('command:resolve', $node) // todo_unless('up', $node);
	my ($rc, $out, $err) =
	  pgm($node, 'dirty', '--dir', $dirty_dir, 'resolve', '2');
	is($rc, 2, 'resolve without --action: exit 2');
	($rc, $out, $err) = pgm($node, 'dirty', '--dir', $dirty_dir, 'resolve', '2',
		'--action', 'no_such_action');
	isnt($rc, 0, 'resolve --action no_such_action fails');
	($rc, $out, $err) = pgm($node, 'dirty', '--dir', $dirty_dir, 'resolve', '2',
		'--action', 'mark_reverted');
	is($rc, 0, 'resolve 2 --action mark_reverted exits 0');
	is( psql_value($node, 'dirty',
			"SELECT state FROM migrate.migration WHERE version = '2'"),
		'reverted', 'resolve settled the dirty migration');
	($rc, $out, $err) = pgm($node, 'dirty', '--dir', $dirty_dir, 'resolve', '1',
		'--action', 'retry');
	is($rc, 1, 'resolve of a migration that is not dirty: exit 1');
	like($err, qr/dirty|not/i, '... saying why');
}

$node->stop;
done_testing();
