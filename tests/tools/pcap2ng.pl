#!/usr/bin/perl
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# pcap2ng.pl IN.pcap OUT.pcapng [--big-endian]: rewrites a pcap as pcapng
# (section header, one interface, enhanced packet blocks, in the byte order
# asked for), so the tests can replay pcapng without wireshark's editcap.
use strict;
use warnings;

my ($in, $out, $opt) = @ARGV;
die "usage: pcap2ng.pl IN.pcap OUT.pcapng [--big-endian]\n" unless $in && $out;
my $be = defined $opt && $opt eq '--big-endian';
my ($l, $s) = $be ? ('N', 'n') : ('V', 'v');	# 32- and 16-bit in that order

open(my $fi, '<:raw', $in) or die "$in: $!\n";
open(my $fo, '>:raw', $out) or die "$out: $!\n";
read($fi, my $gh, 24) == 24 or die "$in: no pcap header\n";
my $magic = unpack('V', $gh);
my $r = $magic == 0xa1b2c3d4 || $magic == 0xa1b23c4d ? 'V'
      : unpack('N', $gh) == 0xa1b2c3d4 || unpack('N', $gh) == 0xa1b23c4d ? 'N'
      : die "$in: not a pcap file\n";
my $nsec = unpack($r, $gh) == 0xa1b23c4d;
my ($snap, $link) = unpack("x16 $r $r", $gh);

sub block {	# type, body: padded to 4, total length before and after
	my ($type, $body) = @_;
	$body .= "\0" x ((4 - length($body) % 4) % 4);
	my $len = length($body) + 12;
	print $fo pack("$l$l", $type, $len), $body, pack($l, $len);
}
block(0x0A0D0D0A, pack("$l${s}${s}", 0x1A2B3C4D, 1, 0) . pack($l, 0xFFFFFFFF) x 2);
block(1, pack("${s}${s}$l", $link & 0xFFFF, 0, $snap));
while (read($fi, my $rh, 16) == 16) {
	my ($sec, $frac, $cap, $wire) = unpack("$r$r$r$r", $rh);
	read($fi, my $data, $cap) == $cap or die "$in: truncated record\n";
	my $ts = $sec * 1000000 + ($nsec ? int($frac / 1000) : $frac);
	block(6, pack("$l$l$l$l$l", 0, int($ts / 2**32), $ts % 2**32, $cap, $wire) . $data);
}
close($fo) or die "$out: $!\n";
