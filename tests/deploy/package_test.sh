#!/usr/bin/env bash
# The Debian package as an operator meets it: cpack makes
# rexec_VERSION_amd64.deb from this build; a Debian 12 machine (the image's
# cached mmdebstrap base with systemd as its init, run by podman) installs
# it with apt, which brings the libraries it depends on; systemd then runs
# the unit: started by the package, ready when rexecd says so (Type=notify),
# a call through the default socket, reloaded, stopped with exit 0 after
# its drain even when a child ignores SIGTERM; rexecd.socket starts it on
# the first call and it serves that socket. The units pass
# systemd-analyze verify; `man -w` finds rexec(1) and rexecd(8); bash
# completes from the installed script; only the group rexec may use the
# socket; a purge leaves nothing.
#
#   package_test.sh SOURCE_DIR BUILD_DIR WORK_DIR IMAGE_CACHE
set -euo pipefail
src=$1 build=$2 work=$3
export REXEC_IMAGE_CACHE=$4
image() { bash "$src/deploy/image.sh" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
name=rexec-package-test-$$
cleanup() { podman rm -f -t 0 "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT

rm -rf "$work/pkg" && mkdir -p "$work/pkg"
(cd "$build" && cpack -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1) \
  || fail "cpack: $(tail -5 "$work/cpack.log")"
deb=$(ls "$work"/pkg/rexec_*_amd64.deb)
[ -n "$deb" ] || fail "no rexec_VERSION_amd64.deb in $work/pkg"

image base
image podman build --quiet --build-arg DEBIAN=localhost/debian:bookworm \
  -f "$src/tests/deploy/package_root.Containerfile" \
  -t localhost/rexec-package-root:latest "$src/tests/deploy" >/dev/null
image podman run -d --name "$name" --systemd=always \
  localhost/rexec-package-root:latest /lib/systemd/systemd >/dev/null
inside() { podman exec "$name" "$@"; }
# systemd up (degraded counts: a container lacks some of a machine's units).
for _ in $(seq 100); do
  state=$(inside systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 0.2
done
case "$state" in running|degraded) ;; *) fail "systemd did not start: $state" ;; esac

podman cp "$deb" "$name:/tmp/rexec.deb"
inside sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends /tmp/rexec.deb' \
  >"$work/apt.log" 2>&1 || fail "apt-get install: $(tail -5 "$work/apt.log")"

inside rexecd --version | grep -q "^rexecd 0\." || fail "rexecd --version"
# Started by the package; active only once rexecd said READY=1.
for _ in $(seq 100); do
  [ "$(inside systemctl is-active rexecd 2>/dev/null)" = active ] && break
  sleep 0.2
done
[ "$(inside systemctl is-active rexecd)" = active ] \
  || fail "the package did not start rexecd: $(inside journalctl -u rexecd --no-pager | tail -5)"
inside systemctl show -p StatusText --value rexecd | grep -qx "serving on unix:/run/rexec/rexecd.sock" \
  || fail "no status from rexecd: $(inside systemctl show -p StatusText rexecd)"
[ "$(inside systemctl is-enabled rexecd)" = enabled ] || fail "not enabled at boot"

[ "$(inside rexec spawn -- echo hello)" = hello ] || fail "a call through the default socket"
[ "$(inside stat -c '%a %U %G' /run/rexec/rexecd.sock)" = "660 root rexec" ] \
  || fail "the socket is $(inside stat -c '%a %U %G' /run/rexec/rexecd.sock)"
[ "$(inside stat -c '%a' /etc/rexec)" = 700 ] || fail "/etc/rexec is not 0700"
inside useradd --create-home alice
inside su alice -c 'rexec spawn -- true' >/dev/null 2>&1 \
  && fail "a user outside the group rexec used the socket"
inside usermod -aG rexec alice
[ "$(inside su alice -c 'rexec spawn -- id -un')" = root ] \
  || fail "a member of rexec could not use the socket"

inside systemctl reload rexecd || fail "reload: $(inside journalctl -u rexecd --no-pager | tail -5)"
inside systemctl show -p StatusText --value rexecd | grep -q "reloaded" \
  || fail "no reload said: $(inside systemctl show -p StatusText rexecd)"
inside systemd-analyze verify /lib/systemd/system/rexecd.service \
  || fail "systemd-analyze verify"
[ "$(inside man -w 1 rexec)" = /usr/share/man/man1/rexec.1.gz ] || fail "man 1 rexec"
[ "$(inside man -w rexec)" = /usr/share/man/man1/rexec.1.gz ] || fail "man rexec"
[ "$(inside man -w 8 rexecd)" = /usr/share/man/man8/rexecd.8.gz ] || fail "man 8 rexecd"
[ "$(inside bash -c 'source /usr/share/bash-completion/completions/rexec; COMP_WORDS=(rexec sp); COMP_CWORD=1; _rexec; echo "${COMPREPLY[*]}"')" = spawn ] \
  || fail "bash completion"
inside dpkg-query -W -f '${Conffiles}' rexec | grep -q /etc/rexec/rexecd.env \
  || fail "rexecd.env is not a conffile"

# A stop: SIGTERM to rexecd alone (KillMode=mixed), whose drain ends a
# child that ignores it, within the unit's TimeoutStopSec.
inside sh -c 'rexec spawn -- sh -c "trap \"\" TERM; exec sleep 300" >/dev/null 2>&1 &'
for _ in $(seq 50); do
  inside sh -c 'grep -qx sleep /proc/[0-9]*/comm' 2>/dev/null && break
  sleep 0.2
done
inside systemctl stop rexecd
[ "$(inside systemctl show -p Result --value rexecd)" = success ] \
  || fail "the stop: $(inside systemctl show -p Result -p ExecMainStatus rexecd)"
[ "$(inside systemctl show -p ExecMainStatus --value rexecd)" = 0 ] \
  || fail "rexecd exited $(inside systemctl show -p ExecMainStatus --value rexecd)"
inside sh -c 'grep -qx sleep /proc/[0-9]*/comm' 2>/dev/null \
  && fail "the child outlived the stop"

# Socket activation: rexecd.socket makes the socket (its mode and group),
# and the first call starts the service, which serves it.
inside systemctl disable --now rexecd.service >/dev/null 2>&1
inside systemctl enable --now rexecd.socket >/dev/null 2>&1 \
  || fail "rexecd.socket: $(inside systemctl status rexecd.socket --no-pager | tail -5)"
[ "$(inside systemctl is-active rexecd.service)" = inactive ] \
  || fail "rexecd runs before any call came"
[ "$(inside stat -c '%a %U %G' /run/rexec/rexecd.sock)" = "660 root rexec" ] \
  || fail "the activated socket is $(inside stat -c '%a %U %G' /run/rexec/rexecd.sock)"
[ "$(inside rexec spawn -- echo activated)" = activated ] \
  || fail "a call through the activated socket: $(inside journalctl -u rexecd --no-pager | tail -5)"
[ "$(inside systemctl is-active rexecd.service)" = active ] \
  || fail "the call did not start rexecd.service"
[ "$(inside rexec spawn -- sh -c 'echo "[$LISTEN_FDS]"')" = "[]" ] \
  || fail "a child inherited LISTEN_FDS"
inside systemctl stop rexecd.service
[ "$(inside rexec spawn -- echo again)" = again ] \
  || fail "the socket did not start rexecd again"
inside systemd-analyze verify /lib/systemd/system/rexecd.socket \
  || fail "systemd-analyze verify rexecd.socket"
inside systemctl stop rexecd.socket rexecd.service

inside sh -c 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq rexec' >/dev/null 2>&1 \
  || fail "purge"
inside test ! -e /etc/rexec || fail "/etc/rexec stays after a purge"
inside getent group rexec >/dev/null && fail "the group rexec stays after a purge"
inside test ! -e /lib/systemd/system/rexecd.service || fail "the unit stays"
inside test ! -e /lib/systemd/system/rexecd.socket || fail "the socket unit stays"
echo "package: ok"
