// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn flows: the completed handshakes of xdpsyn_flows, and a live
 * stream of new ones from the ring buffer xdpsyn_events. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "cli.h"

enum flow_sort { SORT_TIME, SORT_RTT };

struct flows_opts {
	unsigned long limit;     /* 0: all */
	enum flow_sort sort;
	bool follow;
	bool iface_col;          /* an IFACE column (no IFACE given) */
	__s64 tai_off;           /* TAI - realtime, ns */
};

static void flows_help(FILE *f)
{
	fprintf(f,
		"Usage: xdpsyn flows [IFACE] [--sort time|rtt] [--limit N] [-j]\n"
		"       xdpsyn flows [IFACE] --follow [-j]\n"
		"\n"
		"Handshakes completed through xdpsyn on IFACE (default: every attached\n"
		"interface): one record per flow, written when the final ACK's cookie\n"
		"validated, oldest evicted first (attach --flows-max).\n"
		"\n"
		"Columns: TIME (local) SADDR:SPORT (client) DADDR:DPORT, RTT(ms) from\n"
		"SYN-ACK to final ACK (from the timestamp echo, 16 us resolution; '-'\n"
		"without timestamps), MSS agreed, WS(c/s) client/server window scale,\n"
		"SACK, TS, ECN agreed, HANDOFF ok when the listener took the connection.\n"
		"\n"
		"Options:\n"
		"  --sort time      chronological (default); --limit keeps the newest\n"
		"  --sort rtt       slowest handshake first; --limit keeps the slowest\n"
		"  --limit N        at most N flows per interface (default: all)\n"
		"  --follow         print new handshakes as they complete, until Ctrl-C\n"
		"                   (one reader at a time: readers share the ring)\n"
		"  -j, --json       JSON output: {\"interfaces\": [{\"name\", \"flows\":\n"
		"                   [...]}]}, or the one interface's object when IFACE is\n"
		"                   given; with --follow one object per line\n"
		"  -h, --help       this help\n");
}

static __u64 flow_realtime(const struct flows_opts *o, const struct xdpsyn_flow *f)
{
	return f->time_ns - o->tai_off;
}

static json_object *flow_json(const struct flows_opts *o,
			      const struct xdpsyn_flow_event *ev,
			      const char *ifname)
{
	const struct xdpsyn_flow_key *k = &ev->key;
	const struct xdpsyn_flow *f = &ev->flow;
	json_object *j = json_object_new_object();
	bool ws = f->flags & XDPSYN_FLOW_WS;
	char buf[INET6_ADDRSTRLEN + 8];
	__u64 rt = flow_realtime(o, f);

#define ADD(key, v) json_object_object_add(j, key, v)
	if (ifname)
		ADD("ifname", json_object_new_string(ifname));
	fmt_rfc3339(buf, sizeof(buf), rt);
	ADD("time", json_object_new_string(buf));
	ADD("time_ns", json_object_new_uint64(rt));
	ADD("family", json_object_new_int(k->family == XDPSYN_V6 ? 6 : 4));
	fmt_addr(buf, sizeof(buf), k->family, k->saddr);
	ADD("saddr", json_object_new_string(buf));
	ADD("sport", json_object_new_int(ntohs(k->sport)));
	fmt_addr(buf, sizeof(buf), k->family, k->daddr);
	ADD("daddr", json_object_new_string(buf));
	ADD("dport", json_object_new_int(ntohs(k->dport)));
	ADD("rtt_us", f->flags & XDPSYN_FLOW_TS ?
	    json_object_new_int64(f->rtt_us) : NULL);
	ADD("mss", json_object_new_int(f->mss));
	ADD("wscale", json_object_new_boolean(ws));
	ADD("client_wscale", ws ? json_object_new_int(f->snd_wscale) : NULL);
	ADD("server_wscale", ws ? json_object_new_int(f->rcv_wscale) : NULL);
	ADD("sack", json_object_new_boolean(f->flags & XDPSYN_FLOW_SACK));
	ADD("ts", json_object_new_boolean(f->flags & XDPSYN_FLOW_TS));
	ADD("ecn", json_object_new_boolean(f->flags & XDPSYN_FLOW_ECN));
	ADD("handoff", json_object_new_boolean(f->flags & XDPSYN_FLOW_HANDOFF));
	ADD("prev_key", json_object_new_boolean(f->flags & XDPSYN_FLOW_PREV_KEY));
#undef ADD
	return j;
}

static const char *yes_no(bool v)
{
	return v ? "yes" : "no";
}

static void flow_header(const struct flows_opts *o, int aw)
{
	if (o->iface_col)
		printf("%-15s ", "IFACE");
	printf("%-12s %-*s %-*s %8s %5s %-7s %-4s %-3s %-3s %s\n", "TIME", aw,
	       "SADDR:SPORT", aw, "DADDR:DPORT", "RTT(ms)", "MSS", "WS(c/s)",
	       "SACK", "TS", "ECN", "HANDOFF");
}

static void flow_print(const struct flows_opts *o,
		       const struct xdpsyn_flow_event *ev, const char *ifname,
		       int aw)
{
	const struct xdpsyn_flow *f = &ev->flow;
	char t[32], src[INET6_ADDRSTRLEN + 8], dst[INET6_ADDRSTRLEN + 8];
	char rtt[16] = "-", ws[8] = "-";

	fmt_clock(t, sizeof(t), flow_realtime(o, f));
	fmt_endpoint(src, sizeof(src), ev->key.family, ev->key.saddr,
		     ev->key.sport);
	fmt_endpoint(dst, sizeof(dst), ev->key.family, ev->key.daddr,
		     ev->key.dport);
	if (f->flags & XDPSYN_FLOW_TS)
		snprintf(rtt, sizeof(rtt), "%.3f", f->rtt_us / 1000.0);
	if (f->flags & XDPSYN_FLOW_WS)
		snprintf(ws, sizeof(ws), "%u/%u", f->snd_wscale, f->rcv_wscale);
	if (o->iface_col)
		printf("%-15s ", ifname);
	printf("%-12s %-*s %-*s %8s %5u %-7s %-4s %-3s %-3s %s\n", t, aw, src,
	       aw, dst, rtt, f->mss, ws, yes_no(f->flags & XDPSYN_FLOW_SACK),
	       yes_no(f->flags & XDPSYN_FLOW_TS), yes_no(f->flags & XDPSYN_FLOW_ECN),
	       f->flags & XDPSYN_FLOW_HANDOFF ? "ok" : "no");
}

static int cmp_time(const void *a, const void *b)
{
	const struct xdpsyn_flow_event *x = a, *y = b;

	if (x->flow.time_ns != y->flow.time_ns)
		return x->flow.time_ns < y->flow.time_ns ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* Slowest first; flows without an RTT (no timestamps) last. */
static int cmp_rtt(const void *a, const void *b)
{
	const struct xdpsyn_flow_event *x = a, *y = b;
	bool xt = x->flow.flags & XDPSYN_FLOW_TS, yt = y->flow.flags & XDPSYN_FLOW_TS;

	if (xt != yt)
		return xt ? -1 : 1;
	if (x->flow.rtt_us != y->flow.rtt_us)
		return x->flow.rtt_us > y->flow.rtt_us ? -1 : 1;
	return cmp_time(a, b);
}

/* Widest endpoint of a list, for aligned columns. */
static int endpoint_width(const struct xdpsyn_flow_event *ev, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 8];
	int w = 21; /* "255.255.255.255:65535" */

	for (size_t i = 0; i < n; i++) {
		int l;

		fmt_endpoint(buf, sizeof(buf), ev[i].key.family, ev[i].key.saddr,
			     ev[i].key.sport);
		l = strlen(buf);
		if (l > w)
			w = l;
		fmt_endpoint(buf, sizeof(buf), ev[i].key.family, ev[i].key.daddr,
			     ev[i].key.dport);
		l = strlen(buf);
		if (l > w)
			w = l;
	}
	return w;
}

static int flows_one(const struct flows_opts *o, const char *ifname,
		     json_object *jarr, bool first)
{
	struct xdpsyn_flow_event *ev = NULL, *shown;
	size_t n, nshown;
	__u32 max;
	struct pins p;
	int ret, err;

	ret = pins_open(&p, ifname, PINS_FLOWS);
	if (ret)
		return ret;
	max = map_max_entries(p.flows_fd);
	err = flows_read(p.flows_fd, &ev, &n);
	pins_close(&p);
	if (err) {
		errmsg(ifname, "reading " PIN_FLOWS ": %s", strerror(-err));
		return EXIT_RUNTIME;
	}
	qsort(ev, n, sizeof(*ev), o->sort == SORT_RTT ? cmp_rtt : cmp_time);
	shown = ev;
	nshown = n;
	if (o->limit && n > o->limit) {
		nshown = o->limit;
		if (o->sort == SORT_TIME) /* the newest, still in order */
			shown = ev + (n - o->limit);
	}
	if (jarr) {
		json_object *j = json_object_new_object();
		json_object *jf = json_object_new_array();

		json_object_object_add(j, "name", json_object_new_string(ifname));
		json_object_object_add(j, "count", json_object_new_uint64(n));
		json_object_object_add(j, "max", json_object_new_uint64(max));
		for (size_t i = 0; i < nshown; i++)
			json_object_array_add(jf, flow_json(o, &shown[i], NULL));
		json_object_object_add(j, "flows", jf);
		json_object_array_add(jarr, j);
	} else {
		int aw = endpoint_width(shown, nshown);

		printf("%s%s: %zu flow record%s (max %u)", first ? "" : "\n",
		       ifname, n, n == 1 ? "" : "s", max);
		if (nshown < n)
			printf(", %zu %s shown", nshown,
			       o->sort == SORT_RTT ? "slowest" : "newest");
		printf("\n");
		if (nshown) {
			flow_header(o, aw);
			for (size_t i = 0; i < nshown; i++)
				flow_print(o, &shown[i], ifname, aw);
		}
	}
	free(ev);
	return 0;
}

/* --follow: one ring buffer per interface, polled together. */
struct follow_src {
	const struct flows_opts *o;
	const char *ifname;
	int events_fd;
	bool draining;           /* events from before we started: skipped */
};

static int follow_event(void *ctx, void *data, size_t len)
{
	struct follow_src *src = ctx;
	const struct xdpsyn_flow_event *ev = data;

	if (src->draining || len < sizeof(*ev))
		return 0;
	if (json_out) {
		json_object *j = flow_json(src->o, ev, src->ifname);

		printf("%s\n", json_object_to_json_string_ext(j,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	} else {
		flow_print(src->o, ev, src->ifname, 21);
	}
	fflush(stdout);
	return 0;
}

static int flows_follow(const struct flows_opts *o, char **names)
{
	struct ring_buffer *rb = NULL;
	struct follow_src *src;
	size_t n = 0;
	int ret = 0, err;

	while (names[n])
		n++;
	if (!n) {
		errmsg("flows", "no interface attached");
		return EXIT_CONFLICT;
	}
	src = calloc(n, sizeof(*src));
	if (!src) {
		errmsg("memory", "out of memory");
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < n; i++)
		src[i] = (struct follow_src){ .o = o, .ifname = names[i],
					      .events_fd = -1, .draining = true };
	for (size_t i = 0; !ret && i < n; i++) {
		struct pins p;

		ret = pins_open(&p, names[i], PINS_EVENTS);
		if (ret)
			break;
		/* the ring buffer polls this fd: keep it, close the others */
		src[i].events_fd = p.events_fd;
		p.events_fd = -1;
		pins_close(&p);
		if (!rb) {
			rb = ring_buffer__new(src[i].events_fd, follow_event, &src[i],
					      NULL);
			err = rb ? 0 : -errno;
		} else {
			err = ring_buffer__add(rb, src[i].events_fd, follow_event,
					       &src[i]);
		}
		if (err) {
			errmsg(names[i], "opening the ring buffer " PIN_EVENTS ": %s",
			       strerror(-err));
			ret = EXIT_RUNTIME;
		}
	}
	if (ret)
		goto out;
	stop_signals_install();
	ring_buffer__consume(rb);
	for (size_t i = 0; i < n; i++)
		src[i].draining = false;
	if (!json_out) {
		flow_header(o, 21);
		fflush(stdout);
	}
	while (!stop_requested) {
		err = ring_buffer__poll(rb, 500);
		if (err < 0 && err != -EINTR) {
			errmsg("flows", "polling the ring buffer: %s", strerror(-err));
			ret = EXIT_RUNTIME;
			break;
		}
	}
out:
	ring_buffer__free(rb);
	for (size_t i = 0; i < n; i++)
		if (src[i].events_fd >= 0)
			close(src[i].events_fd);
	free(src);
	return ret;
}

int cmd_flows(int argc, char **argv)
{
	enum { O_LIMIT = 256, O_SORT, O_FOLLOW };
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "sort", required_argument, NULL, O_SORT },
		{ "follow", no_argument, NULL, O_FOLLOW },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct flows_opts o = { .sort = SORT_TIME };
	json_object *root = NULL, *jarr = NULL;
	char **names = NULL;
	bool named;
	bool sort_set = false;
	int c, ret = 0, err;

	while ((c = getopt_long(argc, argv, "jvh", opts, NULL)) != -1) {
		switch (c) {
		case O_LIMIT:
			if (parse_ulong(optarg, 0, 1UL << 24, &o.limit))
				return usage_err("flows", "--limit %s: expected 0..%lu",
						 optarg, 1UL << 24);
			break;
		case O_SORT:
			if (!strcmp(optarg, "time"))
				o.sort = SORT_TIME;
			else if (!strcmp(optarg, "rtt"))
				o.sort = SORT_RTT;
			else
				return usage_err("flows", "--sort %s: expected time "
						 "or rtt", optarg);
			sort_set = true;
			break;
		case O_FOLLOW:
			o.follow = true;
			break;
		case 'j':
			json_out = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			flows_help(stdout);
			return EXIT_OK;
		default:
			return bad_option("flows", argv);
		}
	}
	if (o.follow && (sort_set || o.limit))
		return usage_err("flows", "--follow prints flows as they come: "
				 "no --sort or --limit");
	names = ifaces_select("flows", argc, argv, optind, &named, &err);
	if (!names)
		return err;
	if (!named)
		o.iface_col = o.follow;
	o.tai_off = tai_offset_ns();
	if (o.follow) {
		ret = flows_follow(&o, names);
		names_free(names);
		return ret;
	}
	if (json_out) {
		root = json_object_new_object();
		jarr = json_object_new_array();
		json_object_object_add(root, "interfaces", jarr);
	}
	for (char **n = names; *n; n++) {
		err = flows_one(&o, *n, jarr, n == (names));
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
