// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcxctl: a minimal tcx (kernel >= 6.6) tool for the end-to-end tests, with
 * raw bpf(2) calls (no libbpf: Debian 12's libbpf 1.1 and uapi headers
 * predate tcx).
 *
 *   tcxctl attach IFACE ingress|egress PIN [--front] [--ret next|pass|drop]
 *       load a one-instruction SCHED_CLS program named tcxctl_RET that
 *       returns TCX_NEXT (default), TCX_PASS or TCX_DROP, link it at the
 *       end of IFACE's tcx chain (--front: before everything), pin the link
 *       at PIN (a bpffs path) and print the program id. rm PIN detaches it.
 *   tcxctl list IFACE ingress|egress
 *       the program ids of the chain in the order the kernel runs them, one
 *       a line (nothing when the chain is empty).
 *
 * Exit 0 on success, 1 when a bpf(2) call fails, 2 on bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

/* Not in linux-libc-dev 6.1: the kernel's include/uapi/linux/bpf.h. */
#define TCX_INGRESS 46 /* enum bpf_attach_type BPF_TCX_INGRESS */
#define TCX_EGRESS 47  /* BPF_TCX_EGRESS */
#define F_BEFORE (1U << 3) /* BPF_F_BEFORE */

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int usage(void)
{
	fprintf(stderr, "usage: tcxctl attach IFACE ingress|egress PIN [--front] "
		"[--ret next|pass|drop]\n       tcxctl list IFACE ingress|egress\n");
	return 2;
}

static int hook_type(const char *s)
{
	if (!strcmp(s, "ingress"))
		return TCX_INGRESS;
	if (!strcmp(s, "egress"))
		return TCX_EGRESS;
	return -1;
}

static int cmd_list(unsigned ifindex, int type)
{
	__u32 ids[64] = { 0 };
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.query.target_fd = ifindex;
	a.query.attach_type = type;
	a.query.prog_ids = (__u64)(unsigned long)ids;
	a.query.prog_cnt = 64;
	if (sys_bpf(BPF_PROG_QUERY, &a)) {
		perror("tcxctl: BPF_PROG_QUERY");
		return 1;
	}
	for (__u32 i = 0; i < a.query.prog_cnt && i < 64; i++)
		printf("%u\n", ids[i]);
	return 0;
}

static int cmd_attach(unsigned ifindex, int type, const char *pin, int argc,
		      char **argv)
{
	struct bpf_insn insns[2] = {
		/* r0 = ret; exit */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	const char *ret = "next";
	struct bpf_prog_info info;
	union bpf_attr a;
	__u32 flags = 0;
	int prog, link;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--front"))
			flags = F_BEFORE;
		else if (!strcmp(argv[i], "--ret") && i + 1 < argc)
			ret = argv[++i];
		else
			return usage();
	}
	if (!strcmp(ret, "next"))
		insns[0].imm = -1; /* TCX_NEXT */
	else if (!strcmp(ret, "pass"))
		insns[0].imm = 0; /* TCX_PASS */
	else if (!strcmp(ret, "drop"))
		insns[0].imm = 2; /* TCX_DROP */
	else
		return usage();

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SCHED_CLS;
	a.insns = (__u64)(unsigned long)insns;
	a.insn_cnt = 2;
	a.license = (__u64)(unsigned long)"GPL";
	snprintf(a.prog_name, sizeof(a.prog_name), "tcxctl_%s", ret);
	prog = sys_bpf(BPF_PROG_LOAD, &a);
	if (prog < 0) {
		perror("tcxctl: BPF_PROG_LOAD");
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = prog;
	a.link_create.target_fd = ifindex; /* target_ifindex */
	a.link_create.attach_type = type;
	a.link_create.flags = flags; /* relative fd/id 0: the chain's end, or
				      * with BPF_F_BEFORE its front */
	link = sys_bpf(BPF_LINK_CREATE, &a);
	if (link < 0) {
		perror("tcxctl: BPF_LINK_CREATE (tcx)");
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.pathname = (__u64)(unsigned long)pin;
	a.bpf_fd = link;
	if (sys_bpf(BPF_OBJ_PIN, &a)) {
		fprintf(stderr, "tcxctl: pinning at %s: %s\n", pin, strerror(errno));
		return 1;
	}
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = prog;
	a.info.info_len = sizeof(info);
	a.info.info = (__u64)(unsigned long)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a)) {
		perror("tcxctl: BPF_OBJ_GET_INFO_BY_FD");
		return 1;
	}
	printf("%u\n", info.id);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned ifindex;
	int type;

	if (argc < 4)
		return usage();
	ifindex = if_nametoindex(argv[2]);
	type = hook_type(argv[3]);
	if (!ifindex) {
		fprintf(stderr, "tcxctl: %s: no such interface\n", argv[2]);
		return 2;
	}
	if (type < 0)
		return usage();
	if (!strcmp(argv[1], "list") && argc == 4)
		return cmd_list(ifindex, type);
	if (!strcmp(argv[1], "attach") && argc >= 5)
		return cmd_attach(ifindex, type, argv[4], argc - 5, argv + 5);
	return usage();
}
