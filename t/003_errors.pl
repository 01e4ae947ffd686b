
# Copyright (c) 2026, the migrate authors

# Bad input: pg_migrate up stops with a clear message (pg_migrate: error:,
# naming the file) and exit 1, and registers NOTHING: each bad directory of
# test/fixtures/bad holds a good migration 1 beside the bad one, and
# migrate.migration and migrate.event stay as they were.  Also: an empty
# directory, a missing one, and an applied file edited afterwards.

use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('errors');

# case name => [regexps the message must match], client: whether the
# client itself (files, no database) must see it
my @cases = (
	[ unreadable => [ qr/2__add_notes_title\.up\.sql/, qr/permission denied/i ], 1 ],
	[ duplicate_version => [ qr/duplicate/i, qr/1_create_regions/, qr/001_create_countries/ ], 1 ],
	[ invalid_utf8 => [ qr/2__seed_cities\.up\.sql/, qr/UTF-?8/i ], 1 ],
	[ down_without_up => [ qr/2__create_tag_aliases\.down\.sql/ ], 1 ],
	[ neither_up_nor_down => [ qr/2__index_labels\.sql/ ], 1 ],
	[ ambiguous => [ qr/ambiguous|more than one layout|--layout/i ], 1 ],
	[ broken_header => [ qr/\@rollback/, qr/2__add_events_payload|add_events_payload|\b2\b/ ], 0 ],
);

for my $case (@cases)
{
	my ($name, $patterns, $client_side) = @$case;
	my $dir = fixture("bad/$name");
	if ($name eq 'unreadable')
	{
		chmod 0000, "$dir/2__add_notes_title.up.sql" or die;
	}
	my $db = "bad_$name";
	create_db($node, $db);
	my $reg    = registered($node, $db);
	my $events = event_count($node, $db);

  SKIP:
	{
		skip 'root can read a file of mode 000', 6
		  if $name eq 'unreadable' && $> == 0;
		local $TODO = todo_unless('up', $node);
		my ($rc, $out, $err) = pgm($node, $db, '--dir', $dir, 'up');
		is($rc, 1, "$name: up exits 1");
		like($err, qr/^pg_migrate: error: /m, "$name: pg_migrate: error: on stderr");
		like($err, $_, "$name: the message matches $_") for @$patterns;
		is(registered($node, $db), $reg, "$name: nothing registered");
		is(event_count($node, $db), $events, "$name: no history event");
	}
	if ($client_side)
	{
	  SKIP:
		{
			skip 'root can read a file of mode 000', 2
			  if $name eq 'unreadable' && $> == 0;
			local $TODO = todo_unless('layouts', $node);
			my ($rc, $out, $err) = pgm(undef, undef, '--dir', $dir, 'files');
			is($rc, 1, "$name: files (no database) exits 1 too");
			like($err, $patterns->[0], "$name: files says why");
		}
	}
	drop_db($node, $db);
}

# --- an empty directory, a missing one ---------------------------------------
create_db($node, 'empty');
{
	local $TODO = todo_unless('up', $node);
	my $empty = PostgreSQL::Test::Utils::tempdir('empty');
	my ($rc, $out, $err) = pgm($node, 'empty', '--dir', $empty, 'up');
	is($rc, 1, 'empty directory: up exits 1');
	like($err, qr/no migration|empty|no .*files/i, 'empty directory: the message says so');
	is(migration_count($node, 'empty'), '0', 'empty directory: nothing registered');

	($rc, $out, $err) = pgm($node, 'empty', '--dir', "$empty/no_such_dir", 'up');
	is($rc, 1, 'missing directory: up exits 1');
	like($err, qr/no_such_dir/, 'missing directory: the message names it');
}

# --- an applied file edited afterwards ------------------------------------------
create_db($node, 'edited');
{
	local $TODO = todo_unless('up', $node);
	my $dir = fixture('layouts/native');
	my ($rc, $out, $err) = pgm($node, 'edited', '--dir', $dir, 'up', '--to', '2');
	is($rc, 0, 'edited: the first up applies 1 and 2');
	open my $fh, '>>', "$dir/1__create_tenants.up.sql" or die;
	print $fh "COMMENT ON TABLE tenants IS 'edited after it was applied';\n";
	close $fh;
	my $reg = registered($node, 'edited');
	($rc, $out, $err) = pgm($node, 'edited', '--dir', $dir, 'up');
	is($rc, 1, 'edited: up refuses an applied file that was edited');
	like($err, qr/1__create_tenants|tenants|\b1\b/, 'edited: the message names the migration');
	like($err, qr/edit|changed|checksum/i, 'edited: the message says it was changed');
	is(registered($node, 'edited'), $reg, 'edited: nothing registered');
	is(migration_count($node, 'edited', 'applied'), '2', 'edited: 3 was not applied');
}

# --- a server error in the middle of an up: everything rolls back -----------
create_db($node, 'failing');
{
	local $TODO = todo_unless('up', $node);
	my $dir = fixture('layouts/native');
	open my $fh, '>', "$dir/3__invoice_totals_view.up.sql" or die;
	print $fh "CREATE VIEW invoice_totals AS SELECT no_such_column FROM invoices;\n";
	close $fh;
	my ($rc, $out, $err) = pgm($node, 'failing', '--dir', $dir, 'up');
	is($rc, 1, 'failing up script: up exits 1');
	like($err, qr/no_such_column/, 'failing up script: the server\'s message is shown');
	is(migration_count($node, 'failing', 'applied'), '0',
		'failing up script: the run rolled back (one transaction)');
	is(psql_value($node, 'failing', "SELECT to_regclass('public.tenants') IS NULL"),
		't', 'failing up script: no table left behind');
}

$node->stop;
done_testing();
