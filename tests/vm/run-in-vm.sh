#!/usr/bin/env bash
# Runs a command as root in a virtual machine booted with Debian's own
# kernel (linux-image-amd64) under qemu, with cgroup v2 alone and its
# memory, pids and cpu controllers given to the children of the root
# cgroup: what the cgroup tests need and this host's cgroups may lack.
#
#   run-in-vm.sh WORK_DIR DIR COMMAND [ARG...]
#
# The guest's root is this host's own, shared read-only over 9p under a
# tmpfs overlay, so the built binaries, the source tree and python3 are
# where they are here; COMMAND runs in DIR with a clean environment (pass
# variables with `env NAME=VALUE ...`). WORK_DIR is made afresh for the
# initramfs and the console log.
#
# Exits with COMMAND's code when it ran (1 if its output has a GoogleTest
# SKIPPED line: in the guest nothing may skip), 77 (ctest's SKIP) with the
# reason when this machine cannot boot the guest (no qemu, no kernel, no
# busybox, or no guest init within the boot deadline), 1 on anything else.
#
# REXEC_VM_ACCEL=tcg|kvm|auto (default auto): auto boots under KVM when
# /dev/kvm is usable and the guest's init starts within 20 s, else under
# TCG. On the machines this was written on, KVM does not work for a
# nested guest (qemu 7.2 aborts in kvm_buf_set_msrs; a guest has also been
# seen to hang after decompressing the kernel); TCG boots to init in 6 s
# and runs tests/e2e/cgroup_test.cc in about 40 s.
# REXEC_VM_TIMEOUT (seconds, default 240) bounds the whole run.
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: run-in-vm.sh WORK_DIR DIR COMMAND [ARG...]" >&2
  exit 2
fi
work=$1
dir=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
accel=${REXEC_VM_ACCEL:-auto}
timeout=${REXEC_VM_TIMEOUT:-240}
tcg_boot_deadline=90
kvm_boot_deadline=20

skip() {
  echo "rexec-vm: SKIPPED, cannot boot the test machine here: $*"
  exit 77
}

# ---- what the machine needs ------------------------------------------------

qemu=$(command -v qemu-system-x86_64 || true)
[ -n "$qemu" ] || skip "no qemu-system-x86_64 (Debian's qemu-system-x86)"
[ "$(uname -m)" = x86_64 ] || skip "the host is $(uname -m), not x86_64"
busybox=/bin/busybox
# ldd fails on a static binary; Debian's dynamic busybox could not run
# in an initramfs with no libc.
if ! [ -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  skip "no static $busybox (Debian's busybox-static)"
fi
# The newest of Debian's kernels whose modules are installed.
kernel=""
for candidate in $(find /boot -maxdepth 1 -name 'vmlinuz-*' | sort -V -r); do
  version=${candidate#/boot/vmlinuz-}
  if [ -f "/lib/modules/$version/modules.dep" ]; then
    kernel=$candidate
    break
  fi
done
[ -n "$kernel" ] ||
  skip "no kernel in /boot with its modules (Debian's linux-image-amd64)"
[ -r "$kernel" ] || skip "cannot read $kernel (Debian makes it readable by root only)"
modules_dir=/lib/modules/$version

# ---- the initramfs ---------------------------------------------------------

rm -rf "$work"
mkdir -p "$work/initramfs/bin" "$work/initramfs/modules" \
  "$work/initramfs/lane"
cp "$busybox" "$work/initramfs/bin/busybox"
cp "$here/init.sh" "$work/initramfs/init"
chmod 0755 "$work/initramfs/init"

# What the guest loads, in an order that satisfies modules.dep: virtio's
# PCI transport, 9p over it, and overlayfs (Debian builds all three as
# modules; the serial console, tmpfs, devtmpfs and the cgroup controllers
# are built in).
wanted=(virtio_pci 9pnet_virtio 9p overlay)
loaded=()
add_module() {  # MODULE_PATH (relative to $modules_dir)
  local path=$1 have dep
  for have in "${loaded[@]+"${loaded[@]}"}"; do
    [ "$have" = "$path" ] && return 0
  done
  local line
  line=$(grep "^$path:" "$modules_dir/modules.dep") || return 1
  for dep in ${line#*:}; do
    add_module "$dep" || return 1
  done
  loaded+=("$path")
}
for name in "${wanted[@]}"; do
  # modules.dep names files with - or _ as the module was named.
  path=$(grep -E "/(${name}|${name//_/-})\.ko(\.xz|\.zst)?:" \
    "$modules_dir/modules.dep" | head -1 | cut -d: -f1 || true)
  [ -n "$path" ] || skip "$modules_dir has no $name module"
  add_module "$path" || skip "cannot resolve the dependencies of $path"
done
: >"$work/initramfs/modules/order"
for path in "${loaded[@]}"; do
  file=$(basename "$path")
  case "$file" in
    *.ko.xz) xz -dc "$modules_dir/$path" >"$work/initramfs/modules/${file%.xz}" ;;
    *.ko.zst) zstd -qdc "$modules_dir/$path" >"$work/initramfs/modules/${file%.zst}" ;;
    *) cp "$modules_dir/$path" "$work/initramfs/modules/$file" ;;
  esac
  echo "${file%.ko*}.ko" >>"$work/initramfs/modules/order"
done

{
  printf 'cd %q || exit 1\n' "$dir"
  printf 'exec'
  printf ' %q' "$@"
  printf '\n'
} >"$work/initramfs/lane/run.sh"

(cd "$work/initramfs" && find . | "$busybox" cpio -o -H newc 2>/dev/null) \
  >"$work/initramfs.cpio"

# ---- the boot --------------------------------------------------------------

console=$work/console.log
qemu_pid=""
stop_qemu() {
  if [ -n "$qemu_pid" ]; then
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=""
  fi
}
trap stop_qemu EXIT
# Killed (ctest's timeout, a ^C): the EXIT trap still stops qemu.
trap 'exit 143' TERM INT

# Starts qemu in the background, its accelerator named `$1` (for its log,
# $work/qemu-$1.log) and "${@:2}" its options.
boot() {
  local name=$1
  shift
  : >"$console"
  # cgroup_no_v1=all: every controller is cgroup2's. panic=-1 with
  # -no-reboot: an init that dies ends qemu at once.
  "$qemu" "$@" -m 1536 -smp 2 -nodefaults -no-user-config -display none \
    -no-reboot -serial "file:$console" \
    -kernel "$kernel" -initrd "$work/initramfs.cpio" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1" \
    -virtfs local,path=/,mount_tag=rexec-host,security_model=none,readonly=on,multidevs=remap \
    </dev/null >"$work/qemu-$name.log" 2>&1 &
  qemu_pid=$!
}

# Waits up to `$1` seconds for `$2` on the console while qemu runs; returns
# whether it came.
await() {
  local deadline=$((SECONDS + $1))
  while [ $SECONDS -lt $deadline ]; do
    grep -q "$2" "$console" 2>/dev/null && return 0
    kill -0 "$qemu_pid" 2>/dev/null || {
      grep -q "$2" "$console" 2>/dev/null
      return
    }
    sleep 0.5
  done
  return 1
}

started=$SECONDS
booted=""
if [ "$accel" = kvm ] || { [ "$accel" = auto ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
  boot kvm -accel kvm -cpu host
  if await "$kvm_boot_deadline" "rexec-vm: init"; then
    booted=kvm
  else
    why="within ${kvm_boot_deadline} s"
    kill -0 "$qemu_pid" 2>/dev/null || why="before qemu ended"
    stop_qemu
    echo "rexec-vm: no guest init under KVM $why" \
      "(qemu: $(tail -n 1 "$work/qemu-kvm.log" 2>/dev/null))"
    if [ "$accel" = kvm ]; then
      skip "under KVM the guest did not reach its init $why"
    fi
    echo "rexec-vm: falling back to TCG"
  fi
fi
if [ -z "$booted" ]; then
  # -cpu max: TCG's full model (rdrand among others).
  boot tcg -accel tcg -cpu max
  if await "$tcg_boot_deadline" "rexec-vm: init"; then
    booted=tcg
  else
    why="within ${tcg_boot_deadline} s"
    kill -0 "$qemu_pid" 2>/dev/null || why="before qemu ended"
    stop_qemu
    echo "---- console"
    tail -n 30 "$console"
    echo "---- qemu"
    tail -n 30 "$work/qemu-tcg.log"
    skip "under TCG the guest did not reach its init $why"
  fi
fi
echo "rexec-vm: booted under $booted to init in $((SECONDS - started)) s"

left=$((timeout - (SECONDS - started)))
finished=yes
await "$left" "rexec-vm: \(exit\|failed\)" || finished=""
# Its poweroff follows at once; past a few seconds it is stopped.
for _ in $(seq 1 20); do
  kill -0 "$qemu_pid" 2>/dev/null || break
  sleep 0.5
done
stop_qemu
trap - EXIT

# The console, less the carriage returns of the serial line.
tr -d '\r' <"$console" >"$work/console.txt"
sed -n '/^rexec-vm: init/,$p' "$work/console.txt"
echo "rexec-vm: $((SECONDS - started)) s in all"

if [ -z "$finished" ]; then
  echo "rexec-vm: FAILED: the guest did not finish within ${timeout} s"
  exit 1
fi
if grep -q "^rexec-vm: failed:" "$work/console.txt"; then
  echo "rexec-vm: FAILED: the guest could not set itself up"
  exit 1
fi
code=$(sed -n 's/^rexec-vm: exit \([0-9]*\)$/\1/p' "$work/console.txt" | tail -1)
if [ -z "$code" ]; then
  echo "rexec-vm: FAILED: the guest's console has no exit code"
  exit 1
fi
if [ "$code" -eq 0 ] && grep -q '^\[  SKIPPED \]' "$work/console.txt"; then
  echo "rexec-vm: FAILED: a test skipped in the guest, which exists to run it"
  exit 1
fi
# The command's own 77 is no skip of the lane.
if [ "$code" -eq 77 ]; then
  exit 1
fi
exit "$code"
