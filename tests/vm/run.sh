#!/usr/bin/env bash
# make test-kernels: boots Debian's kernels (bookworm's 6.1 and
# bookworm-backports' 6.12 cloud kernels) in qemu and runs tests/vm/suite.sh
# inside each. Prints the suite's lines prefixed with the kernel, a summary
# line per kernel and, last, the total "N passed, N failed". Exit non-zero on
# any failure, on a VM that never printed the suite's end marker (its serial
# log is kept under build/vm/), or on a timeout.
#
#   tests/vm/run.sh [6.1] [6.12]     (default: both)
# Environment:
#   XS_VM_TIMEOUT   seconds per VM, boot to power-off (default 240)
#   XS_VM_MODE      auto (default) | refuse | full: passed as xs.mode= to the
#                   suite (auto: full on >= 6.9 or when xdpsyn has --handoff)
#   XS_VM_ATTACH_OPTS  more options for every xdpsyn attach in the VMs
#                   (e.g. "--handoff kernel-cookie")
#   XS_VM_BUILD     the build directory whose xdpsyn, tcpecho, synflood and
#                   xdp_pass.bpf.o go into the VMs (default build)
#   XS_VM_PARTS     which parts of the suite run besides its core (default
#                   all): opts noharm vlan bond gateway nic
#                   (tests/vm/suite.sh); for a quicker run while working on
#                   one of them
#   XS_VM_GW_ATTACH_OPTS  more options for the gateway part's attach
#                   (tests/vm/gateway.sh; e.g. "--gw-adopt 0")
#   XS_VM_NIC       1 (default): also attach on a virtio-net NIC, connected to
#                   a tap in a network namespace this script makes; 0: no NIC
#                   at all (no network device in the VM)
set -u
cd "$(dirname "$0")/../.." || exit 1
VM=build/vm
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the kernel VM tests need root (apt-get, network namespaces)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi
KERNELS=("$@")
[ ${#KERNELS[@]} -gt 0 ] || KERNELS=(6.1 6.12)
TIMEOUT=${XS_VM_TIMEOUT:-240}
MODE=${XS_VM_MODE:-auto}
NIC=${XS_VM_NIC:-1}
[ -n "${XS_VM_PARTS:-}" ] && [[ " ${XS_VM_PARTS//,/ } " != *" nic "* ]] && NIC=0
TOTAL_PASS=0 TOTAL_FAIL=0
QEMU_PID="" NIC_NS=""

cleanup() {
	[ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null && wait "$QEMU_PID" 2>/dev/null
	[ -n "$NIC_NS" ] && ip netns del "$NIC_NS" 2>/dev/null
	rm -f "$VM"/initrd-*."$$".gz
	return 0
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fatal() { # no VM could be run at all: one failure, and the total line
	echo "FAIL $*"
	echo "0 passed, 1 failed"
	exit 1
}
tests/vm/fetch.sh || fatal "tests/vm/fetch.sh: could not fetch the kernels or qemu"
BUILD=${XS_VM_BUILD:-build}
for f in xdpsyn tcpecho synflood xdp_pass.bpf.o; do
	[ -e "$BUILD/$f" ] || fatal "$BUILD/$f missing: run make all first (make test-kernels does)"
done

ACCEL=tcg
[ -w /dev/kvm ] && ACCEL=kvm

source tests/vm/nic_host.sh

for k in "${KERNELS[@]}"; do
	kdir=$VM/k-$k
	[ -e "$kdir/.done" ] || { echo "[$k] FAIL no kernel unpacked in $kdir"; TOTAL_FAIL=$((TOTAL_FAIL + 1)); continue; }
	kver=$(ls "$kdir/lib/modules")
	pkg=$(cut -d' ' -f1,2 "$kdir/.pkg")
	initrd=$VM/initrd-$k.$$.gz
	log=$VM/serial-$k.log
	t0=$(date +%s)
	if ! tests/vm/mkinitramfs.sh "$kdir" "$initrd" >"$VM/mkinitramfs-$k.log" 2>&1; then
		cat "$VM/mkinitramfs-$k.log"
		echo "[$k] FAIL building the initramfs (log above)"
		TOTAL_FAIL=$((TOTAL_FAIL + 1))
		continue
	fi
	# tsc=reliable: under TCG the clocksource watchdog otherwise marks the
	# TSC unstable a few seconds in, and the sched_clock static key it then
	# patches at runtime crashed a 6.12 guest once ("Oops: int3" in
	# sched_clock_cpu, a CPU running code mid-patch under emulation)
	append="console=ttyS0 panic=-1 quiet tsc=reliable xs.mode=$MODE xs.kver=$kver"
	[ -n "${XS_VM_ATTACH_OPTS:-}" ] && append="$append xs.attach=${XS_VM_ATTACH_OPTS// /,}"
	[ -n "${XS_VM_PARTS:-}" ] && append="$append xs.parts=${XS_VM_PARTS// /,}"
	[ -n "${XS_VM_GW_ATTACH_OPTS:-}" ] && append="$append xs.gwattach=${XS_VM_GW_ATTACH_OPTS// /,}"
	netargs=(-nic none)
	if [ "$NIC" = 1 ]; then
		nic_host_up "$k" || { echo "[$k] FAIL the NIC test's namespace and tap"; TOTAL_FAIL=$((TOTAL_FAIL + 1)); continue; }
		netargs=("${NIC_QEMU_ARGS[@]}")
		append="$append xs.net=$NIC_VM_ADDRS"
	fi
	# qemu's own process: in the NIC test's namespace when there is a NIC
	# (the tap is there), so nothing it does can reach outside the test
	runner=()
	[ "$NIC" = 1 ] && runner=(nsenter --net=/var/run/netns/"$NIC_NS")
	: >"$log"
	"${runner[@]}" timeout --kill-after=10 "$TIMEOUT" qemu-system-x86_64 \
		-accel $ACCEL -cpu qemu64,-cx16 -m 1G -smp 2 -nographic -no-reboot \
		-kernel "$kdir/boot/vmlinuz-$kver" -initrd "$initrd" -append "$append" \
		"${netargs[@]}" </dev/null >"$log" 2>&1 &
	QEMU_PID=$!
	[ "$NIC" = 1 ] && nic_host_client "$k" "$log"
	wait "$QEMU_PID"; rc=$?
	QEMU_PID=
	[ "$NIC" = 1 ] && nic_host_down
	rm -f "$initrd"
	t1=$(date +%s)

	# the suite's lines: between the markers, without the firmware's
	# terminal escapes
	lines=$(tr -d '\r' <"$log" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[c78]//g' |
		sed -n '/^XS-VM-BEGIN/,/^XS-VM-END/p')
	p=0 f=0
	while IFS= read -r l; do
		case $l in
		XS-VM-BEGIN*) echo "[$k] #    suite started ${l##* } s after boot" ;;
		XS-VM-END*) echo "[$k] #    suite ended ${l##* } s after boot" ;;
		# the suite's own total: the kernel's line below adds the host's
		[0-9]*" passed, "[0-9]*" failed"*) echo "[$k] #    in the VM: $l" ;;
		*) echo "[$k] $l" ;;
		esac
	done <<<"$lines"
	# the host side of the NIC test
	for l in "${NIC_HOST_LINES[@]}"; do echo "[$k] $l"; done
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$lines" | tail -n 1)
	why=
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
		p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
	else
		why="no summary line from the suite"
	fi
	grep -q '^XS-VM-END' <<<"$lines" || why="${why:+$why; }the suite's end marker never came"
	[ $rc -eq 124 ] || [ $rc -eq 137 ] && why="${why:+$why; }timed out after ${TIMEOUT}s"
	p=$((p + NIC_HOST_PASS)) f=$((f + NIC_HOST_FAIL))
	if [ -n "$why" ]; then
		echo "[$k] FAIL boot: $why (qemu exit $rc); serial log: $log"
		f=$((f + 1))
	fi
	if [ $f -eq 0 ]; then
		rm -f "$log"
		logmsg=
	else
		logmsg=", serial log $log"
	fi
	echo "[$k] $kver ($pkg, $ACCEL, $((t1 - t0)) s$logmsg): $p passed, $f failed"
	TOTAL_PASS=$((TOTAL_PASS + p)) TOTAL_FAIL=$((TOTAL_FAIL + f))
done
echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
[ $TOTAL_FAIL -eq 0 ]
