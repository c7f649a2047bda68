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

#define PIN_NAME_(id, name, fd) name,
const char *const pin_names[] = { XDPSYN_PINS(PIN_NAME_) NULL };
#undef PIN_NAME_
_Static_assert(sizeof(((struct pins *)0)->fd) ==
	       PIN_N * sizeof(int), "struct pins: one fd per pin, no gap");

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
	memset(p, 0, sizeof(*p));
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	for (int i = 0; i < PIN_N; i++)
		p->fd[i] = -1;
	for (int i = 0; i < PIN_N; i++) {
		int fd = pin_get(ifname, pin_names[i]);
		unsigned bit = 1u << i;

		p->fd[i] = fd < 0 ? -1 : fd;
		if (fd < 0 && (need & bit)) {
			if (errno == ENOENT && pin_dir_state_only(ifname))
				errmsg(ifname, "not attached: only the state table "
				       "a gateway's detach kept is left: xdpsyn "
				       "attach %s --gateway IFACE_S uses it, xdpsyn "
				       "detach %s --flush-state removes it", ifname,
				       ifname);
			else if (errno == ENOENT && (bit & PINS_TRACKER))
				errmsg(ifname, "pin %s: %s: attached by an older "
				       "xdpsyn without the tracker? xdpsyn detach "
				       "%s, then attach again", pin_names[i],
				       strerror(errno), ifname);
			else
				errmsg(ifname, "pin %s: %s: the attachment is "
				       "incomplete, xdpsyn detach %s removes it",
				       pin_names[i], strerror(errno), ifname);
			pins_close(p);
			return pin_dir_state_only(ifname) ? EXIT_CONFLICT :
							    EXIT_RUNTIME;
		}
	}
	if (p->meta_fd >= 0 && !meta_read(p->meta_fd, &p->meta) &&
	    p->meta.version == XDPSYN_META_VERSION)
		p->have_meta = true;
	if ((need & PINS_META) && !p->have_meta) {
		errmsg(ifname, "pin %s unreadable or of another version: "
		       "xdpsyn detach %s, then attach again", pin_names[PIN_META],
		       ifname);
		pins_close(p);
		return EXIT_RUNTIME;
	}
	return 0;
}

void pins_close(struct pins *p)
{
	for (int i = 0; i < PIN_N; i++) {
		if (p->fd[i] >= 0)
			close(p->fd[i]);
		p->fd[i] = -1;
	}
}

int meta_write(int fd, const struct xdpsyn_meta *m)
{
	__u32 zero = 0;

	return bpf_map_update_elem(fd, &zero, m, BPF_ANY);
}

int meta_read(int fd, struct xdpsyn_meta *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0;
	char *buf;
	int err = 0;

	memset(m, 0, sizeof(*m));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	buf = calloc(1, info.value_size > sizeof(*m) ? info.value_size : sizeof(*m));
	if (!buf)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, buf))
		err = -errno;
	else
		memcpy(m, buf, sizeof(*m));
	free(buf);
	return err;
}

bool pin_dir_state_only(const char *ifname)
{
	char path[256];
	struct dirent *de;
	int n = 0, conns = 0;
	DIR *d;

	pin_path(path, sizeof(path), ifname, NULL);
	d = opendir(path);
	if (!d)
		return false;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		conns += !strcmp(de->d_name, pin_names[PIN_GW_CONNS]);
	}
	closedir(d);
	return n == 1 && conns == 1;
}

bool gw_owner_of(__u32 ifindex, const char *skip, char *owner, size_t len)
{
	int err, fd;
	char **names = attached_list(&err), path[256];
	struct xdpsyn_meta m;
	bool found = false;

	for (char **n = names; n && *n && !found; n++) {
		if (skip && !strcmp(*n, skip))
			continue;
		pin_path(path, sizeof(path), *n, pin_names[PIN_META]);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		found = !meta_read(fd, &m) && (m.flags & XDPSYN_META_GATEWAY) &&
			m.gw_ifindex == ifindex && netns_is_current(&m);
		close(fd);
		if (found)
			snprintf(owner, len, "%s", *n);
	}
	names_free(names);
	return found;
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

char **attached_list_live(int *err)
{
	char **names = attached_list(err);
	size_t o = 0;

	for (size_t i = 0; names && names[i]; i++) {
		if (pin_dir_state_only(names[i]))
			free(names[i]);
		else
			names[o++] = names[i];
	}
	if (names)
		names[o] = NULL;
	return names;
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
