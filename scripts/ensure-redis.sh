#!/usr/bin/env bash
# Makes sure redis-server, redis-sentinel and redis-cli are installed: apt-get when root on Debian/Ubuntu,
# otherwise one line saying how. Exit 2 when they are missing and cannot be installed.
set -eu
have() { command -v redis-server >/dev/null && command -v redis-sentinel >/dev/null && command -v redis-cli >/dev/null; }
have && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing redis-server redis-sentinel redis-tools with apt-get ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq redis-server redis-sentinel redis-tools >/dev/null
  # The package may start a system Redis on 127.0.0.1:6379; the sandbox never uses that address, so it is left alone.
  have && exit 0
fi
echo "error: redis-server/redis-sentinel not found; install them (Debian/Ubuntu: sudo apt-get install redis-server redis-sentinel redis-tools; macOS: brew install redis)" >&2
exit 2
