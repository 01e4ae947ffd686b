
# Copyright (c) 2026, the migrate authors

# --jobs is capped by the open-file limit: with ulimit -n 40 and --jobs
# 1000, sixty runs against one database all succeed (the parent holds two
# temporary files per running job), and --verbose says why fewer ran at a
# time.

use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use IPC::Run;
use PgMigrateTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = start_node('limits');
create_db($node, 'shared');

my @d = map { ('-d', $node->connstr('shared')) } 1 .. 60;
my ($in, $out, $err) = ('', '', '');
{
	local %ENV = %ENV;
	$ENV{PGHOST} = $node->host;
	$ENV{PGPORT} = $node->port;
	IPC::Run::run(
		[ 'sh', '-c', 'ulimit -n 40 && exec pg_migrate "$@"', 'sh',
			'--verbose', '--jobs', '1000', @d, 'history' ],
		'<', \$in, '>', \$out, '2>', \$err);
}
is($? >> 8, 0, 'sixty databases, --jobs 1000, ulimit -n 40: exit 0');
unlike($err, qr/Too many open files|could not create a temporary file/,
	'no database failed for lack of descriptors');
my $ok = () = $out =~ /^==> .*: ok /mg;
is($ok, 60, 'all sixty ran');
like($err, qr/open-file limit \(ulimit -n\) is 40/, '--verbose says why fewer ran at a time');

$node->stop;
done_testing();
