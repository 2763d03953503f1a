#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only when they are missing.
set -euo pipefail
need=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib libEGL.so.1 || need+=(libegl1)
have_lib libGL.so.1 || need+=(libgl1)
have_lib libxkbcommon.so.0 || need+=(libxkbcommon0)
have_lib libfontconfig.so.1 || need+=(libfontconfig1)
have_lib libdbus-1.so.3 || need+=(libdbus-1-3)
# Authoritative DNS server for tests/dns (started by a fixture on loopback).
command -v nsd >/dev/null 2>&1 || [ -x /usr/sbin/nsd ] || need+=(nsd)
# Validators for the desktop entry and the AppStream metainfo (tests/packaging).
command -v desktop-file-validate >/dev/null 2>&1 || need+=(desktop-file-utils)
command -v appstreamcli >/dev/null 2>&1 || need+=(appstream)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "missing system packages: ${need[*]} (run as root or install them)" >&2
    fi
fi
