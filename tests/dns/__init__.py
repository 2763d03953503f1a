"""Tests of the DNS checker (core/dns and the check CLI) against real loopback servers."""
