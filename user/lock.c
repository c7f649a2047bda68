// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn CLI: the locks of the commands that change state (cli.h, "Locks"):
 * an exclusive flock(2) on a pin directory, waited for up to LOCK_WAIT_S. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "cli.h"

#define LOCK_POLL_NS (20ULL * 1000000ULL)
#define DIR_MISSING (-1000) /* dir_lock: not there (and not to be made) */

/* "pid 1234: xdpsyn key rotate eth0" of the process holding a flock on the
 * file ST (from /proc/locks), or "" when it cannot be told. */
static void lock_holder(char *buf, size_t len, const struct stat *st)
{
	char line[256], path[64], cmd[128] = "";
	unsigned maj, min;
	unsigned long ino;
	int pid = 0, fd;
	ssize_t n;
	FILE *f;

	buf[0] = 0;
	f = fopen("/proc/locks", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		/* "1: FLOCK  ADVISORY  WRITE 1234 00:1f:5678 0 EOF"; a waiter's
		 * line has "->" after the number */
		int p;

		if (strstr(line, "->") || !strstr(line, "FLOCK"))
			continue;
		/* NOLINTNEXTLINE(cert-err34-c): kernel-formatted, checked by the count */
		if (sscanf(line, "%*d: FLOCK %*s %*s %d %x:%x:%lu", &p, &maj, &min,
			   &ino) == 4 && maj == major(st->st_dev) &&
		    min == minor(st->st_dev) && ino == st->st_ino) {
			pid = p;
			break;
		}
	}
	fclose(f);
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		if (n > 0) {
			cmd[n] = 0;
			for (ssize_t i = 0; i < n - 1; i++)
				if (!cmd[i])
					cmd[i] = ' ';
		}
	}
	if (cmd[0])
		snprintf(buf, len, " (pid %d: %.60s)", pid, cmd);
	else
		snprintf(buf, len, " (pid %d)", pid);
}

/* Lock the directory PATH: CREATE makes it when missing. The fd,
 * DIR_MISSING when it is missing (not CREATE), or a negated exit code after a
 * message. A directory removed (or replaced) while we waited for its lock
 * is not the one at PATH any more: open it again. */
static int dir_lock(const char *path, bool create)
{
	__u64 start = mono_now_ns();
	__u64 deadline = start + LOCK_WAIT_S * 1000000000ULL;
	bool told = false;

	for (;;) {
		struct stat fst, pst;
		int fd;

		if (mono_now_ns() >= deadline) {
			/* removed and made again all along */
			errmsg(path, "replaced again and again for %d s: retry",
			       LOCK_WAIT_S);
			return -EXIT_CONFLICT;
		}
		if (create && mkdir(path, 0700) && errno != EEXIST) {
			errmsg(path, "mkdir: %s", strerror(errno));
			return -EXIT_RUNTIME;
		}
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT && !create)
				return DIR_MISSING;
			if (errno == ENOENT)
				continue; /* removed just after our mkdir */
			errmsg(path, "opening to lock it: %s%s", strerror(errno),
			       errno == EACCES ? ": run as root" : "");
			return errno == EACCES ? -EXIT_PREREQ : -EXIT_RUNTIME;
		}
		while (flock(fd, LOCK_EX | LOCK_NB)) {
			char holder[128];

			if (errno != EWOULDBLOCK && errno != EINTR) {
				errmsg(path, "flock: %s", strerror(errno));
				close(fd);
				return -EXIT_RUNTIME;
			}
			if (fstat(fd, &fst))
				memset(&fst, 0, sizeof(fst));
			if (mono_now_ns() >= deadline) {
				lock_holder(holder, sizeof(holder), &fst);
				errmsg(path, "locked by another xdpsyn command%s for "
				       "%d s: retry once it is done", holder,
				       LOCK_WAIT_S);
				close(fd);
				return -EXIT_CONFLICT;
			}
			/* someone at a terminal hears why nothing happens */
			if (!told && isatty(STDERR_FILENO) &&
			    mono_now_ns() - start >= 1000000000ULL) {
				lock_holder(holder, sizeof(holder), &fst);
				fprintf(stderr, "xdpsyn: %s: waiting for the lock held "
					"by another command%s\n", path, holder);
				told = true;
			}
			sleep_interruptible(LOCK_POLL_NS);
		}
		if (!fstat(fd, &fst) && !stat(path, &pst) &&
		    fst.st_dev == pst.st_dev && fst.st_ino == pst.st_ino)
			return fd;
		close(fd);
	}
}

int pin_base_lock(void)
{
	return dir_lock(PIN_BASE, true);
}

void pin_base_unlock(int fd)
{
	if (fd < 0)
		return;
	rmdir(PIN_BASE); /* only when empty: no interface attached */
	close(fd);
}

int pin_dir_lock(const char *ifname)
{
	char path[256];
	int fd;

	if (pin_path(path, sizeof(path), ifname, NULL)) {
		errmsg(ifname, "not a valid interface name");
		return -EXIT_USAGE;
	}
	for (;;) {
		int ret;

		fd = dir_lock(path, false);
		if (fd != DIR_MISSING)
			return fd;
		/* detached meanwhile: pin_dir_check says so (or it was
		 * attached again: lock that) */
		ret = pin_dir_check(ifname);
		if (ret)
			return -ret;
	}
}

void pin_dir_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
