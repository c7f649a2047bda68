// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn detach: remove what attach created, and only that. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cli.h"

static void detach_help(FILE *f)
{
	fprintf(f,
		"Usage: xdpsyn detach IFACE [--flush-state]\n"
		"\n"
		"Remove what `xdpsyn attach IFACE` created: its XDP program from\n"
		"libxdp's dispatcher (the other XDP programs keep running), the TC\n"
		"programs' tcx links, or their ingress and egress filters (and the\n"
		"clsact qdisc if attach created it and no other filter uses it), the\n"
		"pins and " PIN_BASE "/IFACE/; other programs and filters stay.\n"
		"Works when IFACE has disappeared (then only the pins are left).\n"
		"A gateway (attach IFACE --gateway IFACE_S): its programs on both\n"
		"interfaces go, and its connections' state table stays pinned, so that\n"
		"attaching again keeps the established connections working.\n"
		"Waits (up to %d s) for another attach, detach, set or key rotate.\n"
		"\n"
		"Options:\n"
		"  --flush-state  remove a gateway's state table too (also when it is\n"
		"                 all that is left)\n"
		"  -v, --verbose  libbpf debug output\n"
		"  -h, --help     this help\n", LOCK_WAIT_S);
}

/* Detach our tcx links (pinned: an attachment made with tcx, whatever its
 * meta says after a SIGKILL). Those of a vanished interface are detached
 * already. Returns 0, or -1 after a message. */
static int tcx_detach_ours(const struct pins *p)
{
	static const char *const hook_names[] = { "ingress", "egress" };
	int fds[2] = { p->tc_link_fd, p->tc_egress_link_fd };

	for (int e = 0; e < 2; e++) {
		if (fds[e] < 0 || link_ifindex(fds[e]) <= 0)
			continue;
		if (bpf_link_detach(fds[e]) && errno != ENOLINK) {
			errmsg(p->ifname, "detaching the TC %s tcx link: %s: retry "
			       "xdpsyn detach %s", hook_names[e], strerror(errno),
			       p->ifname);
			return -1;
		}
	}
	return 0;
}

/* Remove our TC filters: on ingress and on egress, every filter that runs
 * the program pinned for that hook (an attachment by an older xdpsyn has no
 * egress pin, and no egress filter; one made with tcx has none). Then the
 * clsact qdisc if attach created it and it is left empty. A filter at our
 * handle and priority that runs another program is left alone, with a
 * note. Returns 0, or -1 after a message when a filter could not be
 * removed. */
static int tc_detach_ours(const struct pins *p)
{
	static const char *const hook_names[] = { "ingress", "egress" };
	const struct xdpsyn_meta *m = &p->meta;
	int fds[2] = { p->tc_fd, p->tc_egress_fd };
	char name[IF_NAMESIZE];

	if (!if_indextoname(m->ifindex, name))
		return 0; /* the interface, and its filters, are gone */
	for (int e = 0; e < 2; e++) {
		__u32 ours = prog_id_of(fds[e]);
		int n;

		if (!ours)
			continue;
		n = tc_detach_prog(m->ifindex, e, ours);
		if (n < 0) {
			errmsg(p->ifname, "removing the TC %s filter of program "
			       "%u: %s: retry xdpsyn detach %s, or see tc filter "
			       "show dev %s %s", hook_names[e], ours, strerror(-n),
			       p->ifname, name, hook_names[e]);
			return -1;
		}
	}
	if (m->tc_handle && m->tc_priority) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = m->ifindex,
			    .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, q, .handle = m->tc_handle,
			    .priority = m->tc_priority);

		if (!bpf_tc_query(&hook, &q))
			warnmsg(p->ifname, "TC filter handle 0x%x prio %u runs "
				"program %u, not ours: left alone", m->tc_handle,
				m->tc_priority, q.prog_id);
	}
	if ((m->flags & XDPSYN_META_CLSACT_CREATED) &&
	    !clsact_destroy_if_empty(m->ifindex))
		printf("%s: left the clsact qdisc xdpsyn created: other filters "
		       "use it (tc qdisc del dev %s clsact removes it)\n",
		       p->ifname, name);
	return 0;
}

static int detach_locked(const char *ifname, bool flush);

/* Gateway mode: IFACE_S's XDP program (from its dispatcher) and its TC
 * program (tcx link or clsact filter; the qdisc if attach made it). A
 * vanished IFACE_S took them along. 0, or -1 after a message. */
static int gw_detach_srv(const struct pins *p, __u32 map_id)
{
	const struct xdpsyn_meta *m = &p->meta;
	char name[IF_NAMESIZE];
	__u32 tc_id = prog_id_of(p->gw_tc_fd);
	int n;

	if (p->gw_tc_link_fd >= 0 && link_ifindex(p->gw_tc_link_fd) > 0 &&
	    bpf_link_detach(p->gw_tc_link_fd) && errno != ENOLINK) {
		errmsg(p->ifname, "detaching the servers' side TC tcx link: %s: "
		       "retry xdpsyn detach %s", strerror(errno), p->ifname);
		return -1;
	}
	if (!if_indextoname(m->gw_ifindex, name))
		return 0;
	n = xdp_chain_detach_ours(m->gw_ifindex, prog_id_of(p->gw_xdp_prog_fd),
				  map_id);
	if (n < 0) {
		errmsg(p->ifname, "removing xdpsyn's program from %s's XDP "
		       "dispatcher: %s: retry xdpsyn detach %s, or see xdp-loader "
		       "status %s", name, strerror(-n), p->ifname, name);
		return -1;
	}
	n = tc_id ? tc_detach_prog(m->gw_ifindex, false, tc_id) : 0;
	if (n < 0) {
		errmsg(p->ifname, "removing the TC ingress filter of program %u "
		       "from %s: %s: retry xdpsyn detach %s, or see tc filter show "
		       "dev %s ingress", tc_id, name, strerror(-n), p->ifname, name);
		return -1;
	}
	if ((m->flags & XDPSYN_META_GW_CLSACT_CREATED) &&
	    !clsact_destroy_if_empty(m->gw_ifindex))
		printf("%s: left the clsact qdisc xdpsyn created on %s: other "
		       "filters use it (tc qdisc del dev %s clsact removes it)\n",
		       p->ifname, name, name);
	return 0;
}

/* Only a gateway's kept state table is left in IFNAME's directory. */
static int detach_kept_state(const char *ifname, bool flush)
{
	char path[256];
	long n = -1;
	int fd;

	pin_path(path, sizeof(path), ifname, pin_names[PIN_GW_CONNS]);
	if (!flush) {
		errmsg(ifname, "not attached; only the state table of a gateway's "
		       "established connections is kept (%s): xdpsyn detach %s "
		       "--flush-state removes it, attach %s --gateway IFACE_S "
		       "uses it", path, ifname, ifname);
		return EXIT_CONFLICT;
	}
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		n = map_count(fd);
		close(fd);
	}
	if (unlink(path) && errno != ENOENT) {
		errmsg(path, "unlink: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	pin_path(path, sizeof(path), ifname, NULL);
	if (rmdir(path)) {
		errmsg(path, "rmdir: %s: files xdpsyn did not create are left "
		       "there", strerror(errno));
		return EXIT_RUNTIME;
	}
	printf("%s: kept gateway state removed (%ld connections)\n", ifname, n);
	return EXIT_OK;
}

/* True when the network namespace M records still exists: a name under
 * /run/netns, or a process in it. An XDP program attached alone (netlink,
 * no link to read its interface from) may be running there. */
static bool netns_alive(const struct xdpsyn_meta *m)
{
	static const char *const dirs[] = { "/run/netns", "/proc" };
	char path[300];
	struct dirent *de;
	struct stat st;
	bool found = false;

	for (int i = 0; i < 2 && !found; i++) {
		DIR *d = opendir(dirs[i]);

		if (!d)
			continue;
		while (!found && (de = readdir(d))) {
			if (de->d_name[0] == '.' ||
			    (i == 1 && (de->d_name[0] < '0' || de->d_name[0] > '9')))
				continue;
			snprintf(path, sizeof(path), i ? "%s/%s/ns/net" : "%s/%s",
				 dirs[i], de->d_name);
			found = !stat(path, &st) && (__u64)st.st_dev == m->netns_dev &&
				(__u64)st.st_ino == m->netns_ino;
		}
		closedir(d);
	}
	return found;
}

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "flush-state", no_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *ifname;
	char owner[IF_NAMESIZE + 1];
	bool flush = false;
	int c, ret, base_fd, dir_fd;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			flush = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			detach_help(stdout);
			return EXIT_OK;
		default:
			return bad_option("detach", argv);
		}
	}
	if (optind + 1 != argc)
		return usage_err("detach", optind == argc ? "missing IFACE" :
				 "one interface at a time");
	ifname = argv[optind];
	ret = pin_dir_check(ifname);
	if (ret == EXIT_CONFLICT &&
	    gw_owner_of(if_nametoindex(ifname), NULL, owner, sizeof(owner)))
		fprintf(stderr, "xdpsyn: %s: the servers' side of the gateway "
			"attached to %s: xdpsyn detach %s\n", ifname, owner, owner);
	if (ret)
		return ret;
	ret = need_privileges();
	if (ret)
		return ret;
	/* PIN_BASE's lock, then the interface's: after an attach or set in
	 * progress, before anything else */
	base_fd = pin_base_lock();
	if (base_fd < 0)
		return -base_fd;
	dir_fd = pin_dir_lock(ifname);
	if (dir_fd < 0) {
		pin_base_unlock(base_fd);
		return -dir_fd;
	}
	ret = pin_dir_state_only(ifname) ? detach_kept_state(ifname, flush) :
					   detach_locked(ifname, flush);
	pin_dir_unlock(dir_fd);
	pin_base_unlock(base_fd);
	return ret;
}

/* Detach IFNAME, its locks held. A gateway's state table stays pinned
 * unless FLUSH. */
static int detach_locked(const char *ifname, bool flush)
{
	const char *note = "";
	char path[256], name[IF_NAMESIZE], gw_name[32] = "";
	struct pins p;
	int ret, lifindex, removed = 0, links = 0;
	__u32 prog_id, map_id;
	bool same_ns, gone, had_link, gateway, keep;
	long kept = 0;

	ret = pins_open(&p, ifname, 0);
	if (ret)
		return ret;

	/* an older xdpsyn's XDP link; else our program in the dispatcher,
	 * attached while some link runs it */
	had_link = p.link_fd >= 0;
	lifindex = had_link ? link_ifindex(p.link_fd) : 0;
	prog_id = prog_id_of(p.xdp_prog_fd);
	map_id = map_id_of(p.config_fd);
	if (prog_id)
		links = prog_link_count(prog_id);
	same_ns = p.have_meta && netns_is_current(&p.meta);
	gone = same_ns && !if_indextoname(p.meta.ifindex, name);
	if (p.have_meta && !same_ns &&
	    (lifindex > 0 || links > 0 || (prog_id && netns_alive(&p.meta)))) {
		errmsg(ifname, "attached in another network namespace: run "
		       "xdpsyn detach %s there (nsenter --net=...)", ifname);
		pins_close(&p);
		return EXIT_CONFLICT;
	}
	if (lifindex > 0 && bpf_link_detach(p.link_fd) && errno != ENOLINK) {
		errmsg(ifname, "detaching the XDP link: %s", strerror(errno));
		pins_close(&p);
		return EXIT_RUNTIME;
	}
	if (same_ns && !gone && (prog_id || map_id)) {
		removed = xdp_chain_detach_ours(p.meta.ifindex, prog_id, map_id);
		if (removed < 0) {
			errmsg(ifname, "removing xdpsyn's program from the XDP "
			       "dispatcher: %s: retry xdpsyn detach %s, or see "
			       "xdp-loader status %s", strerror(-removed), ifname,
			       ifname);
			pins_close(&p);
			return EXIT_RUNTIME;
		}
	}
	gateway = p.have_meta && (p.meta.flags & XDPSYN_META_GATEWAY);
	if (tcx_detach_ours(&p) || (p.have_meta && same_ns && tc_detach_ours(&p)) ||
	    (gateway && same_ns && gw_detach_srv(&p, map_id))) {
		pins_close(&p); /* pins kept: a retry needs them */
		return EXIT_RUNTIME;
	}
	if (gateway && (!same_ns || !if_indextoname(p.meta.gw_ifindex, gw_name)))
		snprintf(gw_name, sizeof(gw_name), "ifindex %u (%s)",
			 p.meta.gw_ifindex, same_ns ? "gone" : "another netns");
	keep = !flush && p.gw_conns_fd >= 0;
	if (keep)
		kept = map_count(p.gw_conns_fd);
	if (!p.have_meta)
		warnmsg(ifname, "no %s record: only the pins are removed "
			"(check tc filter show dev %s ingress, and egress)",
			pin_names[PIN_META], ifname);
	pins_close(&p);

	for (int i = 0; i < PIN_N; i++) {
		if (i == PIN_GW_CONNS && keep)
			continue;
		pin_path(path, sizeof(path), ifname, pin_names[i]);
		if (unlink(path) && errno != ENOENT)
			warnmsg(path, "unlink: %s", strerror(errno));
	}
	pin_path(path, sizeof(path), ifname, NULL);
	if (!keep && rmdir(path)) {
		errmsg(path, "rmdir: %s: files xdpsyn did not create are left "
		       "there", strerror(errno));
		return EXIT_RUNTIME;
	}
	/* PIN_BASE goes too if empty: pin_base_unlock */
	if (lifindex == 0 && !removed && gone)
		note = " (the interface is gone: pins removed)";
	else if (lifindex == 0 && !removed && had_link)
		note = " (its XDP link was already detached)";
	else if (lifindex == 0 && !removed)
		note = " (its XDP program was no longer in the interface's "
		       "XDP chain)";
	if (gateway)
		printf("%s: detached%s (a gateway to %s)\n", ifname, note, gw_name);
	else
		printf("%s: detached%s\n", ifname, note);
	if (keep)
		printf("%s: %ld connections' state kept in %s/%s/%s for the next "
		       "attach --gateway; `xdpsyn detach %s --flush-state` removes "
		       "it\n", ifname, kept, PIN_BASE, ifname,
		       pin_names[PIN_GW_CONNS], ifname);
	return EXIT_OK;
}
