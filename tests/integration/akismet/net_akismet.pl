#!/usr/bin/perl
# Drives Debian's Net::Akismet (libnet-akismet-perl) against greyflux. The module always talks
# to http://<key>.rest.akismet.com/, so greyflux is reached as its HTTP proxy: the caller sets
# http_proxy=http://127.0.0.1:PORT and PERL_LWP_ENV_PROXY=1. Prints key=value lines.
# Usage: net_akismet.pl KEY BADKEY
use strict;
use warnings;
use Net::Akismet;

my ($key, $bad) = @ARGV;
my %ham = (
  USER_IP => '192.0.2.20',
  COMMENT_USER_AGENT => 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
  REFERRER => 'https://blog.example/2026/bread',
  PERMALINK => 'https://blog.example/2026/bread',
  COMMENT_TYPE => 'comment',
  COMMENT_AUTHOR => 'Ann Baker',
  COMMENT_AUTHOR_EMAIL => 'ann@example.org',
  COMMENT_CONTENT => 'Lovely loaf; the crumb was soft and even with half rye flour.',
);
my %spam = (%ham, COMMENT_AUTHOR => 'viagra-test-123', USER_IP => '198.51.100.8');
my %reported = (%ham, USER_IP => '203.0.113.98', COMMENT_AUTHOR => 'Cheap Pills',
  COMMENT_AUTHOR_EMAIL => 'perlseller@pills.example',
  COMMENT_CONTENT => 'Best prices on pills at our shop, buy now and save a lot: perl');

my $ak = Net::Akismet->new(KEY => $key, URL => 'https://blog.example');
print 'verify_valid=', ($ak ? 'true' : 'false'), "\n";
my $nope = Net::Akismet->new(KEY => $bad, URL => 'https://blog.example');
print 'verify_invalid=', ($nope ? 'true' : 'false'), "\n";
exit 1 unless $ak;
print 'check_spam=', ($ak->check(%spam) // 'undef'), "\n";
print 'check_ham=', ($ak->check(%ham) // 'undef'), "\n";
print 'submit_spam=', ($ak->spam(%reported) ? 'true' : 'false'), "\n";
print 'submit_ham=', ($ak->ham(%ham) ? 'true' : 'false'), "\n";
print 'check_reported=', ($ak->check(%reported) // 'undef'), "\n";
