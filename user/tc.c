// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn CLI: TC (tcx links, clsact filters) and program helpers of attach,
 * detach and status. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cli.h"

/*
 * tcx (kernel >= 6.6): programs attached with BPF links to an interface's
 * ingress or egress hook, run in order before the clsact filters. Debian
 * 12's uapi headers (linux-libc-dev 6.1) lack these names; the values are
 * the kernel's (include/uapi/linux/bpf.h). libbpf 1.1's bpf_link_create
 * passes opts.flags for an attach type it does not know, and leaves the
 * tcx member of the attr (relative fd or id, expected revision) 0: with
 * BPF_F_BEFORE that is "before every program". bpf_prog_query_opts lists
 * a tcx hook's programs in the order they run.
 */
#define ATTACH_TCX_INGRESS 46 /* BPF_TCX_INGRESS */
#define ATTACH_TCX_EGRESS 47  /* BPF_TCX_EGRESS */
#define LINK_F_BEFORE (1U << 3) /* BPF_F_BEFORE */

/* The kind of a filter message ("bpf", "u32", ...) into E, and for a
 * cls_bpf filter with a program the program's id (0 otherwise). */
static void filter_parse(const struct nlmsghdr *h, struct tc_entry *e)
{
	const struct tcmsg *t = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*t));
	const struct rtattr *a = (const struct rtattr *)((const char *)t +
						      NLMSG_ALIGN(sizeof(*t)));
	__u32 id = 0;

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == TCA_KIND)
			snprintf(e->kind, sizeof(e->kind), "%.*s",
				 (int)RTA_PAYLOAD(a), (const char *)RTA_DATA(a));
		if (a->rta_type == TCA_CHAIN && RTA_PAYLOAD(a) >= sizeof(__u32))
			memcpy(&e->chain, RTA_DATA(a), sizeof(e->chain));
		if (a->rta_type == TCA_OPTIONS) {
			const struct rtattr *o = RTA_DATA(a);
			int olen = RTA_PAYLOAD(a);

			for (; RTA_OK(o, olen); o = RTA_NEXT(o, olen))
				if (o->rta_type == TCA_BPF_ID &&
				    RTA_PAYLOAD(o) >= sizeof(__u32))
					memcpy(&id, RTA_DATA(o), sizeof(id));
		}
	}
	e->prog_id = !strcmp(e->kind, "bpf") ? id : 0;
}

struct filter_dump {
	struct tc_entry *out;
	int max, n;
};

static int filter_msg(const struct nlmsghdr *h, void *arg)
{
	const struct tcmsg *t = NLMSG_DATA(h);
	struct filter_dump *d = arg;

	/* a priority's header (handle 0) is not a filter */
	if (h->nlmsg_type != RTM_NEWTFILTER || !t->tcm_handle)
		return 0;
	if (d->n < d->max) {
		d->out[d->n] = (struct tc_entry){
			.handle = t->tcm_handle,
			.prio = TC_H_MAJ(t->tcm_info) >> 16,
		};
		filter_parse(h, &d->out[d->n]);
	}
	d->n++;
	return 0;
}

/* The filters of the clsact ingress (or EGRESS) block of IFINDEX, at most
 * MAX into OUT, in the dump's order. The number of filters (possibly more
 * than MAX), 0 when there is no clsact qdisc, or -errno when they cannot
 * be read. */
static int clsact_dump(int ifindex, bool egress, struct tc_entry *out, int max)
{
	struct {
		struct nlmsghdr n;
		struct tcmsg t;
	} req = {
		.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		.n.nlmsg_type = RTM_GETTFILTER,
		.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.n.nlmsg_seq = 1,
		.t.tcm_family = AF_UNSPEC,
		.t.tcm_ifindex = ifindex,
		.t.tcm_parent = TC_H_MAKE(TC_H_CLSACT, egress ? TC_H_MIN_EGRESS :
					  TC_H_MIN_INGRESS),
	};
	struct filter_dump d = { .out = out, .max = max };
	int err = nl_dump(NETLINK_ROUTE, &req.n, filter_msg, &d);

	if (err == -EINVAL || err == -ENOENT)
		return 0; /* no clsact qdisc: no filter */
	return err ? err : d.n;
}

/* The name of program ID into BUF ("" when it cannot be read). */
static void prog_name_of(__u32 id, char *buf, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	buf[0] = 0;
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(buf, len, "%.*s", (int)sizeof(info.name), info.name);
	close(fd);
}

/* The tcx programs of IFINDEX's ingress (or EGRESS) hook in the order they
 * run, at most MAX into OUT. Their number (possibly more than MAX), 0 when
 * the kernel has no tcx, or -errno. */
static int tcx_query(int ifindex, bool egress, struct tc_entry *out, int max)
{
	__u32 ids[TC_CHAIN_MAX] = { 0 };
	LIBBPF_OPTS(bpf_prog_query_opts, q, .prog_ids = ids,
		    .prog_cnt = TC_CHAIN_MAX);
	int n;

	if (bpf_prog_query_opts(ifindex, egress ? ATTACH_TCX_EGRESS :
				ATTACH_TCX_INGRESS, &q))
		return errno == EINVAL ? 0 : -errno; /* EINVAL: no tcx */
	n = q.prog_cnt < TC_CHAIN_MAX ? (int)q.prog_cnt : TC_CHAIN_MAX;
	for (int i = 0; i < n && i < max; i++)
		out[i] = (struct tc_entry){ .tcx = true, .prog_id = ids[i] };
	return n;
}

/* X runs after Y: clsact filters run by chain (0 is the one entered),
 * then priority. */
static bool filter_after(const struct tc_entry *x, const struct tc_entry *y)
{
	return x->chain != y->chain ? x->chain > y->chain : x->prio > y->prio;
}

int tc_chain_read(int ifindex, bool egress, struct tc_entry *out, int max)
{
	int nt, nc, n;

	nt = tcx_query(ifindex, egress, out, max);
	if (nt < 0)
		return nt;
	if (nt > max)
		nt = max;
	nc = clsact_dump(ifindex, egress, out + nt, max - nt);
	if (nc < 0)
		return nc;
	n = nt + (nc < max - nt ? nc : max - nt);
	/* a stable insertion sort: one priority's filters keep the dump's
	 * order, which is the order they run in */
	for (int i = nt + 1; i < n; i++) {
		struct tc_entry e = out[i];
		int j = i;

		for (; j > nt && filter_after(&out[j - 1], &e); j--)
			out[j] = out[j - 1];
		out[j] = e;
	}
	/* one line per classifier without a program: u32 lists its hash
	 * table and each key node as filters of one priority */
	for (int i = nt + 1; i < n; i++) {
		const struct tc_entry *p = &out[i - 1];

		if (out[i].prog_id || p->prog_id || p->tcx ||
		    p->chain != out[i].chain || p->prio != out[i].prio ||
		    strcmp(p->kind, out[i].kind))
			continue;
		memmove(&out[i], &out[i + 1], (n - i - 1) * sizeof(*out));
		n--;
		nc--;
		i--;
	}
	for (int i = 0; i < n; i++)
		if (out[i].prog_id)
			prog_name_of(out[i].prog_id, out[i].name,
				     sizeof(out[i].name));
	return nt + nc;
}

void tc_entry_format(char *buf, size_t len, const struct tc_entry *e)
{
	char chain[24] = "", prog[48] = "";

	if (e->prog_id)
		snprintf(prog, sizeof(prog), " prog %u %s", e->prog_id,
			 e->name[0] ? e->name : "?");
	if (e->tcx) {
		snprintf(buf, len, "tcx%s", prog);
		return;
	}
	if (e->chain)
		snprintf(chain, sizeof(chain), " chain %u", e->chain);
	snprintf(buf, len, "clsact%s prio %u %s%s", chain, e->prio,
		 e->kind[0] ? e->kind : "?", prog);
}

int tcx_attach_front(int prog_fd, int ifindex, bool egress)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = LINK_F_BEFORE);
	int fd;

	fd = bpf_link_create(prog_fd, ifindex, egress ? ATTACH_TCX_EGRESS :
			     ATTACH_TCX_INGRESS, &opts);
	return fd < 0 ? -errno : fd;
}

int link_ifindex(int link_fd)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (link_fd < 0 || bpf_obj_get_info_by_fd(link_fd, &info, &len))
		return -1;
	/* XDP and tcx links both have the ifindex first in their union */
	return info.xdp.ifindex;
}

int tc_prio_taken(int ifindex, bool egress, __u32 prio)
{
	struct tc_entry f[TC_CHAIN_MAX];
	int n = clsact_dump(ifindex, egress, f, TC_CHAIN_MAX);

	if (n < 0)
		return n;
	for (int i = 0; i < n && i < TC_CHAIN_MAX; i++)
		if (f[i].prio == prio)
			return 1;
	return 0;
}

int tc_detach_prog(int ifindex, bool egress, __u32 prog_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	struct tc_entry f[TC_CHAIN_MAX];
	int n, removed = 0;

	n = clsact_dump(ifindex, egress, f, TC_CHAIN_MAX);
	if (n < 0)
		return n;
	for (int i = 0; i < n && i < TC_CHAIN_MAX; i++) {
		LIBBPF_OPTS(bpf_tc_opts, d, .handle = f[i].handle,
			    .priority = f[i].prio);
		int err;

		if (!prog_id || f[i].prog_id != prog_id || f[i].chain)
			continue;
		err = bpf_tc_detach(&hook, &d);
		if (err && err != -ENOENT)
			return err;
		removed++;
	}
	return removed;
}

/* Remove the clsact qdisc that attach created, if no filter is left on it.
 * Returns true when it was removed. */
bool clsact_destroy_if_empty(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

	if (clsact_dump(ifindex, false, NULL, 0) != 0 ||
	    clsact_dump(ifindex, true, NULL, 0) != 0)
		return false;
	return !bpf_tc_hook_destroy(&hook);
}

__u32 prog_id_of(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.id : 0;
}

int tc_chain_first_other(const struct tc_entry *c, int n, __u32 ours)
{
	int first = -1;
	bool found = false;

	for (int i = 0; i < n; i++) {
		if (!c[i].tcx && c[i].chain)
			continue; /* runs only when a filter jumps there */
		if (c[i].prog_id == ours && ours) {
			found = true;
			break;
		}
		if (first < 0)
			first = i;
	}
	if (!found)
		return -2;
	return first;
}

void tc_not_first_msg(char *buf, size_t len, const struct tc_entry *e)
{
	char what[96];

	tc_entry_format(what, sizeof(what), e);
	snprintf(buf, len, "xdpsyn's TC ingress program is not first: %s runs "
		 "before it: if that ends the chain (TC_ACT_OK, TCX_PASS, a drop), "
		 "the hand-off never runs and clients are reset", what);
}
