# VLAN sub-interfaces in the kernel VMs (sourced by tests/vm/suite.sh; issue
# 17). Two labs of two namespaces each, a veth pair with an 802.1Q
# sub-interface (VLAN 10, real 8021q) on each end, the addresses on the
# sub-interfaces, xdpsyn attached on the server's PARENT veth:
#
#   client ns             server ns
#   CIF.10 10.201.1N.2    SIF.10 10.201.1N.1 (tcpecho 8080)
#   CIF (xdp_pass) <----> SIF (xdpsyn)      fd00:201::1N:1/112
#
#   frame  (N=0): the tag in the frame. rx-vlan-offload off on the server's
#          veth, and tx-vlan-offload off on the client's: on veth it is
#          the SENDER that chooses (with tx-vlan-offload on, the client's
#          8021q gives veth the tag as metadata and the frame reaches the
#          server's XDP untagged, whatever the server's rx-vlan-offload
#          says; measured on 6.1 and 6.12). xdpsyn parses and keeps the
#          tag today.
#   meta   (N=1): the tag in metadata (both offloads on, veth's default).
#          Needs bpf_xdp_metadata_rx_vlan_tag (kernel >= 6.8, veth has it)
#          to read the tag and put it back on the SYN-ACK. Expected (see
#          VLAN_META_* below): on >= 6.8 connections through; on older
#          kernels attach refuses naming `ethtool -K IFACE rxvlan off`, or
#          connections still work. Without that support the SYN-ACK leaves
#          untagged and the connection fails.
#
# The client drops what does not come back on the VLAN: rp_filter=1 (a
# reply to 10.201.1N.2 arriving on the parent) and IPv6 off on the parent
# veth; so a connection completes only if the SYN-ACK came back tagged.
# The three attaches (frame, meta, the bond's) run one after another in the
# background while the main lab's connections run (extra_attach_run).

# The expectations of the metadata case (adjust when the BPF side lands):
VLAN_META_KFUNC_KVER="6 8"       # kernels from which connections must go through
# On older kernels attach cannot read the tag; on veth it cannot see the
# peer's txvlan either, so it attaches with a warning naming the fix (a
# NIC's rxvlan it refuses on, naming ethtool -K IFACE rxvlan off)
VLAN_META_WARN_RE='ethtool -K PEER txvlan off'
VLAN_META_REFUSE_RE='ethtool -K [^ ]+ rxvlan off'  # an older kernel's refusal must name this

VL_LABS="frame meta"
declare -A VL_SNS VL_CNS VL_SIF VL_CIF VL_S4 VL_C4 VL_S6 VL_C6 VL_APID VL_UP
vl_def() {
	local l n=0
	for l in $VL_LABS; do
		VL_SNS[$l]=xs-vls-$l VL_CNS[$l]=xs-vlc-$l
		VL_SIF[$l]=xsvl${l:0:1}0 VL_CIF[$l]=xsvl${l:0:1}1
		VL_S4[$l]=10.201.1$n.1 VL_C4[$l]=10.201.1$n.2
		VL_S6[$l]=fd00:201::1$n:1 VL_C6[$l]=fd00:201::1$n:2
		n=$((n + 1))
	done
}
vl_def
vs() { local l=$1; shift; nsenter --net=/var/run/netns/"${VL_SNS[$l]}" "$@"; }
vc() { local l=$1; shift; nsenter --net=/var/run/netns/"${VL_CNS[$l]}" "$@"; }
vl_counter() { vs "$1" "$XDPSYN" stats "${VL_SIF[$1]}" -j | jq -r "(.interfaces[0] // .).counters.$2 // 0"; }
vl_rpf() { vc "$1" nstat -az TcpExtIPReversePathFilter | awk '/IPReversePathFilter/ {print $2}'; }

vl_lab_up() { # vl_lab_up LAB
	local l=$1 s=${VL_SIF[$1]} c=${VL_CIF[$1]} ns
	for ns in "${VL_SNS[$l]}" "${VL_CNS[$l]}"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
		nsenter --net=/var/run/netns/"$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0
	done
	VL_UP[$l]=1
	ip -n "${VL_SNS[$l]}" link add "$s" type veth peer name "$c" netns "${VL_CNS[$l]}" || return 1
	ip -n "${VL_SNS[$l]}" link add link "$s" name "$s.10" type vlan id 10 || return 1
	ip -n "${VL_CNS[$l]}" link add link "$c" name "$c.10" type vlan id 10 || return 1
	vc "$l" sysctl -qw net.ipv4.conf.all.rp_filter=1 "net.ipv6.conf.$c.disable_ipv6=1"
	ip -n "${VL_SNS[$l]}" link set "$s" up && ip -n "${VL_SNS[$l]}" link set "$s.10" up &&
		ip -n "${VL_CNS[$l]}" link set "$c" up && ip -n "${VL_CNS[$l]}" link set "$c.10" up || return 1
	ip -n "${VL_SNS[$l]}" addr add "${VL_S4[$l]}/24" dev "$s.10"
	ip -n "${VL_SNS[$l]}" addr add "${VL_S6[$l]}/112" dev "$s.10" nodad
	ip -n "${VL_CNS[$l]}" addr add "${VL_C4[$l]}/24" dev "$c.10"
	ip -n "${VL_CNS[$l]}" addr add "${VL_C6[$l]}/112" dev "$c.10" nodad
	ip -n "${VL_CNS[$l]}" link set dev "$c" xdpdrv obj "$ROOT/build/xdp_pass.bpf.o" sec xdp || return 1
	vs "$l" sysctl -qw net.ipv4.tcp_syncookies=1
	if [ "$l" = frame ]; then
		vs "$l" ethtool -K "$s" rxvlan off && vc "$l" ethtool -K "$c" txvlan off || return 1
	fi
	nsenter --net=/var/run/netns/"${VL_SNS[$l]}" "$ROOT/build/tcpecho" serve $PORT &
	LAB_PIDS+=($!)
	return 0
}
vl_offloads() { # "server rxvlan X, client txvlan Y"
	local r t
	r=$(vs "$1" ethtool -k "${VL_SIF[$1]}" | awk '/^rx-vlan-offload:/ {print $2}')
	t=$(vc "$1" ethtool -k "${VL_CIF[$1]}" | awk '/^tx-vlan-offload:/ {print $2}')
	echo "server rx-vlan-offload $r, client tx-vlan-offload $t"
}

# vlan_up: both labs, and direct connections on each (before any attach)
vlan_up() {
	local l out rc
	for l in $VL_LABS; do
		vl_lab_up "$l"
		check "vlan $l: lab (veth pair, VLAN 10 on each end, $(vl_offloads "$l"))" $? "set-up failed"
	done
	sleep 0.3
	for l in $VL_LABS; do
		out=$(vc "$l" "$ROOT/build/tcpecho" client "${VL_S4[$l]}" $PORT -n 2 -b 1000 -t 5000 2>&1) &&
			out+=" / $(vc "$l" "$ROOT/build/tcpecho" client "${VL_S6[$l]}" $PORT -n 2 -b 1000 -t 5000 2>&1)"
		check "vlan $l: direct over VLAN 10, v4 and v6 ($out)" $? "$out"
	done
}
# The attaches of the VLAN and bond labs, one after another in ONE
# background job: attach holds a lock on the shared /sys/fs/bpf/xdpsyn for
# its whole run (~10 s on 6.12 in TCG) and another waits at most 10 s, so
# two at once fail with exit 3 ("locked by another xdpsyn command").
# extra_attach NAME NS IFACE [ARG...]: queued; extra_attach_run starts the
# job. The ARGs (no spaces inside one) replace the suite's attach options
# ("--ports $PORT --set-sysctl $ATTACH_OPTS"); /tmp/xs-NAME.{attach,rc,secs}:
# its output, exit status and seconds.
EXTRA_ATTACH=()
extra_attach() { local e="$1 $2 $3"; shift 3; EXTRA_ATTACH+=("$e${*:+ $*}"); }
extra_attach_run() {
	[ ${#EXTRA_ATTACH[@]} -gt 0 ] || return 0
	(
		for e in "${EXTRA_ATTACH[@]}"; do
			read -r name ns ifn args <<<"$e"
			[ -n "$args" ] || args="--ports $PORT --set-sysctl $ATTACH_OPTS"
			t0=$SECONDS
			# shellcheck disable=SC2086
			nsenter --net=/var/run/netns/"$ns" "$XDPSYN" attach "$ifn" $args >/tmp/xs-$name.attach 2>&1
			echo $? >/tmp/xs-$name.rc
			echo $((SECONDS - t0)) >/tmp/xs-$name.secs
		done
	) &
	EXTRA_APID=$!
}
extra_attach_wait() { [ -n "${EXTRA_APID:-}" ] && wait "$EXTRA_APID"; EXTRA_APID=""; return 0; }
vlan_attach_start() {
	local l
	for l in $VL_LABS; do
		[ "${VL_UP[$l]:-0}" = 1 ] && extra_attach "vl-$l" "${VL_SNS[$l]}" "${VL_SIF[$l]}" && VL_APID[$l]=1
	done
}
# vl_through LAB: 3 + 3 connections on the VLAN, answered in XDP, the
# SYN-ACKs back on the VLAN; 0 when all is well, else VL_WHY says why
vl_through() {
	local l=$1 syn0 syn1 rpf0 rpf1 o4 o6 rc=0
	syn0=$(vl_counter "$l" synack_tx); rpf0=$(vl_rpf "$l")
	# one connection first: when it fails the others would too (3 s each)
	o4=$(vc "$l" "$ROOT/build/tcpecho" client "${VL_S4[$l]}" $PORT -n 1 -b 10000 -t 3000 2>&1) || rc=1
	if [ $rc -eq 0 ]; then
		o4=$(vc "$l" "$ROOT/build/tcpecho" client "${VL_S4[$l]}" $PORT -n 3 -b 10000 -t 3000 2>&1) || rc=1
		o6=$(vc "$l" "$ROOT/build/tcpecho" client "${VL_S6[$l]}" $PORT -n 3 -b 10000 -t 3000 2>&1) || rc=1
	else
		o6="not tried"
	fi
	syn1=$(vl_counter "$l" synack_tx); rpf1=$(vl_rpf "$l")
	VL_RES="v4 ${o4##*$'\n'}; v6 ${o6##*$'\n'}; synack_tx +$((syn1 - syn0)); client rp_filter drops +$((rpf1 - rpf0))"
	[ $rc -eq 0 ] && [ $((syn1 - syn0)) -ge 7 ]
}
vlan_checks() {
	local l out rc maj min
	for l in $VL_LABS; do
		[ "${VL_UP[$l]:-0}" = 1 ] && [ -n "${VL_APID[$l]:-}" ] || continue
		extra_attach_wait
		out=$(cat /tmp/xs-vl-$l.attach 2>/dev/null); rc=$(cat /tmp/xs-vl-$l.rc 2>/dev/null)
		case $l in
		frame)
			check "vlan frame: xdpsyn attach ${VL_SIF[$l]} (the parent veth)" "${rc:-1}" "rc=$rc: $out"
			[ "$rc" = 0 ] || continue
			vl_through "$l"
			check "vlan frame (tag in the frame): 3+3 connections v4/v6 through xdpsyn, SYN-ACKs tagged ($VL_RES)" $? "$VL_RES"
			;;
		meta)
			read -r maj min <<<"$VLAN_META_KFUNC_KVER"
			if [ "$rc" != 0 ]; then
				if ! kver_ge "$maj" "$min" && grep -Eq "$VLAN_META_REFUSE_RE" <<<"$out"; then
					ok "vlan meta (tag in metadata): attach on $(uname -r) refused, naming 'ethtool -K ${VL_SIF[$l]} rxvlan off' ($(head -n 1 <<<"$out"))"
				else
					bad "vlan meta (tag in metadata): attach refused" "rc=$rc: $out"
				fi
				continue
			fi
			note "vlan meta: attach said: $(tr '\n' ' ' <<<"$out")"
			read -r maj min <<<"$VLAN_META_KFUNC_KVER"
			if ! kver_ge "$maj" "$min"; then
				# this kernel cannot read the tag: attach must say so
				# and what to do; the SYN-ACKs leave untagged
				grep -Eq "$VLAN_META_WARN_RE" <<<"$out"
				check "vlan meta (tag in metadata) on $(uname -r): attach warns that SYN-ACKs leave untagged, naming the peer's txvlan" $? "$out"
				out=$(vs "$l" "$XDPSYN" detach "${VL_SIF[$l]}" 2>&1)
				check "vlan $l: detach" $? "$out"
				continue
			fi
			vl_through "$l"
			check "vlan meta (tag in metadata, rx-vlan-offload on): 3+3 connections v4/v6 through xdpsyn, SYN-ACKs tagged ($VL_RES)" $? \
				"$VL_RES (the XDP program sees no tag: needs bpf_xdp_metadata_rx_vlan_tag, kernel >= 6.8, and the tag restored on the SYN-ACK; on older kernels attach must refuse naming 'ethtool -K IFACE rxvlan off')"
			;;
		esac
		out=$(vs "$l" "$XDPSYN" detach "${VL_SIF[$l]}" 2>&1)
		check "vlan $l: detach" $? "$out"
	done
}
vlan_down() {
	local l
	for l in $VL_LABS; do
		[ "${VL_UP[$l]:-0}" = 1 ] || continue
		[ -e "/sys/fs/bpf/xdpsyn/${VL_SIF[$l]}" ] && vs "$l" "$XDPSYN" detach "${VL_SIF[$l]}" >/dev/null 2>&1
		ip netns del "${VL_SNS[$l]}" 2>/dev/null
		ip netns del "${VL_CNS[$l]}" 2>/dev/null
		VL_UP[$l]=0
	done
	rm -f /tmp/xs-vl-*.attach /tmp/xs-vl-*.rc
	return 0
}
