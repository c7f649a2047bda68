// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn attach: load both programs, share their maps, attach, pin. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include <xdp/libxdp.h>
#include "attach.h"
#include "xdpsyn.skel.h"
#include "xdpsyn_tc.skel.h"
#include "xdpsyn_gw.skel.h"

#ifndef BPF_F_XDP_DEV_BOUND_ONLY /* uapi >= 6.3; Debian 12's headers are 6.1's */
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6)
#endif

/* The oldest kernel the programs load on: bpf_ktime_get_tai_ns (6.1);
 * bpf_tcp_raw_check_syncookie_* (6.0), bpf_loop (5.17). */
#define MIN_KERNEL_MAJOR 6
#define MIN_KERNEL_MINOR 1
/* The reqsk hand-off's kfunc (Linux >= 6.9), probed in the kernel's BTF. */
#define REQSK_KFUNC "bpf_sk_assign_tcp_reqsk"

/* The interfaces XDP programs go to: IFACE, and in gateway mode IFACE_S. */
enum side { SIDE_C, SIDE_S, NSIDES };

/* What attach has done so far, for the undo. */
struct attach_state {
	struct xdpsyn *xdp;
	struct xdpsyn *xdp_ext;  /* the same object, for libxdp to load as an
				  * freplace of its dispatcher (maps shared) */
	struct xdp_program *xprog[NSIDES];
	bool xdp_attached[NSIDES];
	struct xdpsyn_tc *tc;    /* local mode */
	/* gateway mode: its object (the maps, the TC program) and a copy
	 * per interface for libxdp, like xdp_ext */
	struct xdpsyn_gw *gw;
	struct xdpsyn_gw *gw_ext[NSIDES];
	int gw_kept_fd;          /* the state table a detach kept, reused */
	bool dir_kept;           /* the pin directory held it: not ours */
	int gw_tc_link_fd;       /* IFACE_S's tcx link */
	bool gw_tc_attached, gw_clsact_created;
	struct bpf_tc_opts gw_tc_opts;
	int meta_fd;
	int tc_link_fd, tc_egress_link_fd; /* tcx */
	bool dir_created;
	bool tc_attached;
	bool tc_egress_attached;
	bool clsact_created;
	struct bpf_tc_opts tc_opts;
	struct bpf_tc_opts tc_egress_opts;
};

static int check_kernel(void)
{
	char rel[128];
	int maj, min;

	if (kernel_version(&maj, &min, rel, sizeof(rel))) {
		warnmsg("kernel", "cannot read the version (uname), going on");
		return 0;
	}
	if (maj > MIN_KERNEL_MAJOR ||
	    (maj == MIN_KERNEL_MAJOR && min >= MIN_KERNEL_MINOR))
		return 0;
	errmsg("kernel", "%s is too old: xdpsyn needs >= %d.%d "
	       "(bpf_ktime_get_tai_ns; the kernel-cookie hand-off's helpers "
	       "since 6.0): run a newer kernel", rel, MIN_KERNEL_MAJOR,
	       MIN_KERNEL_MINOR);
	return EXIT_PREREQ;
}

/* 1 when the running kernel has the reqsk hand-off's kfunc (its BTF names
 * it), 0 when not, -1 when its BTF cannot be read. */
static int kernel_has_reqsk(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int id;

	if (!btf)
		return -1;
	id = btf__find_by_name_kind(btf, REQSK_KFUNC, BTF_KIND_FUNC);
	btf__free(btf);
	return id > 0;
}

/* --handoff auto: the best this kernel has; a mode it lacks is refused. */
static int handoff_choose(struct attach_args *a)
{
	int has = kernel_has_reqsk();

	if (has < 0) {
		errmsg("kernel", "cannot read its BTF (/sys/kernel/btf/vmlinux): "
		       "xdpsyn needs a kernel built with CONFIG_DEBUG_INFO_BTF");
		return EXIT_PREREQ;
	}
	if (a->handoff < 0)
		a->handoff = has ? XDPSYN_HANDOFF_REQSK : XDPSYN_HANDOFF_KCOOKIE;
	if (a->handoff == XDPSYN_HANDOFF_REQSK && !has) {
		errmsg("kernel", "has no " REQSK_KFUNC " (Linux >= 6.9): use "
		       "--handoff kernel-cookie (or auto)");
		return EXIT_PREREQ;
	}
	if (a->handoff == XDPSYN_HANDOFF_KCOOKIE && a->sv.given[SETTING_WSCALE]) {
		errmsg("--wscale", "the kernel-cookie hand-off lets the kernel "
		       "choose the window scale (from net.ipv4.tcp_rmem and "
		       "net.core.rmem_max): leave --wscale out");
		return EXIT_USAGE;
	}
	return 0;
}

/* The kernel-cookie hand-off's sysctls: tcp_syncookies = 2 (required) and
 * tcp_timestamps = 2 (to keep the options), set only with --set-sysctl. */
static int check_kcookie_sysctls(bool set)
{
	const char *sc = handoff_sysctl(HO_SYNCOOKIES);
	const char *ts = handoff_sysctl(HO_TIMESTAMPS);
	long v;
	int err;

	err = sysctl_read_long(sc, &v);
	if (err) {
		errmsg(sc, "cannot read: %s", strerror(-err));
		return EXIT_PREREQ;
	}
	if (v != 2) {
		if (!set) {
			errmsg(sc, "is %ld: the kernel-cookie hand-off needs 2 (the "
			       "kernel makes a cookie only then); with 2 it also "
			       "answers every SYN to the ports xdpsyn does not "
			       "protect with a cookie, so their clients without "
			       "timestamps lose window scaling and SACK, as under a "
			       "flood: pass --set-sysctl, or sysctl -w %s=2", v, sc);
			return EXIT_PREREQ;
		}
		err = sysctl_write(sc, "2");
		if (err) {
			errmsg(sc, "cannot set it to 2: %s", strerror(-err));
			return EXIT_PREREQ;
		}
		fprintf(stderr, "xdpsyn: %s: set to 2 (the kernel now answers "
			"every SYN with a cookie)\n", sc);
	}
	if (sysctl_read_long(ts, &v) || v != 1)
		return 0;
	if (!set) {
		warnmsg(ts, "is 1: the kernel reads the options back from TSecr "
			"only with 2 (no random timestamp offset), so SYN-ACKs "
			"carry the MSS alone: --set-sysctl sets it to 2 (then TCP "
			"timestamps show this host's clock)");
		return 0;
	}
	err = sysctl_write(ts, "2");
	if (err) {
		errmsg(ts, "cannot set it to 2: %s", strerror(-err));
		return EXIT_PREREQ;
	}
	fprintf(stderr, "xdpsyn: %s: set to 2 (no random timestamp offset)\n", ts);
	return 0;
}

static int check_sysctls(bool set, int policy)
{
	const char *sc = handoff_sysctl(HO_SYNCOOKIES);
	long v;
	int err;

	err = sysctl_read_long(sc, &v);
	if (err) {
		errmsg(sc, "cannot read: %s", strerror(-err));
		return EXIT_PREREQ;
	}
	if (!v) {
		if (!set) {
			errmsg(sc, "is 0: the listener refuses handed-off "
			       "connections: pass --set-sysctl to set it to 1");
			return EXIT_PREREQ;
		}
		err = sysctl_write(sc, "1");
		if (err) {
			errmsg(sc, "cannot set it to 1: %s: sysctl -w %s=1",
			       strerror(-err), sc);
			return EXIT_PREREQ;
		}
		fprintf(stderr, "xdpsyn: %s: set to 1\n", sc);
	}
	if (v == 2 && policy == XDPSYN_POLICY_AUTO)
		warnmsg(sc, "is 2: the kernel answers every SYN with its own "
			"cookie, so auto switches to proxy at the first SYN "
			"(sysctl -w %s=1 to let it track)", sc);
	/* the XDP program follows these live: an option turned off is not
	 * offered (as the kernel would not) */
	for (int i = HO_SYNCOOKIES + 1; i < HO_N; i++)
		if (!sysctl_read_long(handoff_sysctl(i), &v) && !v)
			fprintf(stderr, "xdpsyn: %s is 0: %s not offered while it "
				"is 0\n", handoff_sysctl(i), handoff_option(i));
	return 0;
}

/* 0 when IFACE has no pin directory (or, with KEPT_OK, one holding only
 * a gateway's kept state table); else a message and an exit code. */
static int check_not_attached(const char *ifname, bool kept_ok)
{
	char path[256];
	struct stat st;

	if (pin_dir_state_only(ifname)) {
		if (kept_ok)
			return 0;
		errmsg(ifname, "holds the state table a gateway's detach kept "
		       "(%s/%s/%s): xdpsyn detach %s --flush-state removes it, "
		       "or attach %s --gateway again to use it", PIN_BASE, ifname,
		       pin_names[PIN_GW_CONNS], ifname, ifname);
		return EXIT_CONFLICT;
	}

	pin_path(path, sizeof(path), ifname, pin_names[PIN_PROG_XDP]);
	if (lstat(path, &st))
		pin_path(path, sizeof(path), ifname, pin_names[PIN_LINK_XDP]);
	if (!lstat(path, &st)) {
		errmsg(ifname, "already attached (xdpsyn detach %s first)", ifname);
		return EXIT_CONFLICT;
	}
	pin_path(path, sizeof(path), ifname, NULL);
	if (!lstat(path, &st)) {
		errmsg(ifname, "an incomplete attachment is pinned at %s: "
		       "xdpsyn detach %s removes it", path, ifname);
		return EXIT_CONFLICT;
	}
	return 0;
}

static int maps_fill(struct xdpsyn *xdp, const struct attach_args *a,
		     const struct xdpsyn_config *cfg, const struct xdpsyn_key *key)
{
	__u32 zero = 0, fam;
	int err;

	err = bpf_map_update_elem(bpf_map__fd(xdp->maps.xdpsyn_keys), &zero, key,
				  BPF_ANY);
	for (fam = 0; !err && fam < XDPSYN_NFAMILIES; fam++)
		err = bpf_map_update_elem(bpf_map__fd(xdp->maps.xdpsyn_ports),
					  &fam, &a->sv.ports[fam], BPF_ANY);
	if (!err && cfg->flags & XDPSYN_CFG_LOCAL_ADDRS &&
	    local_addrs_fill(bpf_map__fd(xdp->maps.xdpsyn_local_addrs)) < 0)
		err = -1;
	if (!err)
		err = bpf_map_update_elem(bpf_map__fd(xdp->maps.xdpsyn_config),
					  &zero, cfg, BPF_ANY);
	if (!err && policy_state_reset(bpf_map__fd(xdp->maps.xdpsyn_policy),
				       cfg->policy))
		err = -1;
	if (err) {
		errmsg(a->ifname, "filling the maps: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	return 0;
}

static int ext_open(struct attach_state *s, const struct attach_args *a,
		    enum side side);

/* Gateway mode: --servers into xdpsyn_gw_prefixes (before the config
 * that tells the programs to look there). */
static int gw_prefixes_fill(const struct attach_state *s,
			    const struct attach_args *a)
{
	int fd = bpf_map__fd(s->gw->maps.xdpsyn_gw_prefixes);
	__u8 one = 1;

	for (int i = 0; i < a->sv.nprefixes; i++) {
		if (!bpf_map_update_elem(fd, &a->sv.prefixes[i], &one, BPF_ANY))
			continue;
		errmsg(a->ifname, "filling %s: %s", pin_names[PIN_GW_PREFIXES],
		       strerror(errno));
		return EXIT_RUNTIME;
	}
	return 0;
}

/* Every map of DST (not the internal ones) that SRC has by the same name
 * becomes SRC's: one set of maps for the programs of both objects. */
static int maps_share(struct bpf_object *dst, struct bpf_object *src,
		      const char *ifname, const char *what)
{
	struct bpf_map *m;
	int err;

	bpf_object__for_each_map(m, dst) {
		struct bpf_map *x;

		if (bpf_map__is_internal(m))
			continue;
		x = bpf_object__find_map_by_name(src, bpf_map__name(m));
		if (!x)
			continue;
		err = bpf_map__reuse_fd(m, bpf_map__fd(x));
		if (err) {
			errmsg(ifname, "sharing map %s with %s: %s",
			       bpf_map__name(m), what, strerror(-err));
			return EXIT_RUNTIME;
		}
	}
	return 0;
}

/* Gateway mode: the gateway object takes the xdpsyn object's maps of the
 * same name (as the TC object does in local mode), sizes its state table
 * or takes the one a detach kept, and loads its TC program; its XDP
 * programs load in the copies libxdp attaches (ext_open). */
static int gw_load(struct attach_state *s, const struct attach_args *a)
{
	struct bpf_map *conns;
	struct bpf_program *p;
	int err, ret;

	s->gw = xdpsyn_gw__open();
	if (!s->gw) {
		errmsg(a->ifname, "opening the gateway object: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	ret = maps_share(s->gw->obj, s->xdp->obj, a->ifname, "the gateway programs");
	if (ret)
		return ret;
	conns = s->gw->maps.xdpsyn_gw_conns;
	err = s->gw_kept_fd >= 0 ? bpf_map__reuse_fd(conns, s->gw_kept_fd) :
				   bpf_map__set_max_entries(conns, a->gw_conns);
	if (err) {
		errmsg(a->ifname, "%s %s: %s", s->gw_kept_fd >= 0 ? "reusing the "
		       "kept" : "sizing", pin_names[PIN_GW_CONNS], strerror(-err));
		return EXIT_RUNTIME;
	}
	bpf_object__for_each_program(p, s->gw->obj)
		if (p != s->gw->progs.xdpsyn_gw_tc)
			bpf_program__set_autoload(p, false);
	err = xdpsyn_gw__load(s->gw);
	if (err) {
		errmsg(a->ifname, "loading the gateway's TC program: %s: rerun with "
		       "-v for the verifier log", strerror(-err));
		return EXIT_RUNTIME;
	}
	ret = ext_open(s, a, SIDE_C);
	return ret ? ret : ext_open(s, a, SIDE_S);
}

static int load_programs(struct attach_state *s, const struct attach_args *a)
{
	const char *ifname = a->ifname;
	int err, ncpus;

	s->xdp = xdpsyn__open();
	if (!s->xdp) {
		errmsg(ifname, "opening the XDP object: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		errmsg(ifname, "cannot count the possible CPUs: %s",
		       strerror(-ncpus));
		return EXIT_RUNTIME;
	}
	s->xdp->rodata->nr_cpus = ncpus;
	s->xdp->rodata->handoff_mode = (__u8)a->handoff;
	/* this copy holds the maps: one entry is enough (the one that reads
	 * VLAN metadata loads only bound to a device, in the copy libxdp
	 * attaches) */
	bpf_program__set_autoload(s->xdp->progs.xdpsyn_xdp_vlan, false);
	bpf_program__set_autoload(s->xdp->progs.xdpsyn_xdp_skb, false);
	err = bpf_map__set_max_entries(s->xdp->maps.xdpsyn_flows, a->flows_max);
	if (err) {
		errmsg(ifname, "sizing %s: %s", pin_names[PIN_FLOWS], strerror(-err));
		return EXIT_RUNTIME;
	}
	err = bpf_map__set_max_entries(s->xdp->maps.xdpsyn_hs, a->hs_max);
	if (err) {
		errmsg(ifname, "sizing %s: %s", pin_names[PIN_HS], strerror(-err));
		return EXIT_RUNTIME;
	}
	err = xdpsyn__load(s->xdp);
	if (err) {
		errmsg(ifname, "loading the XDP program: %s: rerun with -v for "
		       "the verifier log", strerror(-err));
		return EXIT_RUNTIME;
	}
	/* gateway mode has its own programs, and no hand-off to a local
	 * listener: no TC object */
	if (a->gateway)
		return gw_load(s, a);
	s->tc = xdpsyn_tc__open();
	if (!s->tc) {
		errmsg(ifname, "opening the TC object: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	/* One set of maps for both programs: the TC object takes the XDP
	 * object's map of the same name, whatever it is (config, keys, ports,
	 * stats, the tracker's flows, events, cms, top and the policies' hs,
	 * rate, policy; reuse copies the size set above). Only the TC
	 * program's errno map is its own. */
	err = maps_share(s->tc->obj, s->xdp->obj, ifname, "the TC program");
	if (err)
		return err;
	/* the kernel-cookie hand-off needs no TC ingress program (and the
	 * kernel may lack its kfunc) */
	if (a->handoff != XDPSYN_HANDOFF_REQSK)
		bpf_program__set_autoload(s->tc->progs.xdpsyn_tc, false);
	err = xdpsyn_tc__load(s->tc);
	if (err) {
		errmsg(ifname, "loading the TC program: %s: rerun with -v for the "
		       "verifier log", strerror(-err));
		return EXIT_RUNTIME;
	}
	return ext_open(s, a, SIDE_C);
}

/* The program libxdp attaches: the same object opened again, every map
 * (the internal ones too) the loaded one's; libxdp loads it as an
 * freplace of its dispatcher's slot (a program loaded as XDP cannot be
 * one). The first one fills no slot; it goes at the end. */
/* The XDP entry that runs on the interface: bound to the device to read
 * offloaded VLAN tags, single-buffer for generic mode, else the
 * multi-buffer one (native XDP at any MTU). */
static const char *xdp_entry(const struct attach_args *a, enum side side)
{
	bool native = a->xdp_flags & XDP_FLAGS_DRV_MODE;

	if (a->gateway && side == SIDE_S)
		return native ? "xdpsyn_gw_srv_xdp" : "xdpsyn_gw_srv_xdp_skb";
	if (a->gateway)
		return native ? "xdpsyn_gw_xdp" : "xdpsyn_gw_xdp_skb";
	if (a->vlan == VLAN_METADATA)
		return "xdpsyn_xdp_vlan";
	if (!(a->xdp_flags & XDP_FLAGS_DRV_MODE))
		return "xdpsyn_xdp_skb";
	return "xdpsyn_xdp";
}

static const char *side_ifname(const struct attach_args *a, enum side side)
{
	return side == SIDE_S ? a->gw_ifname : a->ifname;
}

static int side_ifindex(const struct attach_args *a, enum side side)
{
	return side == SIDE_S ? a->gw_ifindex : a->ifindex;
}

/* The object of the copy libxdp attaches to SIDE's interface. */
static struct bpf_object *ext_obj(const struct attach_state *s,
				  const struct attach_args *a, enum side side)
{
	return a->gateway ? s->gw_ext[side]->obj : s->xdp_ext->obj;
}

static void ext_close(struct attach_state *s, const struct attach_args *a,
		      enum side side)
{
	if (a->gateway) {
		xdpsyn_gw__destroy(s->gw_ext[side]);
		s->gw_ext[side] = NULL;
	} else {
		xdpsyn__destroy(s->xdp_ext);
		s->xdp_ext = NULL;
	}
}

/* Every map of DST, the internal ones too, becomes SRC's of that name. */
static int maps_share_all(struct bpf_object *dst, struct bpf_object *src,
			  const char *ifname)
{
	struct bpf_map *m;
	int err;

	bpf_object__for_each_map(m, dst) {
		struct bpf_map *x = bpf_object__find_map_by_name(src,
								 bpf_map__name(m));

		err = x ? bpf_map__reuse_fd(m, bpf_map__fd(x)) : -ENOENT;
		if (err) {
			errmsg(ifname, "sharing map %s with the dispatcher's "
			       "program: %s", bpf_map__name(m), strerror(-err));
			return EXIT_RUNTIME;
		}
	}
	return 0;
}

static int ext_open(struct attach_state *s, const struct attach_args *a,
		    enum side side)
{
	const char *ifname = a->ifname;
	struct bpf_program *p;
	int err;

	if (a->gateway) {
		s->gw_ext[side] = xdpsyn_gw__open();
		if (!s->gw_ext[side]) {
			errmsg(side_ifname(a, side), "opening the gateway object: %s",
			       strerror(errno));
			return EXIT_RUNTIME;
		}
		bpf_object__for_each_program(p, s->gw_ext[side]->obj)
			if (strcmp(bpf_program__name(p), xdp_entry(a, side)))
				bpf_program__set_autoload(p, false);
		return maps_share_all(s->gw_ext[side]->obj, s->gw->obj,
				      side_ifname(a, side));
	}
	s->xdp_ext = xdpsyn__open();
	if (!s->xdp_ext) {
		errmsg(ifname, "opening the XDP object: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	s->xdp_ext->rodata->nr_cpus = s->xdp->rodata->nr_cpus;
	s->xdp_ext->rodata->handoff_mode = (__u8)a->handoff;
	bpf_object__for_each_program(p, s->xdp_ext->obj)
		if (strcmp(bpf_program__name(p), xdp_entry(a, SIDE_C)))
			bpf_program__set_autoload(p, false);
	if (a->vlan == VLAN_METADATA) {
		/* metadata kfuncs resolve to the driver's only in a program
		 * bound to the device */
		p = s->xdp_ext->progs.xdpsyn_xdp_vlan;
		bpf_program__set_ifindex(p, a->ifindex);
		err = bpf_program__set_flags(p, bpf_program__flags(p) |
					     BPF_F_XDP_DEV_BOUND_ONLY);
		if (err) {
			errmsg(ifname, "binding the XDP program to the device: %s",
			       strerror(-err));
			return EXIT_RUNTIME;
		}
	}
	return maps_share_all(s->xdp_ext->obj, s->xdp->obj, ifname);
}

static int pin_fd(const char *ifname, const char *name, int fd)
{
	char path[256];

	pin_path(path, sizeof(path), ifname, name);
	if (bpf_obj_pin(fd, path)) {
		errmsg(path, "pinning: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	return 0;
}

/* Pin every map of both objects (the TC one, or the gateway one) by name,
 * shared maps once, a kept state table not again, and meta. */
static int pin_maps(struct attach_state *s, const char *ifname)
{
	struct bpf_object *other = s->gw ? s->gw->obj : s->tc->obj;
	struct bpf_map *m;
	int ret;

	bpf_object__for_each_map(m, s->xdp->obj) {
		if (bpf_map__is_internal(m))
			continue;
		ret = pin_fd(ifname, bpf_map__name(m), bpf_map__fd(m));
		if (ret)
			return ret;
	}
	bpf_object__for_each_map(m, other) {
		if (bpf_map__is_internal(m) ||
		    bpf_object__find_map_by_name(s->xdp->obj, bpf_map__name(m)) ||
		    (s->gw_kept_fd >= 0 && !strcmp(bpf_map__name(m),
						    pin_names[PIN_GW_CONNS])))
			continue;
		ret = pin_fd(ifname, bpf_map__name(m), bpf_map__fd(m));
		if (ret)
			return ret;
	}
	return pin_fd(ifname, pin_names[PIN_META], s->meta_fd);
}

static int meta_record(const struct attach_state *s,
		       const struct attach_args *a, const struct xdpsyn_meta *m)
{
	if (!meta_write(s->meta_fd, m))
		return 0;
	errmsg(a->ifname, "writing %s: %s", pin_names[PIN_META], strerror(errno));
	return EXIT_RUNTIME;
}

/* IFNAME's clsact qdisc, made if missing (*CREATED). 0 or an exit code
 * after a message. */
static int clsact_make(const char *ifname, int ifindex, bool *created)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST) {
		errmsg(ifname, "creating the clsact qdisc: %s: see "
		       "tc qdisc show dev %s", strerror(-err), ifname);
		return EXIT_RUNTIME;
	}
	*created = !err;
	return 0;
}

/* PROG_FD as a filter of IFNAME's clsact ingress block at priority 1, the
 * front of the chain, when no filter holds it, else where the kernel puts
 * it; O gets its handle and priority. 0 or an exit code after a message. */
static int clsact_ingress(const char *ifname, int ifindex, int prog_fd,
			  struct bpf_tc_opts *o)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	int err;

	*o = (struct bpf_tc_opts){
		.sz = sizeof(struct bpf_tc_opts),
		.prog_fd = prog_fd,
		.priority = tc_prio_taken(ifindex, false, 1) ? 0 : 1,
	};
	err = bpf_tc_attach(&hook, o);
	if (err && o->priority) {
		/* taken meanwhile: where the kernel puts it */
		o->priority = 0;
		err = bpf_tc_attach(&hook, o);
	}
	if (err) {
		errmsg(ifname, "attaching the TC ingress filter: %s: see "
		       "tc filter show dev %s ingress", strerror(-err), ifname);
		return EXIT_RUNTIME;
	}
	return 0;
}

/* The clsact qdisc, the ingress filter (handoff) at priority 1, the front
 * of the chain, when no filter holds it (else where the kernel puts it),
 * then the egress filter (the kernel's SYN-ACKs) at the handle and
 * priority the kernel gave the ingress one (or where the kernel puts it
 * when another filter holds those). META records each step as it is made,
 * so a detach after a SIGKILL knows what to remove (and finds the filters
 * by the programs' pins, made before). */
static int clsact_attach(struct attach_state *s, const struct attach_args *a,
			 struct xdpsyn_meta *meta)
{
	LIBBPF_OPTS(bpf_tc_hook, ehook, .ifindex = a->ifindex,
		    .attach_point = BPF_TC_EGRESS);
	int err, ret;

	ret = clsact_make(a->ifname, a->ifindex, &s->clsact_created);
	if (ret)
		return ret;
	if (s->clsact_created) {
		meta->flags |= XDPSYN_META_CLSACT_CREATED;
		ret = meta_record(s, a, meta);
		if (ret)
			return ret;
	}
	if (a->handoff != XDPSYN_HANDOFF_REQSK) {
		/* the kernel-cookie hand-off: egress only, where the kernel
		 * puts it */
		s->tc_opts = (struct bpf_tc_opts){ .sz = sizeof(struct bpf_tc_opts) };
		goto egress;
	}
	ret = clsact_ingress(a->ifname, a->ifindex,
			     bpf_program__fd(s->tc->progs.xdpsyn_tc), &s->tc_opts);
	if (ret)
		return ret;
	s->tc_attached = true;
	meta->tc_handle = s->tc_opts.handle;
	meta->tc_priority = s->tc_opts.priority;
	ret = meta_record(s, a, meta);
	if (ret)
		return ret;
egress:
	s->tc_egress_opts = (struct bpf_tc_opts){
		.sz = sizeof(struct bpf_tc_opts),
		.prog_fd = bpf_program__fd(s->tc->progs.xdpsyn_tc_egress),
		.handle = s->tc_opts.handle,
		.priority = s->tc_opts.priority,
	};
	err = bpf_tc_attach(&ehook, &s->tc_egress_opts);
	if (err == -EEXIST || err == -EINVAL) {
		/* another filter holds that handle and priority on egress: let
		 * the kernel choose (detach finds the filter by its program) */
		s->tc_egress_opts.handle = 0;
		s->tc_egress_opts.priority = 0;
		err = bpf_tc_attach(&ehook, &s->tc_egress_opts);
	}
	if (err) {
		errmsg(a->ifname, "attaching the TC egress filter (handle 0x%x "
		       "prio %u): %s: see tc filter show dev %s egress",
		       s->tc_opts.handle, s->tc_opts.priority, strerror(-err),
		       a->ifname);
		return EXIT_RUNTIME;
	}
	s->tc_egress_attached = true;
	return 0;
}

/* A tcx link of the TC program for ingress (or EGRESS) at the front of the
 * chain, pinned at once (a link not yet pinned dies with this process).
 * 0, -EINVAL when the kernel has no tcx, or an exit code after a message. */
/* A tcx link of PROG_FD on IFNAME's ingress (or EGRESS) hook at the front
 * of the chain, pinned at once as PIN in the attachment's directory (a
 * link not yet pinned dies with this process) and kept in *SLOT. FIRST:
 * the first link made, which tells whether the kernel has tcx. 0, -EINVAL
 * when it has none under --tc auto, or an exit code after a message. */
static int tcx_link_pinned(const struct attach_args *a, const char *ifname,
			   int ifindex, int prog_fd, bool egress, bool first,
			   enum pin_id pin, int *slot)
{
	int fd = tcx_attach_front(prog_fd, ifindex, egress);

	if (fd == -EINVAL && first && a->tc_mode == TC_AUTO)
		return -EINVAL;
	if (fd == -EINVAL && first) {
		errmsg(ifname, "this kernel has no tcx (Linux >= 6.6): "
		       "attach with --tc clsact");
		return EXIT_PREREQ;
	}
	if (fd < 0) {
		errmsg(ifname, "attaching the TC %s program (tcx link): %s",
		       egress ? "egress" : "ingress", strerror(-fd));
		return EXIT_RUNTIME;
	}
	*slot = fd;
	return pin_fd(a->ifname, pin_names[pin], fd);
}

static int tcx_link(struct attach_state *s, const struct attach_args *a,
		    bool egress)
{
	struct bpf_program *prog = egress ? s->tc->progs.xdpsyn_tc_egress :
					    s->tc->progs.xdpsyn_tc;

	/* the first link tells whether the kernel has tcx: ingress, or
	 * egress alone under the kernel-cookie hand-off */
	return tcx_link_pinned(a, a->ifname, a->ifindex, bpf_program__fd(prog),
			       egress, !egress || a->handoff != XDPSYN_HANDOFF_REQSK,
			       egress ? PIN_LINK_TC_EGRESS : PIN_LINK_TC_INGRESS,
			       egress ? &s->tc_egress_link_fd : &s->tc_link_fd);
}

/* Gateway mode: the TC ingress program of IFACE_S, as a tcx link where
 * the kernel has tcx (and --tc allows it), else as a clsact filter, as
 * local mode attaches its ingress program. META says which. */
static int gw_tc_attach(struct attach_state *s, const struct attach_args *a,
			struct xdpsyn_meta *meta)
{
	int prog_fd = bpf_program__fd(s->gw->progs.xdpsyn_gw_tc);
	int ret = -EINVAL;

	if (a->tc_mode != TC_CLSACT)
		ret = tcx_link_pinned(a, a->gw_ifname, a->gw_ifindex, prog_fd,
				      false, true, PIN_LINK_TC_SRV,
				      &s->gw_tc_link_fd);
	if (!ret) {
		meta->flags |= XDPSYN_META_GW_TCX;
		return meta_record(s, a, meta);
	}
	if (ret != -EINVAL)
		return ret;
	ret = clsact_make(a->gw_ifname, a->gw_ifindex, &s->gw_clsact_created);
	if (ret)
		return ret;
	if (s->gw_clsact_created) {
		meta->flags |= XDPSYN_META_GW_CLSACT_CREATED;
		ret = meta_record(s, a, meta);
		if (ret)
			return ret;
	}
	ret = clsact_ingress(a->gw_ifname, a->gw_ifindex, prog_fd, &s->gw_tc_opts);
	if (ret)
		return ret;
	s->gw_tc_attached = true;
	meta->gw_tc_handle = s->gw_tc_opts.handle;
	meta->gw_tc_priority = s->gw_tc_opts.priority;
	return meta_record(s, a, meta);
}

/* The TC programs: as tcx links where the kernel has them (and --tc allows
 * it), else as clsact filters. META says which, for detach and status. */
static int tc_attach(struct attach_state *s, const struct attach_args *a,
		     struct xdpsyn_meta *meta)
{
	bool ingress = a->handoff == XDPSYN_HANDOFF_REQSK;
	int ret;

	if (a->tc_mode == TC_CLSACT)
		return clsact_attach(s, a, meta);
	ret = tcx_link(s, a, !ingress);
	if (ret == -EINVAL)
		return clsact_attach(s, a, meta);
	if (ret)
		return ret;
	meta->flags |= XDPSYN_META_TCX;
	ret = meta_record(s, a, meta);
	if (!ret && ingress)
		ret = tcx_link(s, a, true);
	return ret;
}

/* Warn when something runs before xdpsyn's TC ingress program: a tcx
 * program before a clsact filter, a filter of a lower priority. */
static void tc_order_check(const char *ifname, int ifindex, int prog_fd)
{
	struct tc_entry c[TC_CHAIN_MAX];
	char msg[256];
	int n, first;

	n = tc_chain_read(ifindex, false, c, TC_CHAIN_MAX);
	if (n < 0)
		return;
	first = tc_chain_first_other(c, n < TC_CHAIN_MAX ? n : TC_CHAIN_MAX,
				     prog_id_of(prog_fd));
	if (first < 0)
		return;
	tc_not_first_msg(msg, sizeof(msg), &c[first]);
	warnmsg(ifname, "%s", msg);
}

static enum xdp_attach_mode xdp_mode_of(__u32 xdp_flags)
{
	return xdp_flags & XDP_FLAGS_SKB_MODE ? XDP_MODE_SKB : XDP_MODE_NATIVE;
}

/* xdpsyn runs beside other XDP programs only in libxdp's dispatcher: a
 * program attached without libxdp is refused (one line, and what would
 * let both run), so is a dispatcher in the other mode (no fallback). */
static int xdp_check_shareable(struct attach_args *a, enum side side)
{
	const char *ifname = side_ifname(a, side);
	struct xdp_chain c;
	int err = xdp_chain_read(side_ifindex(a, side), 0, 0, &c);

	if (err == -ENOENT)
		return 0;
	*(side == SIDE_S ? &a->gw_xdp_others : &a->xdp_others) = true;
	if (err) {
		errmsg(ifname, "reading the XDP program attached: %s",
		       strerror(-err));
		return EXIT_RUNTIME;
	}
	if (c.legacy) {
		errmsg(ifname, "another XDP program (prog %u %s) is attached "
		       "without libxdp, and xdpsyn shares the interface only "
		       "through libxdp's dispatcher: ip link set dev %s xdp off; "
		       "xdp-loader load %s FILE; then attach xdpsyn", c.main_id,
		       c.main_name, ifname, ifname);
		return EXIT_CONFLICT;
	}
	if (c.mode != (int)xdp_mode_of(a->xdp_flags)) {
		errmsg(ifname, "the XDP programs there run in %s mode (libxdp's "
		       "dispatcher prog %u): attach with --mode %s to join them",
		       c.mode == XDP_MODE_SKB ? "generic" : "native", c.main_id,
		       c.mode == XDP_MODE_SKB ? "generic" : "native");
		return EXIT_CONFLICT;
	}
	return 0;
}

/* Into the interface's dispatcher at --priority: libxdp loads the program
 * as an freplace of a slot and pins its links under BPFFS/xdp/. */
static int xdp_attach(struct attach_state *s, const struct attach_args *a,
		      enum side side)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, opts, .obj = ext_obj(s, a, side),
			    .prog_name = xdp_entry(a, side));
	enum xdp_attach_mode mode = xdp_mode_of(a->xdp_flags);
	const char *ifname = side_ifname(a, side);
	int ifindex = side_ifindex(a, side);
	bool others = side == SIDE_S ? a->gw_xdp_others : a->xdp_others;
	struct xdp_program **xprog = &s->xprog[side];
	/* a program bound to the device cannot be an freplace of the
	 * dispatcher's slot: it runs alone (vlan_choose saw no others) */
	bool alone = a->vlan == VLAN_METADATA;
	long err;

again:
	opts.obj = ext_obj(s, a, side);
	*xprog = xdp_program__create(&opts);
	err = libxdp_get_error(*xprog);
	if (err || !*xprog) {
		*xprog = NULL;
		errmsg(ifname, "libxdp: %s", strerror(err ? -(int)err : EINVAL));
		return EXIT_RUNTIME;
	}
	err = xdp_program__set_run_prio(*xprog, a->priority);
	if (!err)
		err = xdp_program__set_chain_call_enabled(*xprog, XDP_PASS, true);
	for (unsigned int act = XDP_ABORTED; !err && act <= XDP_REDIRECT; act++)
		if (act != XDP_PASS)
			err = xdp_program__set_chain_call_enabled(*xprog, act,
								  false);
	if (!err) {
		if (alone)
			setenv("LIBXDP_SKIP_DISPATCHER", "1", 1);
		err = xdp_program__attach(*xprog, ifindex, mode, 0);
		if (alone)
			unsetenv("LIBXDP_SKIP_DISPATCHER");
	}
	if (err == -EINVAL && !alone && !others &&
	    xdp_program__fd(*xprog) < 0) {
		/* The kernel refused xdpsyn in a dispatcher slot: libxdp 1.3's
		 * slots do not change packet data and xdpsyn's program does
		 * (SYN-ACKs: bpf_xdp_adjust_tail), which kernels check since
		 * 6.13 (and 6.12.y). Nothing else is on the interface: attach
		 * alone (a new copy: a failed object does not load again). */
		xdp_program__close(*xprog);
		*xprog = NULL;
		ext_close(s, a, side);
		if (ext_open(s, a, side))
			return EXIT_RUNTIME;
		alone = true;
		goto again;
	}
	if (!err) {
		struct xdp_chain c;

		s->xdp_attached[side] = true;
		if (alone && a->vlan == VLAN_METADATA)
			warnmsg(ifname, "reads offloaded VLAN tags (--vlan metadata: "
				"bound to the device): runs alone, other XDP programs "
				"cannot join it");
		else if (alone)
			warnmsg(ifname, "this kernel refuses xdpsyn's XDP program "
				"in a slot of libxdp's dispatcher (libxdp %s's slots do "
				"not change packet data; xdpsyn's SYN-ACKs do): it runs "
				"alone, other XDP programs cannot join it",
				"1.3");
		/* libxdp attaches the program alone, without its dispatcher,
		 * where the kernel refuses freplace programs: say so */
		else if (!xdp_chain_read(ifindex, xdp_program__id(*xprog), 0, &c) &&
			 c.legacy)
			warnmsg(ifname, "libxdp could not use its dispatcher "
				"here (this kernel refused its freplace programs; -v "
				"shows why): xdpsyn's XDP program runs alone, other XDP "
				"programs cannot join it");
		return 0;
	}
	if (err == -EEXIST || err == -EBUSY)
		errmsg(ifname, "attaching XDP: %s: another XDP program is "
		       "attached: see xdp-loader status %s", strerror(-(int)err),
		       ifname);
	else if (err == -ENOENT)
		errmsg(ifname, "attaching XDP: libxdp cannot find its dispatcher "
		       "(xdp-dispatcher.o, package libxdp1; -v shows where it "
		       "looked)");
	else if (err == -EINVAL && others && xdp_program__fd(*xprog) < 0)
		errmsg(ifname, "this kernel refuses xdpsyn's XDP program in a "
		       "slot of libxdp's dispatcher (its slots do not change packet "
		       "data; xdpsyn's SYN-ACKs do; -v shows the verifier's "
		       "words): it can run only alone here");
	else if (err == -EACCES)
		errmsg(ifname, "attaching XDP (libxdp): the kernel's verifier "
		       "refused the program (-v prints its log; this kernel's "
		       "verifier is not one xdpsyn was checked on: please report "
		       "it with `uname -r`)");
	else if (mode == XDP_MODE_NATIVE)
		errmsg(ifname, "attaching XDP in native mode (libxdp): %s: the "
		       "driver may not support native XDP (or this MTU): try "
		       "--mode generic (-v: libxdp's messages)", strerror(-(int)err));
	else
		errmsg(ifname, "attaching XDP in generic mode (libxdp): %s "
		       "(-v: libxdp's messages)", strerror(-(int)err));
	return EXIT_RUNTIME;
}

/* Make IFNAME's pin directory in PIN_BASE, whose lock *BASE_FD holds. If
 * PIN_BASE was removed meanwhile by something that takes no lock (an older
 * xdpsyn's detach, an operator), lock it anew, and check again that IFNAME
 * is not attached. 0 or an exit code after a message. */
static int pin_dir_make(const char *ifname, int *base_fd)
{
	char path[256];
	int ret;

	pin_path(path, sizeof(path), ifname, NULL);
	for (int tries = 0; tries < 3; tries++) {
		if (!mkdir(path, 0700))
			return 0;
		if (errno != ENOENT)
			break;
		close(*base_fd);
		*base_fd = pin_base_lock();
		if (*base_fd < 0)
			return -*base_fd;
		ret = check_not_attached(ifname, false);
		if (ret)
			return ret;
	}
	errmsg(path, "mkdir: %s", strerror(errno));
	return errno == EEXIST ? EXIT_CONFLICT : EXIT_RUNTIME;
}

/* Remove the TC ingress filter O made on IFINDEX. */
static void clsact_ingress_undo(int ifindex, const struct bpf_tc_opts *o)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = o->handle, .priority = o->priority);

	bpf_tc_detach(&hook, &q);
}

static void link_undo(int *fd)
{
	if (*fd < 0)
		return;
	bpf_link_detach(*fd);
	close(*fd);
	*fd = -1;
}

static void attach_undo(struct attach_state *s, const struct attach_args *a)
{
	char path[256];

	for (int side = 0; side < NSIDES; side++)
		if (s->xdp_attached[side] &&
		    !xdp_program__detach(s->xprog[side], side_ifindex(a, side),
					 xdp_mode_of(a->xdp_flags), 0))
			s->xdp_attached[side] = false;
	link_undo(&s->tc_link_fd);
	link_undo(&s->tc_egress_link_fd);
	link_undo(&s->gw_tc_link_fd);
	if (s->tc_attached)
		clsact_ingress_undo(a->ifindex, &s->tc_opts);
	if (s->tc_egress_attached) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex,
			    .attach_point = BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, o, .handle = s->tc_egress_opts.handle,
			    .priority = s->tc_egress_opts.priority);

		bpf_tc_detach(&hook, &o);
	}
	if (s->gw_tc_attached)
		clsact_ingress_undo(a->gw_ifindex, &s->gw_tc_opts);
	if (s->clsact_created)
		clsact_destroy_if_empty(a->ifindex);
	if (s->gw_clsact_created)
		clsact_destroy_if_empty(a->gw_ifindex);
	if (!s->dir_created && !s->dir_kept)
		return;
	/* a kept state table stays, with its directory */
	for (int i = 0; i < PIN_N; i++) {
		if (i == PIN_GW_CONNS && s->dir_kept)
			continue;
		pin_path(path, sizeof(path), a->ifname, pin_names[i]);
		unlink(path);
	}
	pin_path(path, sizeof(path), a->ifname, NULL);
	if (s->dir_created)
		rmdir(path); /* and PIN_BASE when empty: pin_base_unlock */
}

static void attach_release(struct attach_state *s)
{
	/* pinned links stay */
	int fds[] = { s->tc_link_fd, s->tc_egress_link_fd, s->gw_tc_link_fd,
		      s->gw_kept_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (s->meta_fd >= 0)
		close(s->meta_fd);
	xdpsyn_tc__destroy(s->tc);
	for (int side = 0; side < NSIDES; side++) {
		xdp_program__close(s->xprog[side]); /* attached: libxdp's pins hold it */
		xdpsyn_gw__destroy(s->gw_ext[side]);
	}
	xdpsyn_gw__destroy(s->gw);
	xdpsyn__destroy(s->xdp_ext);
	xdpsyn__destroy(s->xdp);
}

/* "  xdp: libxdp dispatcher prog 7, priority 20: 1 of 2 in the chain". */
static void report_chain(const char *label, int ifindex, __u32 xdp_id,
			 long priority)
{
	struct xdp_chain c;
	int pos = 0;

	if (xdp_chain_read(ifindex, xdp_id, 0, &c) || c.legacy)
		return;
	for (int i = 0; i < c.n && !pos; i++)
		if (c.e[i].ours)
			pos = i + 1;
	printf("  %s: libxdp dispatcher prog %u, priority %ld: %d of %d in the "
	       "chain\n", label, c.main_id, priority, pos, c.n);
}

/* Gateway mode's first lines: the programs, the servers, the state table. */
static void attach_report_gw(const struct attach_args *a,
			     const struct attach_state *s,
			     const struct setting_vals *shown)
{
	__u32 tc_id = prog_id_of(bpf_program__fd(s->gw->progs.xdpsyn_gw_tc));
	char buf[64];

	printf("%s: attached in %s mode as a gateway to %s: XDP progs %u (%s) "
	       "and %u (%s), TC ingress prog %u on %s (", a->ifname,
	       xdp_mode_name(a->xdp_flags), a->gw_ifname,
	       xdp_program__id(s->xprog[SIDE_C]), a->ifname,
	       xdp_program__id(s->xprog[SIDE_S]), a->gw_ifname, tc_id, a->gw_ifname);
	if (s->gw_tc_link_fd >= 0)
		printf("tcx, first in its chain)\n");
	else
		printf("clsact handle 0x%x prio %u)\n", s->gw_tc_opts.handle,
		       s->gw_tc_opts.priority);
	report_chain(a->ifname, a->ifindex, xdp_program__id(s->xprog[SIDE_C]),
		     a->priority);
	report_chain(a->gw_ifname, a->gw_ifindex,
		     xdp_program__id(s->xprog[SIDE_S]), a->priority);
	printf("  servers ");
	for (int i = 0; i < a->sv.nprefixes; i++) {
		gw_prefix_format(buf, sizeof(buf), &a->sv.prefixes[i]);
		printf("%s%s", i ? "," : "", buf);
	}
	if (!a->sv.nprefixes)
		printf("what routes out %s (bpf_fib_lookup)", a->gw_ifname);
	printf("\n  ");
	settings_print(stdout, shown, SF_SHOW_GATEWAY);
	printf("  gw-adopt %lds\n", a->sv.v[SETTING_GW_ADOPT]);
	if (s->gw_kept_fd >= 0)
		printf("  state table kept by the last detach: %ld connections' "
		       "state reused\n", map_count(s->gw_kept_fd));
}

static void attach_report(const struct attach_args *a,
			  const struct attach_state *s,
			  const struct xdpsyn_config *cfg)
{
	char *ports = ports_format(&a->sv.ports[XDPSYN_V4]);
	struct setting_vals shown;
	__u32 xdp_id = xdp_program__id(s->xprog[SIDE_C]);

	settings_of(&shown, cfg, a->flows_max, a->hs_max);
	shown.v[SETTING_GW_CONNS] = a->gw_conns;
	shown.given[SETTING_GW_CONNS] = a->gateway;
	if (a->gateway)
		attach_report_gw(a, s, &shown);
	else if (a->handoff != XDPSYN_HANDOFF_REQSK)
		printf("%s: attached in %s mode: XDP prog %u, TC egress prog %u "
		       "(%s); hand-off: kernel-cookie (the kernel's own SYN "
		       "cookies; no TC ingress program)\n", a->ifname,
		       xdp_mode_name(a->xdp_flags), xdp_id,
		       prog_id_of(bpf_program__fd(s->tc->progs.xdpsyn_tc_egress)),
		       s->tc_egress_link_fd >= 0 ? "tcx, first in its chain" : "clsact");
	else if (s->tc_link_fd >= 0)
		printf("%s: attached in %s mode: XDP prog %u, TC progs %u (tcx "
		       "ingress) and %u (tcx egress), first in their chains\n",
		       a->ifname, xdp_mode_name(a->xdp_flags), xdp_id,
		       prog_id_of(bpf_program__fd(s->tc->progs.xdpsyn_tc)),
		       prog_id_of(bpf_program__fd(s->tc->progs.xdpsyn_tc_egress)));
	else
		printf("%s: attached in %s mode: XDP prog %u, TC progs %u "
		       "(clsact ingress handle 0x%x prio %u) and %u (egress handle "
		       "0x%x prio %u)\n", a->ifname, xdp_mode_name(a->xdp_flags),
		       xdp_id, s->tc_opts.prog_id, s->tc_opts.handle,
		       s->tc_opts.priority, s->tc_egress_opts.prog_id,
		       s->tc_egress_opts.handle, s->tc_egress_opts.priority);
	if (!a->gateway)
		report_chain("xdp", a->ifindex, xdp_id, a->priority);
	printf("  ports %s  ", ports ? ports : "?");
	settings_print(stdout, &shown, SF_SHOW_SETTINGS);
	printf("\n  ");
	settings_print(stdout, &shown, SF_SHOW_TRACKER);
	if (cfg->policy == XDPSYN_POLICY_AUTO)
		printf("\n  policy auto (syn-rate %u/s, calm %us)\n", cfg->syn_rate,
		       cfg->calm_s);
	else
		printf("\n  policy %s\n", policy_name(cfg->policy));
	free(ports);
}

/* Gateway mode, before the lock: IFACE_S is there and not loopback, and
 * this host forwards. 0 or an exit code after a message. */
static int gw_check_iface(struct attach_args *a)
{
	long v = 0;

	a->gw_ifindex = if_nametoindex(a->gw_ifname);
	if (!a->gw_ifindex) {
		errmsg(a->gw_ifname, "no such interface (--gateway: the interface "
		       "toward the servers): see ip link");
		return EXIT_USAGE;
	}
	if (iface_is_loopback(a->gw_ifname)) {
		errmsg(a->gw_ifname, "a loopback interface cannot lead to the "
		       "servers: --gateway names the interface toward them");
		return EXIT_USAGE;
	}
	if (sysctl_read_long("net.ipv4.conf.all.forwarding", &v) || !v) {
		errmsg("net.ipv4.conf.all.forwarding", "is 0: a gateway forwards "
		       "the clients' connections to the servers (its programs "
		       "too, through the kernel's FIB): sysctl -w "
		       "net.ipv4.ip_forward=1");
		return EXIT_PREREQ;
	}
	if (!sysctl_read_long("net.ipv6.conf.all.forwarding", &v) && !v)
		warnmsg("net.ipv6.conf.all.forwarding", "is 0: IPv6 connections "
			"to the servers are not forwarded (sysctl -w "
			"net.ipv6.conf.all.forwarding=1)");
	/* the hand-off to a local listener does not apply: its sysctls
	 * neither; the XDP object's hand-off constant stays the default */
	a->handoff = XDPSYN_HANDOFF_REQSK;
	a->vlan = VLAN_FRAME;
	return 0;
}

/* Under PIN_BASE's lock: neither interface is attached, nor the servers'
 * side of a gateway (IFACE_C with a kept state table may be, for a
 * gateway). 0 or an exit code after a message. */
static int check_attachable(const struct attach_args *a)
{
	char owner[IF_NAMESIZE + 1];
	int ret = check_not_attached(a->ifname, a->gateway);

	if (!ret && a->gateway)
		ret = check_not_attached(a->gw_ifname, false);
	for (int side = 0; !ret && side < (a->gateway ? NSIDES : 1); side++) {
		if (!gw_owner_of(side_ifindex(a, side), NULL, owner, sizeof(owner)))
			continue;
		errmsg(side_ifname(a, side), "the servers' side of the gateway "
		       "attached to %s: xdpsyn detach %s first", owner, owner);
		ret = EXIT_CONFLICT;
	}
	return ret;
}

/* The state table a gateway's detach kept for IFACE_C, reused when it
 * fits (--gw-conns not given: its size). 0 or an exit code. */
static int gw_kept_state(struct attach_state *s, struct attach_args *a)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[256];

	pin_path(path, sizeof(path), a->ifname, pin_names[PIN_GW_CONNS]);
	s->gw_kept_fd = bpf_obj_get(path);
	if (s->gw_kept_fd < 0 && errno == ENOENT)
		return 0;
	if (s->gw_kept_fd < 0 || bpf_obj_get_info_by_fd(s->gw_kept_fd, &info, &len)) {
		errmsg(path, "the kept state table is unreadable: %s: xdpsyn detach "
		       "%s --flush-state removes it", strerror(errno), a->ifname);
		return EXIT_RUNTIME;
	}
	if (!a->sv.given[SETTING_GW_CONNS])
		a->gw_conns = info.max_entries;
	if (info.type != BPF_MAP_TYPE_HASH ||
	    info.key_size != sizeof(struct xdpsyn_gw_key) ||
	    info.value_size != sizeof(struct xdpsyn_gw_conn) ||
	    info.max_entries != a->gw_conns) {
		errmsg(path, "the kept state table (%u entries of %u bytes) does not "
		       "fit this attachment (--gw-conns %ld, %zu bytes): attach with "
		       "--gw-conns %u, or drop the kept connections' state with "
		       "xdpsyn detach %s --flush-state", info.max_entries,
		       info.value_size, a->gw_conns, sizeof(struct xdpsyn_gw_conn),
		       info.max_entries, a->ifname);
		return EXIT_CONFLICT;
	}
	s->dir_kept = true;
	return 0;
}

/* Pin the programs and attach them, TC first (see cmd_attach). */
static int attach_local(struct attach_state *s, const struct attach_args *a,
			struct xdpsyn_meta *meta)
{
	int ret = 0;

	if (a->handoff == XDPSYN_HANDOFF_REQSK)
		ret = pin_fd(a->ifname, pin_names[PIN_PROG_TC],
			     bpf_program__fd(s->tc->progs.xdpsyn_tc));
	if (!ret)
		ret = pin_fd(a->ifname, pin_names[PIN_PROG_TC_EGRESS],
			     bpf_program__fd(s->tc->progs.xdpsyn_tc_egress));
	if (!ret)
		ret = tc_attach(s, a, meta);
	if (!ret && a->handoff == XDPSYN_HANDOFF_REQSK)
		tc_order_check(a->ifname, a->ifindex,
			       bpf_program__fd(s->tc->progs.xdpsyn_tc));
	if (!ret)
		ret = xdp_attach(s, a, SIDE_C);
	return ret;
}

/* Gateway mode: IFACE_S's TC program, then its XDP program, then
 * IFACE_C's (which makes state: the server side is ready for it). */
static int attach_gateway(struct attach_state *s, const struct attach_args *a,
			  struct xdpsyn_meta *meta)
{
	int tc_fd = bpf_program__fd(s->gw->progs.xdpsyn_gw_tc);
	int ret = pin_fd(a->ifname, pin_names[PIN_PROG_TC_SRV], tc_fd);

	if (!ret)
		ret = gw_tc_attach(s, a, meta);
	if (!ret)
		tc_order_check(a->gw_ifname, a->gw_ifindex, tc_fd);
	if (!ret)
		ret = xdp_attach(s, a, SIDE_S);
	if (!ret)
		ret = pin_fd(a->ifname, pin_names[PIN_PROG_XDP_SRV],
			     xdp_program__fd(s->xprog[SIDE_S]));
	if (!ret)
		ret = xdp_attach(s, a, SIDE_C);
	return ret;
}

int cmd_attach(int argc, char **argv)
{
	struct attach_state s = { .meta_fd = -1, .tc_link_fd = -1,
				  .tc_egress_link_fd = -1, .gw_tc_link_fd = -1,
				  .gw_kept_fd = -1 };
	struct xdpsyn_meta meta = { .version = XDPSYN_META_VERSION };
	struct xdpsyn_config cfg;
	struct xdpsyn_key key;
	struct attach_args *a;
	sigset_t block, saved;
	int ret, base_fd = -1, dir_fd = -1;

	a = calloc(1, sizeof(*a));
	if (!a) {
		errmsg("memory", "out of memory");
		return EXIT_RUNTIME;
	}
	ret = attach_parse(argc, argv, a);
	if (ret) {
		free(a);
		return ret < 0 ? EXIT_OK : ret;
	}
	if (!ifname_valid(a->ifname) || !(a->ifindex = if_nametoindex(a->ifname))) {
		errmsg(a->ifname, "no such interface");
		ret = EXIT_USAGE;
		goto out_free;
	}
	if (iface_is_loopback(a->ifname)) {
		errmsg(a->ifname, "a loopback interface: SYN-ACKs sent back with "
		       "XDP_TX make no sense there: attach to a real interface");
		ret = EXIT_USAGE;
		goto out_free;
	}
	ret = a->key_file ? key_from_file(a->key_file, &key) : 0;
	if (!ret)
		ret = need_privileges();
	if (!ret)
		ret = check_kernel();
	if (!ret && a->gateway)
		ret = gw_check_iface(a);
	if (!ret && !a->gateway)
		ret = handoff_choose(a);
	if (!ret && a->handoff == XDPSYN_HANDOFF_KCOOKIE)
		ret = check_kcookie_sysctls(a->set_sysctl);
	if (!ret && !a->gateway)
		ret = check_sysctls(a->set_sysctl, a->policy);
	if (!ret)
		ret = bpffs_ensure();
	if (!ret) {
		/* PIN_BASE's lock, held to the end: one attach or detach at a
		 * time; the check and the mkdir below cannot race */
		base_fd = pin_base_lock();
		ret = base_fd < 0 ? -base_fd : 0;
	}
	if (!ret)
		ret = check_attachable(a);
	if (!ret)
		ret = xdp_check_shareable(a, SIDE_C);
	if (!ret && a->gateway)
		ret = xdp_check_shareable(a, SIDE_S);
	if (!ret && a->gateway)
		ret = gw_kept_state(&s, a);
	if (!ret && !a->gateway)
		ret = vlan_choose(a->ifname, &a->vlan,
				  a->xdp_flags & XDP_FLAGS_DRV_MODE, a->xdp_others);
	if (!ret && !a->key_file)
		ret = key_random(&key);
	if (!ret)
		ret = config_fill(a, &cfg);
	if (ret)
		goto out_release;
	/* From here on, attach completes or undoes: signals that would kill
	 * the process midway wait until the end. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, &saved);
	signal(SIGPIPE, SIG_IGN);
	if (iface_is_veth(a->ifname))
		warnmsg(a->ifname, "veth: SYN-ACKs sent with XDP_TX are delivered "
			"only if the peer veth has an XDP program too (xdpsyn "
			"attach PEER with no ports passes everything)");

	ret = load_programs(&s, a);
	if (!ret && a->gateway)
		ret = gw_prefixes_fill(&s, a);
	if (!ret)
		ret = maps_fill(s.xdp, a, &cfg, &key);
	explicit_bzero(&key, sizeof(key));
	if (ret)
		goto out;
	s.meta_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, pin_names[PIN_META], sizeof(__u32),
				   sizeof(struct xdpsyn_meta), 1, NULL);
	if (s.meta_fd < 0) {
		errmsg(a->ifname, "creating the %s map: %s", pin_names[PIN_META],
		       strerror(errno));
		ret = EXIT_RUNTIME;
		goto out;
	}
	/* What detach needs, recorded before anything is attached (the TC
	 * handle and the clsact flag are added as they are made). */
	meta.ifindex = a->ifindex;
	meta.xdp_flags = a->xdp_flags;
	if (a->handoff == XDPSYN_HANDOFF_KCOOKIE)
		meta.flags |= XDPSYN_META_KCOOKIE;
	if (a->vlan == VLAN_METADATA)
		meta.flags |= XDPSYN_META_VLAN_META;
	if (a->gateway)
		meta.flags |= XDPSYN_META_GATEWAY;
	meta.gw_ifindex = a->gateway ? a->gw_ifindex : 0;
	netns_id(&meta.netns_dev, &meta.netns_ino);
	meta.attached_at = meta.key_rotated_at = realtime_now();
	ret = meta_record(&s, a, &meta);
	if (ret)
		goto out;

	if (!s.dir_kept) {
		ret = pin_dir_make(a->ifname, &base_fd);
		if (ret)
			goto out;
		s.dir_created = true;
	}
	/* set and key rotate wait until the attachment is complete */
	dir_fd = pin_dir_lock(a->ifname);
	if (dir_fd < 0) {
		ret = -dir_fd;
		goto out;
	}
	/* The programs are pinned before they are attached, so a detach after
	 * a SIGKILL at any point finds the filters running them. TC first:
	 * alone it only hands off ACKs with valid cookies, which exist only
	 * once XDP answers SYNs, and watches the kernel's SYN-ACKs. The XDP
	 * program is pinned last: its pin means "attached" (before it, detach
	 * finds it in the dispatcher by its maps). */
	ret = pin_maps(&s, a->ifname);
	if (!ret)
		ret = a->gateway ? attach_gateway(&s, a, &meta) :
				   attach_local(&s, a, &meta);
	if (!ret)
		ret = pin_fd(a->ifname, pin_names[PIN_PROG_XDP],
			     xdp_program__fd(s.xprog[SIDE_C]));
	if (ret)
		goto out;

	attach_report(a, &s, &cfg);
	memset(s.xdp_attached, 0, sizeof(s.xdp_attached));
out:
	if (ret)
		attach_undo(&s, a);
	attach_release(&s);
	pin_dir_unlock(dir_fd);
	fflush(stdout);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	goto out_free;
out_release:
	attach_release(&s);
out_free:
	pin_base_unlock(base_fd);
	explicit_bzero(&key, sizeof(key));
	free(a);
	return ret;
}

