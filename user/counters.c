// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn stats: the counters of the attached interfaces and their rates
 * (the reader is user/ifstats.c, shared with the exporter's metrics.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include "cli.h"

/* Per-second rates between two readings of one interface. */
struct rates {
	bool ok;                 /* false: first reading, or counters reset */
	double interval_s;
	double r[XDPSYN_CNT_MAX];
	__u64 d[XDPSYN_CNT_MAX]; /* deltas */
};

static void rates_of(const struct ifstats *prev, const struct ifstats *cur,
		     struct rates *r)
{
	memset(r, 0, sizeof(*r));
	if (!prev || cur->mono_ns <= prev->mono_ns)
		return;
	r->interval_s = (cur->mono_ns - prev->mono_ns) / 1e9;
	for (int i = 0; i < XDPSYN_CNT_MAX; i++) {
		if (cur->cnt[i] < prev->cnt[i])
			return; /* detached and attached again meanwhile */
		r->d[i] = cur->cnt[i] - prev->cnt[i];
		r->r[i] = r->d[i] / r->interval_s;
	}
	r->ok = true;
}

/* Completed handshakes per SYN to a protected port: (ack_valid +
 * track_established) / syn, the cookie handshakes and the tracked ones the
 * kernel answered; < 0 without SYN. */
static double completed_ratio(const __u64 *cnt)
{
	return cnt[XDPSYN_CNT_SYN] ?
	       (double)(cnt[XDPSYN_CNT_ACK_VALID] + cnt[XDPSYN_CNT_TRACK_ESTABLISHED]) /
	       cnt[XDPSYN_CNT_SYN] : -1;
}

static json_object *json_ratio(double v)
{
	return v < 0 ? NULL : json_object_new_double(v);
}

static json_object *stats_json(const struct ifstats *s, const struct rates *r)
{
	json_object *o = json_object_new_object();
	json_object *jc = json_object_new_object();
	json_object *je = json_object_new_array();
	char t[40];

	json_object_object_add(o, "name", json_object_new_string(s->name));
	if (s->ifindex)
		json_object_object_add(o, "ifindex", json_object_new_int64(s->ifindex));
	fmt_rfc3339(t, sizeof(t), s->real_ns);
	json_object_object_add(o, "time", json_object_new_string(t));
	for (int i = 0; i < XDPSYN_CNT_MAX; i++)
		json_object_object_add(jc, counter_name(i),
				       json_object_new_uint64(s->cnt[i]));
	json_object_object_add(o, "counters", jc);
	for (int e = 0; s->have_errs && e < XDPSYN_ERRNO_SLOTS; e++) {
		json_object *x;

		if (!s->errs[e])
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "errno", json_object_new_int(e));
		json_object_object_add(x, "name", json_object_new_string(errno_name(e)));
		json_object_object_add(x, "count", json_object_new_uint64(s->errs[e]));
		json_object_array_add(je, x);
	}
	json_object_object_add(o, "handoff_errors", je);
	json_object_object_add(o, "completed_ratio", json_ratio(completed_ratio(s->cnt)));
	json_object_object_add(o, "handoff", handoff_json(&s->handoff));
	if (r && r->ok) {
		json_object *jr = json_object_new_object();

		json_object_object_add(o, "interval_s",
				       json_object_new_double(r->interval_s));
		for (int i = 0; i < XDPSYN_CNT_MAX; i++)
			json_object_object_add(jr, counter_name(i),
					       json_object_new_double(r->r[i]));
		json_object_object_add(o, "rates", jr);
		json_object_object_add(o, "completed_ratio_interval",
				       json_ratio(completed_ratio(r->d)));
	}
	return o;
}

/* Width of the name column: the longest counter name. */
static int name_width(void)
{
	int w = 0;

	for (int i = 0; i < XDPSYN_CNT_MAX; i++)
		if ((int)strlen(counter_name(i)) > w)
			w = (int)strlen(counter_name(i));
	return w;
}

/* R: the rate column (NULL: none; R->ok false: "-"); HELP: the help
 * column. */
static void stats_print(const struct ifstats *s, const struct rates *r,
			bool help)
{
	char rate[32], ratio[16], ho[320];
	bool any = false;
	int w = name_width();

	if (s->ifindex)
		printf("%s (ifindex %u)\n", s->name, s->ifindex);
	else
		printf("%s\n", s->name);
	if (r)
		printf("  %-*s %14s %12s\n", w, "counter", "total", "per second");
	for (int i = 0; i < XDPSYN_CNT_MAX; i++) {
		printf("  %-*s %14llu", w, counter_name(i), s->cnt[i]);
		if (r) {
			if (r->ok)
				snprintf(rate, sizeof(rate), "%.1f", r->r[i]);
			else
				snprintf(rate, sizeof(rate), "-");
			printf(" %12s", rate);
		}
		if (help)
			printf("  %s", counter_help(i));
		printf("\n");
	}
	fmt_ratio(ratio, sizeof(ratio), completed_ratio(s->cnt));
	printf("  %-*s %14s", w, "completed/syn", ratio);
	if (r) {
		fmt_ratio(ratio, sizeof(ratio), r->ok ? completed_ratio(r->d) : -1);
		printf(" %12s", ratio);
	}
	if (help)
		printf("  (ack_valid + track_established) / syn: handshakes completed per SYN");
	printf("\n");
	for (int e = 0; s->have_errs && e < XDPSYN_ERRNO_SLOTS; e++) {
		if (!s->errs[e])
			continue;
		if (!any)
			printf("  handoff errors by errno:\n");
		any = true;
		printf("    %-*s %14llu", w - 2, errno_name(e), s->errs[e]);
		if (r)
			printf(" %12s", "");
		if (help && e == XDPSYN_ERRNO_SLOTS - 1)
			printf("  errno >= %d", e);
		else if (help)
			printf("  errno %d: %s", e, e ? strerror(e) : "?");
		printf("\n");
	}
	if (!any)
		printf("  handoff errors:  none\n");
	/* whether the kernel can take handed-off connections now (this
	 * netns's sysctls) */
	handoff_summary(ho, sizeof(ho), &s->handoff);
	printf("  hand-off: %s%s\n", ho, s->handoff.other_netns ?
	       " (sysctls of this network namespace, not the interface's)" : "");
	handoff_not_offered(ho, sizeof(ho), &s->handoff);
	if (ho[0])
		printf("  not offered: %s\n", ho);
}

static void stats_help(FILE *f)
{
	fprintf(f,
		"Usage: xdpsyn stats [IFACE] [--rate | --watch SECS] [-j]\n"
		"       xdpsyn stats [IFACE] --prometheus\n"
		"\n"
		"Every counter of IFACE (default: every attached interface), summed\n"
		"over CPUs, the completed/syn ratio ((ack_valid + track_established) / syn), the errors\n"
		"of the handoff to the listener by errno, and whether the hand-off can\n"
		"work (net.ipv4.tcp_syncookies; the options the sysctls turn off).\n"
		"\n"
		"Options:\n"
		"  --rate           read twice, 1 s apart, and show per-second rates\n"
		"  --watch SECS     redraw every SECS seconds (0.1..3600) with the rates\n"
		"                   over the last interval, until Ctrl-C; with -j one\n"
		"                   JSON document per line and interval\n"
		"  --prometheus     the Prometheus text the exporter serves, once (for\n"
		"                   node_exporter's textfile collector)\n"
		"  -j, --json       JSON output: {\"interfaces\": [...]}, or the one\n"
		"                   interface's object when IFACE is given\n"
		"  -h, --help       this help\n"
		"\n"
		"Counters:\n");
	for (int i = 0; i < XDPSYN_CNT_MAX; i++)
		fprintf(f, "  %-*s %s\n", name_width(), counter_name(i),
			counter_help(i));
}

/* The interfaces of one round: ONE (a NULL-terminated list of one name) or
 * what is attached now. NULL and *err on error. */
static char **round_names(char **one, int *err)
{
	char **names;

	if (one[0]) {
		names = calloc(2, sizeof(*names));
		if (names && !(names[0] = strdup(one[0]))) {
			free(names);
			names = NULL;
		}
		*err = names ? 0 : EXIT_RUNTIME;
		if (!names)
			errmsg("memory", "out of memory");
		return names;
	}
	return attached_list_live(err);
}

struct round {
	char **names;
	struct ifstats *st;
	int *ret;                /* per interface: 0 or the exit code */
	size_t n;
};

static void round_free(struct round *r)
{
	names_free(r->names);
	free(r->st);
	free(r->ret);
	memset(r, 0, sizeof(*r));
}

/* Read every interface of a round; QUIET: no message for an interface
 * that is not attached (any more). 0 or the first exit code. */
static int round_read(struct round *r, char **one, bool quiet)
{
	int err, first = 0;

	memset(r, 0, sizeof(*r));
	r->names = round_names(one, &err);
	if (!r->names)
		return err;
	while (r->names[r->n])
		r->n++;
	r->st = calloc(r->n ? r->n : 1, sizeof(*r->st));
	r->ret = calloc(r->n ? r->n : 1, sizeof(*r->ret));
	if (!r->st || !r->ret) {
		errmsg("memory", "out of memory");
		round_free(r);
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < r->n; i++) {
		char path[256];

		pin_path(path, sizeof(path), r->names[i], NULL);
		if (quiet && access(path, F_OK)) {
			r->ret[i] = EXIT_CONFLICT;
			continue;
		}
		r->ret[i] = ifstats_read(&r->st[i], r->names[i]);
		if (r->ret[i] && !first)
			first = r->ret[i];
	}
	return first;
}

static const struct ifstats *round_find(const struct round *r, const char *name)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (!r->ret[i] && !strcmp(r->names[i], name))
			return &r->st[i];
	return NULL;
}

/* Print a round (rates against PREV when given). WATCH: a frame of
 * --watch (no help column, interfaces gone are said so). */
static void round_print(const struct round *cur, const struct round *prev,
			bool with_rates, bool watch, bool single, int jflags)
{
	json_object *root = NULL, *jarr = NULL;
	bool first = true;

	if (json_out) {
		root = json_object_new_object();
		jarr = json_object_new_array();
		json_object_object_add(root, "interfaces", jarr);
	}
	for (size_t i = 0; i < cur->n; i++) {
		struct rates r;

		if (cur->ret[i]) {
			if (!json_out && watch)
				printf("%s%s: not attached\n", first ? "" : "\n",
				       cur->names[i]);
			first = false;
			continue;
		}
		rates_of(round_find(prev, cur->names[i]), &cur->st[i], &r);
		if (jarr) {
			json_object_array_add(jarr, stats_json(&cur->st[i],
						with_rates ? &r : NULL));
			continue;
		}
		if (!first)
			putchar('\n');
		first = false;
		stats_print(&cur->st[i], with_rates ? &r : NULL, !watch);
	}
	if (!json_out && !cur->n)
		printf("no interface attached\n");
	if (root)
		json_print_list_ext(root, single, jflags);
}

static int stats_watch(char **one, double secs)
{
	bool tty = !json_out && isatty(STDOUT_FILENO);
	struct round prev = {}, cur = {};
	int ret;

	stop_signals_install();
	ret = round_read(&cur, one, false);
	if (ret) {
		round_free(&cur);
		return ret;
	}
	if (tty)
		printf("\033[?25l"); /* hide the cursor while redrawing */
	for (bool first = true; !stop_requested; first = false) {
		char now[64];

		if (!json_out) {
			fmt_time(now, sizeof(now), realtime_now());
			printf("%sxdpsyn stats: every %g s, %s%s\n\n",
			       tty ? "\033[H\033[2J" : first ? "" : "\n", secs, now,
			       tty ? "   (Ctrl-C to quit)" : "");
		}
		round_print(&cur, first ? NULL : &prev, true, true, one[0] != NULL,
			    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		fflush(stdout);
		sleep_interruptible(secs * 1e9);
		if (stop_requested)
			break;
		round_free(&prev);
		prev = cur;
		round_read(&cur, one, true);
	}
	if (tty)
		printf("\033[?25h\n"); /* the cursor back */
	fflush(stdout);
	round_free(&prev);
	round_free(&cur);
	return EXIT_OK;
}

int cmd_stats(int argc, char **argv)
{
	enum { O_WATCH = 256, O_RATE, O_PROM };
	static const struct option opts[] = {
		{ "watch", required_argument, NULL, O_WATCH },
		{ "rate", no_argument, NULL, O_RATE },
		{ "prometheus", no_argument, NULL, O_PROM },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char *one[2] = { NULL, NULL }, *end;
	struct round prev = {}, cur = {};
	bool rate = false, prom = false;
	double watch = 0;
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, "jvh", opts, NULL)) != -1) {
		switch (c) {
		case O_WATCH:
			errno = 0;
			watch = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(watch >= 0.1 &&
			    watch <= 3600))
				return usage_err("stats", "--watch %s: expected seconds, "
						 "0.1..3600", optarg);
			break;
		case O_RATE:
			rate = true;
			break;
		case O_PROM:
			prom = true;
			break;
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
			return bad_option("stats", argv);
		}
	}
	if (argc - optind > 1)
		return usage_err("stats", "one interface at most");
	if (prom && (rate || watch || json_out))
		return usage_err("stats", "--prometheus goes alone (no --rate, "
				 "--watch, -j)");
	if (rate && watch)
		return usage_err("stats", "--watch shows rates already");
	if (optind < argc) {
		ret = pin_dir_check(argv[optind]);
		if (ret)
			return ret;
		one[0] = argv[optind];
	}
	if (prom) {
		char **names = round_names(one, &ret);

		if (!names)
			return ret;
		ret = metrics_write(stdout, names);
		names_free(names);
		return ret;
	}
	if (watch)
		return stats_watch(one, watch);

	ret = round_read(&cur, one, false);
	if (rate && cur.names) {
		prev = cur;
		sleep_interruptible(1000000000ULL);
		ret = round_read(&cur, one, false);
	}
	if (cur.names)
		round_print(&cur, rate ? &prev : NULL, rate, false, one[0] != NULL,
			    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	round_free(&prev);
	round_free(&cur);
	return ret;
}
