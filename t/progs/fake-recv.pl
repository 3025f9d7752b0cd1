#!/usr/bin/perl
# fake-recv.pl DIR: a stand-in for pp-recv under inetd, for pp-push's
# tests of what it does with each kind of answer.  Serves one HTTP request
# on stdin/stdout.  Request N (1, 2, ...) is kept as DIR/req.N.head and
# DIR/req.N.body, and one line "N METHOD PATH NAME..." (the bundle's
# members, MANIFEST excepted) is added to DIR/requests.  The first line of
# DIR/mode chooses the answer:
#
#	ack		200, every member stored
#	ack-dup		200, every member stored, "duplicate": true
#	ack-first	200, only the first member acknowledged
#	ack-badsha	200, every member acknowledged with a wrong sha256
#	refuse REGEX	422 refusing the members whose names match REGEX;
#			when none match, as ack
#	max N		413 when the bundle has more than N members, else ack
#	status N	answer N with {"error":"fake error N"}
#	garbage		200 with a body that is not JSON
#	cut N		the answer of "status N" (of "ack" for 200), closed
#			half-way through its body
#	cut-head	the answer of "ack", closed half-way through its
#			headers
#	silent N	no answer: the connection stays open and silent
#			until the client closes it, or N seconds
#
# Whatever the mode, a bundle whose MANIFEST does not list exactly its
# members with their SHA-256 is answered 400.
use strict;
use warnings;
use Archive::Tar;
use Digest::SHA qw(sha256_hex);
use JSON::PP;

my $dir = shift or die "usage: fake-recv.pl DIR\n";
binmode STDIN;
binmode STDOUT;
$| = 1;

my $cut = '';	# where to close the connection: '', 'body' or 'head'

sub answer {
	my ($status, $body) = @_;
	my %reason = (200 => 'OK', 400 => 'Bad Request',
	    401 => 'Unauthorized', 404 => 'Not Found', 413 => 'Payload Too Large',
	    422 => 'Unprocessable Entity', 500 => 'Internal Server Error',
	    503 => 'Service Unavailable', 507 => 'Insufficient Storage');
	my $head = sprintf "HTTP/1.1 %d %s\r\nContent-Type: application/json" .
	    "\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
	    $status, $reason{$status} // 'Status', length($body);
	if ($cut eq 'head') {
		print substr($head, 0, length($head) / 2);
	} elsif ($cut eq 'body') {
		print $head, substr($body, 0, length($body) / 2);
	} else {
		print $head, $body;
	}
	exit 0;
}

# The request.
my ($head, $line) = ('', '');
while (defined($line = <STDIN>)) {
	$head .= $line;
	last if $line =~ /^\r?\n$/;
}
my ($method, $path) = $head =~ /^(\S+) (\S+)/ or exit 0;
my ($clen) = $head =~ /^content-length:\s*(\d+)/mi;
my $body = '';
if (defined $clen) {
	while (length($body) < $clen) {
		my $n = read(STDIN, $body, $clen - length($body), length($body));
		last unless $n;
	}
}

# Its number.
open(my $lock, '>>', "$dir/lock") or die;
flock($lock, 2);
my $n = 1;
if (open(my $c, '<', "$dir/count")) { $n = <$c> + 1; close $c }
open(my $c, '>', "$dir/count") or die; print $c "$n\n"; close $c;
open(my $h, '>', "$dir/req.$n.head") or die; print $h $head; close $h;
open(my $b, '>', "$dir/req.$n.body") or die; binmode $b; print $b $body;
close $b;

# The bundle.
my $tar = Archive::Tar->new;
open(my $fh, '<', \$body) or die;
my @members;
my $manifest;
if (length($body) && $tar->read($fh)) {
	for my $f ($tar->get_files) {
		if ($f->name eq 'MANIFEST') {
			$manifest = eval { decode_json($f->get_content) };
		} else {
			push @members, { name => $f->name,
			    sha256 => sha256_hex($f->get_content) };
		}
	}
}
open(my $r, '>>', "$dir/requests") or die;
print $r join(' ', $n, $method, $path, map { $_->{name} } @members), "\n";
close $r;
flock($lock, 8);

my $mode = '';
if (open(my $m, '<', "$dir/mode")) { $mode = <$m> // ''; chomp $mode }
if ($mode =~ /^silent (\d+)$/) {
	# Until the client gives up (closes: readable) or N seconds pass.
	my $rin = '';
	vec($rin, fileno(STDIN), 1) = 1;
	select($rin, undef, undef, $1);
	exit 0;
}
if ($mode =~ /^cut (\d+)$/) {
	$cut = 'body';
	$mode = $1 == 200 ? 'ack' : "status $1";
} elsif ($mode eq 'cut-head') {
	$cut = 'head';
	$mode = 'ack';
}

# The manifest must describe the members exactly.
my @listed = ref($manifest) eq 'HASH' && ref($manifest->{profiles}) eq 'ARRAY'
    ? @{$manifest->{profiles}} : ();
my $expect = join(',', map { "$_->{name}=$_->{sha256}" } @members);
my $got = join(',', map { ($_->{name} // '') . '=' . ($_->{sha256} // '') }
    @listed);
answer(400, encode_json({ error => "manifest does not match: $got" }))
    if !@members || $got ne $expect;

my $json = JSON::PP->new->canonical;
sub stored {
	my ($dup, $badsha, @ms) = @_;
	my $i = 0;
	return [ map { { name => $_->{name},
	    id => sprintf('%016x', 0xabc000 + $i++),
	    sha256 => $badsha ? '0' x 64 : $_->{sha256},
	    duplicate => $dup ? JSON::PP::true : JSON::PP::false } } @ms ];
}
if ($mode =~ /^refuse (.*)/) {
	my $re = qr/$1/;
	my @bad = grep { $_->{name} =~ $re } @members;
	answer(422, $json->encode({ error => 'some profiles were refused',
	    stored => [], refused => [ map { { name => $_->{name},
	    error => 'fake refusal' } } @bad ] })) if @bad;
	$mode = 'ack';
}
if ($mode =~ /^max (\d+)/) {
	answer(413, $json->encode({ error => 'bundle too large' }))
	    if @members > $1;
	$mode = 'ack';
}
answer($1, $json->encode({ error => "fake error $1" }))
    if $mode =~ /^status (\d+)/;
answer(200, "<html>not json</html>") if $mode eq 'garbage';
answer(200, $json->encode({ stored => stored(0, 0, $members[0]),
    refused => [] })) if $mode eq 'ack-first';
answer(200, $json->encode({ stored => stored($mode eq 'ack-dup',
    $mode eq 'ack-badsha', @members), refused => [] }));
