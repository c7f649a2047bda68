// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn set / key rotate: live changes to the pinned maps. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cli.h"

static void set_help(FILE *f)
{
	fprintf(f,
		"Usage: xdpsyn set IFACE KEY=VALUE...\n"
		"\n"
		"Change live settings of an attached interface (no reload). Waits\n"
		"(up to %d s) for another attach, detach, set or key rotate.\n"
		"\n"
		"Keys:\n"
		"  ports=LIST    protected ports, both families (80,443,8000-8100 or\n"
		"                none); ports4= / ports6= for one family\n"
		"  mss4=N        MSS offered over IPv4, 88..65535\n"
		"  mss6=N        MSS offered over IPv6, 88..65535\n"
		"  wscale=N      window scale, 0..14\n"
		"  ttl=N         TTL / hop limit, 1..255\n"
		"  window=N      SYN-ACK window, 1..65535\n"
		"  ecn=on|off    agree to ECN when the client asks\n"
		"  top-plen4=N   top sources: IPv4 prefix length, 1..32\n"
		"  top-plen6=N   top sources: IPv6 prefix length, 1..128\n"
		"                (SYNs counted before a change stay under the old\n"
		"                prefixes)\n"
		"  policy=proxy|track|auto\n"
		"                what XDP does with SYNs (see xdpsyn attach --help);\n"
		"                a change starts the new policy now (auto: tracking)\n"
		"  syn-rate=N    auto: SYNs/s that switch to proxy, 1..%d\n"
		"  calm=SECS     auto: seconds below syn-rate/2 to switch back, 1..%d\n"
		"  handshake-timeout=SECS\n"
		"                track: an incomplete handshake older than this shows\n"
		"                as timed out, 1..%d\n"
		"  addresses=refresh\n"
		"                list this network namespace's addresses again (on a\n"
		"                host that does not forward, SYNs for others go to the\n"
		"                kernel; status warns when one is missing)\n",
		LOCK_WAIT_S, SYN_RATE_MAX,
		POLICY_SECS_MAX, POLICY_SECS_MAX);
}

struct set_req {
	struct xdpsyn_ports ports[XDPSYN_NFAMILIES];
	bool ports_set[XDPSYN_NFAMILIES];
	struct xdpsyn_config cfg;        /* the values given */
	bool mss_set[XDPSYN_NFAMILIES], wscale_set, ttl_set, window_set, ecn_set;
	bool plen4_set, plen6_set;
	bool policy_set, syn_rate_set, calm_set, hs_timeout_set;
	bool addrs_refresh;
};

static int set_parse_one(struct set_req *r, const char *arg)
{
	const char *eq = strchr(arg, '='), *val;
	unsigned long v;
	char key[24], err[128];
	size_t klen;

	if (!eq || eq == arg || (klen = eq - arg) >= sizeof(key))
		return usage_err("set", "\"%s\": expected KEY=VALUE", arg);
	memcpy(key, arg, klen);
	key[klen] = 0;
	val = eq + 1;

	if (!strcmp(key, "ports") || !strcmp(key, "ports4") ||
	    !strcmp(key, "ports6")) {
		int fam = key[5] == '6' ? XDPSYN_V6 : XDPSYN_V4;

		if (ports_parse(val, &r->ports[fam], err, sizeof(err)))
			return usage_err("set", "%s: %s", arg, err);
		r->ports_set[fam] = true;
		if (!key[5]) {
			r->ports[XDPSYN_V6] = r->ports[XDPSYN_V4];
			r->ports_set[XDPSYN_V6] = true;
		}
	} else if (!strcmp(key, "mss4") || !strcmp(key, "mss6")) {
		int fam = key[3] == '6' ? XDPSYN_V6 : XDPSYN_V4;

		if (parse_ulong(val, 88, 65535, &v))
			return usage_err("set", "%s: expected 88..65535", arg);
		r->cfg.mss[fam] = v;
		r->mss_set[fam] = true;
	} else if (!strcmp(key, "wscale")) {
		if (parse_ulong(val, 0, XDPSYN_WSCALE_MAX, &v))
			return usage_err("set", "%s: expected 0..%d", arg,
					 XDPSYN_WSCALE_MAX);
		r->cfg.wscale = v;
		r->wscale_set = true;
	} else if (!strcmp(key, "ttl")) {
		if (parse_ulong(val, 1, 255, &v))
			return usage_err("set", "%s: expected 1..255", arg);
		r->cfg.ttl = v;
		r->ttl_set = true;
	} else if (!strcmp(key, "window")) {
		if (parse_ulong(val, 1, 65535, &v))
			return usage_err("set", "%s: expected 1..65535", arg);
		r->cfg.window = v;
		r->window_set = true;
	} else if (!strcmp(key, "ecn")) {
		if (strcmp(val, "on") && strcmp(val, "off"))
			return usage_err("set", "%s: expected on or off", arg);
		r->cfg.ecn = !strcmp(val, "on");
		r->ecn_set = true;
	} else if (!strcmp(key, "top-plen4")) {
		if (parse_ulong(val, 1, 32, &v))
			return usage_err("set", "%s: expected 1..32", arg);
		r->cfg.top_plen4 = v;
		r->plen4_set = true;
	} else if (!strcmp(key, "top-plen6")) {
		if (parse_ulong(val, 1, 128, &v))
			return usage_err("set", "%s: expected 1..128", arg);
		r->cfg.top_plen6 = v;
		r->plen6_set = true;
	} else if (!strcmp(key, "policy")) {
		int pol = policy_parse(val);

		if (pol < 0)
			return usage_err("set", "%s: expected proxy, track or auto",
					 arg);
		r->cfg.policy = pol;
		r->policy_set = true;
	} else if (!strcmp(key, "syn-rate")) {
		if (parse_ulong(val, 1, SYN_RATE_MAX, &v))
			return usage_err("set", "%s: expected 1..%d SYNs/s", arg,
					 SYN_RATE_MAX);
		r->cfg.syn_rate = v;
		r->syn_rate_set = true;
	} else if (!strcmp(key, "calm")) {
		if (parse_ulong(val, 1, POLICY_SECS_MAX, &v))
			return usage_err("set", "%s: expected 1..%d seconds", arg,
					 POLICY_SECS_MAX);
		r->cfg.calm_s = v;
		r->calm_set = true;
	} else if (!strcmp(key, "addresses")) {
		if (strcmp(val, "refresh"))
			return usage_err("set", "%s: expected addresses=refresh", arg);
		r->addrs_refresh = true;
	} else if (!strcmp(key, "handshake-timeout")) {
		if (parse_ulong(val, 1, POLICY_SECS_MAX, &v))
			return usage_err("set", "%s: expected 1..%d seconds", arg,
					 POLICY_SECS_MAX);
		r->cfg.hs_timeout_s = v;
		r->hs_timeout_set = true;
	} else {
		return usage_err("set", "unknown key \"%s\"", key);
	}
	return 0;
}

static bool policy_changes(const struct set_req *r)
{
	return r->policy_set || r->syn_rate_set || r->calm_set ||
	       r->hs_timeout_set;
}

static bool cfg_changes(const struct set_req *r)
{
	return r->mss_set[XDPSYN_V4] || r->mss_set[XDPSYN_V6] || r->wscale_set ||
	       r->ttl_set || r->window_set || r->ecn_set || r->plen4_set ||
	       r->plen6_set || r->addrs_refresh || policy_changes(r);
}

static int set_apply(const struct set_req *r, const struct pins *p)
{
	struct xdpsyn_config cfg = {};
	__u32 zero = 0, old_policy = 0;
	bool policy_new;

	/* Read and check first: nothing is written when the result would be
	 * refused. */
	if (r->wscale_set && p->have_meta && (p->meta.flags & XDPSYN_META_KCOOKIE))
		return usage_err("set", "wscale: the kernel-cookie hand-off lets "
				 "the kernel choose the window scale");
	if (cfg_changes(r) && bpf_map_lookup_elem(p->config_fd, &zero, &cfg)) {
		errmsg(p->ifname, "reading %s: %s", pin_names[PIN_CONFIG], strerror(errno));
		return EXIT_RUNTIME;
	}
	if (policy_changes(r)) {
		old_policy = cfg.policy;
		if (r->policy_set && r->cfg.policy == XDPSYN_POLICY_AUTO &&
		    !r->syn_rate_set && !cfg.syn_rate)
			return usage_err("set", "policy=auto needs a SYN rate: add "
					 "syn-rate=N (SYNs/s that switch to proxy)");
	}
	for (__u32 f = 0; f < XDPSYN_NFAMILIES; f++) {
		if (!r->ports_set[f])
			continue;
		if (bpf_map_update_elem(p->ports_fd, &f, &r->ports[f], BPF_ANY)) {
			errmsg(p->ifname, "writing %s: %s", pin_names[PIN_PORTS], strerror(errno));
			return EXIT_RUNTIME;
		}
	}
	if (!cfg_changes(r))
		return 0;
	for (int f = 0; f < XDPSYN_NFAMILIES; f++)
		if (r->mss_set[f])
			cfg.mss[f] = r->cfg.mss[f];
	if (r->wscale_set)
		cfg.wscale = r->cfg.wscale;
	if (r->ttl_set)
		cfg.ttl = r->cfg.ttl;
	if (r->window_set)
		cfg.window = r->cfg.window;
	if (r->ecn_set)
		cfg.ecn = r->cfg.ecn;
	if (r->plen4_set)
		cfg.top_plen4 = r->cfg.top_plen4;
	if (r->plen6_set)
		cfg.top_plen6 = r->cfg.top_plen6;
	if (r->policy_set)
		cfg.policy = r->cfg.policy;
	if (r->syn_rate_set)
		cfg.syn_rate = r->cfg.syn_rate;
	if (r->calm_set)
		cfg.calm_s = r->cfg.calm_s;
	if (r->hs_timeout_set)
		cfg.hs_timeout_s = r->cfg.hs_timeout_s;
	if (r->addrs_refresh) {
		char path[256];
		int fd, n;

		pin_path(path, sizeof(path), p->ifname, pin_names[PIN_LOCAL_ADDRS]);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			errmsg(path, "%s: an attachment made before the address "
			       "list: detach and attach again", strerror(errno));
			return EXIT_RUNTIME;
		}
		n = local_addrs_fill(fd);
		close(fd);
		if (n < 0) {
			errmsg(path, "listing the addresses: %s", strerror(-n));
			return EXIT_RUNTIME;
		}
		cfg.flags |= XDPSYN_CFG_LOCAL_ADDRS;
	}
	config_policy_derive(&cfg);
	policy_new = r->policy_set && cfg.policy != old_policy;
	/* A new policy starts from its state written in the policy map: before
	 * the config for auto (which reads the state), after it otherwise (an
	 * auto policy still in force would switch a tracking state right back
	 * to proxy under a flood). */
	if (policy_new && cfg.policy == XDPSYN_POLICY_AUTO &&
	    policy_state_reset(p->policy_fd, cfg.policy))
		goto err_policy;
	if (bpf_map_update_elem(p->config_fd, &zero, &cfg, BPF_ANY)) {
		errmsg(p->ifname, "writing %s: %s", pin_names[PIN_CONFIG], strerror(errno));
		return EXIT_RUNTIME;
	}
	if (policy_new && cfg.policy != XDPSYN_POLICY_AUTO &&
	    policy_state_reset(p->policy_fd, cfg.policy))
		goto err_policy;
	return 0;
err_policy:
	errmsg(p->ifname, "writing %s: %s", pin_names[PIN_POLICY], strerror(errno));
	return EXIT_RUNTIME;
}

int cmd_set(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct set_req *r;
	const char *ifname;
	struct pins p;
	int c, ret, lock_fd = -1;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = true;
			break;
		case 'h':
			set_help(stdout);
			return EXIT_OK;
		default:
			return bad_option("set", argv);
		}
	}
	if (argc - optind < 2)
		return usage_err("set", optind == argc ? "missing IFACE" :
				 "nothing to set");
	ifname = argv[optind++];
	r = calloc(1, sizeof(*r));
	if (!r) {
		errmsg("memory", "out of memory");
		return EXIT_RUNTIME;
	}
	ret = 0;
	for (int i = optind; !ret && i < argc; i++)
		ret = set_parse_one(r, argv[i]);
	if (!ret)
		ret = pin_dir_check(ifname);
	if (!ret)
		ret = need_privileges();
	if (!ret) {
		/* the config is read and written back under the interface's
		 * lock: a key rotation, an attach or a detach cannot come
		 * between (set never writes back stale key slots) */
		lock_fd = pin_dir_lock(ifname);
		ret = lock_fd < 0 ? -lock_fd : 0;
	}
	if (!ret)
		ret = pins_open(&p, ifname, PINS_CONFIG | PINS_PORTS | PINS_META |
				(policy_changes(r) ? PINS_POLICY : 0));
	if (!ret) {
		ret = set_apply(r, &p);
		pins_close(&p);
	}
	pin_dir_unlock(lock_fd);
	if (!ret) {
		printf("%s: set", ifname);
		for (int i = optind; i < argc; i++)
			printf(" %s", argv[i]);
		printf("\n");
	}
	free(r);
	return ret;
}

static void key_help(FILE *f)
{
	fprintf(f,
		"Usage: xdpsyn key rotate IFACE [--key-file PATH]\n"
		"\n"
		"Install a new cookie key (random, or from PATH: 16 bytes or 32 hex\n"
		"characters, not readable by group/others). Cookies made with the\n"
		"previous key stay valid for their lifetime (up to about 137 s).\n"
		"Waits (up to %d s) for another attach, detach, set or key rotate.\n"
		"\n"
		"Options:\n"
		"  --key-file PATH  the new key\n"
		"  -h, --help       this help\n", LOCK_WAIT_S);
}

static int key_rotate(const char *ifname, const char *key_file)
{
	struct xdpsyn_config cfg;
	struct xdpsyn_key key;
	struct pins p;
	__u32 zero = 0, slot;
	int ret, lock_fd;

	ret = pin_dir_check(ifname);
	if (!ret)
		ret = key_file ? key_from_file(key_file, &key) : 0;
	if (!ret)
		ret = need_privileges();
	if (!ret && !key_file)
		ret = key_random(&key);
	if (ret)
		return ret;
	/* the interface's lock: no set can write back the key slots it read
	 * before this rotation */
	lock_fd = pin_dir_lock(ifname);
	if (lock_fd < 0) {
		explicit_bzero(&key, sizeof(key));
		return -lock_fd;
	}
	ret = pins_open(&p, ifname, PINS_CONFIG | PINS_KEYS | PINS_META);
	if (ret) {
		explicit_bzero(&key, sizeof(key));
		pin_dir_unlock(lock_fd);
		return ret;
	}
	if (bpf_map_lookup_elem(p.config_fd, &zero, &cfg)) {
		errmsg(ifname, "reading %s: %s", pin_names[PIN_CONFIG], strerror(errno));
		ret = EXIT_RUNTIME;
		goto out;
	}
	/* The new key goes into the other slot; the programs accept it as the
	 * previous key (counter + 1 covers a period change meanwhile) before
	 * it becomes current, and the old one stays accepted as previous for
	 * the cookies made up to now. */
	slot = (cfg.key_cur & 1) ^ 1;
	if (bpf_map_update_elem(p.keys_fd, &slot, &key, BPF_ANY)) {
		errmsg(ifname, "writing %s: %s", pin_names[PIN_KEYS], strerror(errno));
		ret = EXIT_RUNTIME;
		goto out;
	}
	cfg.key_prev_until = cookie_counter_now() + 1;
	if (bpf_map_update_elem(p.config_fd, &zero, &cfg, BPF_ANY)) {
		errmsg(ifname, "writing %s: %s", pin_names[PIN_CONFIG], strerror(errno));
		ret = EXIT_RUNTIME;
		goto out;
	}
	cfg.key_cur = slot;
	cfg.key_prev_until = cookie_counter_now();
	if (bpf_map_update_elem(p.config_fd, &zero, &cfg, BPF_ANY)) {
		errmsg(ifname, "writing %s (new key in slot %u, not yet "
		       "current): %s: rerun xdpsyn key rotate %s", pin_names[PIN_CONFIG], slot,
		       strerror(errno), ifname);
		ret = EXIT_RUNTIME;
		goto out;
	}
	p.meta.key_rotated_at = realtime_now();
	if (meta_write(p.meta_fd, &p.meta))
		warnmsg(ifname, "recording the rotation time: %s", strerror(errno));
	printf("%s: key rotated: slot %u current, the previous key is accepted "
	       "for cookies of counter <= %u\n", ifname, slot, cfg.key_prev_until);
out:
	explicit_bzero(&key, sizeof(key));
	pins_close(&p);
	pin_dir_unlock(lock_fd);
	return ret;
}

int cmd_key(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key-file", required_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *key_file = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key_file = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			key_help(stdout);
			return EXIT_OK;
		default:
			return bad_option("key", argv);
		}
	}
	if (optind == argc)
		return usage_err("key", "missing subcommand (rotate)");
	if (strcmp(argv[optind], "rotate"))
		return usage_err("key", "unknown subcommand \"%s\"", argv[optind]);
	if (argc - optind != 2)
		return usage_err("key", argc - optind < 2 ? "missing IFACE" :
				 "one interface at a time");
	return key_rotate(argv[optind + 1], key_file);
}
