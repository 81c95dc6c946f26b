#!/bin/sh
# Write the htpasswd file from the environment, then serve. The password never
# reaches a command line: htpasswd reads it from stdin (-i).
set -eu
: "${REGISTRY_USERNAME:?set REGISTRY_USERNAME}"
: "${REGISTRY_PASSWORD:?set REGISTRY_PASSWORD}"
mkdir -p /run/registry
umask 077
printf '%s\n' "$REGISTRY_PASSWORD" | htpasswd -iBc /run/registry/htpasswd "$REGISTRY_USERNAME" 2>/dev/null
unset REGISTRY_PASSWORD
exec docker-registry serve /etc/docker/registry/config.yml
