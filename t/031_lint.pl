
# Copyright (c) 2026, the migrate authors

# pg_migrate lint (issue 12): every up script of the directory, as the
# layout reads it (header lines included), through migrate.lint(), all in
# one pipelined round trip:
#  - exit 0 without findings at or above --fail-on (default error), 3 with
#    one, 1 when a file cannot be read or linted, 2 on a usage error
#  - the table names file, statement, line, severity, rule and message;
#    --verbose adds the hint; --json has every column
#  - @lint-ignore in the header and before a statement, and the
#    unused-suppression finding of a stale one
#  - FILE arguments: a file of the directory as the layout reads it, any
#    other file as its text stands
#  - each script is linted once and the number of other queries does not
#    grow with the number of files (server log with log_statement = all)
#  - plan and status show the columns of issue 12 where the server has them
#
# The rules themselves land in other work packages: the tests that need a
# rule to report (ban-drop-table, ban-drop-database) run where the server's
# rule does (its bad example, linted, reports it) and are skipped
# otherwise; unused-suppression is the framework's and is tested everywhere.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;

use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('lint');
create_db($node, 'shop');
my $dir = PostgreSQL::Test::Utils::tempdir('lint') . '/migrations';
mkdir $dir or die "$dir: $!";
my $outside = PostgreSQL::Test::Utils::tempdir('lint_outside');

sub lint { return pgm($node, 'shop', '--dir', $dir, 'lint', @_); }

# whether a rule of the server reports (its bad example gives a finding)
sub rule_live
{
	my ($rule) = @_;
	my $v = psql_value($node, 'shop',
		"SELECT count(*) > 0 FROM migrate.lint_rules r, migrate.lint(r.bad_example) l WHERE r.id = '$rule' AND l.rule = r.id"
	);
	return defined $v && $v eq 't';
}

# a clean table: no rule has anything to say about it
write_file("$dir/1__accounts.up.sql",
	"CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);\n");
write_file("$dir/1__accounts.down.sql", "DROP TABLE accounts;\n");

my ($rc, $out, $err) = lint();
is($rc, 0, 'a clean directory: exit 0');
like($out, qr/^1 file linted: no findings$/m, 'a clean directory: the summary says so');
is($err, '', 'a clean directory: nothing on stderr');

# a stale suppression in the header: unused-suppression, a warning
write_file("$dir/2__notes.up.sql",
	"-- \@lint-ignore: ban-drop-table\nCREATE TABLE notes (id bigint PRIMARY KEY, body text);\n");

($rc, $out, $err) = lint();
is($rc, 0, 'a warning under the default --fail-on error: exit 0');
like($out,
	qr/^ 2__notes\.up\.sql \| +0 \| +1 \| warning +\| unused-suppression \| \@lint-ignore: ban-drop-table suppressed nothing$/m,
	'the table: file, statement 0 (the migration), line 1, severity, rule, message');
like($out, qr/^2 files linted: 0 errors, 1 warning, 0 info$/m, 'the summary counts by severity');
unlike($out, qr/Remove the suppression/, 'no hint without --verbose');

($rc, $out, $err) = lint('--fail-on', 'warning');
is($rc, 3, '--fail-on warning: a warning exits 3');
($rc, $out, $err) = lint('--fail-on', 'info');
is($rc, 3, '--fail-on info: a warning exits 3');
($rc, $out, $err) = lint('--fail-on', 'error');
is($rc, 0, '--fail-on error: a warning exits 0');

($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '-v', 'lint');
like($out, qr/\|\s+hint\s*$/m, '--verbose: a hint column');
like($out, qr/Remove the suppression, or correct the rule id/, '--verbose: the hint');

($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, '--json', 'lint');
my $doc = eval { JSON::PP->new->decode($out) };
ok(defined $doc, '--json: one document');
is(scalar @{ $doc->{findings} // [] }, 1, '--json: one finding');
my $f = $doc->{findings}[0] // {};
is_deeply(
	[ @$f{qw(file version statement line severity rule)} ],
	[ '2__notes.up.sql', '2', 0, 1, 'warning', 'unused-suppression' ],
	'--json: file, version, statement and line (numbers), severity, rule');
like($f->{hint} // '', qr/Remove the suppression/, '--json: the hint');
is($doc->{files}, 2, '--json: the number of files');
is_deeply($doc->{severities}, { error => 0, warning => 1, info => 0 },
	'--json: the counts by severity');

# FILE arguments: a file of the directory as the layout reads it
($rc, $out, $err) = lint("$dir/2__notes.up.sql");
like($out, qr/^1 file linted: 0 errors, 1 warning, 0 info$/m, 'FILE: only that file');
like($out, qr/^ 2__notes\.up\.sql \|/m, 'FILE: named as in the directory');

# a suppression before a statement, and the same statement without one
write_file("$outside/suppressed.sql",
	"CREATE TABLE tmp (id bigint);\n-- \@lint-ignore: ban-drop-table\nDROP TABLE notes;\n");
write_file("$outside/unsuppressed.sql",
	"CREATE TABLE tmp (id bigint);\nDROP TABLE notes;\n");
SKIP:
{
	skip 'the server has no ban-drop-table yet', 4 unless rule_live('ban-drop-table');
	($rc, $out, $err) = lint('--fail-on', 'warning', "$outside/unsuppressed.sql");
	is($rc, 3, 'a DROP TABLE: exit 3 with --fail-on warning');
	like($out, qr/^ \S*unsuppressed\.sql \| +2 \| +2 \| warning +\| ban-drop-table \|/m,
		'a DROP TABLE: statement 2, line 2 of the file');
	($rc, $out, $err) = lint('--fail-on', 'warning', "$outside/suppressed.sql");
	is($rc, 0, '@lint-ignore before the statement: exit 0');
	like($out, qr/^1 file linted: no findings$/m, '@lint-ignore before the statement: silenced, and used');
}

# an error finding fails under the default --fail-on
write_file("$outside/drop_db.sql", "DROP DATABASE legacy;\n");
SKIP:
{
	skip 'the server has no ban-drop-database yet', 2 unless rule_live('ban-drop-database');
	($rc, $out, $err) = lint("$outside/drop_db.sql");
	is($rc, 3, 'an error finding: exit 3 under the default --fail-on');
	like($out, qr/\| error +\| ban-drop-database \|/m, 'an error finding: listed');
}

# a file the server cannot parse fails alone; the others are still linted
write_file("$outside/broken.sql", "CREATE TABLE broken (id bigint;\n");
($rc, $out, $err) = lint("$outside/broken.sql", "$dir/2__notes.up.sql");
is($rc, 1, 'a file that does not parse: exit 1');
like($err, qr/could not lint \S*broken\.sql/, 'the file is named');
like($err, qr/syntax error/, 'with the server\'s error');
like($out, qr/^ 2__notes\.up\.sql \| +0 \| +1 \| warning/m, 'the other file is linted');

($rc, $out, $err) = lint("$outside/no_such_file.sql");
is($rc, 1, 'a file that does not exist: exit 1');
like($err, qr/no_such_file\.sql/, 'a file that does not exist: named');

# usage errors
($rc, $out, $err) = lint('--fail-on', 'fatal');
is($rc, 2, '--fail-on fatal: exit 2');
like($err, qr/invalid value for --fail-on/, '--fail-on fatal: the message');
($rc, $out, $err) = pgm($node, 'shop', 'status', '--fail-on', 'warning');
is($rc, 2, '--fail-on with status: exit 2');

# one round trip: each script linted once, the other queries independent
# of the number of files (the calls are pipelined: see bin/lint.c)
$node->safe_psql('postgres', q{ALTER DATABASE shop SET log_statement = 'all'});
for my $n (3 .. 12)
{
	write_file("$dir/${n}__t$n.up.sql", "CREATE TABLE t$n (id bigint PRIMARY KEY);\n");
}
my $count_queries = sub {
	my $offset = -s $node->logfile;
	my ($rc) = lint(@_);
	my $log = slurp_file($node->logfile, $offset);
	my $lints = () = $log =~ /(?:statement|execute [^:]*): [^\n]*migrate\.lint\(\$1\)/g;
	my $all   = () = $log =~ /(?:statement|execute [^:]*): /g;
	return ($rc, $lints, $all - $lints);
};
my ($rc12, $lints12, $other12) = $count_queries->();
is($rc12, 0, '12 files: exit 0');
is($lints12, 12, '12 files: each linted once');
unlink "$dir/$_" for map { "${_}__t$_.up.sql" } 3 .. 12;
my ($rc2, $lints2, $other2) = $count_queries->();
is($lints2, 2, '2 files: each linted once');
is($other12, $other2, 'the other queries do not grow with the number of files');
$node->safe_psql('postgres', q{ALTER DATABASE shop RESET log_statement});

# plan and status: the columns of issue 12 where the server has them
my $has_column = sub {
	my ($rel, $col) = @_;
	return psql_value($node, 'shop',
		"SELECT count(*) = 1 FROM pg_attribute WHERE attrelid = to_regclass('$rel') AND attname = '$col' AND NOT attisdropped"
	) eq 't';
};
my $plan_has = psql_value($node, 'shop',
	"SELECT 'derived_risk' = ANY (proargnames) FROM pg_proc WHERE oid = to_regprocedure('migrate.plan(text)')"
) eq 't';
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, 'plan');
is($rc, 0, 'plan: exit 0');
if ($plan_has)
{
	like($out, qr/^ # \| version \| .*\| derived_risk \|/m, 'plan: a derived_risk column');
}
else
{
	unlike($out, qr/derived_risk/, 'plan: no derived_risk on a server without it');
}
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, 'up');
is($rc, 0, 'up: exit 0');
($rc, $out, $err) = pgm($node, 'shop', '--dir', $dir, 'status');
is($rc, 0, 'status: exit 0');
is($err, '', 'status: nothing on stderr');
if ($has_column->('migrate.status', 'findings'))
{
	like($out, qr/^ version \| .*\| findings\s+\|/m, 'status: a findings column');
	like($out, qr/^ 2 +\| notes .*\| [^|]*warning/m, 'status: the findings of 2');
}
else
{
	unlike($out, qr/findings/, 'status: no findings column on a server without it');
}

done_testing();
