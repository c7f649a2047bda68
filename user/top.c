// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn top: the source prefixes that send the most SYNs, with the SYN
 * estimate of the count-min sketch and their completed handshakes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include "cli.h"

#define TOP_LIMIT_DEFAULT 20

static void top_help(FILE *f)
{
	fprintf(f,
		"Usage: xdpsyn top [IFACE] [--limit N] [-j]\n"
		"\n"
		"The source prefixes (/24 and /64 unless attach --top-plen4/6 or set\n"
		"top-plen4=/top-plen6= say otherwise) that sent the most SYNs to\n"
		"protected ports of IFACE (default: every attached interface), most\n"
		"SYNs first. A prefix is listed once its SYN count reaches %d on a CPU,\n"
		"or when one of its handshakes completes.\n"
		"\n"
		"Columns: PREFIX, SYNS (count-min estimate since attach: never below\n"
		"the true count, may be above it when the sketch is crowded),\n"
		"COMPLETED (valid final ACKs, tracked handshakes established),\n"
		"INCOMPLETE (SYNS - COMPLETED: handshakes that did not complete, those\n"
		"in progress included; a retransmitted SYN counts once when tracked),\n"
		"RATIO (completed / SYNs), LAST SEEN.\n"
		"A spoofed flood shows many SYNs and no completion.\n"
		"\n"
		"Options:\n"
		"  --limit N        at most N prefixes per interface (default %d, 0: all)\n"
		"  -j, --json       JSON output: {\"interfaces\": [{\"name\", \"sources\":\n"
		"                   [...]}]}, or the one interface's object when IFACE is\n"
		"                   given\n"
		"  -h, --help       this help\n", XDPSYN_HH_MIN, TOP_LIMIT_DEFAULT);
}

static void fmt_prefix(char *buf, size_t len, const struct xdpsyn_prefix *p)
{
	char a[INET6_ADDRSTRLEN];

	fmt_addr(a, sizeof(a), p->family, p->addr);
	snprintf(buf, len, "%s/%u", a, p->plen);
}

static double top_ratio(const struct top_entry *t)
{
	return t->syns ? (double)t->val.completed / t->syns : -1;
}

/* SYNs without a completion (clamped: the estimate may lag a completion
 * counted in the table, and a proxy-mode SYN retransmission counts twice). */
static __u64 top_incomplete(const struct top_entry *t)
{
	return t->syns > t->val.completed ? t->syns - t->val.completed : 0;
}

static json_object *top_json(const struct top_entry *t, __u64 tai_now,
			     __s64 tai_off)
{
	json_object *j = json_object_new_object();
	char buf[INET6_ADDRSTRLEN + 8];
	double ratio = top_ratio(t);

#define ADD(key, v) json_object_object_add(j, key, v)
	fmt_prefix(buf, sizeof(buf), &t->prefix);
	ADD("prefix", json_object_new_string(buf));
	ADD("family", json_object_new_int(t->prefix.family == XDPSYN_V6 ? 6 : 4));
	ADD("plen", json_object_new_int(t->prefix.plen));
	ADD("syns", json_object_new_uint64(t->syns));
	ADD("completed", json_object_new_uint64(t->val.completed));
	ADD("incomplete", json_object_new_uint64(top_incomplete(t)));
	ADD("ratio", ratio < 0 ? NULL : json_object_new_double(ratio));
	fmt_rfc3339(buf, sizeof(buf), t->val.first_ns - tai_off);
	ADD("first_seen", json_object_new_string(buf));
	fmt_rfc3339(buf, sizeof(buf), t->val.last_ns - tai_off);
	ADD("last_seen", json_object_new_string(buf));
	ADD("last_seen_ago_s", json_object_new_double(tai_now > t->val.last_ns ?
		(tai_now - t->val.last_ns) / 1e9 : 0));
#undef ADD
	return j;
}

static void top_print(const struct top_entry *t, size_t n, __u64 tai_now)
{
	char pfx[INET6_ADDRSTRLEN + 8], ratio[16], ago[32];
	int w = 18; /* "255.255.255.255/32" */

	for (size_t i = 0; i < n; i++) {
		fmt_prefix(pfx, sizeof(pfx), &t[i].prefix);
		if ((int)strlen(pfx) > w)
			w = strlen(pfx);
	}
	printf("%-*s %14s %12s %12s %7s  %s\n", w, "PREFIX", "SYNS", "COMPLETED",
	       "INCOMPLETE", "RATIO", "LAST SEEN");
	for (size_t i = 0; i < n; i++) {
		fmt_prefix(pfx, sizeof(pfx), &t[i].prefix);
		fmt_ratio(ratio, sizeof(ratio), top_ratio(&t[i]));
		fmt_duration(ago, sizeof(ago), tai_now > t[i].val.last_ns ?
			     (tai_now - t[i].val.last_ns) / 1000000000ULL : 0);
		printf("%-*s %14llu %12llu %12llu %7s  %s ago\n", w, pfx,
		       t[i].syns, t[i].val.completed, top_incomplete(&t[i]),
		       ratio, ago);
	}
}

static int top_one(const char *ifname, unsigned long limit, json_object *jarr,
		   bool first)
{
	struct xdpsyn_config cfg = {};
	struct top_entry *t = NULL;
	__u64 tai_now;
	__s64 tai_off;
	__u32 zero = 0;
	struct pins p;
	size_t n, shown;
	int ret, err;

	ret = pins_open(&p, ifname, PINS_TOP | PINS_CMS);
	if (ret)
		return ret;
	if (p.config_fd >= 0)
		bpf_map_lookup_elem(p.config_fd, &zero, &cfg);
	err = top_read(p.top_fd, p.cms_fd, &t, &n);
	pins_close(&p);
	if (err) {
		errmsg(ifname, "reading %s and %s: %s", pin_names[PIN_TOP], pin_names[PIN_CMS],
		       strerror(-err));
		return EXIT_RUNTIME;
	}
	tai_now = tai_now_ns();
	tai_off = tai_offset_ns();
	shown = limit && n > limit ? limit : n;
	if (!cfg.top_plen4)
		cfg.top_plen4 = XDPSYN_TOP_PLEN4_DEFAULT;
	if (!cfg.top_plen6)
		cfg.top_plen6 = XDPSYN_TOP_PLEN6_DEFAULT;
	if (jarr) {
		json_object *j = json_object_new_object();
		json_object *js = json_object_new_array();

		json_object_object_add(j, "name", json_object_new_string(ifname));
		json_object_object_add(j, "top_plen4", json_object_new_int(cfg.top_plen4));
		json_object_object_add(j, "top_plen6", json_object_new_int(cfg.top_plen6));
		json_object_object_add(j, "count", json_object_new_uint64(n));
		for (size_t i = 0; i < shown; i++)
			json_object_array_add(js, top_json(&t[i], tai_now, tai_off));
		json_object_object_add(j, "sources", js);
		json_object_array_add(jarr, j);
	} else {
		printf("%s%s: %zu source prefix%s (IPv4 /%u, IPv6 /%u)", first ? "" :
		       "\n", ifname, n, n == 1 ? "" : "es", cfg.top_plen4,
		       cfg.top_plen6);
		if (shown < n)
			printf(", top %zu shown", shown);
		printf("\n");
		if (shown)
			top_print(t, shown, tai_now);
	}
	free(t);
	return 0;
}

int cmd_top(int argc, char **argv)
{
	enum { O_LIMIT = 256 };
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	json_object *root = NULL, *jarr = NULL;
	char **names = NULL;
	bool named;
	unsigned long limit = TOP_LIMIT_DEFAULT;
	int c, ret = 0, err;

	while ((c = getopt_long(argc, argv, "jvh", opts, NULL)) != -1) {
		switch (c) {
		case O_LIMIT:
			if (parse_ulong(optarg, 0, 1UL << 24, &limit))
				return usage_err("top", "--limit %s: expected 0..%lu",
						 optarg, 1UL << 24);
			break;
		case 'j':
			json_out = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			top_help(stdout);
			return EXIT_OK;
		default:
			return bad_option("top", argv);
		}
	}
	names = ifaces_select("top", argc, argv, optind, &named, &err);
	if (!names)
		return err;
	if (json_out) {
		root = json_object_new_object();
		jarr = json_object_new_array();
		json_object_object_add(root, "interfaces", jarr);
	}
	for (char **n = names; *n; n++) {
		/* a gateway's kept state table alone: no tracker to read */
		if (!named && pin_dir_state_only(*n))
			continue;
		err = top_one(*n, limit, jarr, n == (names));
		if (err && !ret)
			ret = err;
	}
	if (!json_out && !named && !names[0])
		printf("no interface attached\n");
	if (root)
		json_print_list(root, named);
	names_free(names);
	return ret;
}
