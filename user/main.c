// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn: command dispatch, global options, messages. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "cli.h"

bool verbose;
bool json_out;

void errmsg(const char *obj, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xdpsyn: %s: ", obj);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void warnmsg(const char *obj, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xdpsyn: warning: %s: ", obj);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xdpsyn: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": see xdpsyn %s --help\n", cmd);
	return EXIT_USAGE;
}

int bad_option(const char *cmd, char **argv)
{
	const char *opt = optind > 0 ? argv[optind - 1] : "?";

	if (optopt > 0 && optopt < 128)
		return usage_err(cmd, "-%c: unknown option or missing value",
				 optopt);
	return usage_err(cmd, "%s: unknown option or missing value", opt);
}

void json_print_list(json_object *root, bool single)
{
	json_print_list_ext(root, single, JSON_C_TO_STRING_PRETTY |
			    JSON_C_TO_STRING_NOSLASHESCAPE);
}

void json_print_list_ext(json_object *root, bool single, int flags)
{
	json_object *list = NULL, *out = root;

	if (single && json_object_object_get_ex(root, "interfaces", &list)) {
		out = json_object_array_get_idx(list, 0);
		if (!out) {
			json_object_put(root);
			return; /* the error was reported */
		}
	}
	printf("%s\n", json_object_to_json_string_ext(out, flags));
	json_object_put(root);
}

/* libbpf speaks only with -v: errors worth showing are reported by the
 * caller in one line, with a hint to rerun with -v for the details. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	(void)level;
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "attach", cmd_attach, "load and attach to an interface" },
	{ "detach", cmd_detach, "detach from an interface, remove its pins" },
	{ "status", cmd_status, "show attached interfaces and settings" },
	{ "set", cmd_set, "change live settings (ports, mss, policy, ...)" },
	{ "key", cmd_key, "cookie key management (key rotate)" },
	{ "stats", cmd_stats, "counters, rates, completed/syn (--watch)" },
	{ "flows", cmd_flows, "completed handshakes: RTT, options (--follow)" },
	{ "top", cmd_top, "top SYN sources by prefix, their completions" },
	{ "servers", cmd_servers, "gateway mode: the servers, their options (set)" },
	{ "exporter", cmd_exporter, "serve Prometheus metrics over HTTP" },
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xdpsyn [-v] [-j] COMMAND [ARGS]\n"
		"\n"
		"XDP SYN proxy: answers SYNs to protected ports with cookie SYN-ACKs,\n"
		"hands valid handshakes to the listener; or tracks the kernel's own\n"
		"handshakes, switching to cookies under a flood (attach --policy); or,\n"
		"as a gateway, protects servers behind this host (attach --gateway).\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\n"
		"Global options:\n"
		"  -v, --verbose  libbpf debug output\n"
		"  -j, --json     JSON output (status, stats, flows, top, servers)\n"
		"  -h, --help     this help; `xdpsyn COMMAND --help` for a command\n"
		"\n"
		"Pins: " PIN_BASE "/IFACE/\n"
		"\n"
		"Exit codes:\n"
		"  0  success\n"
		"  1  runtime failure (a kernel or BPF operation failed)\n"
		"  2  usage: bad argument, no such interface\n"
		"  3  state conflict: already attached, not attached, or another\n"
		"     command held the lock for %d s (attach, detach, set, key rotate)\n"
		"  4  missing prerequisite: kernel too old, sysctl, not root\n",
		LOCK_WAIT_S);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	/* One line per usage error: ours (bad_option), not getopt's too. */
	opterr = 0;
	/* '+': options after the command name belong to the command. */
	while ((c = getopt_long(argc, argv, "+vjh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = true;
			break;
		case 'j':
			json_out = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			if (optopt > 0 && optopt < 128)
				fprintf(stderr, "xdpsyn: -%c: unknown option: see "
					"xdpsyn --help\n", optopt);
			else
				fprintf(stderr, "xdpsyn: %s: unknown option: see "
					"xdpsyn --help\n", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "xdpsyn: missing COMMAND: see xdpsyn --help\n");
		return EXIT_USAGE;
	}
	libbpf_set_print(libbpf_print);
	libxdp_quiet();
	/* doubles (rates, ratios) as "0.95", not "0.94999999999999996" */
	json_c_set_serialization_double_format("%.10g", JSON_C_OPTION_GLOBAL);

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name))
			continue;
		argc -= optind;
		argv += optind;
		optind = 0; /* full getopt reinitialisation for the command */
		return commands[i].fn(argc, argv);
	}
	if (!strcmp(argv[optind], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	errmsg(argv[optind], "unknown command: see xdpsyn --help");
	return EXIT_USAGE;
}
