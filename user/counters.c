// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn CLI: reading the per-CPU counters; `xdpsyn stats`. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "cli.h"

#define CNT_NAME(name, help) #name,
#define CNT_HELP(name, help) help,
static const char *const cnt_names[] = { XDPSYN_COUNTERS(CNT_NAME) };
static const char *const cnt_helps[] = { XDPSYN_COUNTERS(CNT_HELP) };
#undef CNT_NAME
#undef CNT_HELP

const char *counter_name(int idx)
{
	static char lower[XDPSYN_CNT_MAX][32];

	if (idx < 0 || idx >= XDPSYN_CNT_MAX)
		return NULL;
	if (!lower[idx][0])
		for (size_t i = 0; cnt_names[idx][i] && i + 1 < sizeof(lower[0]); i++)
			lower[idx][i] = tolower((unsigned char)cnt_names[idx][i]);
	return lower[idx];
}

const char *counter_help(int idx)
{
	return idx >= 0 && idx < XDPSYN_CNT_MAX ? cnt_helps[idx] : NULL;
}

/* Sum of a per-CPU array slot of NWORDS u64 over the possible CPUs. */
static int percpu_sum(int fd, __u32 key, __u64 *out, size_t nwords)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 *vals;

	if (ncpus <= 0)
		return -EINVAL;
	vals = calloc((size_t)ncpus * nwords, sizeof(__u64));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, vals)) {
		int err = -errno;

		free(vals);
		return err;
	}
	memset(out, 0, nwords * sizeof(__u64));
	for (int c = 0; c < ncpus; c++)
		for (size_t i = 0; i < nwords; i++)
			out[i] += vals[(size_t)c * nwords + i];
	free(vals);
	return 0;
}

int counters_read(int stats_fd, __u64 out[XDPSYN_CNT_MAX])
{
	return percpu_sum(stats_fd, 0, out, XDPSYN_CNT_MAX);
}

int handoff_errs_read(int fd, __u64 out[XDPSYN_ERRNO_SLOTS])
{
	for (__u32 slot = 0; slot < XDPSYN_ERRNO_SLOTS; slot++) {
		int err = percpu_sum(fd, slot, &out[slot], 1);

		if (err)
			return err;
	}
	return 0;
}

static const char *errno_name(int e)
{
	const char *n = e ? strerrorname_np(e) : NULL;

	return n ? n : "?";
}

static void stats_help(FILE *f)
{
	fprintf(f,
		"Usage: xdpsyn stats [IFACE] [-j]\n"
		"\n"
		"Every counter of IFACE (default: every attached interface), summed\n"
		"over CPUs, and the errors of the handoff to the listener by errno.\n"
		"\n"
		"Options:\n"
		"  -j, --json     JSON output: {\"interfaces\": [...]}, or the one\n"
		"                 interface's object when IFACE is given\n"
		"  -h, --help     this help\n"
		"\n"
		"Counters:\n");
	for (int i = 0; i < XDPSYN_CNT_MAX; i++)
		fprintf(f, "  %-16s %s\n", counter_name(i), counter_help(i));
}

static int stats_one(const char *ifname, json_object *jarr)
{
	__u64 cnt[XDPSYN_CNT_MAX], errs[XDPSYN_ERRNO_SLOTS] = {};
	bool have_errs = false;
	struct pins p;
	int ret, err;

	ret = pins_open(&p, ifname, PINS_STATS);
	if (ret)
		return ret;
	err = counters_read(p.stats_fd, cnt);
	if (err) {
		errmsg(ifname, "reading " PIN_STATS ": %s", strerror(-err));
		pins_close(&p);
		return EXIT_RUNTIME;
	}
	if (p.herr_fd >= 0 && !handoff_errs_read(p.herr_fd, errs))
		have_errs = true;
	pins_close(&p);

	if (jarr) {
		json_object *o = json_object_new_object();
		json_object *jc = json_object_new_object();
		json_object *je = json_object_new_array();

		json_object_object_add(o, "name", json_object_new_string(ifname));
		for (int i = 0; i < XDPSYN_CNT_MAX; i++)
			json_object_object_add(jc, counter_name(i),
					       json_object_new_uint64(cnt[i]));
		json_object_object_add(o, "counters", jc);
		for (int e = 0; have_errs && e < XDPSYN_ERRNO_SLOTS; e++) {
			json_object *x;

			if (!errs[e])
				continue;
			x = json_object_new_object();
			json_object_object_add(x, "errno", json_object_new_int(e));
			json_object_object_add(x, "name",
					       json_object_new_string(errno_name(e)));
			json_object_object_add(x, "count",
					       json_object_new_uint64(errs[e]));
			json_object_array_add(je, x);
		}
		json_object_object_add(o, "handoff_errors", je);
		json_object_array_add(jarr, o);
		return 0;
	}

	printf("%s\n", ifname);
	for (int i = 0; i < XDPSYN_CNT_MAX; i++)
		printf("  %-16s %14llu  %s\n", counter_name(i), cnt[i],
		       counter_help(i));
	for (int e = 0; have_errs && e < XDPSYN_ERRNO_SLOTS; e++) {
		if (!errs[e])
			continue;
		printf("    %-14s %14llu  handoff_err with errno %s%d: %s\n",
		       errno_name(e), errs[e],
		       e == XDPSYN_ERRNO_SLOTS - 1 ? ">= " : "", e,
		       e ? strerror(e) : "?");
	}
	return 0;
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	json_object *root = NULL, *jarr = NULL;
	char **names = NULL, *one[2] = { NULL, NULL };
	int c, ret = 0, err;

	while ((c = getopt_long(argc, argv, "jvh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json_out = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			stats_help(stdout);
			return EXIT_OK;
		default:
			return usage_err("stats", "bad option");
		}
	}
	if (argc - optind > 1)
		return usage_err("stats", "one interface at most");
	if (optind < argc) {
		ret = pin_dir_check(argv[optind]);
		if (ret)
			return ret;
		one[0] = argv[optind];
	} else {
		names = attached_list(&err);
		if (!names)
			return err;
	}
	if (json_out) {
		root = json_object_new_object();
		jarr = json_object_new_array();
		json_object_object_add(root, "interfaces", jarr);
	}
	for (char **n = names ? names : one; *n; n++) {
		if (!json_out && n != (names ? names : one))
			putchar('\n');
		err = stats_one(*n, jarr);
		if (err && !ret)
			ret = err;
	}
	if (!json_out && names && !names[0])
		printf("no interface attached\n");
	if (root)
		json_print_list(root, one[0] != NULL);
	names_free(names);
	return ret;
}
