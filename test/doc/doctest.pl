#!/usr/bin/perl
# test/doc/doctest.pl: the two halves of test/doc/run.sh (see the convention
# there), in perl so that CI needs nothing beyond bash, perl and psql.
#
#   perl doctest.pl extract DOC DIR   write DIR/script.sql (the blocks, each
#                                     after a marker line), DIR/manifest (one
#                                     line per block: number, kind, line in
#                                     DOC, whether it has expected output),
#                                     DIR/expected.N and DIR/roles
#   perl doctest.pl compare DOC DIR   split DIR/output at the markers and
#                                     compare each block with DIR/expected.N
#                                     after normalising both; exit 1 on a
#                                     difference or an unexpected ERROR
use strict;
use warnings;

my $MARK = '@@doctest-block';
my $END  = '@@doctest-end@@';

my ($mode, $doc, $dir) = @ARGV;
die "usage: doctest.pl extract|compare DOC DIR\n" unless $mode && $doc && $dir;
exit($mode eq 'extract' ? extract() : $mode eq 'compare' ? compare() : 2);

sub slurp {
    my ($path) = @_;
    open(my $fh, '<', $path) or die "cannot read $path: $!\n";
    local $/;
    my $text = <$fh>;
    close $fh;
    return $text;
}

sub spew {
    my ($path, $text) = @_;
    open(my $fh, '>', $path) or die "cannot write $path: $!\n";
    print $fh $text;
    close $fh;
}

# ---------------------------------------------------------------------------
# extract
# ---------------------------------------------------------------------------
sub extract {
    my @lines = split /\n/, slurp($doc), -1;
    my @blocks;            # { kind => sql|hidden, line => n, text => ..., expected => ... }
    my $awaiting = undef;  # the sql block a ```text block right now would belong to
    my $errors = 0;

    for (my $i = 0; $i < @lines; $i++) {
        my $line = $lines[$i];
        my $lineno = $i + 1;
        if ($line =~ /^(\s*)(`{3,})\s*(\w*)\s*$/) {
            my ($indent, $fence, $lang) = ($1, $2, $3);
            my @body;
            my $j = $i + 1;
            for (; $j < @lines; $j++) {
                last if $lines[$j] =~ /^\s*\Q$fence\E\s*$/;
                (my $l = $lines[$j]) =~ s/^\Q$indent\E//;
                push @body, $l;
            }
            if ($j >= @lines) {
                warn "$doc:$lineno: the $fence$lang fence is never closed\n";
                return 1;
            }
            $i = $j;
            if ($lang eq 'sql') {
                my $block = { kind => 'sql', line => $lineno, text => join("\n", @body) . "\n" };
                $errors += check_terminated($block);
                push @blocks, $block;
                $awaiting = $block;
                next;
            }
            if ($lang eq 'text' && $awaiting) {
                $awaiting->{expected} = join("\n", @body) . "\n";
            }
            $awaiting = undef;
            next;
        }
        if ($line =~ /^\s*<!--\s*doctest:(.*)$/) {
            my $rest = $1;
            my @body;
            my $start = $lineno;
            while ($rest !~ /-->/) {
                push @body, $rest;
                $i++;
                if ($i >= @lines) {
                    warn "$doc:$start: the doctest comment is never closed (-->)\n";
                    return 1;
                }
                $rest = $lines[$i];
            }
            $rest =~ s/-->.*$//;
            push @body, $rest;
            push @blocks, { kind => 'hidden', line => $start, text => join("\n", @body) . "\n" };
            $awaiting = undef;
            next;
        }
        $awaiting = undef if $line =~ /\S/;
    }

    my $script = '';
    my $manifest = '';
    my %roles;
    for my $n (1 .. @blocks) {
        my $b = $blocks[$n - 1];
        $script .= "\\echo '$MARK $n\@\@'\n" . $b->{text};
        $manifest .= join("\t", $n, $b->{kind}, $b->{line}, defined $b->{expected} ? 1 : 0) . "\n";
        spew("$dir/expected.$n", $b->{expected}) if defined $b->{expected};
        while ($b->{text} =~ /\bCREATE\s+(?:ROLE|USER)\s+("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_\$]*)/gi) {
            my $role = $1;
            if ($role =~ s/^"(.*)"$/$1/s) {
                $role =~ s/""/"/g;
            } else {
                $role = lc $role;
            }
            $roles{$role} = 1 unless $role =~ /^migrate_(admin|reader)$/;
        }
    }
    $script .= "\\echo '$END'\n";
    spew("$dir/script.sql", $script);
    spew("$dir/manifest", $manifest);
    spew("$dir/roles", join('', map { "$_\n" } sort keys %roles));
    return $errors ? 1 : 0;
}

# A block must end its last statement, or the next block's SQL would be
# appended to it (and the marker line between them would not separate them).
sub check_terminated {
    my ($block) = @_;
    my @l = grep { /\S/ && !/^\s*--/ } split /\n/, $block->{text};
    return 0 unless @l;    # nothing but comments
    my $last = $l[-1];
    return 0 if $last =~ /;\s*(--.*)?$/ || $last =~ /\\\w+/;
    warn "$doc:$block->{line}: the sql block does not end with a semicolon or a psql meta-command\n";
    return 1;
}

# ---------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------
sub compare {
    my @manifest = map { [split /\t/] } grep { /\S/ } split /\n/, slurp("$dir/manifest");
    my %out;
    my $current;
    my $ended = 0;
    for my $line (split /\n/, slurp("$dir/output")) {
        if ($line =~ /^\Q$MARK\E (\d+)\@\@$/) {
            $current = $1;
            $out{$current} = '';
            next;
        }
        if ($line eq $END) {
            $ended = 1;
            $current = undef;
            next;
        }
        $out{$current} .= "$line\n" if defined $current;
    }
    my $failed = 0;
    unless ($ended) {
        print "$doc: psql stopped before the end of the document; its output:\n", slurp("$dir/output");
        return 1;
    }
    my $compared = 0;
    for my $m (@manifest) {
        my ($n, $kind, $line, $has_expected) = @$m;
        my $actual = $out{$n} // '';
        my $where = $kind eq 'hidden' ? "$doc:$line (doctest comment)" : "$doc:$line";
        if ($ENV{DOCTEST_VERBOSE}) {
            print "---- $where ----\n$actual";
        }
        if ($has_expected) {
            $compared++;
            my $want = normalise(slurp("$dir/expected.$n"));
            my $got = normalise($actual);
            next if $want eq $got;
            spew("$dir/want.$n", $want);
            spew("$dir/got.$n", $got);
            print "---- $where: the output differs (normalised) ----\n";
            system('diff', '-u', '--label', "$where (document)", '--label', 'psql output',
                   "$dir/want.$n", "$dir/got.$n");
            print "---- the output of $where as psql printed it ----\n$actual";
            $failed = 1;
        } elsif ($actual =~ /^(ERROR|FATAL|PANIC):/m) {
            print "---- $where: an ERROR, and no ```text block shows it ----\n$actual";
            $failed = 1;
        }
    }
    print "$doc: $compared outputs compared\n";
    return $failed;
}

# What may differ between two runs (times, pids, column widths) is made
# equal; everything else must match.
sub normalise {
    my ($text) = @_;
    my @lines = split /\n/, $text;
    mask_pid_columns(\@lines);
    for (@lines) {
        s/\s+$//;
        # timestamps and dates with a time: 2026-11-30 21:05:03.123456+00
        s/\b\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:[+-]\d\d(?::\d\d)?|Z)?(?![\d:])/<timestamp>/g;
        # times and intervals: 00:00:00.041, 1 day 02:00:00, -00:00:01
        s/(?<![\d:<])-?(?:\d+ days? )?\d\d:\d\d:\d\d(?:\.\d+)?(?![\d:])/<interval>/g;
        # durations in messages: 41 ms, 1.234 s
        s/(?<![\w.])\d+(?:\.\d+)? ?(?:ms|s)\b/<duration>/g;
        # database names in messages: each document runs in a database of its own
        s/\bdatabase "[^"]*"/database <name>/g;
        # process ids named in messages
        s/\b(process|pid|PID) \d+\b/$1 <pid>/g;
        # column widths: a table rule, then runs of blanks
        if (/^-+(?:\+-+)*$/) {
            s/-+/-/g;
        } elsif (/^-\[ RECORD (\d+) \][-+]*$/) {
            $_ = "-[ RECORD $1 ]";
        }
        s/[ \t]+/ /g;
    }
    shift @lines while @lines && $lines[0] eq '';
    pop @lines while @lines && $lines[-1] eq '';
    return join("\n", @lines) . "\n";
}

sub is_pid_column {
    my ($name) = @_;
    return $name =~ /^(?:pid|\w+_pid|blocked_by|pids)$/;
}

# Cells of pid columns, in aligned tables (header, rule, rows) and in
# expanded records ("name | value"), become <pid>.
sub mask_pid_columns {
    my ($lines) = @_;
    my @pidcols;    # column indexes of the current aligned table
    my $expanded = 0;
    for (my $i = 0; $i < @$lines; $i++) {
        my $l = $lines->[$i];
        if ($l =~ /^-+(?:\+-+)*\s*$/ && $i > 0) {
            my @names = map { s/^\s+|\s+$//gr } split /\|/, $lines->[$i - 1], -1;
            @pidcols = grep { is_pid_column($names[$_]) } 0 .. $#names;
            $expanded = 0;
            next;
        }
        if ($l =~ /^-\[ RECORD \d+ \]/) {
            $expanded = 1;
            @pidcols = ();
            next;
        }
        if ($l =~ /^\(\d+ rows?\)$/ || $l !~ /\S/) {
            @pidcols = ();
            $expanded = 0 if $l !~ /\S/;
            next;
        }
        if ($expanded && $l =~ /^(\w+)(\s*\|\s?)(.*)$/ && is_pid_column($1)) {
            $lines->[$i] = $3 eq '' ? $l : "$1$2<pid>";
            next;
        }
        if (@pidcols) {
            my @cells = split /\|/, $l, -1;
            for my $c (@pidcols) {
                next unless defined $cells[$c] && $cells[$c] =~ /\S/;
                $cells[$c] = ' <pid> ';
            }
            $lines->[$i] = join('|', @cells);
        }
    }
}
