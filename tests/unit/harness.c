// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#define HARNESS_CHECKS
#include "harness.h"

#include <sched.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

const char *harness_prog = "test";

void run_cmd(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0) {
		fprintf(stderr, "%s: setup command failed: %s\n", harness_prog, cmd);
		exit(1);
	}
}

void netns_fixture(uint8_t srv6[16], uint8_t cli6[16])
{
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "%s: unshare(CLONE_NEWNET): %s\n", harness_prog, strerror(errno));
		printf("0 passed, 1 failed\n");
		exit(1);
	}
	run_cmd("ip link set lo up");
	run_cmd("ip addr add 10.201.1.1/32 dev lo");
	run_cmd("ip addr add 10.201.2.7/32 dev lo");
	run_cmd("ip -6 addr add fd00:201::1/128 dev lo nodad");
	run_cmd("ip -6 addr add fd00:201::2:7/128 dev lo nodad");
	inet_pton(AF_INET6, "fd00:201::1", srv6);
	inet_pton(AF_INET6, "fd00:201::2:7", cli6);
}

uint64_t tai_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_TAI, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int listen_on(int v6, const uint8_t *addr, int port)
{
	int one = 1, fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

		memcpy(&a.sin6_addr, addr, 16);
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, (void *)&a, sizeof(a)) || listen(fd, 16))
			goto err;
	} else {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

		memcpy(&a.sin_addr, addr, 4);
		if (bind(fd, (void *)&a, sizeof(a)) || listen(fd, 16))
			goto err;
	}
	return fd;
err:
	fprintf(stderr, "%s: listen on port %d: %s\n", harness_prog, port, strerror(errno));
	exit(1);
}

int established_pair(const uint8_t cli[4], const uint8_t srv[4], int port,
		     int lfd, uint16_t *cport, int *afd)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in b = { .sin_family = AF_INET };
	socklen_t bl = sizeof(b);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memcpy(&b.sin_addr, cli, 4);
	memcpy(&a.sin_addr, srv, 4);
	if (bind(fd, (void *)&b, sizeof(b)) || connect(fd, (void *)&a, sizeof(a)))
		return -1;
	*afd = accept(lfd, NULL, NULL);
	getsockname(fd, (void *)&b, &bl);
	*cport = ntohs(b.sin_port);
	return fd;
}

void stats_sum(struct bpf_map *m, int nproc, uint64_t out[XDPSYN_CNT_MAX])
{
	struct xdpsyn_stats *v = calloc(nproc, sizeof(*v));
	__u32 zero = 0;

	memset(out, 0, sizeof(uint64_t) * XDPSYN_CNT_MAX);
	if (!v || bpf_map__lookup_elem(m, &zero, sizeof(zero), v, sizeof(*v) * nproc, 0)) {
		fprintf(stderr, "%s: reading the counters: %s\n", harness_prog, strerror(errno));
		exit(1);
	}
	for (int c = 0; c < nproc; c++)
		for (int i = 0; i < XDPSYN_CNT_MAX; i++)
			out[i] += v[c].cnt[i];
	free(v);
}

int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int passed, failed;
char fail_msg[512];

int check(int cond, const char *fmt, ...)
{
	va_list ap;

	if (cond || fail_msg[0])
		return cond;
	va_start(ap, fmt);
	vsnprintf(fail_msg, sizeof(fail_msg), fmt, ap);
	va_end(ap);
	return 0;
}

void report(const char *name)
{
	if (fail_msg[0]) {
		printf("FAIL %s: %s\n", name, fail_msg);
		failed++;
	} else {
		printf("ok   %s\n", name);
		passed++;
	}
	fail_msg[0] = 0;
	fflush(stdout);
}
