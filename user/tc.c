// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn CLI: TC and program helpers shared by attach and detach. */
#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cli.h"

/* 1 when the clsact block PARENT (ingress or egress) of IFINDEX holds no
 * filter, 0 when it does, -errno when it cannot be told. */
static int tc_block_empty(int ifindex, __u32 parent)
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
	int fd, ret = 1;

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
			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				ret = e->error ? e->error : -EPROTO;
				goto out;
			}
			if (h->nlmsg_type == RTM_NEWTFILTER)
				ret = 0;
		}
	}
out:
	close(fd);
	return ret;
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
