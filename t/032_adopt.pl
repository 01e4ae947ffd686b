
# Copyright (c) 2026, the migrate authors

# Adopting an existing database with the client (issue 13, wp13-2):
# pg_migrate import TOOL registers the directory and adopts what Flyway,
# dbmate or golang-migrate applied (and lists what has no file);
# pg_migrate baseline VERSION marks the old migrations applied; pg_migrate
# baseline --generate writes a baseline migration from pg_dump
# --schema-only that builds the same schema (same fingerprint) on an empty
# database, without the dump's SET statements, psql meta-commands or the
# extension itself; usage errors exit 2.

use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('adopt');
my $base = PostgreSQL::Test::Utils::tempdir('adopt');

sub slurp
{
	my ($path) = @_;
	open my $fh, '<', $path or die "$path: $!";
	local $/;
	my $text = <$fh>;
	close $fh;
	return $text;
}

# --- import flyway ----------------------------------------------------------
create_db($node, 'fly');
{
	# the history table as flyway-database-postgresql creates it
	# (createMetaDataTable.sql), and the schema Flyway built
	$node->safe_psql('fly', q{
CREATE TABLE flyway_schema_history (
    installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL,
    type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INTEGER,
    installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(),
    execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL);
INSERT INTO flyway_schema_history VALUES
  (1, '1', 'create one', 'SQL', 'V1__create_one.sql', 1, 'ann', '2024-01-01', 5, true),
  (2, '1.1', 'create two', 'SQL', 'V1_1__create_two.sql', 2, 'ann', '2024-01-02', 5, true),
  (3, '1.5', 'lost file', 'SQL', 'V1_5__lost_file.sql', 3, 'ann', '2024-01-03', 5, true);
CREATE TABLE one (id int);
CREATE TABLE two (id int);});
	my $dir = "$base/fly";
	mkdir $dir;
	write_file("$dir/V1__create_one.sql", "CREATE TABLE one (id int);\n");
	write_file("$dir/V1_1__create_two.sql", "CREATE TABLE two (id int);\n");
	write_file("$dir/V2__create_three.sql", "CREATE TABLE three (id int);\n");

	my ($rc, $out, $err) = pgm($node, 'fly', '--dir', $dir, 'import', 'flyway');
	is($rc, 0, 'import flyway exits 0');
	like($out, qr/2 migrations of flyway adopted/, 'it says how many it adopted');
	like($out, qr/1\.5.*lost file/s, 'and lists the version applied without a file');
	is(applied_versions($node, 'fly'), '1 1.1', 'the two Flyway applied are applied, not run');
	is(psql_value($node, 'fly', "SELECT count(*) FROM migrate.event WHERE action = 'import'"),
		'2', 'history has an import row for each');

	($rc, $out, $err) = pgm($node, 'fly', '--dir', $dir, 'up');
	is($rc, 0, 'up then exits 0');
	is(applied_versions($node, 'fly'), '1 1.1 2', 'and runs only the new migration');

	($rc, $out, $err) = pgm($node, 'fly', '--dir', $dir, '--json', 'import', 'flyway');
	is($rc, 0, 'import again exits 0');
	like($out, qr/"adopted": 0/, '--json: nothing more to adopt');
	like($out, qr/"missing": \[/, '--json: the missing versions');
}

# --- import dbmate, golang-migrate -----------------------------------------
create_db($node, 'dbm');
{
	$node->safe_psql('dbm', q{
CREATE TABLE schema_migrations (version varchar(128) primary key);
INSERT INTO schema_migrations VALUES ('20240101000000');
CREATE TABLE dbm_one (id int);});
	my $dir = "$base/dbm";
	mkdir $dir;
	write_file("$dir/20240101000000_one.sql",
		"-- migrate:up\nCREATE TABLE dbm_one (id int);\n\n-- migrate:down\nDROP TABLE dbm_one;\n");
	write_file("$dir/20240102000000_two.sql",
		"-- migrate:up\nCREATE TABLE dbm_two (id int);\n\n-- migrate:down\nDROP TABLE dbm_two;\n");
	my ($rc, $out, $err) = pgm($node, 'dbm', '--dir', $dir, 'import', 'dbmate');
	is($rc, 0, 'import dbmate exits 0');
	is(applied_versions($node, 'dbm'), '20240101000000', 'dbmate\'s version is adopted');
	($rc, $out, $err) = pgm($node, 'dbm', '--dir', $dir, 'import', 'golang-migrate');
	is($rc, 1, 'dbmate\'s table read as golang-migrate\'s: exit 1');
	like($err, qr/is not a history table of golang-migrate/, 'with a message that says so');
}

create_db($node, 'gm');
{
	$node->safe_psql('gm', q{
CREATE TABLE schema_migrations (version bigint not null primary key, dirty boolean not null);
INSERT INTO schema_migrations VALUES (2, true);});
	my $dir = "$base/gm";
	mkdir $dir;
	for my $v (1 .. 3)
	{
		write_file("$dir/${v}_m$v.up.sql", "SELECT $v;\n");
		write_file("$dir/${v}_m$v.down.sql", "SELECT $v;\n");
	}
	my ($rc, $out, $err) = pgm($node, 'gm', '--dir', $dir, 'import', 'golang-migrate');
	is($rc, 1, 'a dirty golang-migrate history: exit 1');
	like($err, qr/version 2 is dirty/, 'the message names the dirty version');
	is(applied_versions($node, 'gm'), '', 'nothing adopted');
	$node->safe_psql('gm', 'UPDATE schema_migrations SET dirty = false');
	($rc, $out, $err) = pgm($node, 'gm', '--dir', $dir, 'import', 'golang-migrate');
	is($rc, 0, 'clean: exit 0');
	is(applied_versions($node, 'gm'), '1 2', 'every version up to the current one is adopted');
}

# --- baseline VERSION --------------------------------------------------------
create_db($node, 'base');
{
	$node->safe_psql('base', 'CREATE TABLE b_one (id int); CREATE TABLE b_two (id int);');
	my $dir = "$base/base";
	mkdir $dir;
	my %up = (1 => 'b_one', 2 => 'b_two', 3 => 'b_three');
	for my $v (sort keys %up)
	{
		write_file("$dir/00${v}_$up{$v}.sql", "CREATE TABLE $up{$v} (id int);\n");
		write_file("$dir/00${v}_$up{$v}_rollback.sql", "DROP TABLE $up{$v};\n");
	}
	my ($rc, $out, $err) = pgm($node, 'base', '--dir', $dir, 'baseline', '002',
		'--description', 'production before migrate');
	is($rc, 0, 'baseline 002 exits 0');
	like($out, qr/baseline 002: 2 migrations marked applied without running/, 'it says what it did');
	is(psql_value($node, 'base', "SELECT detail->>'description' FROM migrate.event WHERE action = 'baseline' AND name IS NULL"),
		'production before migrate', 'history keeps the description');
	($rc, $out, $err) = pgm($node, 'base', '--dir', $dir, 'up');
	is($rc, 0, 'up exits 0');
	is(applied_versions($node, 'base'), '1 2 3', 'and runs only 003');
}

# --- a baseline before the files: up adopts them at registration --------------
create_db($node, 'late');
{
	$node->safe_psql('late', 'CREATE TABLE b_one (id int); CREATE TABLE b_two (id int);');
	my ($rc, $out, $err) = pgm($node, 'late', '--dir', "$base/nothing", 'baseline', '2');
	is($rc, 0, 'baseline with no files yet exits 0');
	like($out, qr/0 migrations marked applied/, 'nothing to mark yet');
	($rc, $out, $err) = pgm($node, 'late', '--dir', "$base/base", 'up');
	is($rc, 0, 'up of the files afterwards exits 0');
	is(applied_versions($node, 'late'), '1 2 3', 'all applied');
	is(psql_value($node, 'late',
			"SELECT string_agg(version || ':' || action, ' ' ORDER BY id) FROM migrate.event"
			  . " WHERE action IN ('baseline', 'apply') AND name IS NOT NULL"),
		'001:baseline 002:baseline 003:apply', '001 and 002 adopted at registration, only 003 run');
}

# --- baseline --generate -----------------------------------------------------
create_db($node, 'gen');
{
	# a function whose body has a line that looks like the dump's SET
	# statements: the server's parser, not a line filter, leaves it alone
	$node->safe_psql('gen', q{
CREATE SCHEMA app;
CREATE TABLE app.account (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE);
CREATE TABLE app.login (account bigint REFERENCES app.account, at timestamptz DEFAULT now());
CREATE INDEX login_at ON app.login (at);
CREATE VIEW app.recent AS SELECT account FROM app.login WHERE at > now() - interval '1 day';
CREATE FUNCTION app.touch() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
SET LOCAL lock_timeout = '1s';
END
$$;
COMMENT ON TABLE app.account IS 'accounts';});
	my $dir = "$base/gen";
	mkdir $dir;
	my ($rc, $out, $err) = pgm($node, 'gen', '--dir', $dir, 'baseline', '--generate');
	is($rc, 0, 'baseline --generate exits 0');
	my @files = glob("$dir/*");
	is(scalar @files, 1, 'one file, no down file');
	like($files[0], qr{/\d{14}__baseline\.up\.sql$}, 'named in the project\'s layout');
	my $text = slurp($files[0]);
	like($text, qr/^-- Description: baseline\n-- Author: .*\n-- Created: \d{4}-\d\d-\d\d\n/,
		'it starts with a metadata header');
	like($text, qr/CREATE TABLE app\.account/, 'it holds the tables');
	like($text, qr/SET LOCAL lock_timeout = '1s';/, 'the function body is whole');
	unlike($text, qr/^SET (?!LOCAL lock_timeout)/m, 'no SET statement of the dump');
	unlike($text, qr/SCHEMA migrate/, 'nor the extension\'s schema');
	unlike($text, qr/set_config/, 'no set_config() of the dump');
	unlike($text, qr/^\\/m, 'no psql meta-command');
	unlike($text, qr/EXTENSION IF NOT EXISTS migrate/, 'not the extension itself');

	# the file builds the same schema on an empty database
	create_db($node, 'gen2');
	($rc, $out, $err) = pgm($node, 'gen2', '--dir', $dir, 'up');
	is($rc, 0, 'up of the generated baseline on an empty database exits 0');
	is(psql_value($node, 'gen2', 'SELECT migrate.fingerprint()'),
		psql_value($node, 'gen', 'SELECT migrate.fingerprint()'),
		'and gives the same fingerprint');

	# the database it came from adopts it
	my ($version) = $files[0] =~ m{/(\d{14})__};
	($rc, $out, $err) = pgm($node, 'gen', '--dir', $dir, 'baseline', $version);
	is($rc, 0, 'baseline VERSION on the source database exits 0');
	is(applied_versions($node, 'gen'), $version, 'the baseline migration is applied there');

	# into a file of one's choosing, never over an existing one
	($rc, $out, $err) = pgm($node, 'gen', 'baseline', '--generate', "$base/schema.sql",
		'--description', 'schema at the switch');
	is($rc, 0, 'baseline --generate FILE exits 0');
	like(slurp("$base/schema.sql"), qr/^-- Description: schema at the switch\n/, 'FILE has the header');
	($rc, $out, $err) = pgm($node, 'gen', 'baseline', '--generate', "$base/schema.sql");
	is($rc, 1, 'an existing FILE: exit 1');
	like($err, qr/already exists/, 'it is not overwritten');
}

# --- baseline --generate: no secret on pg_dump's command line ----------------
{
	# a pg_dump that notes its arguments and what it got besides them
	my $real = $node->config_data('--bindir') . '/pg_dump';
	my $fake = "$base/fake_pg_dump";
	open my $fh, '>', $fake or die "$fake: $!";
	print $fh <<"EOS";
#!/bin/sh
printf '%s\\n' "\$@" > '$base/dump_args'
printf '%s' "\$PGPASSWORD" > '$base/dump_password'
printf '%s' "\$PGSERVICEFILE" > '$base/dump_service_path'
[ -n "\$PGSERVICEFILE" ] && cat "\$PGSERVICEFILE" > '$base/dump_service'
exec '$real' "\$@"
EOS
	close $fh;
	chmod 0755, $fake;
	my ($rc, $out, $err) = pgm_env({ PGMIGRATE_PG_DUMP => $fake }, undef, undef,
		'-d', $node->connstr('gen') . ' password=tap-secret sslpassword=tap-ssl-secret',
		'baseline', '--generate', "$base/secret.sql");
	is($rc, 0, 'baseline --generate with secret options exits 0');
	my $args = slurp("$base/dump_args");
	unlike($args, qr/tap-secret/, 'no password on pg_dump\'s command line');
	unlike($args, qr/tap-ssl-secret/, 'no sslpassword either');
	is(slurp("$base/dump_password"), 'tap-secret', 'the password goes in PGPASSWORD');
	like(slurp("$base/dump_service"), qr/^sslpassword=tap-ssl-secret$/m,
		'the sslpassword in a service file');
	ok(!-e slurp("$base/dump_service_path"), 'which is removed afterwards');
}

# --- usage -------------------------------------------------------------------
{
	my ($rc, $out, $err) = pgm($node, 'fly', 'baseline');
	is($rc, 2, 'baseline without a version: exit 2');
	($rc, $out, $err) = pgm($node, 'fly', 'import');
	is($rc, 2, 'import without a tool: exit 2');
	($rc, $out, $err) = pgm($node, 'fly', 'status', '--generate');
	is($rc, 2, '--generate with another command: exit 2');
	($rc, $out, $err) = pgm($node, 'fly', '--dir', "$base/fly", 'import', 'rails');
	is($rc, 1, 'an unknown tool: exit 1');
	like($err, qr/unknown migration tool "rails"/, 'the server says so');
}

done_testing();
