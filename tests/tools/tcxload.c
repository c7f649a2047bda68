// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcxload: attach a counting TC program (tests/e2e/noharm_tc.bpf.c) the way
 * another tool on the host would, for tests/e2e/test_noharm.sh.
 *
 *   tcxload tcx IFACE DIR OBJ PINDIR PORT       tcx link, appended after
 *        the programs already there (BPF_TCX_INGRESS/EGRESS, kernel >= 6.6;
 *        Debian 12's libbpf 1.1 and bpftool 7.1 have no tcx support: this
 *        calls bpf_link_create with the raw attach type). The link is
 *        pinned at PINDIR/link: rm it to detach.
 *   tcxload tc IFACE DIR OBJ PINDIR PORT PRIO [ARG]   classic clsact
 *        filter, direct action, handle 1 at PRIO (remove: tcxload untc)
 *   tcxload untc IFACE DIR PRIO                 remove that classic filter
 *   tcxload count PINDIR                        "fin=N bytes=N tcp=N syn=N"
 *   tcxload query IFACE DIR                     tcx program ids, in order
 *
 * DIR is ingress or egress. The program's maps are pinned under PINDIR (its
 * parent must be a directory on a bpffs). The object's array noharm_cfg
 * gets PORT at 0 (the TCP port the program looks at: destination port on
 * ingress, source port on egress; 0: every port), DIR at 1 (0 ingress,
 * 1 egress) and ARG, when given, at 2. count reads noharm_cnt[0..3].
 * Exit status: 0 ok, 1 failure, 2 usage.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* BPF_TCX_INGRESS / BPF_TCX_EGRESS: Debian 12's uapi header predates them */
#define TCX_INGRESS 46
#define TCX_EGRESS 47

static int usage(void)
{
	fprintf(stderr, "usage: tcxload tcx IFACE DIR OBJ PINDIR PORT | tc IFACE DIR OBJ PINDIR PORT PRIO [ARG] |"
		" untc IFACE DIR PRIO | count PINDIR | query IFACE DIR   (DIR: ingress|egress)\n");
	return 2;
}

static unsigned ifindex_of(const char *name)
{
	unsigned i = if_nametoindex(name);

	if (!i)
		fprintf(stderr, "tcxload: %s: no such interface\n", name);
	return i;
}

/* 0 ingress, 1 egress, -1 neither */
static int dir_of(const char *s)
{
	if (!strcmp(s, "ingress"))
		return 0;
	if (!strcmp(s, "egress"))
		return 1;
	fprintf(stderr, "tcxload: '%s' is not ingress or egress\n", s);
	return -1;
}

static unsigned num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == 0 || *end || v > 65535) {
		fprintf(stderr, "tcxload: '%s' is not a number 0..65535\n", s);
		exit(2);
	}
	return (unsigned)v;
}

/* Open and load OBJ, set port and direction, pin its maps under PINDIR;
 * returns the object (the program is its first one) or NULL. */
static struct bpf_object *load(const char *path, const char *pindir, unsigned port, int dir,
			       const char *arg)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	__u32 k0 = 0, k1 = 1, k2 = 2, d = (__u32)dir, v2 = arg ? num(arg) : 0;
	struct bpf_map *cfg;
	int err;

	if (!obj) {
		fprintf(stderr, "tcxload: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "tcxload: loading %s: %s\n", path, strerror(-err));
		goto fail;
	}
	cfg = bpf_object__find_map_by_name(obj, "noharm_cfg");
	if (!cfg || bpf_map_update_elem(bpf_map__fd(cfg), &k0, &port, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(cfg), &k1, &d, BPF_ANY) ||
	    (arg && bpf_map_update_elem(bpf_map__fd(cfg), &k2, &v2, BPF_ANY))) {
		fprintf(stderr, "tcxload: setting the port: %s\n", strerror(errno));
		goto fail;
	}
	if (mkdir(pindir, 0700) && errno != EEXIST) {
		fprintf(stderr, "tcxload: mkdir %s: %s\n", pindir, strerror(errno));
		goto fail;
	}
	err = bpf_object__pin_maps(obj, pindir);
	if (err) {
		fprintf(stderr, "tcxload: pinning maps under %s: %s\n", pindir, strerror(-err));
		goto fail;
	}
	return obj;
fail:
	bpf_object__close(obj);
	return NULL;
}

static int prog_fd_of(struct bpf_object *obj)
{
	return bpf_program__fd(bpf_object__next_program(obj, NULL));
}

static int cmd_tcx(char **argv)
{
	unsigned ifindex = ifindex_of(argv[0]);
	int dir = dir_of(argv[1]), lfd;
	struct bpf_object *obj;
	char pin[4096];

	if (!ifindex || dir < 0)
		return dir < 0 ? 2 : 1;
	obj = load(argv[2], argv[3], num(argv[4]), dir, NULL);
	if (!obj)
		return 1;
	/* flags 0, no relative fd or id: append after the programs there */
	lfd = bpf_link_create(prog_fd_of(obj), (int)ifindex, dir ? TCX_EGRESS : TCX_INGRESS, NULL);
	if (lfd < 0) {
		fprintf(stderr, "tcxload: tcx %s link on %s: %s\n", argv[1], argv[0], strerror(-lfd));
		bpf_object__unpin_maps(obj, argv[3]);
		return 1;
	}
	snprintf(pin, sizeof(pin), "%s/link", argv[3]);
	if (bpf_obj_pin(lfd, pin)) {
		fprintf(stderr, "tcxload: pinning %s: %s\n", pin, strerror(errno));
		bpf_object__unpin_maps(obj, argv[3]);
		return 1;
	}
	return 0;
}

static int cmd_tc(char **argv, const char *arg)
{
	unsigned ifindex = ifindex_of(argv[0]);
	int dir = dir_of(argv[1]), err;
	struct bpf_object *obj;

	if (!ifindex || dir < 0)
		return dir < 0 ? 2 : 1;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
		    .attach_point = dir ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		fprintf(stderr, "tcxload: clsact on %s: %s\n", argv[0], strerror(-err));
		return 1;
	}
	obj = load(argv[2], argv[3], num(argv[4]), dir, arg);
	if (!obj)
		return 1;
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd_of(obj), .handle = 1,
		    .priority = num(argv[5]));
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		fprintf(stderr, "tcxload: clsact %s filter on %s prio %s: %s\n", argv[1], argv[0],
			argv[5], strerror(-err));
		bpf_object__unpin_maps(obj, argv[3]);
		return 1;
	}
	return 0;
}

static int cmd_untc(char **argv)
{
	unsigned ifindex = ifindex_of(argv[0]);
	int dir = dir_of(argv[1]), err;

	if (!ifindex || dir < 0)
		return dir < 0 ? 2 : 1;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
		    .attach_point = dir ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = num(argv[2]));
	err = bpf_tc_detach(&hook, &opts);
	if (err) {
		fprintf(stderr, "tcxload: removing the %s filter prio %s on %s: %s\n", argv[1],
			argv[2], argv[0], strerror(-err));
		return 1;
	}
	return 0;
}

static int cmd_count(char **argv)
{
	char pin[4096];
	__u64 v[4] = { 0 };
	int fd;

	snprintf(pin, sizeof(pin), "%s/noharm_cnt", argv[0]);
	fd = bpf_obj_get(pin);
	if (fd < 0) {
		fprintf(stderr, "tcxload: %s: %s\n", pin, strerror(errno));
		return 1;
	}
	for (__u32 i = 0; i < 4; i++)
		if (bpf_map_lookup_elem(fd, &i, &v[i])) {
			fprintf(stderr, "tcxload: reading %s: %s\n", pin, strerror(errno));
			return 1;
		}
	printf("fin=%llu bytes=%llu tcp=%llu syn=%llu\n", (unsigned long long)v[0],
	       (unsigned long long)v[1], (unsigned long long)v[2], (unsigned long long)v[3]);
	return 0;
}

static int cmd_query(char **argv)
{
	unsigned ifindex = ifindex_of(argv[0]);
	int dir = dir_of(argv[1]), err;
	__u32 ids[64];

	if (!ifindex || dir < 0)
		return dir < 0 ? 2 : 1;
	LIBBPF_OPTS(bpf_prog_query_opts, q, .prog_ids = ids, .prog_cnt = 64);
	err = bpf_prog_query_opts((int)ifindex, dir ? TCX_EGRESS : TCX_INGRESS, &q);
	if (err) {
		fprintf(stderr, "tcxload: tcx query on %s: %s\n", argv[0], strerror(-err));
		return 1;
	}
	for (__u32 i = 0; i < q.prog_cnt && i < 64; i++)
		printf("%s%u", i ? " " : "", ids[i]);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	if (!getenv("TCXLOAD_VERBOSE"))
		libbpf_set_print(NULL); /* its notes on an existing clsact are not errors */
	if ((argc == 8 || argc == 9) && !strcmp(argv[1], "tc"))
		return cmd_tc(argv + 2, argc == 9 ? argv[8] : NULL);
	if (argc == 7 && !strcmp(argv[1], "tcx"))
		return cmd_tcx(argv + 2);
	if (argc == 5 && !strcmp(argv[1], "untc"))
		return cmd_untc(argv + 2);
	if (argc == 3 && !strcmp(argv[1], "count"))
		return cmd_count(argv + 2);
	if (argc == 4 && !strcmp(argv[1], "query"))
		return cmd_query(argv + 2);
	return usage();
}
