// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * slowbpf.so: an LD_PRELOAD shim for tests/e2e/test_lifecycle.sh. It delays
 * every BPF_MAP_UPDATE_ELEM that goes through libc's syscall() (as libbpf's
 * do) by XS_SLOW_MS milliseconds (default 200), so a command's
 * read-modify-write of a map spans that time: a command that takes no lock
 * would then write back what another command changed meanwhile.
 *
 *   cc -shared -fPIC -o slowbpf.so tests/tools/slowbpf.c -ldl
 *   LD_PRELOAD=./slowbpf.so xdpsyn set IFACE window=1000
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

long syscall(long n, ...)
{
	static long (*real)(long, ...);
	va_list ap;
	long a[6];

	/* bpf(2) takes three arguments, the longest six: read six as
	 * glibc's own syscall() does */
	va_start(ap, n);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	if (n == __NR_bpf && a[0] == BPF_MAP_UPDATE_ELEM) {
		const char *e = getenv("XS_SLOW_MS");
		long ms = e ? strtol(e, NULL, 10) : 200;
		struct timespec ts = { .tv_sec = ms / 1000,
				       .tv_nsec = ms % 1000 * 1000000L };

		nanosleep(&ts, NULL);
	}
	return real(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}
