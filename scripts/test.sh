#!/usr/bin/env bash
# Set up everything the tests need (apt: redis-server, kamailio; pip: kscript with
# its test extra) and run the test suite. The README's second command; CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
need=()
for pkg in redis-server redis-sentinel redis-tools kamailio kamailio-redis-modules kamailio-extra-modules \
           kamailio-utils-modules tmux openssl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi
# Debian starts packaged services on install; the tests start their own on free ports.
for svc in redis-server kamailio; do
  $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
python3 -m pip install -q --disable-pip-version-check -e ".[test]"
# The examples are part of the suite: their scenarios run under pytest (the plugin
# collects *.kst.yaml) and under `kscript test`.
kscript test examples/
python3 -m pytest -q -p no:cacheprovider tests examples "$@"
