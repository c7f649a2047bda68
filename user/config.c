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
		"Change live settings of an attached interface (no reload). Every\n"
		"key is checked before anything is written. Waits (up to %d s) for\n"
		"another attach, detach, set or key rotate.\n"
		"\n"
		"Keys:\n", LOCK_WAIT_S);
	settings_help(f, SF_LIVE);
	fprintf(f,
		"\n"
		"A new policy starts now (auto: tracking); see xdpsyn attach --help.\n");
}

static int set_parse_one(struct setting_vals *r, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char key[24];
	size_t klen;
	int id;

	if (!eq || eq == arg || (klen = eq - arg) >= sizeof(key))
		return usage_err("set", "\"%s\": expected KEY=VALUE", arg);
	memcpy(key, arg, klen);
	key[klen] = 0;
	id = setting_find(key, SF_LIVE);
	if (id < 0)
		return usage_err("set", "unknown key \"%s\"", key);
	return setting_parse("set", arg, id, eq + 1, r);
}

/* Fill the address list again (set addresses=refresh). */
static int addrs_refresh(const struct pins *p)
{
	int n;

	if (p->local_addrs_fd < 0) {
		errmsg(p->ifname, "no pin %s: an attachment made before the "
		       "address list: detach and attach again",
		       pin_names[PIN_LOCAL_ADDRS]);
		return EXIT_RUNTIME;
	}
	n = local_addrs_fill(p->local_addrs_fd);
	if (n < 0) {
		errmsg(p->ifname, "listing the addresses into %s: %s",
		       pin_names[PIN_LOCAL_ADDRS], strerror(-n));
		return EXIT_RUNTIME;
	}
	return 0;
}

static int set_apply(const struct setting_vals *r, const struct pins *p)
{
	static const int fam_row[XDPSYN_NFAMILIES] = { SETTING_PORTS4,
						       SETTING_PORTS6 };
	struct xdpsyn_config cfg = {};
	__u32 zero = 0, old_policy;
	bool policy_new, gateway, cfg_changes = false;
	int ret;

	for (int i = 0; i < SETTING_N; i++)
		cfg_changes |= r->given[i] && (settings[i].cfg_size ||
					       i == SETTING_ADDRESSES);
	/* Read and check first: nothing is written when the result would be
	 * refused. */
	gateway = p->have_meta && (p->meta.flags & XDPSYN_META_GATEWAY);
	for (int i = 0; i < SETTING_N; i++)
		if (r->given[i] && (settings[i].flags & SF_GATEWAY) && !gateway)
			return usage_err("set", "%s: a gateway setting, and %s is "
					 "attached in local mode (attach --gateway "
					 "IFACE_S)", settings[i].name, p->ifname);
	if (gateway && r->given[SETTING_POLICY] &&
	    r->v[SETTING_POLICY] != XDPSYN_POLICY_PROXY)
		return usage_err("set", "policy: %s is a gateway, which answers "
				 "every SYN to the servers with a cookie (proxy)",
				 p->ifname);
	if (r->given[SETTING_WSCALE] && p->have_meta &&
	    (p->meta.flags & XDPSYN_META_KCOOKIE))
		return usage_err("set", "wscale: the kernel-cookie hand-off lets "
				 "the kernel choose the window scale");
	if (cfg_changes && bpf_map_lookup_elem(p->config_fd, &zero, &cfg)) {
		errmsg(p->ifname, "reading %s: %s", pin_names[PIN_CONFIG],
		       strerror(errno));
		return EXIT_RUNTIME;
	}
	old_policy = cfg.policy;
	if (r->given[SETTING_POLICY] &&
	    r->v[SETTING_POLICY] == XDPSYN_POLICY_AUTO &&
	    !r->given[SETTING_SYN_RATE] && !cfg.syn_rate)
		return usage_err("set", "policy=auto needs a SYN rate: add "
				 "syn-rate=N (SYNs/s that switch to proxy)");
	for (__u32 f = 0; f < XDPSYN_NFAMILIES; f++) {
		if (!r->given[fam_row[f]])
			continue;
		if (bpf_map_update_elem(p->ports_fd, &f, &r->ports[f], BPF_ANY)) {
			errmsg(p->ifname, "writing %s: %s", pin_names[PIN_PORTS],
			       strerror(errno));
			return EXIT_RUNTIME;
		}
	}
	if (!cfg_changes)
		return 0;
	settings_to_config(r, &cfg, false);
	if (r->given[SETTING_ADDRESSES]) {
		ret = addrs_refresh(p);
		if (ret)
			return ret;
		cfg.flags |= XDPSYN_CFG_LOCAL_ADDRS;
	}
	config_policy_derive(&cfg);
	policy_new = r->given[SETTING_POLICY] && cfg.policy != old_policy;
	/* A new policy starts from its state written in the policy map: before
	 * the config for auto (which reads the state), after it otherwise (an
	 * auto policy still in force would switch a tracking state right back
	 * to proxy under a flood). */
	if (policy_new && cfg.policy == XDPSYN_POLICY_AUTO &&
	    policy_state_reset(p->policy_fd, cfg.policy))
		goto err_policy;
	if (bpf_map_update_elem(p->config_fd, &zero, &cfg, BPF_ANY)) {
		errmsg(p->ifname, "writing %s: %s", pin_names[PIN_CONFIG],
		       strerror(errno));
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
	struct setting_vals *r;
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
				(r->given[SETTING_POLICY] ? PINS_POLICY : 0));
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
		       "current): %s: rerun xdpsyn key rotate %s",
		       pin_names[PIN_CONFIG], slot, strerror(errno), ifname);
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
