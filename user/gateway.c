// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn CLI, gateway mode: the servers' prefixes, the state table and
 * the per-server table (include/xdpsyn.h, "Gateway mode"), and the
 * `xdpsyn servers` command. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include "cli.h"

/* One prefix "ADDR/LEN" (or "ADDR": a host) of LEN bytes at S. */
static int prefix_parse_one(const char *s, size_t len,
			    struct xdpsyn_gw_prefix *p, char *err,
			    size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	unsigned long plen, bits;
	__u8 *a = (__u8 *)p->addr;

	memset(p, 0, sizeof(*p));
	if (!len || len >= sizeof(buf)) {
		snprintf(err, errlen, "\"%.*s\": expected ADDR/LEN", (int)len, s);
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = 0;
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->family = XDPSYN_V4;
		bits = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->family = XDPSYN_V6;
		bits = 128;
	} else {
		snprintf(err, errlen, "\"%s\": not an IPv4 or IPv6 address", buf);
		return -1;
	}
	plen = bits;
	if (slash && parse_ulong(slash + 1, 0, bits, &plen)) {
		snprintf(err, errlen, "\"%s/%s\": prefix length 0..%lu", buf,
			 slash + 1, bits);
		return -1;
	}
	for (unsigned long i = 0; i < 16; i++) {
		if (i * 8 >= plen)
			a[i] = 0;
		else if (i * 8 + 8 > plen)
			a[i] &= (__u8)(0xff << (8 - (plen - i * 8)));
	}
	p->plen = 32 + plen;
	return 0;
}

int gw_prefixes_parse(const char *s, struct xdpsyn_gw_prefix *out, int max,
		      char *err, size_t errlen)
{
	int n = 0;

	for (;;) {
		size_t len = strcspn(s, ",");

		if (n == max) {
			snprintf(err, errlen, "more than %d prefixes", max);
			return -1;
		}
		if (prefix_parse_one(s, len, &out[n], err, errlen))
			return -1;
		n++;
		if (!s[len])
			return n;
		s += len + 1;
	}
}

void gw_prefix_format(char *buf, size_t len, const struct xdpsyn_gw_prefix *p)
{
	char a[INET6_ADDRSTRLEN];

	fmt_addr(a, sizeof(a), p->family, p->addr);
	snprintf(buf, len, "%s/%u", a, p->plen - 32);
}

int gw_prefixes_read(int fd, struct xdpsyn_gw_prefix **out, size_t *n)
{
	struct xdpsyn_gw_prefix key, next, *list = NULL, *tmp;
	size_t cap = 0;
	void *prev = NULL;

	*n = 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			tmp = realloc(list, cap * sizeof(*list));
			if (!tmp) {
				free(list);
				return -ENOMEM;
			}
			list = tmp;
		}
		list[(*n)++] = next;
		key = next;
		prev = &key;
	}
	if (errno != ENOENT) {
		free(list);
		return -errno;
	}
	*out = list;
	return 0;
}

const char *gw_state_name(__u8 state)
{
	switch (state) {
	case XDPSYN_GW_SYN_SENT: return "syn_sent";
	case XDPSYN_GW_ESTABLISHED: return "established";
	case XDPSYN_GW_FIN_WAIT: return "fin_wait";
	case XDPSYN_GW_CLOSED: return "closed";
	default: return "unknown";
	}
}

/* map_dump of a map whose key and value must be KSZ and VSZ bytes. */
static int dump_sized(int fd, size_t ksz, size_t vsz, void **keys, void **vals,
		      size_t *n)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.key_size != ksz || info.value_size != vsz)
		return -EPROTO; /* another xdpsyn's layout */
	return map_dump(fd, keys, vals, n);
}

int gw_conns_read(int fd, struct xdpsyn_gw_key **keys,
		  struct xdpsyn_gw_conn **vals, size_t *n)
{
	return dump_sized(fd, sizeof(**keys), sizeof(**vals), (void **)keys,
			  (void **)vals, n);
}

int gw_servers_read(int fd, struct xdpsyn_gw_server_key **keys,
		    struct xdpsyn_gw_server **vals, size_t *n)
{
	return dump_sized(fd, sizeof(**keys), sizeof(**vals), (void **)keys,
			  (void **)vals, n);
}

long map_count(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char *key, *next;
	long n = 0;
	void *prev = NULL;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	key = malloc(info.key_size);
	next = malloc(info.key_size);
	while (key && next && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, info.key_size);
		prev = key;
		n++;
	}
	if (!key || !next)
		n = -ENOMEM;
	else if (errno != ENOENT)
		n = -errno;
	free(key);
	free(next);
	return n;
}

/* ---- xdpsyn servers ---------------------------------------------------- */

static void servers_help(FILE *f)
{
	fprintf(f,
		"Usage: xdpsyn servers IFACE [-j]\n"
		"       xdpsyn servers IFACE set ADDR PORT [mss=N] [ws=N|none]\n"
		"                      [ts=on|off] [sack=on|off] [ecn=on|off]\n"
		"       xdpsyn servers IFACE unset ADDR PORT\n"
		"\n"
		"The servers behind a gateway (attach IFACE --gateway IFACE_S): what\n"
		"each server's SYN-ACKs carry (MSS, window scale, timestamps, SACK,\n"
		"ECN), which the cookie SYN-ACKs to its clients then offer, learned\n"
		"from its last SYN-ACK or set statically, and its counters: conns\n"
		"(our SYNs to it), established (its SYN-ACK spliced), refused (it\n"
		"answered RST), synack_timeouts (no SYN-ACK within gw-syn-timeout),\n"
		"opt_mismatch (it refused an option the client was told).\n"
		"\n"
		"set writes a static entry, never learned over: the options not\n"
		"given keep the entry's values (off, and the family's MSS of the\n"
		"config, for a new one). unset removes an entry (a server's next\n"
		"SYN-ACK is learned again). Both wait (up to %d s) for another\n"
		"attach, detach, set or key rotate.\n"
		"\n"
		"Options:\n"
		"  -j, --json     JSON output: {\"name\", \"servers\": [...]}\n"
		"  -v, --verbose  libbpf debug output\n"
		"  -h, --help     this help\n", LOCK_WAIT_S);
}

static json_object *server_json(const struct xdpsyn_gw_server_key *k,
				const struct xdpsyn_gw_server *v, __u64 mono)
{
	json_object *j = json_object_new_object();
	char a[INET6_ADDRSTRLEN];

#define ADD(key, val) json_object_object_add(j, key, val)
	fmt_addr(a, sizeof(a), k->family, k->addr);
	ADD("family", json_object_new_int(k->family == XDPSYN_V6 ? 6 : 4));
	ADD("addr", json_object_new_string(a));
	ADD("port", json_object_new_int(ntohs(k->port)));
	ADD("mss", v->mss ? json_object_new_int(v->mss) : NULL);
	ADD("ws", v->ws == XDPSYN_WSCALE_NONE ? NULL : json_object_new_int(v->ws));
	ADD("ts", json_object_new_boolean(v->flags & XDPSYN_GW_SRV_TS));
	ADD("sack", json_object_new_boolean(v->flags & XDPSYN_GW_SRV_SACK));
	ADD("ecn", json_object_new_boolean(v->flags & XDPSYN_GW_SRV_ECN));
	ADD("source", json_object_new_string(v->flags & XDPSYN_GW_SRV_STATIC ?
		"static" : v->flags & XDPSYN_GW_SRV_LEARNED ? "learned" : "none"));
	ADD("learned_ago_s", v->learned_ns && mono > v->learned_ns ?
	    json_object_new_uint64((mono - v->learned_ns) / 1000000000ULL) : NULL);
	ADD("conns", json_object_new_uint64(v->conns));
	ADD("established", json_object_new_uint64(v->established));
	ADD("refused", json_object_new_uint64(v->refused));
	ADD("synack_timeouts", json_object_new_uint64(v->synack_timeouts));
	ADD("opt_mismatch", json_object_new_uint64(v->opt_mismatch));
#undef ADD
	return j;
}

static int servers_list(const struct pins *p)
{
	struct xdpsyn_gw_server_key *k = NULL;
	struct xdpsyn_gw_server *v = NULL;
	__u64 mono = mono_now_ns();
	size_t n = 0;
	int err = gw_servers_read(p->gw_servers_fd, &k, &v, &n);

	if (err) {
		errmsg(p->ifname, "reading %s: %s", pin_names[PIN_GW_SERVERS],
		       strerror(-err));
		return EXIT_RUNTIME;
	}
	if (json_out) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();

		json_object_object_add(o, "name", json_object_new_string(p->ifname));
		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, server_json(&k[i], &v[i], mono));
		json_object_object_add(o, "servers", arr);
		printf("%s\n", json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		goto out;
	}
	printf("%s: %zu server%s\n", p->ifname, n, n == 1 ? "" : "s");
	if (n)
		printf("%-47s %5s %4s %-3s %-4s %-3s %-8s %8s %8s %8s %9s %8s\n",
		       "SERVER", "MSS", "WS", "TS", "SACK", "ECN", "SOURCE", "CONNS",
		       "ESTAB", "REFUSED", "SYNACK_TO", "OPT_MISM");
	for (size_t i = 0; i < n; i++) {
		char ep[INET6_ADDRSTRLEN + 8], ws[8] = "-", mss[8] = "-";

		fmt_endpoint(ep, sizeof(ep), k[i].family, k[i].addr, k[i].port);
		if (v[i].ws != XDPSYN_WSCALE_NONE)
			snprintf(ws, sizeof(ws), "%u", v[i].ws);
		if (v[i].mss)
			snprintf(mss, sizeof(mss), "%u", v[i].mss);
		printf("%-47s %5s %4s %-3s %-4s %-3s %-8s %8llu %8llu %8llu %9llu "
		       "%8llu\n", ep, mss, ws,
		       v[i].flags & XDPSYN_GW_SRV_TS ? "on" : "off",
		       v[i].flags & XDPSYN_GW_SRV_SACK ? "on" : "off",
		       v[i].flags & XDPSYN_GW_SRV_ECN ? "on" : "off",
		       v[i].flags & XDPSYN_GW_SRV_STATIC ? "static" :
		       v[i].flags & XDPSYN_GW_SRV_LEARNED ? "learned" : "-",
		       v[i].conns, v[i].established, v[i].refused,
		       v[i].synack_timeouts, v[i].opt_mismatch);
	}
out:
	free(k);
	free(v);
	return 0;
}

/* "ADDR" "PORT" into K. 0 or EXIT_USAGE after a message. */
static int server_key_parse(const char *addr, const char *port,
			    struct xdpsyn_gw_server_key *k)
{
	unsigned long pt;

	memset(k, 0, sizeof(*k));
	if (inet_pton(AF_INET, addr, k->addr) == 1)
		k->family = XDPSYN_V4;
	else if (inet_pton(AF_INET6, addr, k->addr) == 1)
		k->family = XDPSYN_V6;
	else
		return usage_err("servers", "\"%s\": not an IPv4 or IPv6 address",
				 addr);
	if (parse_ulong(port, 1, 65535, &pt))
		return usage_err("servers", "port \"%s\": expected 1..65535", port);
	k->port = htons(pt);
	return 0;
}

/* One KEY=VALUE of `servers set` into V. 0 or EXIT_USAGE. */
static int server_opt_parse(const char *arg, struct xdpsyn_gw_server *v)
{
	static const struct { const char *name; __u8 flag; } onoff[] = {
		{ "ts", XDPSYN_GW_SRV_TS }, { "sack", XDPSYN_GW_SRV_SACK },
		{ "ecn", XDPSYN_GW_SRV_ECN },
	};
	const char *eq = strchr(arg, '=');
	unsigned long u;

	if (!eq)
		return usage_err("servers", "\"%s\": expected KEY=VALUE", arg);
	if (!strncmp(arg, "mss=", 4)) {
		if (parse_ulong(eq + 1, 88, 65535, &u))
			return usage_err("servers", "%s: expected 88..65535", arg);
		v->mss = u;
		return 0;
	}
	if (!strncmp(arg, "ws=", 3)) {
		if (!strcmp(eq + 1, "none"))
			v->ws = XDPSYN_WSCALE_NONE;
		else if (parse_ulong(eq + 1, 0, XDPSYN_WSCALE_MAX, &u))
			return usage_err("servers", "%s: expected 0..%d or none",
					 arg, XDPSYN_WSCALE_MAX);
		else
			v->ws = u;
		return 0;
	}
	for (size_t i = 0; i < sizeof(onoff) / sizeof(onoff[0]); i++) {
		size_t l = strlen(onoff[i].name);

		if (strncmp(arg, onoff[i].name, l) || arg[l] != '=')
			continue;
		if (strcmp(eq + 1, "on") && strcmp(eq + 1, "off"))
			return usage_err("servers", "%s: expected on or off", arg);
		v->flags = !strcmp(eq + 1, "on") ? v->flags | onoff[i].flag :
						   v->flags & ~onoff[i].flag;
		return 0;
	}
	return usage_err("servers", "unknown key in \"%s\" (mss, ws, ts, sack, "
			 "ecn)", arg);
}

/* servers IFACE set|unset ADDR PORT [KEY=VALUE...], under IFACE's lock. */
static int servers_change(const struct pins *p, bool set, int argc, char **argv)
{
	struct xdpsyn_gw_server_key k;
	struct xdpsyn_gw_server v = { .ws = XDPSYN_WSCALE_NONE };
	struct xdpsyn_config cfg = {};
	__u32 zero = 0;
	int ret;

	if (argc < 2)
		return usage_err("servers", "%s: missing ADDR PORT",
				 set ? "set" : "unset");
	if (!set && argc > 2)
		return usage_err("servers", "unset: ADDR PORT only");
	ret = server_key_parse(argv[0], argv[1], &k);
	if (ret)
		return ret;
	if (!set) {
		if (bpf_map_delete_elem(p->gw_servers_fd, &k)) {
			errmsg(p->ifname, "%s port %s: %s%s", argv[0], argv[1],
			       errno == ENOENT ? "no such server entry: xdpsyn "
			       "servers " : strerror(errno),
			       errno == ENOENT ? p->ifname : "");
			return errno == ENOENT ? EXIT_CONFLICT : EXIT_RUNTIME;
		}
		printf("%s: server %s port %s removed\n", p->ifname, argv[0], argv[1]);
		return 0;
	}
	if (bpf_map_lookup_elem(p->gw_servers_fd, &k, &v)) {
		/* a new entry: the MSS this attachment offers that family */
		if (p->config_fd >= 0 &&
		    !bpf_map_lookup_elem(p->config_fd, &zero, &cfg))
			v.mss = cfg.mss[k.family];
	}
	for (int i = 2; i < argc; i++) {
		ret = server_opt_parse(argv[i], &v);
		if (ret)
			return ret;
	}
	v.flags = (v.flags & ~XDPSYN_GW_SRV_LEARNED) | XDPSYN_GW_SRV_STATIC;
	if (bpf_map_update_elem(p->gw_servers_fd, &k, &v, BPF_ANY)) {
		errmsg(p->ifname, "writing %s: %s%s", pin_names[PIN_GW_SERVERS],
		       strerror(errno), errno == E2BIG ? ": the table is full, "
		       "unset entries first" : "");
		return EXIT_RUNTIME;
	}
	printf("%s: server %s port %s set (static)\n", p->ifname, argv[0], argv[1]);
	return 0;
}

int cmd_servers(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *ifname, *sub = NULL;
	int c, ret, lock_fd = -1;
	struct pins p;

	while ((c = getopt_long(argc, argv, "jvh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json_out = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			servers_help(stdout);
			return EXIT_OK;
		default:
			return bad_option("servers", argv);
		}
	}
	if (optind == argc)
		return usage_err("servers", "missing IFACE");
	ifname = argv[optind++];
	if (optind < argc) {
		sub = argv[optind++];
		if (strcmp(sub, "set") && strcmp(sub, "unset"))
			return usage_err("servers", "unknown subcommand \"%s\" (set, "
					 "unset)", sub);
	}
	ret = pin_dir_check(ifname);
	if (!ret && sub)
		ret = need_privileges();
	if (!ret && sub) {
		lock_fd = pin_dir_lock(ifname);
		ret = lock_fd < 0 ? -lock_fd : 0;
	}
	if (ret)
		return ret;
	ret = pins_open(&p, ifname, 0);
	if (!ret && p.gw_servers_fd < 0) {
		errmsg(ifname, "not in gateway mode (no %s): xdpsyn attach %s "
		       "--gateway IFACE_S", pin_names[PIN_GW_SERVERS], ifname);
		ret = EXIT_CONFLICT;
		pins_close(&p);
	}
	if (!ret) {
		ret = sub ? servers_change(&p, !strcmp(sub, "set"), argc - optind,
					   argv + optind) : servers_list(&p);
		pins_close(&p);
	}
	pin_dir_unlock(lock_fd);
	return ret;
}
