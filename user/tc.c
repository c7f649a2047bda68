// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn CLI: TC and program helpers shared by attach and detach. */
#include <errno.h>
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

/* One filter of a dump: its handle, priority and, for a cls_bpf filter
 * with a program, the program's id (0 otherwise). */
struct tc_filter {
	__u32 handle;
	__u32 prio;
	__u32 prog_id;
};

/* The program id of a cls_bpf filter message (0: another kind, or none). */
static __u32 filter_prog_id(struct nlmsghdr *h)
{
	struct tcmsg *t = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*t));
	struct rtattr *a = (struct rtattr *)((char *)t + NLMSG_ALIGN(sizeof(*t)));
	bool bpf = false;
	__u32 id = 0;

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == TCA_KIND)
			bpf = RTA_PAYLOAD(a) >= 4 && !strcmp(RTA_DATA(a), "bpf");
		if (a->rta_type == TCA_OPTIONS) {
			struct rtattr *o = RTA_DATA(a);
			int olen = RTA_PAYLOAD(a);

			for (; RTA_OK(o, olen); o = RTA_NEXT(o, olen))
				if (o->rta_type == TCA_BPF_ID &&
				    RTA_PAYLOAD(o) >= sizeof(__u32))
					memcpy(&id, RTA_DATA(o), sizeof(id));
		}
	}
	return bpf ? id : 0;
}

/* The filters of the clsact block PARENT (ingress or egress) of IFINDEX,
 * at most MAX into OUT. The number of filters (possibly more than MAX), or
 * -errno when they cannot be read. */
static int tc_block_dump(int ifindex, __u32 parent, struct tc_filter *out,
			 int max)
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
		.t.tcm_parent = parent,
	};
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	int fd, ret = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.n.nlmsg_len, 0) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (len < 0) {
			ret = -errno;
			goto out;
		}
		for (; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			struct tcmsg *t = NLMSG_DATA(h);

			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				ret = e->error ? e->error : -EPROTO;
				goto out;
			}
			/* a priority's header (handle 0) is not a filter */
			if (h->nlmsg_type != RTM_NEWTFILTER || !t->tcm_handle)
				continue;
			if (ret < max)
				out[ret] = (struct tc_filter){
					.handle = t->tcm_handle,
					.prio = TC_H_MAJ(t->tcm_info) >> 16,
					.prog_id = filter_prog_id(h),
				};
			ret++;
		}
	}
out:
	close(fd);
	return ret;
}

/* 1 when the clsact block PARENT (ingress or egress) of IFINDEX holds no
 * filter, 0 when it does, -errno when it cannot be told. */
static int tc_block_empty(int ifindex, __u32 parent)
{
	int n = tc_block_dump(ifindex, parent, NULL, 0);

	return n < 0 ? n : n == 0;
}

int tc_detach_prog(int ifindex, bool egress, __u32 prog_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	struct tc_filter f[32] = {};
	int n, removed = 0;

	n = tc_block_dump(ifindex, TC_H_MAKE(TC_H_CLSACT, egress ?
			  TC_H_MIN_EGRESS : TC_H_MIN_INGRESS), f, 32);
	if (n < 0)
		return n == -EINVAL || n == -ENOENT ? 0 : n; /* no clsact */
	for (int i = 0; i < n && i < 32; i++) {
		LIBBPF_OPTS(bpf_tc_opts, d, .handle = f[i].handle,
			    .priority = f[i].prio);
		int err;

		if (!prog_id || f[i].prog_id != prog_id)
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

	if (tc_block_empty(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)) != 1 ||
	    tc_block_empty(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)) != 1)
		return false;
	return !bpf_tc_hook_destroy(&hook);
}

__u32 prog_id_of(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.id : 0;
}

int tc_prog_attached(int ifindex, bool egress, __u32 prog_id)
{
	struct tc_filter f[32] = {};
	int n;

	n = tc_block_dump(ifindex, TC_H_MAKE(TC_H_CLSACT, egress ?
			  TC_H_MIN_EGRESS : TC_H_MIN_INGRESS), f, 32);
	if (n < 0)
		return n == -EINVAL || n == -ENOENT ? 0 : n;
	for (int i = 0; i < n && i < 32; i++)
		if (prog_id && f[i].prog_id == prog_id)
			return 1;
	return 0;
}
