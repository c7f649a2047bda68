#!/usr/bin/env bash
# Fetches what the kernel VM tests boot, into build/vm/ (cached: a second run
# downloads nothing):
#   build/vm/k-6.1/    Debian bookworm's newest linux-image-6.1.0-N-cloud-amd64
#   build/vm/k-6.12/   bookworm-backports' newest linux-image-6.12.*-cloud-amd64
#   build/vm/busybox/  busybox-static
#   build/vm/ethtool/  ethtool (the VLAN test toggles rx/tx-vlan-offload;
#                      busybox and iproute2 cannot)
# all with `apt-get download` + `dpkg-deb -x` (never installed on the host),
# through a private apt state under build/vm/ that uses the Debian mirror the
# machine already uses; the machine's own apt configuration is never changed.
# Also installs on the host, when missing, the test tools qemu-system-x86,
# kmod (depmod, modprobe --show-depends) and xz-utils: quiet, with apt-get.
set -euo pipefail
cd "$(dirname "$0")/../.."
VM=build/vm
mkdir -p "$VM"
say() { printf '  %-8s %s\n' "$1" "$2"; }
die() { echo "tests/vm/fetch.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (apt-get)"
export DEBIAN_FRONTEND=noninteractive

# -- host test tools: qemu, kmod's depmod/modprobe (module order), xz ---------
export PATH=$PATH:/usr/sbin:/sbin
missing=
command -v qemu-system-x86_64 >/dev/null || missing="$missing qemu-system-x86"
command -v depmod >/dev/null && command -v modprobe >/dev/null || missing="$missing kmod"
command -v xz >/dev/null || missing="$missing xz-utils"
if [ -n "$missing" ]; then
	say APT "installing$missing (host test tools)"
	{ apt-get update -qq &&
	  apt-get install -y -qq --no-install-recommends $missing; } \
		>"$VM/apt-host.log" 2>&1 || { cat "$VM/apt-host.log" >&2; die "apt-get install$missing failed"; }
fi

# one fetch at a time (two test runs starting together)
exec 9>"$VM/.fetch.lock"
flock 9

# -- cached? --------------------------------------------------------------------
done_all=1
for d in k-6.1 k-6.12 busybox ethtool; do [ -e "$VM/$d/.done" ] || done_all=0; done
[ $done_all = 1 ] && exit 0

# -- the private apt state ---------------------------------------------------------
# The mirror: the first URI the machine uses for the suite "bookworm"
# (deb822 .sources files first, then one-line sources.list).
mirror="" keyring=""
for f in /etc/apt/sources.list.d/*.sources; do
	[ -e "$f" ] || continue
	# one deb822 stanza per paragraph
	read -r mirror keyring < <(awk -v RS= '
		/(^|\n)Types:[^\n]*deb([ \t]|\n|$)/ && /(^|\n)Suites:[^\n]*[ \t]bookworm([ \t]|\n|$)/ {
			u = ""; k = ""
			n = split($0, L, "\n")
			for (i = 1; i <= n; i++) {
				if (L[i] ~ /^URIs:/) { split(L[i], a, /[ \t]+/); u = a[2] }
				if (L[i] ~ /^Signed-By:/) { split(L[i], a, /[ \t]+/); k = a[2] }
			}
			if (u != "") { print u, k; exit }
		}' "$f") || true
	[ -n "$mirror" ] && break
done
if [ -z "$mirror" ] && [ -e /etc/apt/sources.list ]; then
	read -r mirror < <(awk '$1 == "deb" {
		i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++
		if ($(i + 1) == "bookworm") { print $i; exit } }' /etc/apt/sources.list) || true
fi
[ -n "$mirror" ] || die "no Debian bookworm mirror found in /etc/apt/sources.list{,.d/*.sources}"
[ -n "$keyring" ] && [ -e "$keyring" ] || keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mkdir -p "$VM/sources.list.d" "$VM/lists/partial" "$VM/cache/archives/partial" "$VM/debs"
cat >"$VM/sources.list" <<EOF
deb [signed-by=$keyring] $mirror bookworm main
deb [signed-by=$keyring] $mirror bookworm-backports main
EOF
APT_OPTS=(-o "Dir::Etc::SourceList=$PWD/$VM/sources.list"
	  -o "Dir::Etc::SourceParts=$PWD/$VM/sources.list.d"
	  -o "Dir::State::Lists=$PWD/$VM/lists"
	  -o "Dir::Cache=$PWD/$VM/cache"
	  -o "Dir::Cache::pkgcache=$PWD/$VM/cache/pkgcache.bin"
	  -o "Dir::Cache::srcpkgcache=$PWD/$VM/cache/srcpkgcache.bin")
say APT "private index of $mirror bookworm, bookworm-backports (build/vm/lists)"
apt-get "${APT_OPTS[@]}" update -qq >"$VM/apt-update.log" 2>&1 ||
	{ cat "$VM/apt-update.log" >&2; die "apt-get update (private state) failed"; }

# newest_pkg REGEX: the highest-sorting package name matching REGEX
newest_pkg() {
	apt-cache "${APT_OPTS[@]}" search --names-only "$1" | awk '{print $1}' |
		grep -E "$1" | sort -V | tail -n 1
}
# fetch_unpack PKG SUITE DIR: download PKG from SUITE, unpack into DIR
fetch_unpack() {
	local pkg=$1 suite=$2 dir=$3 ver deb
	ver=$(apt-cache "${APT_OPTS[@]}" madison "$pkg" | awk -F'|' -v s="$suite" \
		'$3 ~ s"/" { gsub(/ /, "", $2); print $2; exit }')
	[ -n "$ver" ] || die "$pkg: no version in $suite"
	deb=$(ls "$VM/debs/${pkg}_"*"${ver#*:}"*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$deb" ]; then
		say FETCH "$pkg $ver ($suite)"
		(cd "$VM/debs" && apt-get "${APT_OPTS[@]}" download -qq "$pkg=$ver") \
			>"$VM/apt-download.log" 2>&1 ||
			{ cat "$VM/apt-download.log" >&2; die "apt-get download $pkg=$ver failed"; }
		deb=$(ls "$VM/debs/${pkg}_"*.deb | head -n 1)
	fi
	rm -rf "$dir" && mkdir -p "$dir"
	say UNPACK "$deb -> $dir"
	dpkg-deb -x "$deb" "$dir"
	echo "$pkg $ver" >"$dir/.pkg"
	touch "$dir/.done"
}

if [ ! -e "$VM/k-6.1/.done" ]; then
	pkg=$(newest_pkg '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$')
	[ -n "$pkg" ] || die "no linux-image-6.1.0-*-cloud-amd64 on $mirror bookworm"
	fetch_unpack "$pkg" bookworm "$VM/k-6.1"
fi
if [ ! -e "$VM/k-6.12/.done" ]; then
	pkg=$(newest_pkg '^linux-image-6\.12\.[0-9]+[-+.~a-z0-9]*-cloud-amd64$')
	[ -n "$pkg" ] || die "no linux-image-6.12.*-cloud-amd64 on $mirror bookworm-backports"
	fetch_unpack "$pkg" bookworm-backports "$VM/k-6.12"
fi
if [ ! -e "$VM/busybox/.done" ]; then
	fetch_unpack busybox-static bookworm "$VM/busybox"
fi
if [ ! -e "$VM/ethtool/.done" ]; then
	fetch_unpack ethtool bookworm "$VM/ethtool"
fi
