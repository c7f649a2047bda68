// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn CLI: VLAN tags and the XDP program. Most NICs (and veth) take the
 * outermost 802.1Q/802.1ad tag off a received frame into metadata
 * (rx-vlan-offload): XDP then sees an untagged frame, and a SYN-ACK sent
 * back with XDP_TX would leave untagged, never reaching the VLAN
 * sub-interface's peer. Since Linux 6.8 a program bound to the device
 * reads the tag with bpf_xdp_metadata_rx_vlan_tag (xdpsyn_xdp_vlan), and
 * the SYN-ACK carries it in the frame. Where that cannot be, attach says
 * what to do rather than answer SYNs it would answer wrongly. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
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

/* The first VLAN device stacked on IFACE (its upper_* links) into BUF;
 * 1 when there is one, 0 when not. */
static int vlan_upper(const char *ifname, char *buf, size_t len)
{
	char path[512], line[128];
	struct dirent *e;
	DIR *d;
	int found = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s", ifname);
	d = opendir(path);
	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		FILE *f;

		if (strncmp(e->d_name, "upper_", 6))
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/uevent", e->d_name + 6);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (!strcmp(line, "DEVTYPE=vlan\n")) {
				snprintf(buf, len, "%s", e->d_name + 6);
				found = 1;
				break;
			}
		fclose(f);
	}
	closedir(d);
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

int vlan_warning(const char *ifname, bool metadata, bool native, char *buf,
		 size_t len)
{
	char upper[64] = "";

	if (metadata || !native || iface_rxvlan(ifname) != 1 ||
	    !vlan_upper(ifname, upper, sizeof(upper)))
		return 0;
	snprintf(buf, len, "VLAN sub-interface %s strips its tags on receive "
		 "(rx-vlan-offload) and xdpsyn does not read them (attached "
		 "with --vlan frame, or before %s existed): SYN-ACKs to it leave "
		 "untagged. xdpsyn detach %s and attach again (--vlan auto), or "
		 "ethtool -K %s rxvlan off", upper, upper, ifname, ifname);
	return 1;
}

int vlan_choose(const char *ifname, int *mode, bool native, bool others)
{
	const char *why = NULL;
	char upper[64] = "";
	int rx = iface_rxvlan(ifname);
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

	if (*mode == VLAN_METADATA && why) {
		errmsg(ifname, "--vlan metadata: %s: attach with --vlan frame "
		       "after ethtool -K %s rxvlan off (the tags then stay in "
		       "the frame, which xdpsyn reads)", why, ifname);
		return EXIT_PREREQ;
	}
	/* only where VLANs need it: a program bound to the device runs
	 * alone (no dispatcher), and pays a kfunc call per SYN */
	if (*mode == VLAN_AUTO)
		*mode = rx == 1 && has_upper && !why ? VLAN_METADATA : VLAN_FRAME;
	if (*mode == VLAN_FRAME && rx == 1 && has_upper) {
		/* SYNs to the VLAN would be answered untagged: refuse
		 * (auto) or say it (an explicit --vlan frame) */
		if (why) {
			errmsg(ifname, "strips VLAN tags on receive (rx-vlan-offload) "
			       "and has VLAN sub-interfaces (%s), but %s: SYN-ACKs to "
			       "them would leave untagged. Run ethtool -K %s rxvlan off "
			       "(the tags then stay in the frame, which xdpsyn reads) "
			       "and attach again", upper, why, ifname);
			return EXIT_PREREQ;
		}
		warnmsg(ifname, "--vlan frame with rx-vlan-offload on and VLAN "
			"sub-interfaces (%s): SYNs that reach them untagged are "
			"answered untagged; ethtool -K %s rxvlan off, or --vlan auto",
			upper, ifname);
	}
	return 0;
}
