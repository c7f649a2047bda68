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

#ifndef BPF_F_XDP_DEV_BOUND_ONLY /* uapi >= 6.3; Debian 12's headers are 6.1's */
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6)
#endif

/* The oldest kernel the programs load on: bpf_ktime_get_tai_ns (6.1);
 * bpf_tcp_raw_check_syncookie_* (6.0), bpf_loop (5.17). */
#define MIN_KERNEL_MAJOR 6
#define MIN_KERNEL_MINOR 1
/* The reqsk hand-off's kfunc (Linux >= 6.9), probed in the kernel's BTF. */
#define REQSK_KFUNC "bpf_sk_assign_tcp_reqsk"

/* What attach has done so far, for the undo. */
struct attach_state {
	struct xdpsyn *xdp;
	struct xdpsyn *xdp_ext;  /* the same object, for libxdp to load as an
				  * freplace of its dispatcher (maps shared) */
	struct xdp_program *xprog;
	bool xdp_attached;
	struct xdpsyn_tc *tc;
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

/* 0 when IFACE has no pin directory; else a message and an exit code. */
static int check_not_attached(const char *ifname)
{
	char path[256];
	struct stat st;

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

static int ext_open(struct attach_state *s, const struct attach_args *a);

static int load_programs(struct attach_state *s, const struct attach_args *a)
{
	const char *ifname = a->ifname;
	struct bpf_map *m;
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
	bpf_object__for_each_map(m, s->tc->obj) {
		struct bpf_map *x;

		if (bpf_map__is_internal(m))
			continue;
		x = bpf_object__find_map_by_name(s->xdp->obj, bpf_map__name(m));
		if (!x)
			continue;
		err = bpf_map__reuse_fd(m, bpf_map__fd(x));
		if (err) {
			errmsg(ifname, "sharing map %s with the TC program: %s",
			       bpf_map__name(m), strerror(-err));
			return EXIT_RUNTIME;
		}
	}
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
	return ext_open(s, a);
}

/* The program libxdp attaches: the same object opened again, every map
 * (the internal ones too) the loaded one's; libxdp loads it as an
 * freplace of its dispatcher's slot (a program loaded as XDP cannot be
 * one). The first one fills no slot; it goes at the end. */
/* The XDP entry that runs on the interface: bound to the device to read
 * offloaded VLAN tags, single-buffer for generic mode, else the
 * multi-buffer one (native XDP at any MTU). */
static const char *xdp_entry(const struct attach_args *a)
{
	if (a->vlan == VLAN_METADATA)
		return "xdpsyn_xdp_vlan";
	if (!(a->xdp_flags & XDP_FLAGS_DRV_MODE))
		return "xdpsyn_xdp_skb";
	return "xdpsyn_xdp";
}

static int ext_open(struct attach_state *s, const struct attach_args *a)
{
	const char *ifname = a->ifname;
	struct bpf_program *p;
	struct bpf_map *m;
	int err;

	s->xdp_ext = xdpsyn__open();
	if (!s->xdp_ext) {
		errmsg(ifname, "opening the XDP object: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	s->xdp_ext->rodata->nr_cpus = s->xdp->rodata->nr_cpus;
	s->xdp_ext->rodata->handoff_mode = (__u8)a->handoff;
	bpf_object__for_each_program(p, s->xdp_ext->obj)
		if (strcmp(bpf_program__name(p), xdp_entry(a)))
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
	bpf_object__for_each_map(m, s->xdp_ext->obj) {
		struct bpf_map *x = bpf_object__find_map_by_name(s->xdp->obj,
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

/* Pin every map of both objects by name (shared maps once) and meta. */
static int pin_maps(struct attach_state *s, const char *ifname)
{
	struct bpf_map *m;
	int ret;

	bpf_object__for_each_map(m, s->xdp->obj) {
		if (bpf_map__is_internal(m))
			continue;
		ret = pin_fd(ifname, bpf_map__name(m), bpf_map__fd(m));
		if (ret)
			return ret;
	}
	bpf_object__for_each_map(m, s->tc->obj) {
		if (bpf_map__is_internal(m) ||
		    bpf_object__find_map_by_name(s->xdp->obj, bpf_map__name(m)))
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
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_hook, ehook, .ifindex = a->ifindex,
		    .attach_point = BPF_TC_EGRESS);
	int err, ret;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		errmsg(a->ifname, "creating the clsact qdisc: %s: see "
		       "tc qdisc show dev %s", strerror(-err), a->ifname);
		return EXIT_RUNTIME;
	}
	s->clsact_created = !err;
	if (s->clsact_created) {
		meta->flags |= XDPSYN_META_CLSACT_CREATED;
		ret = meta_record(s, a, meta);
		if (ret)
			return ret;
	}
	s->tc_opts = (struct bpf_tc_opts){
		.sz = sizeof(struct bpf_tc_opts),
		.prog_fd = bpf_program__fd(s->tc->progs.xdpsyn_tc),
		.priority = tc_prio_taken(a->ifindex, false, 1) ? 0 : 1,
	};
	if (a->handoff != XDPSYN_HANDOFF_REQSK) {
		/* the kernel-cookie hand-off: egress only, where the kernel
		 * puts it */
		s->tc_opts.handle = 0;
		s->tc_opts.priority = 0;
		goto egress;
	}
	err = bpf_tc_attach(&hook, &s->tc_opts);
	if (err && s->tc_opts.priority) {
		/* taken meanwhile: where the kernel puts it */
		s->tc_opts.priority = 0;
		err = bpf_tc_attach(&hook, &s->tc_opts);
	}
	if (err) {
		errmsg(a->ifname, "attaching the TC ingress filter: %s: see "
		       "tc filter show dev %s ingress", strerror(-err), a->ifname);
		return EXIT_RUNTIME;
	}
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
static int tcx_link(struct attach_state *s, const struct attach_args *a,
		    bool egress)
{
	struct bpf_program *prog = egress ? s->tc->progs.xdpsyn_tc_egress :
					    s->tc->progs.xdpsyn_tc;
	int *slot = egress ? &s->tc_egress_link_fd : &s->tc_link_fd;
	int fd = tcx_attach_front(bpf_program__fd(prog), a->ifindex, egress);

	/* the first link tells whether the kernel has tcx: ingress, or
	 * egress alone under the kernel-cookie hand-off */
	bool first = !egress || a->handoff != XDPSYN_HANDOFF_REQSK;

	if (fd == -EINVAL && first && a->tc_mode == TC_AUTO)
		return -EINVAL;
	if (fd == -EINVAL && first) {
		errmsg(a->ifname, "this kernel has no tcx (Linux >= 6.6): "
		       "attach with --tc clsact");
		return EXIT_PREREQ;
	}
	if (fd < 0) {
		errmsg(a->ifname, "attaching the TC %s program (tcx link): %s",
		       egress ? "egress" : "ingress", strerror(-fd));
		return EXIT_RUNTIME;
	}
	*slot = fd;
	return pin_fd(a->ifname, pin_names[egress ? PIN_LINK_TC_EGRESS :
						   PIN_LINK_TC_INGRESS], fd);
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
static void tc_order_check(const struct attach_state *s,
			   const struct attach_args *a)
{
	struct tc_entry c[TC_CHAIN_MAX];
	char msg[256];
	int n, first;

	n = tc_chain_read(a->ifindex, false, c, TC_CHAIN_MAX);
	if (n < 0)
		return;
	first = tc_chain_first_other(c, n < TC_CHAIN_MAX ? n : TC_CHAIN_MAX,
				     prog_id_of(bpf_program__fd(s->tc->progs.xdpsyn_tc)));
	if (first < 0)
		return;
	tc_not_first_msg(msg, sizeof(msg), &c[first]);
	warnmsg(a->ifname, "%s", msg);
}

static enum xdp_attach_mode xdp_mode_of(__u32 xdp_flags)
{
	return xdp_flags & XDP_FLAGS_SKB_MODE ? XDP_MODE_SKB : XDP_MODE_NATIVE;
}

/* xdpsyn runs beside other XDP programs only in libxdp's dispatcher: a
 * program attached without libxdp is refused (one line, and what would
 * let both run), so is a dispatcher in the other mode (no fallback). */
static int xdp_check_shareable(struct attach_args *a)
{
	struct xdp_chain c;
	int err = xdp_chain_read(a->ifindex, 0, 0, &c);

	if (err == -ENOENT)
		return 0;
	a->xdp_others = true;
	if (err) {
		errmsg(a->ifname, "reading the XDP program attached: %s",
		       strerror(-err));
		return EXIT_RUNTIME;
	}
	if (c.legacy) {
		errmsg(a->ifname, "another XDP program (prog %u %s) is attached "
		       "without libxdp, and xdpsyn shares the interface only "
		       "through libxdp's dispatcher: ip link set dev %s xdp off; "
		       "xdp-loader load %s FILE; then attach xdpsyn", c.main_id,
		       c.main_name, a->ifname, a->ifname);
		return EXIT_CONFLICT;
	}
	if (c.mode != (int)xdp_mode_of(a->xdp_flags)) {
		errmsg(a->ifname, "the XDP programs there run in %s mode (libxdp's "
		       "dispatcher prog %u): attach with --mode %s to join them",
		       c.mode == XDP_MODE_SKB ? "generic" : "native", c.main_id,
		       c.mode == XDP_MODE_SKB ? "generic" : "native");
		return EXIT_CONFLICT;
	}
	return 0;
}

/* Into the interface's dispatcher at --priority: libxdp loads the program
 * as an freplace of a slot and pins its links under BPFFS/xdp/. */
static int xdp_attach(struct attach_state *s, const struct attach_args *a)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, opts, .obj = s->xdp_ext->obj,
			    .prog_name = xdp_entry(a));
	enum xdp_attach_mode mode = xdp_mode_of(a->xdp_flags);
	/* a program bound to the device cannot be an freplace of the
	 * dispatcher's slot: it runs alone (vlan_choose saw no others) */
	bool alone = a->vlan == VLAN_METADATA;
	long err;

again:
	opts.obj = s->xdp_ext->obj;
	s->xprog = xdp_program__create(&opts);
	err = libxdp_get_error(s->xprog);
	if (err || !s->xprog) {
		s->xprog = NULL;
		errmsg(a->ifname, "libxdp: %s", strerror(err ? -(int)err : EINVAL));
		return EXIT_RUNTIME;
	}
	err = xdp_program__set_run_prio(s->xprog, a->priority);
	if (!err)
		err = xdp_program__set_chain_call_enabled(s->xprog, XDP_PASS, true);
	for (unsigned int act = XDP_ABORTED; !err && act <= XDP_REDIRECT; act++)
		if (act != XDP_PASS)
			err = xdp_program__set_chain_call_enabled(s->xprog, act,
								  false);
	if (!err) {
		if (alone)
			setenv("LIBXDP_SKIP_DISPATCHER", "1", 1);
		err = xdp_program__attach(s->xprog, a->ifindex, mode, 0);
		if (alone)
			unsetenv("LIBXDP_SKIP_DISPATCHER");
	}
	if (err == -EINVAL && !alone && !a->xdp_others &&
	    xdp_program__fd(s->xprog) < 0) {
		/* The kernel refused xdpsyn in a dispatcher slot: libxdp 1.3's
		 * slots do not change packet data and xdpsyn's program does
		 * (SYN-ACKs: bpf_xdp_adjust_tail), which kernels check since
		 * 6.13 (and 6.12.y). Nothing else is on the interface: attach
		 * alone (a new copy: a failed object does not load again). */
		xdp_program__close(s->xprog);
		s->xprog = NULL;
		xdpsyn__destroy(s->xdp_ext);
		s->xdp_ext = NULL;
		if (ext_open(s, a))
			return EXIT_RUNTIME;
		alone = true;
		goto again;
	}
	if (!err) {
		struct xdp_chain c;

		s->xdp_attached = true;
		if (alone && a->vlan == VLAN_METADATA)
			warnmsg(a->ifname, "reads offloaded VLAN tags (--vlan metadata: "
				"bound to the device): runs alone, other XDP programs "
				"cannot join it");
		else if (alone)
			warnmsg(a->ifname, "this kernel refuses xdpsyn's XDP program "
				"in a slot of libxdp's dispatcher (libxdp %s's slots do "
				"not change packet data; xdpsyn's SYN-ACKs do): it runs "
				"alone, other XDP programs cannot join it",
				"1.3");
		/* libxdp attaches the program alone, without its dispatcher,
		 * where the kernel refuses freplace programs: say so */
		else if (!xdp_chain_read(a->ifindex, xdp_program__id(s->xprog), 0, &c) &&
			 c.legacy)
			warnmsg(a->ifname, "libxdp could not use its dispatcher "
				"here (this kernel refused its freplace programs; -v "
				"shows why): xdpsyn's XDP program runs alone, other XDP "
				"programs cannot join it");
		return 0;
	}
	if (err == -EEXIST || err == -EBUSY)
		errmsg(a->ifname, "attaching XDP: %s: another XDP program is "
		       "attached: see xdp-loader status %s", strerror(-(int)err),
		       a->ifname);
	else if (err == -ENOENT)
		errmsg(a->ifname, "attaching XDP: libxdp cannot find its dispatcher "
		       "(xdp-dispatcher.o, package libxdp1; -v shows where it "
		       "looked)");
	else if (err == -EINVAL && a->xdp_others && xdp_program__fd(s->xprog) < 0)
		errmsg(a->ifname, "this kernel refuses xdpsyn's XDP program in a "
		       "slot of libxdp's dispatcher (its slots do not change packet "
		       "data; xdpsyn's SYN-ACKs do; -v shows the verifier's "
		       "words): it can run only alone here");
	else if (mode == XDP_MODE_NATIVE)
		errmsg(a->ifname, "attaching XDP in native mode (libxdp): %s: the "
		       "driver may not support native XDP (or this MTU): try "
		       "--mode generic (-v: libxdp's messages)", strerror(-(int)err));
	else
		errmsg(a->ifname, "attaching XDP in generic mode (libxdp): %s "
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
		ret = check_not_attached(ifname);
		if (ret)
			return ret;
	}
	errmsg(path, "mkdir: %s", strerror(errno));
	return errno == EEXIST ? EXIT_CONFLICT : EXIT_RUNTIME;
}

static void attach_undo(struct attach_state *s, const struct attach_args *a)
{
	char path[256];

	if (s->xdp_attached &&
	    !xdp_program__detach(s->xprog, a->ifindex, xdp_mode_of(a->xdp_flags), 0))
		s->xdp_attached = false;
	for (int e = 0; e < 2; e++) {
		int *fd = e ? &s->tc_egress_link_fd : &s->tc_link_fd;

		if (*fd >= 0) {
			bpf_link_detach(*fd);
			close(*fd);
			*fd = -1;
		}
	}
	if (s->tc_attached) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex,
			    .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, o, .handle = s->tc_opts.handle,
			    .priority = s->tc_opts.priority);

		bpf_tc_detach(&hook, &o);
	}
	if (s->tc_egress_attached) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex,
			    .attach_point = BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, o, .handle = s->tc_egress_opts.handle,
			    .priority = s->tc_egress_opts.priority);

		bpf_tc_detach(&hook, &o);
	}
	if (s->clsact_created)
		clsact_destroy_if_empty(a->ifindex);
	if (s->dir_created) {
		for (const char *const *n = pin_names; *n; n++) {
			pin_path(path, sizeof(path), a->ifname, *n);
			unlink(path);
		}
		pin_path(path, sizeof(path), a->ifname, NULL);
		rmdir(path); /* and PIN_BASE when empty: pin_base_unlock */
	}
}

static void attach_release(struct attach_state *s)
{
	if (s->meta_fd >= 0)
		close(s->meta_fd);
	if (s->tc_link_fd >= 0)
		close(s->tc_link_fd); /* pinned: the link stays */
	if (s->tc_egress_link_fd >= 0)
		close(s->tc_egress_link_fd);
	xdpsyn_tc__destroy(s->tc);
	xdp_program__close(s->xprog); /* attached: libxdp's pins hold it */
	xdpsyn__destroy(s->xdp_ext);
	xdpsyn__destroy(s->xdp);
}

static void attach_report(const struct attach_args *a,
			  const struct attach_state *s,
			  const struct xdpsyn_config *cfg)
{
	char *ports = ports_format(&a->sv.ports[XDPSYN_V4]);
	struct setting_vals shown;
	__u32 xdp_id = xdp_program__id(s->xprog);
	struct xdp_chain c;

	if (a->handoff != XDPSYN_HANDOFF_REQSK)
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
	if (!xdp_chain_read(a->ifindex, xdp_id, 0, &c) && !c.legacy) {
		int pos = 0;

		for (int i = 0; i < c.n && !pos; i++)
			if (c.e[i].ours)
				pos = i + 1;
		printf("  xdp: libxdp dispatcher prog %u, priority %ld: %d of %d "
		       "in the chain\n", c.main_id, a->priority, pos, c.n);
	}
	settings_of(&shown, cfg, a->flows_max, a->hs_max);
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

int cmd_attach(int argc, char **argv)
{
	struct attach_state s = { .meta_fd = -1, .tc_link_fd = -1,
				  .tc_egress_link_fd = -1 };
	struct xdpsyn_meta meta = { .version = XDPSYN_META_VERSION };
	char drv[64];
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
	if (!ret)
		ret = handoff_choose(a);
	if (!ret && a->handoff == XDPSYN_HANDOFF_KCOOKIE)
		ret = check_kcookie_sysctls(a->set_sysctl);
	if (!ret)
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
		ret = check_not_attached(a->ifname);
	if (!ret)
		ret = xdp_check_shareable(a);
	if (!ret)
		ret = vlan_choose(a->ifname, &a->vlan,
				  a->xdp_flags & XDP_FLAGS_DRV_MODE, a->xdp_others);
	if (!ret && !a->key_file)
		ret = key_random(&key);
	if (!ret)
		ret = config_fill(a, &cfg);
	if (ret)
		goto out_free;
	/* From here on, attach completes or undoes: signals that would kill
	 * the process midway wait until the end. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, &saved);
	signal(SIGPIPE, SIG_IGN);
	if (!iface_driver(a->ifname, drv, sizeof(drv)) && !strcmp(drv, "veth"))
		warnmsg(a->ifname, "veth: SYN-ACKs sent with XDP_TX are delivered "
			"only if the peer veth has an XDP program too (xdpsyn "
			"attach PEER with no ports passes everything)");

	ret = load_programs(&s, a);
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
	netns_id(&meta.netns_dev, &meta.netns_ino);
	meta.attached_at = meta.key_rotated_at = realtime_now();
	ret = meta_record(&s, a, &meta);
	if (ret)
		goto out;

	ret = pin_dir_make(a->ifname, &base_fd);
	if (ret)
		goto out;
	s.dir_created = true;
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
	if (!ret && a->handoff == XDPSYN_HANDOFF_REQSK)
		ret = pin_fd(a->ifname, pin_names[PIN_PROG_TC],
			     bpf_program__fd(s.tc->progs.xdpsyn_tc));
	if (!ret)
		ret = pin_fd(a->ifname, pin_names[PIN_PROG_TC_EGRESS],
			     bpf_program__fd(s.tc->progs.xdpsyn_tc_egress));
	if (!ret)
		ret = tc_attach(&s, a, &meta);
	if (!ret && a->handoff == XDPSYN_HANDOFF_REQSK)
		tc_order_check(&s, a);
	if (!ret)
		ret = xdp_attach(&s, a);
	if (!ret)
		ret = pin_fd(a->ifname, pin_names[PIN_PROG_XDP], xdp_program__fd(s.xprog));
	if (ret)
		goto out;

	attach_report(a, &s, &cfg);
	s.xdp_attached = false;
out:
	if (ret)
		attach_undo(&s, a);
	attach_release(&s);
	pin_dir_unlock(dir_fd);
	fflush(stdout);
	sigprocmask(SIG_SETMASK, &saved, NULL);
out_free:
	pin_base_unlock(base_fd);
	explicit_bzero(&key, sizeof(key));
	free(a);
	return ret;
}

