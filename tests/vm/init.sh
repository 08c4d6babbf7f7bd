#!/bin/busybox sh
# shellcheck shell=dash
# PID 1 of the test virtual machine (tests/vm/run-in-vm.sh packs it as the
# initramfs's /init, beside busybox, the kernel modules it loads in the
# order of /modules/order, and /lane/run.sh, the command to run).
#
# It mounts the host's root file system (shared read-only over 9p) under a
# tmpfs overlay at /newroot (every write stays in the guest's memory),
# mounts cgroup v2 there with the memory, pids and cpu controllers given
# to children of the root cgroup, brings up loopback, runs /lane/run.sh
# chrooted as root, and powers off. What the host reads is on the
# console: "rexec-vm: init" once this script runs, then the command's
# output, then "rexec-vm: exit N" (N its exit code) or "rexec-vm: failed:
# WHY". Any exit of this script ends the machine (panic=-1 with qemu's
# -no-reboot), so nothing here waits for ever.
/bin/busybox mkdir -p /proc /sys /dev /usr/bin /usr/sbin /sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

echo "rexec-vm: init"

fail() {
  echo "rexec-vm: failed: $*"
  poweroff -f
  exit 1
}

mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "mount /dev"

while read -r module; do
  insmod "/modules/$module" || fail "insmod $module"
done </modules/order

mkdir -p /host /rw /newroot
# cache=loose: the host's files do not change under a test run, and
# without a cache every exec and every Python import goes to the host
# (measured: a python3 start took seconds under TCG).
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 \
  rexec-host /host || fail "mount the host's root (9p tag rexec-host)"
mount -t tmpfs -o mode=0755 rw /rw || fail "mount the tmpfs for writes"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work \
  overlay /newroot || fail "mount the overlay of the host's root"

mount -t proc proc /newroot/proc || fail "mount /proc in the new root"
mount -t sysfs sysfs /newroot/sys || fail "mount /sys in the new root"
mount -t devtmpfs devtmpfs /newroot/dev || fail "mount /dev in the new root"
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /newroot/dev/pts ||
  fail "mount /dev/pts in the new root"
ln -sf pts/ptmx /newroot/dev/ptmx
mount -t tmpfs tmpfs /newroot/dev/shm || fail "mount /dev/shm in the new root"
# A /run of the guest's own; /tmp stays the host's (written in the
# overlay): a CI clone and its build tree may be there.
mount -t tmpfs -o mode=0755 tmpfs /newroot/run ||
  fail "mount a tmpfs on /run in the new root"
mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup ||
  fail "mount cgroup2 on /sys/fs/cgroup in the new root"
# The lane exists to run what needs these: one missing fails it.
for controller in memory pids cpu; do
  echo "+$controller" >/newroot/sys/fs/cgroup/cgroup.subtree_control ||
    fail "enable the $controller controller (the root offers:" \
      "$(cat /newroot/sys/fs/cgroup/cgroup.controllers))"
done
ip link set lo up || fail "bring up loopback"
# The kernel gives init 1024 open files (4096 hard), and rexecd refuses
# to start with fewer than its --max-processes needs (about 6400 for the
# default 1024); a host's shell or a systemd unit has more.
ulimit -n 65536 || fail "raise the open files limit"

mkdir -p /newroot/run/rexec-vm
cp /lane/run.sh /newroot/run/rexec-vm/run.sh
echo "rexec-vm: kernel $(uname -r), cgroup2 controllers for children:" \
  "$(cat /newroot/sys/fs/cgroup/cgroup.subtree_control)," \
  "$(grep -c ^processor /proc/cpuinfo) CPUs," \
  "$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) MiB"

chroot /newroot /usr/bin/env -i \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 TERM=dumb \
  /bin/bash /run/rexec-vm/run.sh </dev/null 2>&1
echo "rexec-vm: exit $?"
sync
poweroff -f
