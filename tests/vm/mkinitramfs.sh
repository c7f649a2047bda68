#!/usr/bin/env bash
# mkinitramfs.sh KDIR OUT: the initramfs (newc cpio, gzip) the kernel VM tests
# boot with the kernel unpacked in KDIR (tests/vm/fetch.sh):
#   /init                 tests/vm/init.sh (busybox sh)
#   /usr/bin/*            busybox-static and its applets, then the real tools
#                         the tests need over them, with the libraries ldd lists
#   /lib/modules/xs/      the modules the tests need from KDIR, in load order
#   /xs/build, /xs/tests  the project's binaries and test scripts (ROOT=/xs)
# The cloud kernel has no 9p: everything the tests use is in here.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
cd "$(dirname "$0")/../.."
KDIR=$1 OUT=$2
die() { echo "tests/vm/mkinitramfs.sh: $*" >&2; exit 1; }
BUSYBOX=build/vm/busybox/bin/busybox
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (tests/vm/fetch.sh)"
KVER=$(ls "$KDIR/lib/modules")
[ -n "$KVER" ] && [ -d "$KDIR/lib/modules/$KVER" ] || die "$KDIR: no modules tree"

# The modules the tests need: veth and bridge (the lab), sch_ingress and
# cls_bpf (xdpsyn's clsact TC programs), virtio_net (the NIC test), 8021q and
# bonding (VLAN and bond scenarios; this machine's kernel has neither),
# sch_netem (loss, delay and reordering in the gateway part; nor this one).
MODULES="veth bridge sch_ingress cls_bpf act_bpf virtio_pci virtio_net 8021q bonding dummy sch_netem"

# Real tools (busybox applets of the same name are replaced): lib.sh and the
# suite use bash, iproute2's ip/tc/ss/nstat (XDP object loading, netns),
# util-linux's nsenter, procps' sysctl (several keys in one -w), jq.
# ethtool (from build/vm: tests/vm/fetch.sh) toggles the VLAN offloads.
TOOLS="/usr/bin/bash /usr/sbin/ip /usr/sbin/tc /usr/bin/ss /usr/bin/nstat
       /usr/bin/nsenter /usr/sbin/sysctl /usr/bin/jq build/vm/ethtool/sbin/ethtool"
# the project's build (XS_VM_BUILD: another build directory, e.g. of another
# commit; it lands at /xs/build in the VM either way)
BUILD=${XS_VM_BUILD:-build}
PROJECT_BINS="xdpsyn tcpecho synflood tcxload"
PROJECT_FILES="tests/e2e/lib.sh tests/vm/suite.sh tests/vm/nic.sh tests/vm/opts.sh
	tests/vm/noharm.sh tests/vm/vlan.sh tests/vm/bond.sh tests/vm/gateway.sh
	tests/e2e/noharm_server.py tests/e2e/noharm_client.py tests/e2e/noharm_probe.py"
PROJECT_OBJS="xdp_pass.bpf.o noharm_tc.bpf.o"
# python3 for the "do no harm" helpers (tests/e2e/noharm_*.py): the host's
# Debian interpreter and only the stdlib modules those helpers import
PY=$(readlink -f /usr/bin/python3 2>/dev/null || true)

STAGE=$(mktemp -d "${OUT%/*}/.stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
R=$STAGE
mkdir -p "$R"/usr/bin "$R"/usr/lib/modules/xs "$R"/usr/lib64 "$R"/proc "$R"/sys \
	"$R"/dev "$R"/run "$R"/tmp "$R"/etc "$R"/var "$R"/root "$R"/xs/build \
	"$R"/xs/tests/e2e "$R"/xs/tests/vm
# a merged /usr, as on Debian: every tool and library path resolves
ln -s usr/bin "$R"/bin
ln -s usr/bin "$R"/sbin
ln -s bin "$R"/usr/sbin
ln -s usr/lib "$R"/lib
ln -s usr/lib64 "$R"/lib64
ln -s ../run "$R"/var/run
chmod 1777 "$R"/tmp

# busybox and every applet as a link to it
cp "$BUSYBOX" "$R"/usr/bin/busybox
for a in $("$BUSYBOX" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$R/usr/bin/$a"
done

# libs_of FILE: the libraries ldd lists for FILE, at their own paths
libs_of() {
	local lib dst
	for lib in $(ldd "$1" 2>/dev/null |
		     awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}'); do
		lib=${lib#/usr}
		dst=$R/usr$lib
		mkdir -p "${dst%/*}"
		[ -e "$dst" ] || cp -L "$lib" "$dst"
	done
}
# copy_with_libs FILE...: each file (a tool to /usr/bin, a project file to
# /xs/FILE) with the libraries ldd lists, at their own paths
copy_with_libs() {
	local f dst
	for f in "$@"; do
		[ -e "$f" ] || die "$f missing"
		case $f in build/vm/*) dst=$R/usr/bin/${f##*/} ;; "$BUILD"/*) dst=$R/xs/build/${f##*/} ;; *) dst=$R/usr/bin/${f##*/} ;; esac
		rm -f "$dst"
		cp -L "$f" "$dst"
		libs_of "$f"
	done
}
copy_with_libs $TOOLS
for f in $PROJECT_BINS; do copy_with_libs "$BUILD/$f"; done

# python3: the interpreter (its stdlib is found from /usr/bin/../lib), the
# modules the noharm helpers import (listed by importing them here: -S, no
# site), each .py with the host's .pyc beside it (mtime kept, so it is
# used), the extension modules with their libraries. Not _hashlib
# (libcrypto, 4.6 MB): hashlib falls back to its builtin sha256.
case $PY in /usr/bin/python3.*) ;; *) die "/usr/bin/python3 missing or not Debian's (apt-get install python3)" ;; esac
copy_with_libs "$PY"
ln -sf "${PY##*/}" "$R"/usr/bin/python3
PYTAG=$("$PY" -S -c 'import sys; print(sys.implementation.cache_tag)')
for m in $("$PY" -S -E -c '
import sys
sys.modules.pop("_hashlib", None)
import builtins
_imp = builtins.__import__
def imp(name, *a, **k):
    if name == "_hashlib": raise ImportError(name)
    return _imp(name, *a, **k)
builtins.__import__ = imp
import argparse, ctypes, errno, fcntl, hashlib, ipaddress, locale, os, random, select, socket, struct, threading, time
argparse.ArgumentParser().format_help()  # gettext: locale
import encodings.utf_8, encodings.ascii, encodings.latin_1
hashlib.sha256(b"")
for mod in list(sys.modules.values()):
    f = getattr(mod, "__file__", None)
    if f: print(f)'); do
	case $m in /usr/lib/python3*) ;; *) die "python module outside /usr/lib: $m" ;; esac
	mkdir -p "$R${m%/*}"
	cp -p "$m" "$R$m"
	case $m in
	*.so) libs_of "$m" ;;
	*.py) pyc=${m%/*}/__pycache__/$(basename "$m" .py).$PYTAG.pyc
	      [ -e "$pyc" ] && mkdir -p "$R${pyc%/*}" && cp -p "$pyc" "$R$pyc" ;;
	esac
done
# libxdp's dispatcher object (package libxdp1): xdpsyn attach loads it
for f in /usr/lib/*/bpf/xdp-dispatcher.o; do
	[ -e "$f" ] || die "$f missing (libxdp1)"
	mkdir -p "$R${f%/*}"
	cp "$f" "$R$f"
done
for f in $PROJECT_OBJS; do
	[ -e "$BUILD/$f" ] || die "$BUILD/$f missing (make all)"
	cp "$BUILD/$f" "$R/xs/build/"
done
for f in $PROJECT_FILES; do
	[ -e "$f" ] || die "$f missing (make all)"
	cp "$f" "$R/xs/$f"
done
chmod +x "$R"/xs/tests/vm/suite.sh
cp tests/vm/init.sh "$R"/init
chmod +x "$R"/init
# iproute2 reads its tables from here (optional, quietens warnings)
[ -d /etc/iproute2 ] && cp -a /etc/iproute2 "$R"/etc/ || true
[ -d /usr/share/iproute2 ] && mkdir -p "$R"/usr/share && cp -a /usr/share/iproute2 "$R"/usr/share/ || true
echo "root:x:0:0:root:/root:/bin/sh" >"$R"/etc/passwd
echo "root:x:0:" >"$R"/etc/group
: >"$R"/etc/fstab

# modules in dependency order (modprobe --show-depends against the
# unpacked tree, after depmod -b), decompressed for busybox insmod
depmod -b "$KDIR" "$KVER"
n=0 seen=" "
for m in $MODULES; do
	deps=$(modprobe -d "$KDIR" -S "$KVER" --show-depends "$m") || die "module $m not in $KDIR"
	while read -r kind path _; do
		[ "$kind" = insmod ] || continue # builtin
		base=${path##*/}; base=${base%.xz}; base=${base%.zst}; base=${base%.gz}
		case $seen in *" $base "*) continue ;; esac
		seen="$seen$base "
		n=$((n + 1))
		dst=$R/usr/lib/modules/xs/$(printf %02d $n)-$base
		case $path in
		*.xz) xz -dc "$path" >"$dst" ;;
		*.zst) zstd -qdc "$path" >"$dst" ;;
		*.gz) gzip -dc "$path" >"$dst" ;;
		*) cp "$path" "$dst" ;;
		esac
	done <<<"$deps"
done
# insmod parameters: no bond0 or dummy0 made at load (the VM's only
# network device is the one the host gives it)
(cd "$R"/lib/modules/xs && for f in [0-9]*.ko; do
	case $f in
	*-bonding.ko) echo "$f max_bonds=0" ;;
	*-dummy.ko) echo "$f numdummies=0" ;;
	*) echo "$f" ;;
	esac
done >order)
echo "$KVER" >"$R"/etc/xs-kernel

(cd "$R" && find . -mindepth 1 | LC_ALL=C sort | "$OLDPWD/$BUSYBOX" cpio -o -H newc 2>/dev/null) |
	gzip -1 >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
