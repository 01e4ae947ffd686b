
# Copyright (c) 2026, the migrate authors

=pod

=head1 NAME

PgMigrateTest - helpers shared by the TAP tests of the pg_migrate client

=head1 SYNOPSIS

  use FindBin;
  use lib $FindBin::RealBin;
  use PgMigrateTest;

  my $node = start_node('layouts');
  create_db($node, 'shop');
  my $dir = fixture('layouts/numbered');
  my ($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, 'up');

=head1 DESCRIPTION

Every test drives the installed pg_migrate binary (found in PATH, which
make installcheck-tap points at the installation's bindir) against a
throwaway cluster made by PostgreSQL::Test::Cluster, with migrate preloaded
as scripts/test.sh runs it.

Fixtures are copied from test/fixtures/ into a temporary directory first, so
that a test may write into them (pg_migrate new, chmod 000) without touching
the tree.

Every test runs for real: todo_unless() is kept for the tests that call it
but returns undef (it marked the tests of parts that were still stubs while
the client was being written).

=cut

package PgMigrateTest;

use strict;
use warnings;

use Exporter 'import';
use FindBin;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::RecursiveCopy;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(start_node create_db drop_db pgm pgm_env fixture fixture_root
  registered event_count applied_versions migration_count norm_version
  todo_unless part_ready psql_value write_file cache_dir LAYOUTS);

# the layouts of test/fixtures/layouts, with what each deploys: the number
# of migrations, the tables (schema-qualified) the schema must then hold,
# and a query that must return 't' afterwards
our %LAYOUTS = (
	numbered => {
		count  => 3,
		tables => [qw(public.customers public.orders)],
		check  => "SELECT count(*) = 1 FROM pg_attribute WHERE attrelid = 'public.orders'::regclass AND attname = 'status'",
	},
	timestamp => {
		count  => 3,
		tables => [qw(public.accounts public.transfers)],
		check  => "SELECT name = 'house' FROM public.accounts WHERE id = 1",
	},
	flyway => {
		count  => 4,
		tables => [qw(public.products public.stock)],
		check  => "SELECT to_regclass('public.products_in_stock') IS NOT NULL",
	},
	dbmate => {
		count  => 3,
		tables => [qw(public.users public.sessions)],
		check  => "SELECT to_regclass('public.sessions_user_id_idx') IS NOT NULL",
	},
	golang => {
		count  => 3,
		tables => [qw(public.authors public.books)],
		check  => "SELECT count(*) = 1 FROM pg_attribute WHERE attrelid = 'public.books'::regclass AND attname = 'isbn'",
	},
	diesel => {
		count  => 3,
		tables => [qw(public.posts public.comments)],
		check  => "SELECT to_regclass('public.comments_post_id_idx') IS NOT NULL",
	},
	sqitch => {
		count  => 3,
		tables => [qw(library.patrons library.loans)],
		check  => "SELECT to_regnamespace('library') IS NOT NULL",
	},
	native => {
		count  => 3,
		tables => [qw(public.tenants public.invoices)],
		check  => "SELECT to_regclass('public.invoice_totals') IS NOT NULL",
	},
);
sub LAYOUTS { return \%LAYOUTS; }

# the repository's test/fixtures
sub fixture_root
{
	return "$FindBin::RealBin/../test/fixtures";
}

# fixture('layouts/numbered'): a private copy of the fixture directory
sub fixture
{
	my ($name) = @_;
	my $src = fixture_root() . "/$name";
	die "no fixture $src" unless -d $src;
	(my $leaf = $name) =~ s{/}{_}g;
	my $dest = PostgreSQL::Test::Utils::tempdir($leaf) . "/$leaf";
	PostgreSQL::Test::RecursiveCopy::copypath($src, $dest);
	return $dest;
}

# start_node(NAME): a running cluster with migrate preloaded, as
# scripts/test.sh runs the other suites.  MIGRATE_TAP_PORT pins the port
# (the tests run one file at a time, one node each).
sub start_node
{
	my ($name) = @_;
	my %params;
	$params{port} = $ENV{MIGRATE_TAP_PORT} if $ENV{MIGRATE_TAP_PORT};
	my $node = PostgreSQL::Test::Cluster->new($name, %params);
	$node->init;
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = 'migrate'\n"
		  . "migrate.naptime = 1\n"
		  . "log_min_messages = warning\n"
		  # a throwaway cluster, as scripts/lib.sh makes them: CREATE
		  # DATABASE takes seconds with fsync on
		  . "fsync = off\n"
		  . "synchronous_commit = off\n"
		  . "full_page_writes = off\n");
	$node->start;
	return $node;
}

# create_db(NODE, DB [, no_extension => 1])
sub create_db
{
	my ($node, $db, %opt) = @_;
	$node->safe_psql('postgres', qq{CREATE DATABASE "$db"});
	$node->safe_psql($db, 'CREATE EXTENSION migrate')
	  unless $opt{no_extension};
	return;
}

sub drop_db
{
	my ($node, $db) = @_;
	$node->safe_psql('postgres', qq{DROP DATABASE IF EXISTS "$db" WITH (FORCE)});
	return;
}

# the value of a query, or undef when it fails (a test then fails instead
# of the whole file dying, which matters for TODO tests)
sub psql_value
{
	my ($node, $db, $sql) = @_;
	my ($rc, $out, $err) = $node->psql($db, $sql);
	if ($rc != 0)
	{
		note("query failed: $sql\n$err");
		return undef;
	}
	return $out;
}

# the checksum cache directory of this test file (PGMIGRATE_CACHE_DIR of
# every pgm() run unless the test overrides it)
my $cache_dir;
sub cache_dir
{
	$cache_dir //= PostgreSQL::Test::Utils::tempdir('cache') . '/pg_migrate';
	return $cache_dir;
}

# pg_migrate against NODE's database DB (undef: no -d) with ARGS; returns
# (exit status, stdout, stderr).  Standard input is empty: nothing prompts.
sub pgm
{
	my ($node, $db, @args) = @_;
	return pgm_env({}, $node, $db, @args);
}

# pgm_env(\%ENV_OVERRIDES, NODE, DB, ARGS...): the same with environment
# variables set (undef value: unset)
sub pgm_env
{
	my ($env, $node, $db, @args) = @_;
	my @cmd = ('pg_migrate');
	push @cmd, '-d', $node->connstr($db) if defined $node && defined $db;
	push @cmd, @args;
	my ($in, $out, $err) = ('', '', '');
	local %ENV = %ENV;
	delete $ENV{NO_COLOR};
	# the node's socket and port also for commands that take them from the
	# environment (a -d conninfo names them too)
	if (defined $node)
	{
		$ENV{PGHOST} = $node->host;
		$ENV{PGPORT} = $node->port;
	}
	delete $ENV{$_} for grep { /^PGMIGRATE_/ } keys %ENV;
	# the checksum cache of this test file's runs, not the user's
	$ENV{PGMIGRATE_CACHE_DIR} = cache_dir();
	while (my ($k, $v) = each %$env)
	{
		if (defined $v) { $ENV{$k} = $v; }
		else            { delete $ENV{$k}; }
	}
	note('running: ' . join(' ', map { /\s/ ? "'$_'" : $_ } @cmd));
	IPC::Run::run(\@cmd, '<', \$in, '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	note("exit $rc\nstdout: $out\nstderr: $err");
	return ($rc, $out, $err);
}

# what migrate.migration holds: version, state and checksum of every row,
# in version order (compare before and after to see that nothing changed)
sub registered
{
	my ($node, $db) = @_;
	return psql_value($node, $db,
		"SELECT coalesce(string_agg(version || ':' || state || ':' || checksum, ',' ORDER BY version_key), '') FROM migrate.migration"
	);
}

sub event_count
{
	my ($node, $db) = @_;
	return psql_value($node, $db, 'SELECT count(*) FROM migrate.event');
}

sub migration_count
{
	my ($node, $db, $state) = @_;
	my $where = defined $state ? "WHERE state = '$state'" : '';
	return psql_value($node, $db, "SELECT count(*) FROM migrate.migration $where") // -1;
}

# applied versions in application order, normalised (see norm_version)
sub applied_versions
{
	my ($node, $db) = @_;
	my $list = psql_value($node, $db,
		"SELECT string_agg(version, ' ' ORDER BY apply_seq) FROM migrate.migration WHERE state = 'applied'"
	);
	return join(' ', map { norm_version($_) } split ' ', $list // '');
}

# leading zeros of numeric parts do not make another version ("001" is
# "1", as @dependencies matches them); the tests compare normalised
sub norm_version
{
	my ($v) = @_;
	return $v unless defined $v;
	$v =~ s/(?<![0-9])0+(?=[0-9])//g;
	return $v;
}

# --- parts not merged yet -----------------------------------------------------

my %ready;

# part_ready(NAME, NODE): whether the part of the client is more than its
# stub (cached).  NAME: layouts, up, validate, new, json, conf, commands.
sub part_ready
{
	my ($part, $node) = @_;
	return $ready{$part} if exists $ready{$part};
	my $ok = 0;
	if ($part eq 'layouts')
	{
		my ($rc, $out, $err) =
		  pgm(undef, undef, '--dir', fixture('layouts/native'), 'files');
		$ok = $rc == 0;
	}
	elsif ($part eq 'new')
	{
		my ($rc, $out, $err) = pgm(undef, undef, '--dir',
			fixture('layouts/native'), 'new', 'probe');
		$ok = $rc == 0;
	}
	elsif ($part eq 'up' || $part eq 'validate' || $part eq 'json')
	{
		my $db = "probe_$part";
		create_db($node, $db);
		my $dir = fixture('layouts/native');
		my ($rc, $out, $err) = pgm($node, $db, '--dir', $dir, 'up');
		if ($part eq 'up')
		{
			$ok = $rc == 0 && migration_count($node, $db, 'applied') == 3;
		}
		elsif ($part eq 'validate')
		{
			($rc, $out, $err) = pgm($node, $db, '--dir', $dir, 'validate');
			$ok = !($rc == 1 && $out eq '' && $err eq '');
		}
		else
		{
			($rc, $out, $err) = pgm($node, $db, '--json', 'status');
			$ok = defined eval { JSON::PP->new->decode($out) };
		}
		drop_db($node, $db);
	}
	elsif ($part eq 'conf')
	{
		# a section naming a database that does not exist: a client that
		# reads the file fails naming it; the stub connects elsewhere
		my $dir  = PostgreSQL::Test::Utils::tempdir('conf_probe');
		my $conf = "$dir/pg_migrate.conf";
		open my $fh, '>', $conf or die "$conf: $!";
		print $fh "[probe]\ndbname = conf_probe_no_such_db\n";
		close $fh;
		my ($rc, $out, $err) = pgm($node, undef, '--config', $conf,
			'--env', 'probe', '-h', $node->host, '-p', $node->port,
			'status');
		$ok = ($err =~ /conf_probe_no_such_db/) ? 1 : 0;
	}
	elsif ($part =~ /^command:(.*)$/)
	{
		my $cmd = $1;
		my $db  = 'probe_commands';
		create_db($node, $db) unless $ready{_probe_db}++;
		my ($rc, $out, $err) = pgm($node, $db, '--dir',
			fixture('layouts/native'), $cmd);
		$ok = $err !~ /unknown command/;
	}
	else
	{
		die "unknown part $part";
	}
	$ready{$part} = $ok;
	diag("part \"$part\" of the client is not merged yet (stub): its tests are TODO")
	  unless $ok;
	return $ok;
}

# write_file(PATH, TEXT): a migration or configuration file a test writes
sub write_file
{
	my ($path, $text) = @_;
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh or die "$path: $!";
	return;
}

# todo_unless(PART, NODE): undef.  While the client was written, a test of a
# part that was still a stub ran as TODO; every part is in place now, so a
# part that goes missing must fail, and this always returns undef
sub todo_unless
{
	return undef;
}

require JSON::PP;

1;
