// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_legit: the legitimate clients of the flood lab. Opens N connections
 * to a tcpecho server, started at an even pace over SPREAD ms (so all of
 * them fall inside the flood window however the server fares), each
 * concurrently with the others: connect, send BYTES, read them back, compare,
 * close; a connection not done within TIMEOUT ms of its start fails.
 *
 * tcpecho's own client is sequential: with a defence that fails, N
 * connections would take N x TIMEOUT and run long after the flood ended.
 *
 *   bench_legit ADDR PORT [-n N] [-s SPREAD_MS] [-t TIMEOUT_MS] [-b BYTES]
 *
 * Prints one line in tcpecho's format plus the failure reasons:
 *   ok=N failed=N p50_ms=F p99_ms=F max_ms=F timeout=N refused=N echo=N
 * (connect times of the successful connections). Exit 0 iff all succeeded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN 4096
#define MAX_BYTES 65536

enum state { IDLE, CONNECTING, ECHOING, DONE, FAILED };
enum why { W_NONE, W_TIMEOUT, W_REFUSED, W_ECHO };

struct conn {
	int fd;
	enum state st;
	enum why why;
	double start, connected;
	size_t sent, got;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void fail(struct conn *c, enum why w)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->st = FAILED;
	c->why = w;
}

int main(int argc, char **argv)
{
	static struct conn conns[MAX_CONN];
	static struct pollfd pfd[MAX_CONN];
	static int idx[MAX_CONN];
	static char out[MAX_BYTES], in[MAX_BYTES];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *ai;
	int n = 200, spread = 2000, timeout = 2000, opt, started = 0, left;
	size_t bytes = 100;
	double t0, *times;
	int ok = 0, bad = 0, why[4] = { 0 };

	if (argc < 3) {
		fprintf(stderr, "usage: bench_legit ADDR PORT [-n N] [-s SPREAD_MS] [-t TIMEOUT_MS] [-b BYTES]\n");
		return 2;
	}
	optind = 3;
	while ((opt = getopt(argc, argv, "n:s:t:b:")) != -1) {
		switch (opt) {
		case 'n': n = atoi(optarg); break;
		case 's': spread = atoi(optarg); break;
		case 't': timeout = atoi(optarg); break;
		case 'b': bytes = strtoul(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (n < 1 || n > MAX_CONN || spread < 0 || timeout < 1 || bytes < 1 || bytes > MAX_BYTES ||
	    getaddrinfo(argv[1], argv[2], &hints, &ai)) {
		fprintf(stderr, "bench_legit: bad arguments\n");
		return 2;
	}
	for (size_t i = 0; i < bytes; i++)
		out[i] = (char)(i * 131 + 7);
	for (int i = 0; i < n; i++)
		conns[i] = (struct conn){ .fd = -1, .st = IDLE };

	t0 = now_ms();
	left = n;
	while (left > 0) {
		double now = now_ms();
		int np = 0, wait = 50;

		/* start the connections that are due */
		while (started < n && now >= t0 + (double)spread * started / n) {
			struct conn *c = &conns[started++];

			c->start = now;
			c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
			if (c->fd < 0) {
				fail(c, W_REFUSED);
				left--;
				continue;
			}
			if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
				fail(c, W_REFUSED);
				left--;
				continue;
			}
			c->st = CONNECTING;
		}
		for (int i = 0; i < started; i++) {
			struct conn *c = &conns[i];

			if (c->st != CONNECTING && c->st != ECHOING)
				continue;
			if (now - c->start > timeout) {
				fail(c, c->st == CONNECTING ? W_TIMEOUT : W_ECHO);
				left--;
				continue;
			}
			pfd[np].fd = c->fd;
			pfd[np].events = c->st == CONNECTING ? POLLOUT
				       : POLLIN | (c->sent < bytes ? POLLOUT : 0);
			pfd[np].revents = 0;
			idx[np++] = i;
		}
		if (started < n) {
			double next = t0 + (double)spread * started / n - now;

			wait = next < 1 ? 1 : (int)next;
		}
		if (wait > 10)
			wait = 10;
		if (poll(pfd, np, np || started < n ? wait : 0) < 0 && errno != EINTR) {
			perror("bench_legit: poll");
			return 1;
		}
		now = now_ms();
		for (int k = 0; k < np; k++) {
			struct conn *c = &conns[idx[k]];
			short re = pfd[k].revents;

			if (!re)
				continue;
			if (c->st == CONNECTING) {
				int err = 0;
				socklen_t el = sizeof(err);

				if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
					fail(c, W_REFUSED);
					left--;
					continue;
				}
				c->connected = now;
				c->st = ECHOING;
				re = POLLOUT; /* send right away */
			}
			if (re & POLLOUT && c->sent < bytes) {
				ssize_t w = send(c->fd, out + c->sent, bytes - c->sent,
						 MSG_DONTWAIT | MSG_NOSIGNAL);

				if (w < 0 && errno != EAGAIN) {
					fail(c, W_ECHO);
					left--;
					continue;
				}
				if (w > 0)
					c->sent += (size_t)w;
			}
			if (re & (POLLIN | POLLHUP | POLLERR)) {
				ssize_t r = recv(c->fd, in + c->got, bytes - c->got, MSG_DONTWAIT);

				if (r == 0 || (r < 0 && errno != EAGAIN)) {
					fail(c, W_ECHO);
					left--;
					continue;
				}
				if (r > 0) {
					/* compare as it arrives: the echo of bytes got..got+r */
					if (memcmp(in + c->got, out + c->got, (size_t)r)) {
						fail(c, W_ECHO);
						left--;
						continue;
					}
					c->got += (size_t)r;
				}
			}
			if (c->got == bytes) {
				close(c->fd);
				c->fd = -1;
				c->st = DONE;
				left--;
			}
		}
	}

	times = calloc((size_t)n, sizeof(*times));
	for (int i = 0; i < n; i++) {
		if (conns[i].st == DONE)
			times[ok++] = conns[i].connected - conns[i].start;
		else {
			bad++;
			why[conns[i].why]++;
		}
	}
	qsort(times, (size_t)ok, sizeof(*times), cmp_double);
	printf("ok=%d failed=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f timeout=%d refused=%d echo=%d\n", ok,
	       bad, ok ? times[(ok - 1) / 2] : 0, ok ? times[(int)((ok - 1) * 0.99)] : 0,
	       ok ? times[ok - 1] : 0, why[W_TIMEOUT], why[W_REFUSED], why[W_ECHO]);
	free(times);
	freeaddrinfo(ai);
	return bad ? 1 : 0;
}
