// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn CLI: the pin directory /sys/fs/bpf/xdpsyn/IFACE/ and bpffs. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include "cli.h"

const char *const pin_names[] = {
	PIN_LINK_XDP, PIN_PROG_TC, PIN_CONFIG, PIN_KEYS, PIN_PORTS, PIN_STATS,
	PIN_HANDOFF_ERR, PIN_FLOWS, PIN_EVENTS, PIN_CMS, PIN_TOP, PIN_META,
	PIN_HS, PIN_RATE, PIN_POLICY, PIN_PROG_TC_EGRESS, PIN_HANDOFFS,
	PIN_LINK_TC_INGRESS, PIN_LINK_TC_EGRESS, PIN_LOCAL_ADDRS, PIN_PROG_XDP, NULL
};

int pin_path(char *buf, size_t len, const char *ifname, const char *name)
{
	int n;

	if (name)
		n = snprintf(buf, len, PIN_BASE "/%s/%s", ifname, name);
	else
		n = snprintf(buf, len, PIN_BASE "/%s", ifname);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int pin_dir_check(const char *ifname)
{
	char path[256];
	struct stat st;

	if (!ifname_valid(ifname)) {
		errmsg(ifname, "not a valid interface name");
		return EXIT_USAGE;
	}
	pin_path(path, sizeof(path), ifname, NULL);
	if (!stat(path, &st)) {
		if (S_ISDIR(st.st_mode))
			return 0;
	} else if (errno == EACCES || errno == EPERM) {
		errmsg(path, "%s: run as root", strerror(errno));
		return EXIT_PREREQ;
	}
	/* Pins are shared by all network namespaces: no pins and no such
	 * interface here is a bad name rather than a state conflict. */
	if (!if_nametoindex(ifname)) {
		errmsg(ifname, "no such interface (and not attached)");
		return EXIT_USAGE;
	}
	errmsg(ifname, "not attached (xdpsyn status lists attached interfaces)");
	return EXIT_CONFLICT;
}

static int pin_get(const char *ifname, const char *name)
{
	char path[256];

	if (pin_path(path, sizeof(path), ifname, name))
		return -1;
	return bpf_obj_get(path);
}

int pins_open(struct pins *p, const char *ifname, unsigned need)
{
	static const struct {
		const char *name;
		size_t off;
		unsigned bit;
	} tab[] = {
		{ PIN_CONFIG, offsetof(struct pins, config_fd), PINS_CONFIG },
		{ PIN_KEYS, offsetof(struct pins, keys_fd), PINS_KEYS },
		{ PIN_PORTS, offsetof(struct pins, ports_fd), PINS_PORTS },
		{ PIN_STATS, offsetof(struct pins, stats_fd), PINS_STATS },
		{ PIN_HANDOFF_ERR, offsetof(struct pins, herr_fd), 0 },
		{ PIN_META, offsetof(struct pins, meta_fd), PINS_META },
		{ PIN_FLOWS, offsetof(struct pins, flows_fd), PINS_FLOWS },
		{ PIN_EVENTS, offsetof(struct pins, events_fd), PINS_EVENTS },
		{ PIN_CMS, offsetof(struct pins, cms_fd), PINS_CMS },
		{ PIN_TOP, offsetof(struct pins, top_fd), PINS_TOP },
		{ PIN_LINK_XDP, offsetof(struct pins, link_fd), 0 },
		{ PIN_PROG_TC, offsetof(struct pins, tc_fd), 0 },
		{ PIN_HS, offsetof(struct pins, hs_fd), PINS_HS },
		{ PIN_RATE, offsetof(struct pins, rate_fd), PINS_RATE },
		{ PIN_POLICY, offsetof(struct pins, policy_fd), PINS_POLICY },
		{ PIN_PROG_TC_EGRESS, offsetof(struct pins, tc_egress_fd), 0 },
		{ PIN_LINK_TC_INGRESS, offsetof(struct pins, tc_link_fd), 0 },
		{ PIN_LINK_TC_EGRESS, offsetof(struct pins, tc_egress_link_fd), 0 },
		{ PIN_PROG_XDP, offsetof(struct pins, xdp_prog_fd), 0 },
	};
	__u32 zero = 0;

	memset(p, 0, sizeof(*p));
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		*(int *)((char *)p + tab[i].off) = -1;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		int fd = pin_get(ifname, tab[i].name);

		*(int *)((char *)p + tab[i].off) = fd < 0 ? -1 : fd;
		if (fd < 0 && (need & tab[i].bit)) {
			if (errno == ENOENT && (tab[i].bit & PINS_TRACKER))
				errmsg(ifname, "pin %s: %s: attached by an older "
				       "xdpsyn without the tracker? xdpsyn detach "
				       "%s, then attach again", tab[i].name,
				       strerror(errno), ifname);
			else
				errmsg(ifname, "pin %s: %s: the attachment is "
				       "incomplete, xdpsyn detach %s removes it",
				       tab[i].name, strerror(errno), ifname);
			pins_close(p);
			return EXIT_RUNTIME;
		}
	}
	if (p->meta_fd >= 0 && !bpf_map_lookup_elem(p->meta_fd, &zero, &p->meta) &&
	    p->meta.version == XDPSYN_META_VERSION)
		p->have_meta = true;
	if ((need & PINS_META) && !p->have_meta) {
		errmsg(ifname, "pin " PIN_META " unreadable or of another version: "
		       "xdpsyn detach %s, then attach again", ifname);
		pins_close(p);
		return EXIT_RUNTIME;
	}
	return 0;
}

void pins_close(struct pins *p)
{
	int *fds[] = { &p->config_fd, &p->keys_fd, &p->ports_fd, &p->stats_fd,
		       &p->herr_fd, &p->meta_fd, &p->flows_fd, &p->events_fd,
		       &p->cms_fd, &p->top_fd, &p->link_fd, &p->tc_fd,
		       &p->hs_fd, &p->rate_fd, &p->policy_fd, &p->tc_egress_fd,
		       &p->tc_link_fd, &p->tc_egress_link_fd, &p->xdp_prog_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int meta_write(int fd, const struct xdpsyn_meta *m)
{
	__u32 zero = 0;

	return bpf_map_update_elem(fd, &zero, m, BPF_ANY);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **attached_list(int *err)
{
	size_t n = 0, cap = 8;
	char **names = calloc(cap, sizeof(*names));
	struct dirent *de;
	DIR *d;

	*err = 0;
	if (!names)
		goto oom;
	d = opendir(PIN_BASE);
	if (!d) {
		if (errno == ENOENT)
			return names;
		errmsg(PIN_BASE, "%s%s", strerror(errno),
		       errno == EACCES ? ": run as root" : "");
		*err = errno == EACCES ? EXIT_PREREQ : EXIT_RUNTIME;
		free(names);
		return NULL;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		if (n + 1 >= cap) {
			char **tmp = realloc(names, 2 * cap * sizeof(*names));

			if (!tmp)
				break;
			names = tmp;
			cap *= 2;
		}
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	names[n] = NULL;
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	return names;
oom:
	errmsg("memory", "out of memory");
	*err = EXIT_RUNTIME;
	return NULL;
}

char **ifaces_select(const char *cmd, int argc, char **argv, int optind_,
		     bool *named, int *err)
{
	char **names;

	*named = false;
	if (argc - optind_ > 1) {
		*err = usage_err(cmd, "one interface at most");
		return NULL;
	}
	if (optind_ == argc)
		return attached_list(err);
	*err = pin_dir_check(argv[optind_]);
	if (*err)
		return NULL;
	names = calloc(2, sizeof(*names));
	if (!names || !(names[0] = strdup(argv[optind_]))) {
		free(names);
		errmsg(cmd, "out of memory");
		*err = EXIT_RUNTIME;
		return NULL;
	}
	*named = true;
	return names;
}

void names_free(char **names)
{
	if (!names)
		return;
	for (char **p = names; *p; p++)
		free(*p);
	free(names);
}

static bool is_bpffs(const char *path)
{
	struct statfs s;

	return !statfs(path, &s) && s.f_type == BPF_FS_MAGIC;
}

/* `ip netns exec` runs the command in a private mount namespace with a
 * fresh /sys (and a fresh bpffs on /sys/fs/bpf): pins made there are not
 * the host's and go away with the command, taking the XDP link with them.
 * Attach only where the /sys/fs/bpf of PID 1 (or, when PID 1 cannot be
 * inspected, of our parent, the shell that ran `ip netns exec`) is ours. */
static int bpffs_same_as_init(void)
{
	struct stat here, ref;
	char path[64];
	pid_t pids[2] = { 1, getppid() };
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/%d/root" BPFFS_ROOT,
			 (int)pids[i]);
		if (!stat(path, &ref))
			break;
	}
	if (i == 2)
		return 0; /* cannot tell (no /proc, hidepid): go on */
	if (!stat(BPFFS_ROOT, &here) && here.st_dev == ref.st_dev &&
	    here.st_ino == ref.st_ino)
		return 0;
	errmsg(BPFFS_ROOT, "not the host's bpffs (ip netns exec?): the pins "
	       "would vanish with this command: use nsenter --net=/var/run/"
	       "netns/NAME xdpsyn ...");
	return EXIT_PREREQ;
}

int bpffs_ensure(void)
{
	int ret = bpffs_same_as_init();

	if (ret)
		return ret;
	if (is_bpffs(BPFFS_ROOT))
		return 0;
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700")) {
		errmsg(BPFFS_ROOT, "bpffs is not mounted and mounting it failed: "
		       "%s: mount -t bpf bpf " BPFFS_ROOT, strerror(errno));
		return EXIT_PREREQ;
	}
	if (!is_bpffs(BPFFS_ROOT)) {
		errmsg(BPFFS_ROOT, "mounted bpffs but it is not visible: "
		       "mount -t bpf bpf " BPFFS_ROOT);
		return EXIT_PREREQ;
	}
	return 0;
}
