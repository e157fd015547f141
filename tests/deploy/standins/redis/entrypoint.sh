#!/bin/sh
# The official image is built with protected mode off, so a password-less server answers the compose network.
set -eu
if [ "${1:-}" != "redis-server" ]; then
  exec "$@"
fi
shift
chown redis:redis /data
exec setpriv --reuid=redis --regid=redis --init-groups redis-server --protected-mode no "$@"
