#!/usr/bin/env bash
# Make a Docker engine answer on this machine, for the docker sandbox backend and its tests.
# Idempotent: installs docker.io (with its recommends: apparmor, cgroupfs-mount) and debootstrap
# (Debian/Ubuntu, as root) only if missing, starts
# dockerd only if no engine answers, then waits for it. Where that is impossible (not root, no
# apt-get, dockerd will not start) it says why and exits 0, so `make test` still runs and the
# docker tests skip with a reason; AGENTGYM_REQUIRE_DOCKER=1 (CI) makes those cases fail instead.
# AGENTGYM_NO_DOCKER=1 skips everything.
set -uo pipefail

SOCK="${DOCKER_HOST:-}"; SOCK="${SOCK#unix://}"
[ -n "${DOCKER_HOST:-}" ] || SOCK=/var/run/docker.sock
LOG=/var/log/agentgym-dockerd.log
WAIT_S="${AGENTGYM_DOCKERD_WAIT:-60}"

give_up() {
    echo "docker-engine.sh: $1; docker sandbox tests will be skipped" >&2
    [ "${AGENTGYM_REQUIRE_DOCKER:-0}" = 1 ] && exit 1
    exit 0
}

answers() {
    # GET /_ping on the unix socket; curl is not always there, python3 is.
    python3 - "$SOCK" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
sys.exit(0 if b" 200 " in s.recv(256).split(b"\r\n")[0] + b" " else 1)
EOF
}

[ "${AGENTGYM_NO_DOCKER:-0}" = 1 ] && { echo "docker-engine.sh: AGENTGYM_NO_DOCKER=1, skipping" >&2; exit 0; }
if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST#unix://}" = "$DOCKER_HOST" ]; then
    echo "docker-engine.sh: DOCKER_HOST=$DOCKER_HOST is not a unix socket; using it as is" >&2
    exit 0
fi

need=()
command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ] || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
if answers && [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    answers && { echo "docker-engine.sh: engine answers; ${need[*]} missing (needs root to install)" >&2; exit 0; }
    give_up "no Docker engine answers at $SOCK and this is not root"
fi
if [ ${#need[@]} -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || give_up "apt-get not found to install ${need[*]}"
    echo "docker-engine.sh: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 install -y -q "${need[@]}" >/dev/null \
        || { apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null \
             && apt-get -o DPkg::Lock::Timeout=300 install -y -q "${need[@]}" >/dev/null; } \
        || give_up "apt-get install ${need[*]} failed"
fi
answers && exit 0

if ! { [ -f /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; }; then
    echo "docker-engine.sh: starting dockerd (log: $LOG)" >&2
    args=()
    [ "$SOCK" = /var/run/docker.sock ] || args=(-H "unix://$SOCK")
    setsid nohup dockerd "${args[@]}" >>"$LOG" 2>&1 </dev/null &
fi
for _ in $(seq 1 $((WAIT_S * 4))); do
    answers && { echo "docker-engine.sh: engine answers at $SOCK" >&2; exit 0; }
    sleep 0.25
done
tail -n 15 "$LOG" >&2 2>/dev/null
give_up "dockerd did not answer at $SOCK within ${WAIT_S}s"
