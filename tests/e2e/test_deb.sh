#!/usr/bin/env bash
# The Debian package (make deb, packaging/deb.mk): its control data and
# files, Depends against the libraries the binary links, the bash
# completion (sourced and called as bash would), the Grafana dashboard
# (parses; every metric it queries is one a live exporter serves, from an
# attachment in a scratch network namespace), lintian when installed, and
# an install into a scratch root (dpkg --root; never on the host) whose
# binary runs. DEB=path tests a given .deb instead of building one.
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: package tests need root (network namespace, BPF)"
	echo "0 passed, 0 failed"
	exit 77
fi
PASS=0 FAIL=0
ok()  { echo "ok   $1"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $1: $2"; FAIL=$((FAIL + 1)); }
check() { if [ "$2" -eq 0 ]; then ok "$1"; else bad "$1" "$3"; fi; }

TMPD=$(mktemp -d /tmp/xs-deb.XXXXXX)
NS=xs-deb-$$
IF=xsd-$$
EXP_PID=
finish() {
	if [ -n "$EXP_PID" ]; then kill "$EXP_PID" 2>/dev/null; wait "$EXP_PID" 2>/dev/null; fi
	if [ -e "/sys/fs/bpf/xdpsyn/$IF" ] && [ -x "$TMPD/x/usr/sbin/xdpsyn" ]; then
		nsenter --net=/var/run/netns/"$NS" "$TMPD/x/usr/sbin/xdpsyn" detach "$IF" >/dev/null 2>&1
	fi
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMPD"
	echo "$PASS passed, $FAIL failed"
}
trap finish EXIT
trap 'exit 1' INT TERM

# --- the package ----------------------------------------------------------
if [ -n "${DEB:-}" ]; then
	deb=$DEB
else
	if grep -q '^include packaging/deb.mk' Makefile; then mk=(make --no-print-directory deb)
	else mk=(make --no-print-directory -f Makefile -f packaging/deb.mk deb); fi
	out=$("${mk[@]}" 2>&1)
	check "make deb" $? "$out"
	ver=$(dpkg-parsechangelog -l packaging/changelog -S Version)
	deb=build/xdpsyn_${ver}_$(dpkg --print-architecture).deb
fi
if [ ! -f "$deb" ]; then bad "package file" "$deb is missing"; exit 1; fi
ok "package file: $deb"
case ${deb##*/} in
xdpsyn_*_amd64.deb) ok "file name xdpsyn_<version>_amd64.deb" ;;
*) bad "file name" "${deb##*/}" ;;
esac

info=$(dpkg-deb --info "$deb" 2>&1)
check "dpkg-deb --info" $? "$info"
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = xdpsyn ] && [ "$(field Architecture)" = amd64 ] &&
	[ -n "$(field Version)" ] && [ -n "$(field Maintainer)" ] && [ -n "$(field Description)" ]
check "control: Package, Version, Architecture, Maintainer, Description" $? "$info"
[ "$(field Version)" = "$(dpkg-parsechangelog -l packaging/changelog -S Version)" ]
check "control: Version is packaging/changelog's ($(field Version))" $? "$(field Version)"
dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -qE '^\./(postinst|preinst|prerm|postrm)$'
check "no maintainer scripts (units are not enabled)" $((!$?)) "$(dpkg-deb --ctrl-tarfile "$deb" | tar -t)"

contents=$(dpkg-deb --contents "$deb")
want=(
	"-rwxr-xr-x root/root ./usr/sbin/xdpsyn"
	"-rw-r--r-- root/root ./usr/share/man/man8/xdpsyn.8.gz"
	"-rw-r--r-- root/root ./lib/systemd/system/xdpsyn@.service"
	"-rw-r--r-- root/root ./lib/systemd/system/xdpsyn-exporter.service"
	"-rw-r--r-- root/root ./usr/share/bash-completion/completions/xdpsyn"
	"-rw-r--r-- root/root ./usr/share/xdpsyn/grafana-dashboard.json"
	"-rw-r--r-- root/root ./usr/share/doc/xdpsyn/copyright"
	"-rw-r--r-- root/root ./usr/share/doc/xdpsyn/changelog.gz"
)
missing=""
for w in "${want[@]}"; do
	read -r mode owner path <<<"$w"
	echo "$contents" | awk -v m="$mode" -v o="$owner" -v p="$path" \
		'$1 == m && $2 == o && $6 == p { f = 1 } END { exit !f }' || missing+=" $path($mode $owner)"
done
[ -z "$missing" ]; check "contents: ${#want[@]} files, modes, root/root" $? "missing:$missing"
extra=$(echo "$contents" | awk '$1 !~ /^d/ { print $6 }' | grep -vxF -f <(for w in "${want[@]}"; do echo "${w##* }"; done))
[ -z "$extra" ]; check "contents: nothing else" $? "$extra"

mkdir -p "$TMPD/x"
dpkg-deb -x "$deb" "$TMPD/x"
check "dpkg-deb -x" $? ""
BIN=$TMPD/x/usr/sbin/xdpsyn
gzip -t "$TMPD/x/usr/share/man/man8/xdpsyn.8.gz" && zcat "$TMPD/x/usr/share/man/man8/xdpsyn.8.gz" | cmp -s - man/xdpsyn.8
check "man page gzipped, same as man/xdpsyn.8" $? ""
out=$(grep -h '^Exec' "$TMPD"/x/lib/systemd/system/*.service | grep -v '/usr/sbin/xdpsyn ')
[ -z "$out" ]; check "units run /usr/sbin/xdpsyn" $? "$out"

# --- Depends against the libraries ---------------------------------------
depends=$(field Depends)
dep_pkgs=$(echo "$depends" | tr ',' '\n' | sed 's/^ *//; s/[ (].*//' | awk 'NF { print $1 }')
# library path -> package, one dpkg -S for all (whichever of /lib and
# /usr/lib dpkg knows them by)
declare -A PKG_OF=()
cands=()
while read -r path; do
	r=$(readlink -f "$path")
	cands+=("$path" "$r" "${r#/usr}" "/usr${path#/usr}")
done < <(ldd "$BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
while IFS= read -r line; do
	PKG_OF[${line#*: }]=${line%%:*}
done < <(dpkg -S "${cands[@]}" 2>/dev/null)
lib_pkg() {
	local c r
	r=$(readlink -f "$1")
	for c in "$1" "$r" "${r#/usr}" "/usr${1#/usr}"; do
		[ -n "${PKG_OF[$c]:-}" ] && { echo "${PKG_OF[$c]}"; return; }
	done
}
# the libraries the binary itself needs (DT_NEEDED): each package in Depends
missing=""
for lib in $(readelf -d "$BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
	path=$(ldd "$BIN" | awk -v l="$lib" '$1 == l { print $3 }')
	p=$(lib_pkg "$path")
	[ -n "$p" ] && echo "$dep_pkgs" | grep -qx "$p" || missing+=" $lib($p)"
done
[ -z "$missing" ]; check "Depends ($depends) names every DT_NEEDED library's package" $? "missing:$missing"
# everything ldd shows is in Depends or pulled by them (dpkg's Depends)
closure=" $(echo $dep_pkgs) "
declare -A DEPS_OF=()
while IFS='|' read -r p d; do DEPS_OF[$p]=$d; done < <(dpkg-query -W -f='${Package}|${Depends},${Pre-Depends}\n')
queue=($dep_pkgs)
while [ ${#queue[@]} -gt 0 ]; do
	p=${queue[0]}; queue=("${queue[@]:1}")
	for d in $(echo "${DEPS_OF[$p]:-}" | tr ',|' '\n\n' | sed 's/^ *//; s/[ (].*//; s/:.*//' | awk 'NF { print $1 }'); do
		[[ $closure == *" $d "* ]] && continue
		closure+="$d "; queue+=("$d")
	done
done
missing=""
while read -r lib path; do
	p=$(lib_pkg "$path")
	[ -n "$p" ] || { missing+=" $lib(no package)"; continue; }
	[[ $closure == *" $p "* ]] || missing+=" $lib($p)"
done < <(ldd "$BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }')
[ -z "$missing" ]; check "every library ldd shows ($(ldd "$BIN" | grep -c '=> /')) comes with Depends" $? "missing:$missing"

# --- the extracted binary runs ------------------------------------------
out=$("$BIN" --help 2>&1)
[ $? -eq 0 ] && [[ $out == *Commands:* ]]; check "installed binary: xdpsyn --help" $? "$out"
failed=""
for c in attach detach status set key stats flows top exporter; do
	"$BIN" "$c" --help >/dev/null 2>&1 || failed+=" $c"
done
[ -z "$failed" ]; check "installed binary: every COMMAND --help" $? "failed:$failed"

# --- dpkg --root install into a scratch root ---------------------------
R=$TMPD/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/tmp"
touch "$R/var/lib/dpkg/status" "$R/var/lib/dpkg/available"
out=$(dpkg --root="$R" --force-not-root --force-depends --log=/dev/null -i "$deb" 2>&1)
check "dpkg --root -i (scratch root)" $? "$out"
st=$(dpkg --root="$R" -s xdpsyn 2>/dev/null | sed -n 's/^Status: //p')
[ "$st" = "install ok installed" ]; check "dpkg --root: status installed" $? "$st"
out=$("$R/usr/sbin/xdpsyn" --help 2>&1)
check "dpkg --root: /usr/sbin/xdpsyn --help runs" $? "$out"
n=$(dpkg --root="$R" -L xdpsyn | while read -r f; do [ -f "$R$f" ] && echo "$f"; done | wc -l)
[ "$n" -eq "${#want[@]}" ]; check "dpkg --root -L: $n files" $? "expected ${#want[@]}"
out=$(dpkg --root="$R" --force-not-root --log=/dev/null -r xdpsyn 2>&1)
[ $? -eq 0 ] && [ ! -e "$R/usr/sbin/xdpsyn" ]; check "dpkg --root -r removes it" $? "$out"

# --- lintian (only when installed: apt-get install lintian) --------------
if command -v lintian >/dev/null; then
	lintian --fail-on error "$deb" >"$TMPD/lintian" 2>&1
	rc=$?
	out=$(grep -v 'root privileges' "$TMPD/lintian")
	check "lintian: no errors" "$rc" "$out"
	[ -n "$out" ] && echo "     lintian: $(echo "$out" | tr '\n' ';')"
else
	echo "info lintian not installed: not run"
fi

# --- an attachment in a scratch namespace, for live metric names --------
ip netns add "$NS" || { bad "netns" "ip netns add $NS"; exit 1; }
ns() { nsenter --net=/var/run/netns/"$NS" "$@"; }
ns ip link set lo up
ns ip link add "$IF" type veth peer name "${IF}p"
ns ip link set "$IF" up && ns ip link set "${IF}p" up
ns ip addr add 10.201.250.1/24 dev "$IF"
ns sysctl -qw net.ipv4.tcp_syncookies=1
out=$(ns "$BIN" attach "$IF" --ports 8080 2>&1)
check "installed binary: attach $IF in a scratch netns" $? "$out"
out=$(ns "$BIN" status "$IF" 2>&1)
[ $? -eq 0 ] && [[ $out == *"$IF"* ]]; check "installed binary: status $IF" $? "$out"

prom=$(ns "$BIN" stats "$IF" --prometheus 2>&1)
check "stats $IF --prometheus" $? "$prom"
metrics=$prom src="stats --prometheus"
if command -v curl >/dev/null; then
	port=$((20000 + $$ % 20000))
	ns "$BIN" exporter --listen 127.0.0.1:$port >"$TMPD/exp.log" 2>&1 &
	EXP_PID=$!
	live=""
	for _ in $(seq 50); do
		live=$(ns curl -sf "http://127.0.0.1:$port/metrics") && break
		sleep 0.1
	done
	[ -n "$live" ]; check "exporter: live /metrics from the installed binary" $? "$(cat "$TMPD/exp.log")"
	[ -n "$live" ] && metrics=$live src="live /metrics"
	kill "$EXP_PID" 2>/dev/null; wait "$EXP_PID" 2>/dev/null; EXP_PID=
fi
families=$(echo "$metrics" | awk '$1 == "#" && $2 == "TYPE" { print $3, $4 }')
served=$(echo "$families" | while read -r n t; do
	echo "$n"
	[ "$t" = histogram ] && printf '%s\n' "${n}_bucket" "${n}_sum" "${n}_count"
done | sort -u)
[ "$(echo "$served" | wc -l)" -gt 40 ]; check "$src: $(echo "$families" | wc -l) metric families" $? "$metrics"

# --- dashboard ------------------------------------------------------------
D=$TMPD/x/usr/share/xdpsyn/grafana-dashboard.json
jq -e . "$D" >/dev/null 2>&1; check "dashboard: JSON parses (jq)" $? ""
jq -e '.templating.list[] | select(.type == "datasource" and .query == "prometheus" and .name == "datasource")' "$D" >/dev/null
check "dashboard: Prometheus datasource variable" $? ""
out=$(jq -r '.panels[] | select(.type != "row") | select(.datasource.uid != "${datasource}") | .title' "$D")
[ -z "$out" ]; check "dashboard: every panel uses \$datasource" $? "$out"
rows=$(jq -r '.panels[] | select(.type == "row") | .title' "$D")
missing=""
for r in "SYNs and SYN-ACKs" "ACK validity" "Hand-off health" "Policy" "Tracker" "Gateway"; do
	echo "$rows" | grep -qxF "$r" || missing+=" '$r'"
done
[ -z "$missing" ]; check "dashboard: rows $(echo "$rows" | tr '\n' ',' | sed 's/,$//')" $? "missing:$missing"
n=$(jq '[.panels[] | select(.type != "row")] | length' "$D")
empty=$(jq -r '.panels[] | select(.type != "row") | select((.targets // []) | length == 0) | .title' "$D")
[ "$n" -ge 10 ] && [ -z "$empty" ]; check "dashboard: $n panels, each with a query" $? "empty: $empty"
used=$(jq -r '.. | objects | (.expr? // empty), (.definition? // empty)' "$D" | grep -oE 'xdpsyn_[a-z0-9_]+' | sort -u)
unknown=$(comm -23 <(echo "$used") <(echo "$served"))
[ -z "$unknown" ]; check "dashboard: its $(echo "$used" | wc -l) metrics are all served ($src)" $? "$unknown"
# the families a dashboard should show: every one served is queried
unused=$(comm -13 <(echo "$used" | sed -E 's/_(bucket|sum|count)$//' | sort -u) \
	<(echo "$families" | awk '{ print $1 }' | sort -u) | grep -vE '^xdpsyn_(rx|not_ip|not_tcp|fragment|unprotected|established|no_socket|listener_other|config_missing|not_local)_total$')
[ -z "$unused" ]; check "dashboard: every concern's metric is queried" $? "not queried: $(echo $unused)"

# --- bash completion ------------------------------------------------------
C=$TMPD/x/usr/share/bash-completion/completions/xdpsyn
bash -n "$C"; check "completion: bash -n" $? ""
# Called as bash does: COMP_WORDS/COMP_CWORD; xdpsyn is not on PATH, so
# the lists must be the generated ones.
complete_as() { # complete_as WORD... (the last one is being completed)
	env -i PATH=/usr/bin:/bin bash -c 'source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_xdpsyn; printf "%s\n" "${COMPREPLY[@]}"' _ "$C" "$@" 2>&1 | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() { # expect "WANT" WORD...
	local want=$1; shift
	local got; got=$(complete_as "$@")
	[ "$got" = "$want" ]; check "completion: $* <TAB> -> $want" $? "got '$got'"
}
expect_has() { # expect_has WANT WORD...: WANT is among the candidates
	local want=$1; shift
	local got; got=$(complete_as "$@")
	[[ " $got " == *" $want "* ]]; check "completion: $* <TAB> offers $want" $? "got '$got'"
}
grep -q '^declare -gA _XDPSYN_OPTS=' "$C"; check "completion: option lists generated into the file" $? ""
expect "attach" xdpsyn att
expect "attach detach exporter flows help key servers set stats status top" xdpsyn ""
expect "--ports" xdpsyn attach eth0 --por
expect "--policy --ports --priority" xdpsyn attach eth0 --p
expect "mss4= mss6=" xdpsyn set IFACE mss
expect "policy=proxy" xdpsyn set IFACE policy=pr
expect "proxy" xdpsyn set IFACE policy = pr
expect "off on" xdpsyn set IFACE ecn =
expect "generic native" xdpsyn attach eth0 --mode ""
expect "kernel-cookie" xdpsyn attach eth0 --handoff ke
expect "rtt" xdpsyn flows --sort r
expect "--state" xdpsyn flows --sort rtt --st
expect "stats status" xdpsyn -j st
expect "rotate" xdpsyn key ""
expect "--prometheus" xdpsyn stats --pr
expect "--help --listen" xdpsyn exporter --
expect_has lo xdpsyn attach l
expect_has "$IF" xdpsyn detach xsd-
expect_has "$IF" xdpsyn key rotate xsd-
expect_has "$IF" xdpsyn set xsd-
expect "" xdpsyn attach eth0 --ports ""
# no drift: every option in each command's --help, every set key, offered
drift=""
for c in global attach detach status set key stats flows top exporter; do
	if [ $c = global ]; then help=$("$BIN" --help); words=(xdpsyn -)
	else help=$("$BIN" $c --help); words=(xdpsyn $c -); fi
	got=" $(complete_as "${words[@]}") "
	for o in $(echo "$help" | grep -oE '(^  |, )--?[a-z][a-z0-9-]*' | sed 's/^[ ,]*//' | sort -u); do
		[[ $got == *" $o "* ]] || drift+=" $c:$o"
	done
done
got=" $(complete_as xdpsyn set IFACE "") "
for k in $("$BIN" set --help | sed -n '/^Keys:/,$p' | grep -oE '(^|[^a-z0-9-])[a-z][a-z0-9-]*=' | sed 's/^[^a-z]*//' | sort -u); do
	[[ $got == *" $k "* ]] || drift+=" set:$k"
done
[ -z "$drift" ]; check "completion: every option and set key of the --help output" $? "missing:$drift"
# the fixed option values it offers are the help's words
drift=""
while read -r c o vals; do
	help=$("$BIN" "$c" --help)
	for v in $vals; do grep -qw -- "$v" <<<"$help" || drift+=" $c $o $v"; done
done < <(bash -c 'source "$1"; for k in "${!_XDPSYN_OPTVALS[@]}"; do echo "$k ${_XDPSYN_OPTVALS[$k]}"; done' _ "$C")
[ -z "$drift" ]; check "completion: option values appear in the command's --help" $? "not in help:$drift"

out=$(ns "$BIN" detach "$IF" 2>&1)
check "installed binary: detach $IF" $? "$out"
[ "$FAIL" -eq 0 ]
