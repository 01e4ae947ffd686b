
# Copyright (c) 2026, the migrate authors

# pg_migrate new in each layout: it writes an up and a down file (a Diesel
# directory, a dbmate file with both sections, a sqitch.plan line and its
# deploy/revert/verify scripts) with a filled-in metadata header, "files"
# then lists one migration more, and up deploys them all.

use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgMigrateTest;
use File::Find;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('newfile');

sub tree
{
	my ($dir) = @_;
	my %f;
	find(sub { $f{$File::Find::name} = -s $_ if -f $_ }, $dir);
	return \%f;
}

{
	local $TODO = todo_unless('new', $node) // todo_unless('layouts', $node);
	for my $layout (sort keys %{ LAYOUTS() })
	{
		my $dir    = fixture("layouts/$layout");
		my $before = tree($dir);
		my ($rc, $out, $err) = pgm(undef, undef, '--dir', $dir, 'new',
			'add user preferences table', '--risk-level', 'low', '--zero-downtime',
			'--estimated-duration', '30 seconds');
		is($rc, 0, "$layout: new exits 0") or diag($err);
		my $after = tree($dir);
		my @added = grep { !exists $before->{$_} } sort keys %$after;
		my @changed = grep { exists $before->{$_} && $before->{$_} != $after->{$_} } sort keys %$after;
		note("$layout: new wrote @added, changed @changed");
		cmp_ok(scalar(@added), '>=', 1, "$layout: new wrote files");
		my ($up) = grep { is_up_file($_) } @added;
		ok(defined $up, "$layout: an up file named after the description") or next;
		my $text = slurp($up);
		like($text, qr/\@risk-level:\s*low/, "$layout: the header has \@risk-level: low");
		like($text, qr/\@zero-downtime:\s*true/, "$layout: the header has \@zero-downtime: true");
		like($text, qr/\@estimated-duration:\s*30 seconds/, "$layout: the header has \@estimated-duration");
		# a down script: a file of its own, or dbmate's second section
		ok( (grep { $_ ne $up && m{(down|rollback|revert/|/U[0-9][^/]*)} } @added)
			  || ($layout eq 'dbmate' && $text =~ /^-- migrate:down/m),
			"$layout: a down script too");
		ok(grep({ /sqitch\.plan$/ } @changed), 'sqitch: the plan got a line') if $layout eq 'sqitch';

		($rc, $out, $err) = pgm(undef, undef, '--dir', $dir, 'files');
		is($rc, 0, "$layout: files reads the directory with the new migration");
		like($out, qr/preferences/, "$layout: files lists the new migration");

		my $db = "new_$layout";
		create_db($node, $db);
		($rc, $out, $err) = pgm($node, $db, '--dir', $dir, 'up');
		is($rc, 0, "$layout: up deploys the directory with the new migration");
		is(migration_count($node, $db, 'applied'), LAYOUTS()->{$layout}{count} + 1,
			"$layout: one migration more applied");
		is( psql_value($node, $db,
				"SELECT risk_level || ' ' || zero_downtime || ' ' || estimated_duration FROM migrate.migration WHERE name LIKE '%preferences%'"),
			'low true 00:00:30', "$layout: the server read the header of the new file");
	}

	# --depends-on (repeatable) in the project's own layout
	my $dir = fixture('layouts/native');
	my ($rc, $out, $err) = pgm(undef, undef, '--dir', $dir, 'new', 'add audit log',
		'--depends-on', '2', '--depends-on', '3');
	is($rc, 0, 'new --depends-on twice exits 0');
	my ($up) = glob("$dir/*audit_log*.up.sql");
	like(defined $up ? slurp($up) : '', qr/\@dependencies:\s*2,\s*3/, 'new --depends-on writes @dependencies: 2, 3');

	($rc, $out, $err) = pgm(undef, undef, '--dir', $dir, 'new');
	is($rc, 2, 'new without a description: exit 2');
	($rc, $out, $err) = pgm(undef, undef, '--dir', $dir, 'new', 'x', '--risk-level', 'extreme');
	isnt($rc, 0, 'new --risk-level extreme fails');
	like($err, qr/extreme|risk/, '... saying why');
}

$node->stop;
done_testing();

# the up script of the new migration (not its down, revert or verify script)
sub is_up_file
{
	my ($f) = @_;
	return 0 unless $f =~ /preferences/ && $f =~ /\.sql$/;
	return 0 if $f =~ m{/(revert|verify)/} || $f =~ m{(down|rollback)\.sql$} || $f =~ m{/U[0-9][^/]*$};
	return 1;
}

sub slurp
{
	my ($path) = @_;
	open my $fh, '<', $path or return '';
	local $/;
	return <$fh>;
}
