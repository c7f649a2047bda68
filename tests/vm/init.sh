#!/bin/sh
# /init of the kernel VM tests' initramfs (busybox sh, PID 1): mounts the
# kernel file systems, loads the modules the tests need, runs the in-VM suite
# between markers on the serial console, and powers off. Kernel command line
# options read here and handed to tests/vm/suite.sh: xs.mode=, xs.kver=,
# xs.attach=, xs.net=, xs.parts=, xs.gwattach=.
export PATH=/usr/bin HOME=/root TERM=dumb LANG=C LC_ALL=C
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
# nothing but the suite on the console
echo 1 >/proc/sys/kernel/printk
hostname xs-vm

while read -r m args; do
	insmod "/lib/modules/xs/$m" $args || echo " $m" >>/tmp/xs-modfail
done </lib/modules/xs/order
ip link set lo up

for a in $(cat /proc/cmdline); do
	case $a in
	xs.mode=*) export XS_MODE=${a#xs.mode=} ;;
	xs.net=*) export XS_NET=${a#xs.net=} ;;
	xs.kver=*) export XS_KVER=${a#xs.kver=} ;;
	xs.attach=*) export XS_ATTACH=${a#xs.attach=} ;;
	xs.parts=*) export XS_PARTS=${a#xs.parts=} ;;
	xs.gwattach=*) export XS_GW_ATTACH=${a#xs.gwattach=} ;;
	esac
done

echo "XS-VM-BEGIN $(uname -r) uptime $(cut -d" " -f1 /proc/uptime)"
cd /xs && /usr/bin/bash /xs/tests/vm/suite.sh </dev/null 2>&1
echo "XS-VM-END rc=$? uptime $(cut -d" " -f1 /proc/uptime)"
sync
poweroff -f
# poweroff failing: PID 1 exits, the kernel panics (panic=-1) and qemu,
# run with -no-reboot, exits
exit 1
