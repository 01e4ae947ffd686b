
# Copyright (c) 2026, the migrate authors

# Every layout of test/fixtures/layouts is detected, listed by "files" and
# deployed by "up": the expected tables, the expected number of applied
# migrations, and the header metadata read by the server in every layout.

use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('layouts');

# --- files: no database ------------------------------------------------------
{
	local $TODO = todo_unless('layouts', $node);
	for my $layout (sort keys %{ LAYOUTS() })
	{
		my $dir = fixture("layouts/$layout");
		my ($rc, $out, $err) = pgm(undef, undef, '--dir', $dir, 'files');
		is($rc, 0, "files reads the $layout layout");
		my $n = LAYOUTS()->{$layout}{count};
		# each migration's up file is named in the listing
		my @named = grep { $out =~ /\Q$_\E/ } up_files($dir, $layout);
		is(scalar(@named), $n, "files lists the $n up files of $layout");
	}
}

# --- up: each layout into a database of its own ------------------------------
{
	local $TODO = todo_unless('up', $node);
	for my $layout (sort keys %{ LAYOUTS() })
	{
		my $want = LAYOUTS()->{$layout};
		my $db   = "layout_$layout";
		create_db($node, $db);
		my $dir = fixture("layouts/$layout");
		my ($rc, $out, $err) = pgm($node, $db, '--dir', $dir, 'up');
		is($rc, 0, "up deploys the $layout layout") or diag($err);
		is(migration_count($node, $db), $want->{count},
			"$layout: $want->{count} migrations registered");
		is(migration_count($node, $db, 'applied'), $want->{count},
			"$layout: all $want->{count} applied");
		for my $t (@{ $want->{tables} })
		{
			is(psql_value($node, $db, "SELECT to_regclass('$t') IS NOT NULL"),
				't', "$layout: table $t exists");
		}
		is(psql_value($node, $db, $want->{check}), 't',
			"$layout: the last migration did its work");
	}

	# header metadata works in every layout that carries it
	for my $layout (qw(numbered timestamp flyway dbmate golang native))
	{
		cmp_ok(
			psql_value($node, "layout_$layout",
				'SELECT count(*) FROM migrate.migration WHERE risk_level IS NOT NULL'),
			'>=', 1,
			"$layout: -- \@risk-level: in a header is registered");
	}
	for my $case (
		[ timestamp => '20240105093000' ],
		[ dbmate    => '20240301120000' ],
		[ native    => '1' ],
		[ golang    => '1' ],
		[ numbered  => '001' ])
	{
		my ($layout, $dep) = @$case;
		is( psql_value(
				$node,
				"layout_$layout",
				"SELECT count(*) FROM migrate.migration WHERE '$dep' = ANY (dependencies)"),
			'1',
			"$layout: -- \@dependencies: $dep is registered");
	}
	is( psql_value($node, 'layout_native',
			"SELECT zero_downtime AND estimated_duration IS NULL FROM migrate.migration WHERE name LIKE '%tenants%'"),
		't', 'native: @zero-downtime is registered');

	# non-transactional migrations: dbmate transaction:false, diesel
	# run_in_transaction = false (CREATE INDEX CONCURRENTLY in both)
	for my $layout (qw(dbmate diesel))
	{
		is( psql_value($node, "layout_$layout",
				'SELECT count(*) FROM migrate.migration WHERE NOT transactional'),
			'1', "$layout: the concurrent index migration is non-transactional");
	}

	# down scripts: every fixture migration has one, except flyway's R__
	for my $layout (sort keys %{ LAYOUTS() })
	{
		my $want = $layout eq 'flyway' ? 3 : LAYOUTS()->{$layout}{count};
		is( psql_value($node, "layout_$layout",
				'SELECT count(*) FROM migrate.migration WHERE down_script IS NOT NULL'),
			$want, "$layout: $want down scripts registered");
	}

	# sqitch: requires become dependencies, verify scripts become verify
	# checks, and the plan's tag is kept
	is( psql_value($node, 'layout_sqitch',
			'SELECT count(*) FROM migrate.migration WHERE verify_script IS NOT NULL'),
		'3', 'sqitch: verify/ scripts are registered as verify scripts');
	is( psql_value($node, 'layout_sqitch',
			"SELECT max(cardinality(dependencies)) FROM migrate.migration"),
		'2', 'sqitch: loans [appschema patrons] has two dependencies');
	is( psql_value($node, 'layout_sqitch',
			"SELECT count(*) FROM pg_catalog.pg_proc WHERE proname = 'tag_version' AND pronamespace = 'migrate'::regnamespace"),
		'1', 'migrate.tag_version() exists (1.1)');
	# plan tags become tags: sqitch revert --to @v1.0 is down --to-tag v1.0
	is(norm_version(psql_value($node, 'layout_sqitch', "SELECT migrate.tag_version('v1.0')") // ''),
		norm_version(psql_value($node, 'layout_sqitch',
			"SELECT version FROM migrate.migration WHERE name = 'patrons'") // 'none'),
		'sqitch: the @v1.0 tag of the plan is kept, on the change before it');
	# BEGIN/COMMIT as sqitch writes them do not end the migration's
	# transaction: all three are applied in order, schema first
	like(applied_versions($node, 'layout_sqitch'), qr/\S+ \S+ \S+/,
		'sqitch: three changes applied');
	my ($rc, $out, $err) = pgm($node, 'layout_sqitch', '--dir', fixture('layouts/sqitch'),
		'down', '--to-tag', 'v1.0');
	is($rc, 0, 'sqitch: down --to-tag v1.0 exits 0');
	is(migration_count($node, 'layout_sqitch', 'applied'), '2',
		'sqitch: down --to-tag v1.0 reverted loans only');
	is(psql_value($node, 'layout_sqitch', "SELECT to_regclass('library.loans') IS NULL"), 't',
		'sqitch: the revert/ script of loans ran');

	# flyway: V1_1 sorts between V1 and V2
	my @fly = split ' ', applied_versions($node, 'layout_flyway');
	ok(scalar(@fly) >= 3 && $fly[0] =~ /^1$/ && $fly[1] =~ /^1[._]1$/,
		'flyway: V1 then V1_1 (' . join(' ', @fly) . ')');
}

# --- --layout overrides detection --------------------------------------------
{
	local $TODO = todo_unless('layouts', $node);
	# --layout NAME reads each fixture as detection does (the project's
	# own layout is called "migrate")
	for my $layout (sort keys %{ LAYOUTS() })
	{
		my $name = $layout eq 'native' ? 'migrate' : $layout;
		my ($rc, $out, $err) = pgm(undef, undef, '--dir', fixture("layouts/$layout"),
			'--layout', $name, 'files');
		is($rc, 0, "--layout $name reads the $layout fixture");
	}
	# the ambiguous directory of test/fixtures/bad, read as one of its two:
	# the other layout's file is neither up nor down there, and is named
	my ($rc, $out, $err) = pgm(undef, undef, '--dir', fixture('bad/ambiguous'),
		'--layout', 'golang', 'files');
	is($rc, 1, '--layout golang refuses a directory that holds a flyway file too');
	like($err, qr/V1__create_shelves\.sql/, '... naming the flyway file');

	($rc, $out, $err) = pgm(undef, undef, '--dir', fixture('layouts/golang'),
		'--layout', 'no_such_layout', 'files');
	isnt($rc, 0, '--layout with an unknown name fails');
	like($err, qr/no_such_layout/, '... naming it');
}

$node->stop;
done_testing();

# the up file of each migration in a fixture, as named in messages
sub up_files
{
	my ($dir, $layout) = @_;
	opendir my $dh, $dir or die "$dir: $!";
	my @e = grep { !/^\./ } readdir $dh;
	closedir $dh;
	return map { "$_/up.sql" } grep { -d "$dir/$_" } @e if $layout eq 'diesel';
	return map { "deploy/$_" } do { opendir my $d, "$dir/deploy"; grep { /\.sql$/ } readdir $d }
	  if $layout eq 'sqitch';
	return grep { /\.up\.sql$/ } @e if $layout =~ /^(golang|native)$/;
	return grep { /^[VR].*\.sql$/ } @e if $layout eq 'flyway';
	return grep { /^[0-9]+_.*\.sql$/ && !/_rollback\.sql$/ } @e;
}
