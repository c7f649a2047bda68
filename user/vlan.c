// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn CLI: VLAN tags and the XDP program. Most NICs (and veth) take the
 * outermost 802.1Q/802.1ad tag off a received frame into metadata
 * (rx-vlan-offload): XDP then sees an untagged frame, and a SYN-ACK sent
 * back with XDP_TX would leave untagged, never reaching the VLAN
 * sub-interface's peer. Since Linux 6.8 a program bound to the device
 * reads the tag with bpf_xdp_metadata_rx_vlan_tag (xdpsyn_xdp_vlan), and
 * the SYN-ACK carries it in the frame. Where that cannot be, attach says
 * what to do rather than answer SYNs it would answer wrongly. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_vlan.h>
#include <linux/sockios.h>
#include <bpf/btf.h>
#include "cli.h"

static const char *const vlan_names[] = {
	[VLAN_FRAME] = "frame",
	[VLAN_METADATA] = "metadata",
};

const char *vlan_mode_name(int mode)
{
	return mode == VLAN_FRAME || mode == VLAN_METADATA ? vlan_names[mode] : "auto";
}

/* The first VLAN device on IFACE into BUF: 1 when there is one, 0 when
 * not. Asked of the 8021q driver (SIOCGIFVLAN) for each interface of this
 * network namespace: sysfs would show the namespace it was mounted in. */
static int vlan_upper(const char *ifname, char *buf, size_t len)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), found = 0;

	for (i = ifs; fd >= 0 && i && i->if_index && !found; i++) {
		struct vlan_ioctl_args v = { .cmd = GET_VLAN_REALDEV_NAME_CMD };

		snprintf(v.device1, sizeof(v.device1), "%s", i->if_name);
		/* fails for what is not a VLAN (and without 8021q) */
		if (ioctl(fd, SIOCGIFVLAN, &v) == 0 &&
		    !strncmp(v.u.device2, ifname, sizeof(v.u.device2))) {
			snprintf(buf, len, "%s", i->if_name);
			found = 1;
		}
	}
	if (fd >= 0)
		close(fd);
	if (ifs)
		if_freenameindex(ifs);
	return found;
}

/* 1 when the running kernel has the VLAN metadata kfunc (6.8), 0 when
 * not (or its BTF cannot be read: the BPF load would say so). */
static int kernel_has_vlan_kfunc(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int id;

	if (!btf)
		return 0;
	id = btf__find_by_name_kind(btf, VLAN_KFUNC, BTF_KIND_FUNC);
	btf__free(btf);
	return id > 0;
}

/* 1 when IFACE's XDP may see tags only in metadata: it strips them on
 * receive, or it is a veth, where the sender decides (its peer's
 * tx-vlan-offload; the receiver's rxvlan changes nothing for XDP). */
static int tags_offloaded(const char *ifname, bool *veth)
{
	*veth = iface_is_veth(ifname);
	return *veth || iface_rxvlan(ifname) == 1;
}

/* What turns offloaded tags off on IFACE, for a message. */
static void offload_fix(char *buf, size_t len, const char *ifname, bool veth)
{
	if (veth)
		snprintf(buf, len, "ethtool -K PEER txvlan off on the veth peer "
			 "of %s (on veth the sender decides)", ifname);
	else
		snprintf(buf, len, "ethtool -K %s rxvlan off", ifname);
}

int vlan_warning(const char *ifname, bool metadata, bool native, char *buf,
		 size_t len)
{
	char upper[64] = "", fix[128];
	bool veth;

	if (metadata || !native || !tags_offloaded(ifname, &veth) ||
	    !vlan_upper(ifname, upper, sizeof(upper)))
		return 0;
	offload_fix(fix, sizeof(fix), ifname, veth);
	snprintf(buf, len, "VLAN sub-interface %s's tags reach XDP offloaded "
		 "and xdpsyn does not read them (attached with --vlan frame, or "
		 "before %s existed): SYN-ACKs to it leave untagged. xdpsyn "
		 "detach %s and attach again (--vlan auto), or %s", upper, upper,
		 ifname, fix);
	return 1;
}

int vlan_choose(const char *ifname, int *mode, bool native, bool others)
{
	const char *why = NULL;
	char upper[64] = "", fix[128];
	bool veth;
	int rx = tags_offloaded(ifname, &veth);
	int has_upper = vlan_upper(ifname, upper, sizeof(upper));

	if (!native) {
		/* generic XDP runs on the skb, whose offloaded tag an
		 * XDP_TX reply keeps */
		if (*mode == VLAN_METADATA) {
			errmsg(ifname, "--vlan metadata: generic mode cannot run a "
			       "program bound to the device, and needs none: its "
			       "SYN-ACKs keep the received frame's offloaded tag; "
			       "leave --vlan out");
			return EXIT_USAGE;
		}
		*mode = VLAN_FRAME;
		return 0;
	}
	if (!kernel_has_vlan_kfunc())
		why = "this kernel has no " VLAN_KFUNC " (Linux >= 6.8)";
	else if (others)
		why = "a program bound to the device cannot join libxdp's "
		      "dispatcher, and other XDP programs are there";

	offload_fix(fix, sizeof(fix), ifname, veth);
	if (*mode == VLAN_METADATA && why) {
		errmsg(ifname, "--vlan metadata: %s: attach with --vlan frame "
		       "after %s (the tags then stay in the frame, which xdpsyn "
		       "reads)", why, fix);
		return EXIT_PREREQ;
	}
	/* only where VLANs need it: a program bound to the device runs
	 * alone (no dispatcher), and pays a kfunc call per SYN */
	if (*mode == VLAN_AUTO)
		*mode = rx == 1 && has_upper && !why ? VLAN_METADATA : VLAN_FRAME;
	if (*mode == VLAN_FRAME && rx == 1 && has_upper) {
		/* SYNs to the VLAN would be answered untagged: refuse
		 * (auto) or say it (an explicit --vlan frame) */
		if (why && veth) {
			/* the peer decides, and its settings are not to be
			 * seen from here: say it, do not refuse */
			warnmsg(ifname, "has VLAN sub-interfaces (%s), and %s: if the "
				"veth peer sends their tags offloaded (its txvlan on, "
				"the default), SYN-ACKs to them leave untagged; %s",
				upper, why, fix);
			return 0;
		}
		if (why) {
			errmsg(ifname, "has VLAN sub-interfaces (%s) whose tags reach "
			       "XDP offloaded (in metadata), but %s: SYN-ACKs to them "
			       "would leave untagged. Run %s (the tags then stay in "
			       "the frame, which xdpsyn reads) and attach again",
			       upper, why, fix);
			return EXIT_PREREQ;
		}
		warnmsg(ifname, "--vlan frame with VLAN sub-interfaces (%s) whose "
			"tags reach XDP offloaded: SYNs to them are answered "
			"untagged; %s, or --vlan auto", upper, fix);
	}
	return 0;
}
