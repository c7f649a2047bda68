#!/usr/bin/env bash
# Bad invocations of the CLI: each must print one short line on stderr, exit
# with the documented code (man/xdpsyn.8: 2 usage/no such interface, 3 state
# conflict, 4 missing prerequisite) and change nothing: the pin directory,
# the interfaces' XDP/tc state and the attached interface's config are the
# same before and after. Runs in a lab server namespace (tests/e2e/lib.sh)
# with one valid attach in place. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: bad-input tests need root (network namespaces, BPF)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi
source tests/e2e/lib.sh
PASS=0 FAIL=0
ok()  { echo "ok   $1"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $1: $2"; FAIL=$((FAIL + 1)); }
check() { if [ "$2" -eq 0 ]; then ok "$1"; else bad "$1" "$3"; fi; }

TMPD=$(mktemp -d /tmp/xs-badinput.XXXXXX)
finish() { lab_down; rm -rf "$TMPD"; echo "$PASS passed, $FAIL failed"; }
trap finish EXIT
trap 'exit 1' INT TERM

srv() { in_ns "$NS_SRV" "$@"; }
x() { srv "$XDPSYN" "$@"; }

lab_up || { bad "lab setup" "could not build the namespaces"; exit 1; }
# A second, never attached interface in the server namespace.
FREE_IF=xsf-$LAB_ID
srv ip link add "$FREE_IF" type veth peer name "xsg-$LAB_ID"
srv ip link set "$FREE_IF" up
srv ip link set "xsg-$LAB_ID" up

out=$(x attach "$SRV_IF" --ports 8080 2>&1)
check "setup: attach $SRV_IF --ports 8080" $? "$out"

# Key files
head -c 16 /dev/urandom >"$TMPD/key.ok"; chmod 600 "$TMPD/key.ok"
head -c 7 /dev/urandom >"$TMPD/key.short"; chmod 600 "$TMPD/key.short"
head -c 16 /dev/urandom >"$TMPD/key.world"; chmod 644 "$TMPD/key.world"
printf 'zz%030d\n' 0 >"$TMPD/key.nothex"; chmod 600 "$TMPD/key.nothex"
chmod 755 "$TMPD"

# What "nothing changed" compares: the pins (names, modes, sizes),
# every server interface's XDP and tc state, the attached config.
snapshot() {
	# only this run's names: other runs may attach concurrently
	local d
	for d in "$SRV_IF" "$FREE_IF" lo xs-nosuch0 abcdefghijklmnopqrstuvwxyz; do
		ls -lR "/sys/fs/bpf/xdpsyn/$d" 2>&1 | grep -v '^total'
	done
	echo "-- links"
	srv ip -d link show | grep -vE 'RX|TX|^ +[0-9]+ +[0-9]+ ' | sed 's/ *$//'
	echo "-- tc"
	for i in "$SRV_IF" "$FREE_IF" lo; do
		echo "$i:"; srv tc qdisc show dev "$i"
		srv tc filter show dev "$i" ingress
		srv tc filter show dev "$i" egress
	done
	echo "-- status"
	x -j status "$SRV_IF" | jq -S 'del(.counters, .key_age_s, .key_age, .uptime_s) | walk(if type == "object" then with_entries(select(.key | test("age|uptime|_at$|since|rate") | not)) else . end)' 2>&1
}

# expect EXIT-CODE NAME -- argv... (run in the server namespace)
# The NAME is printed; stderr must be exactly one line of at most 200 chars,
# starting "xdpsyn: ", and the snapshot must not change.
AS=(srv)
expect() {
	local want=$1 name=$2; shift 3
	local before after err rc lines len
	before=$(snapshot)
	"${AS[@]}" "$XDPSYN" "$@" >"$TMPD/out" 2>"$TMPD/err"; rc=$?
	after=$(snapshot)
	err=$(cat "$TMPD/err")
	lines=$(wc -l <"$TMPD/err")
	len=$(awk '{ if (length > m) m = length } END { print m + 0 }' "$TMPD/err")
	local why=""
	[ "$rc" = "$want" ] || why+="exit $rc, want $want; "
	[ "$lines" = 1 ] || why+="$lines stderr lines; "
	[ "$len" -le 200 ] || why+="stderr line of $len chars; "
	grep -q '^xdpsyn: ' "$TMPD/err" || why+="stderr not 'xdpsyn: ...'; "
	[ "$before" = "$after" ] || why+="state changed: $(diff <(echo "$before") <(echo "$after") | head -8 | tr '\n' '|'); "
	if [ -z "$why" ]; then
		ok "$name -> $want: ${err:0:110}"
	else
		bad "$name" "${why}stderr: $(head -c 400 "$TMPD/err" | tr '\n' '|')"
	fi
}

I=$SRV_IF F=$FREE_IF
expect 2 "no command"                 -- 
expect 2 "unknown command"            -- frobnicate
expect 2 "unknown global option"      -- --frob status
expect 2 "attach: unknown option"     -- attach "$F" --frob
expect 2 "attach: option missing its value" -- attach "$F" --ports
expect 2 "attach: missing IFACE"      -- attach
expect 2 "attach: two interfaces"     -- attach "$F" "$I"
expect 2 "attach: ports 80,,x"        -- attach "$F" --ports 80,,x
expect 2 "attach: ports empty"        -- attach "$F" --ports ''
expect 2 "attach: port 0"             -- attach "$F" --ports 0
expect 2 "attach: port 65536"         -- attach "$F" --ports 65536
expect 2 "attach: reversed range 90-80" -- attach "$F" --ports 90-80
expect 2 "attach: port -5"            -- attach "$F" --ports -5
expect 2 "attach: ports 80-"          -- attach "$F" --ports 80-
expect 2 "attach: mss4 87 (below 88)" -- attach "$F" --mss4 87
expect 2 "attach: mss6 65536"         -- attach "$F" --mss6 65536
expect 2 "attach: mss4 1e3"           -- attach "$F" --mss4 1e3
expect 2 "attach: wscale 15"          -- attach "$F" --wscale 15
expect 2 "attach: ttl 0"              -- attach "$F" --ttl 0
expect 2 "attach: ttl 256"            -- attach "$F" --ttl 256
expect 2 "attach: window 0"           -- attach "$F" --window 0
expect 2 "attach: --mode offload"     -- attach "$F" --mode offload
expect 2 "attach: --flows-max 0"      -- attach "$F" --flows-max 0
expect 2 "attach: --flows-max 2^24+1" -- attach "$F" --flows-max 16777217
expect 2 "attach: --handshakes-max 0" -- attach "$F" --handshakes-max 0
expect 2 "attach: --handshakes-max x" -- attach "$F" --handshakes-max x
expect 2 "attach: --top-plen4 33"     -- attach "$F" --top-plen4 33
expect 2 "attach: --top-plen4 0"      -- attach "$F" --top-plen4 0
expect 2 "attach: --top-plen6 129"    -- attach "$F" --top-plen6 129
expect 2 "attach: --policy bogus"     -- attach "$F" --policy bogus
expect 2 "attach: --policy ''"        -- attach "$F" --policy ''
expect 2 "attach: --policy auto without --syn-rate" -- attach "$F" --policy auto
expect 2 "attach: --syn-rate 0"       -- attach "$F" --policy auto --syn-rate 0
expect 2 "attach: --syn-rate 100000001" -- attach "$F" --policy auto --syn-rate 100000001
expect 2 "attach: --syn-rate -5"      -- attach "$F" --policy auto --syn-rate -5
expect 2 "attach: --syn-rate 1k"      -- attach "$F" --policy auto --syn-rate 1k
expect 2 "attach: --calm abc"         -- attach "$F" --policy auto --syn-rate 1000 --calm abc
expect 2 "attach: --calm 0"           -- attach "$F" --calm 0
expect 2 "attach: --calm 3601"        -- attach "$F" --calm 3601
expect 2 "attach: --handshake-timeout 0" -- attach "$F" --handshake-timeout 0
expect 2 "attach: --handshake-timeout 1h" -- attach "$F" --handshake-timeout 1h
expect 2 "attach: --policy missing its value" -- attach "$F" --policy
expect 2 "attach: --tc bogus"         -- attach "$F" --tc bogus
expect 2 "attach: --tc missing its value" -- attach "$F" --tc
expect 2 "attach: unknown interface"  -- attach xs-nosuch0
expect 2 "attach: interface name too long" -- attach abcdefghijklmnopqrstuvwxyz
expect 2 "attach: interface name ../x" -- attach ../x
expect 2 "attach: loopback lo"        -- attach lo
expect 2 "attach: key file missing"   -- attach "$F" --key-file "$TMPD/nokey"
expect 2 "attach: key file short"     -- attach "$F" --key-file "$TMPD/key.short"
expect 2 "attach: key file world-readable" -- attach "$F" --key-file "$TMPD/key.world"
expect 2 "attach: key file not hex"   -- attach "$F" --key-file "$TMPD/key.nothex"
expect 2 "attach: key file a directory" -- attach "$F" --key-file "$TMPD"
expect 3 "attach: already attached"   -- attach "$I" --ports 8080
AS=(srv setpriv --reuid=65534 --regid=65534 --clear-groups)
expect 4 "attach as nobody"           -- attach "$F" --ports 8080
expect 4 "detach as nobody"           -- detach "$I"
expect 4 "set as nobody"              -- set "$I" ttl=10
expect 4 "key rotate as nobody"       -- key rotate "$I"
AS=(srv)
expect 3 "set on a non-attached interface"    -- set "$F" ttl=10
expect 3 "detach a non-attached interface"    -- detach "$F"
expect 3 "key rotate on a non-attached interface" -- key rotate "$F"
expect 3 "stats on a non-attached interface"  -- stats "$F"
expect 3 "flows on a non-attached interface"  -- flows "$F"
expect 3 "top on a non-attached interface"    -- top "$F"
expect 3 "status of a non-attached interface" -- status "$F"
expect 2 "set on an unknown interface"        -- set xs-nosuch0 ttl=10
expect 2 "set: no KEY=VALUE"          -- set "$I"
expect 2 "set: foo=1"                 -- set "$I" foo=1
expect 2 "set: mss4= (empty)"         -- set "$I" mss4=
expect 2 "set: no '='"                -- set "$I" mss4
expect 2 "set: wscale=15"             -- set "$I" wscale=15
expect 2 "set: mss4=87"               -- set "$I" mss4=87
expect 2 "set: mss6=65536"            -- set "$I" mss6=65536
expect 2 "set: ttl=0"                 -- set "$I" ttl=0
expect 2 "set: window=65536"          -- set "$I" window=65536
expect 2 "set: ecn=maybe"             -- set "$I" ecn=maybe
expect 2 "set: ports=80,,x"           -- set "$I" ports=80,,x
expect 2 "set: ports=90-80"           -- set "$I" ports=90-80
expect 2 "set: top-plen4=33"          -- set "$I" top-plen4=33
expect 2 "set: top-plen6=129"         -- set "$I" top-plen6=129
expect 2 "set: policy=bogus"          -- set "$I" policy=bogus
expect 2 "set: policy= (empty)"       -- set "$I" policy=
expect 2 "set: policy=auto, no syn-rate configured or given" -- set "$I" policy=auto
expect 2 "set: policy=auto, syn-rate=0" -- set "$I" policy=auto syn-rate=0
expect 2 "set: syn-rate=0"            -- set "$I" syn-rate=0
expect 2 "set: syn-rate=100000001"    -- set "$I" syn-rate=100000001
expect 2 "set: syn-rate=fast"         -- set "$I" syn-rate=fast
expect 2 "set: calm=abc"              -- set "$I" calm=abc
expect 2 "set: calm=0"                -- set "$I" calm=0
expect 2 "set: handshake-timeout=3601" -- set "$I" handshake-timeout=3601
expect 2 "set: handshake-timeout=-1"  -- set "$I" handshake-timeout=-1
expect 2 "set: ttl=9 then policy=auto without a rate (all or nothing)" -- set "$I" ttl=9 ports=80 policy=auto
expect 2 "set: a good key then a bad one (all or nothing)" -- set "$I" ttl=9 wscale=15
expect 2 "key: no subcommand"         -- key
expect 2 "key: unknown subcommand"    -- key spin "$I"
expect 2 "key rotate: key file short" -- key rotate "$I" --key-file "$TMPD/key.short"
expect 2 "key rotate: key file world-readable" -- key rotate "$I" --key-file "$TMPD/key.world"
expect 2 "stats: --watch 0"           -- stats "$I" --watch 0
expect 2 "stats: unknown option"      -- stats "$I" --frob
expect 2 "flows: --sort size"         -- flows "$I" --sort size
expect 2 "flows: --limit x"           -- flows "$I" --limit x
expect 2 "top: --limit -1"            -- top "$I" --limit -1
expect 2 "exporter: --listen nowhere" -- exporter --listen nowhere
expect 2 "detach: missing IFACE"      -- detach

# the attachment still works after all that
out=$(x status "$I" 2>&1)
check "attached interface still attached after the bad invocations" $? "$out"
out=$(x detach "$I" 2>&1)
[ $? -eq 0 ] && [ ! -e "/sys/fs/bpf/xdpsyn/$I" ]
check "detach $I removes its pins" $? "$out"
[ $FAIL -eq 0 ]
