// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcpecho: the real server and client of the end-to-end tests and the demo.
 *
 *   tcpecho serve PORT [LOG]           echo every connection (IPv4 + IPv6);
 *        with LOG, append one line per accepted connection with the options
 *        the kernel negotiated (TCP_INFO): "opts=ts,sack,wscale,ecn
 *        wscale=SND,RCV mss=N". The listen backlog is 4096, or
 *        $TCPECHO_BACKLOG (a small one makes the kernel send SYN cookies).
 *   tcpecho client ADDR PORT [-n N] [-b BYTES] [-t TIMEOUT_MS] [-s HOLD_S]
 *                  [-i INTERVAL_MS] [-q]
 *        N sequential connections, INTERVAL_MS apart (default 0); each sends BYTES, reads them back and
 *        compares; prints "ok=N failed=N p50_ms=F p99_ms=F max_ms=F"
 *        (connect times) and exits 0 only if every connection succeeded.
 *        -s keeps each connection open HOLD_S seconds after its echo (for
 *        inspecting the server's socket with ss).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void echo_conn(int fd)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, n - off);

			if (w <= 0)
				return;
			off += w;
		}
	}
}

/* One line of what the kernel negotiated for an accepted connection. */
static void log_options(int fd, const char *log)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	char line[160];
	int n, lf;

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l))
		return;
	n = snprintf(line, sizeof(line), "opts=%s%s%s%s wscale=%u,%u mss=%u\n",
		     ti.tcpi_options & TCPI_OPT_TIMESTAMPS ? "ts," : "",
		     ti.tcpi_options & TCPI_OPT_SACK ? "sack," : "",
		     ti.tcpi_options & TCPI_OPT_WSCALE ? "wscale," : "",
		     ti.tcpi_options & TCPI_OPT_ECN ? "ecn," : "",
		     ti.tcpi_options & TCPI_OPT_WSCALE ? ti.tcpi_snd_wscale : 0,
		     ti.tcpi_options & TCPI_OPT_WSCALE ? ti.tcpi_rcv_wscale : 0, ti.tcpi_snd_mss);
	lf = open(log, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (lf >= 0) {
		if (write(lf, line, n) != n)
			fprintf(stderr, "tcpecho: %s: short write\n", log);
		close(lf);
	}
}

static int serve(int port, const char *log)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				  .sin6_addr = IN6ADDR_ANY_INIT };
	int one = 1, zero = 0, fd = socket(AF_INET6, SOCK_STREAM, 0);
	const char *bl = getenv("TCPECHO_BACKLOG");
	int backlog = bl ? atoi(bl) : 4096; // NOLINT(cert-err34-c): test tool, set by the test scripts

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (void *)&a, sizeof(a)) || listen(fd, backlog > 0 ? backlog : 4096)) {
		fprintf(stderr, "tcpecho: port %d: %s\n", port, strerror(errno));
		return 1;
	}
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "tcpecho: accept: %s\n", strerror(errno));
			return 1;
		}
		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL); /* die with the server */
			close(fd);
			if (log)
				log_options(c, log);
			echo_conn(c);
			_exit(0);
		}
		close(c);
	}
}

/* Connect with a timeout; returns the socket or -1. */
static int connect_to(const struct addrinfo *ai, int timeout_ms, double *ms)
{
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0), err = 0;
	socklen_t el = sizeof(err);
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	double t0 = now_ms();

	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)
		goto fail;
	if (poll(&p, 1, timeout_ms) != 1)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) || err)
		goto fail;
	*ms = now_ms() - t0;
	fcntl(fd, F_SETFL, 0);
	return fd;
fail:
	close(fd);
	return -1;
}

static int roundtrip(int fd, size_t bytes, int timeout_ms)
{
	char *out = malloc(bytes), *in = malloc(bytes);
	size_t sent = 0, got = 0;
	int ok = 0;

	if (!out || !in)
		goto done;
	for (size_t i = 0; i < bytes; i++)
		out[i] = (char)(i * 131 + (i >> 9));
	while (got < bytes) {
		struct pollfd p = { .fd = fd, .events = POLLIN | (sent < bytes ? POLLOUT : 0) };
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0)
			goto done;
		if ((p.revents & POLLOUT) && sent < bytes) {
			n = send(fd, out + sent, bytes - sent > 65536 ? 65536 : bytes - sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN)
				goto done;
			if (n > 0)
				sent += n;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(fd, in + got, bytes - got, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN))
				goto done;
			if (n > 0)
				got += n;
		}
	}
	ok = memcmp(in, out, bytes) == 0;
done:
	free(out);
	free(in);
	return ok;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int client(int argc, char **argv)
{
	const char *host = argv[0], *port = argv[1];
	int n = 1, timeout_ms = 5000, quiet = 0, ok = 0, bad = 0, opt, hold = 0, interval_ms = 0;
	size_t bytes = 1024;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *ai;
	double *times;

	optind = 2;
	while ((opt = getopt(argc, argv, "n:b:t:s:i:q")) != -1) {
		switch (opt) {
		case 'n': n = atoi(optarg); break; // NOLINT(cert-err34-c): test tool, arguments come from the test scripts
		case 'b': bytes = strtoul(optarg, NULL, 0); break;
		case 't': timeout_ms = atoi(optarg); break; // NOLINT(cert-err34-c): test tool, arguments come from the test scripts
		case 'q': quiet = 1; break;
		case 's': hold = atoi(optarg); break; // NOLINT(cert-err34-c): test tool, arguments come from the test scripts
		case 'i': interval_ms = atoi(optarg); break; // NOLINT(cert-err34-c): test tool, arguments come from the test scripts
		default: return 2;
		}
	}
	if (n < 1 || bytes < 1 || getaddrinfo(host, port, &hints, &ai)) {
		fprintf(stderr, "tcpecho: bad client arguments\n");
		return 2;
	}
	times = calloc(n, sizeof(*times));
	for (int i = 0; i < n; i++) {
		double ms = 0;
		int fd;

		if (i && interval_ms > 0)
			usleep((useconds_t)interval_ms * 1000);
		fd = connect_to(ai, timeout_ms, &ms);

		if (fd < 0) {
			if (!quiet)
				fprintf(stderr, "tcpecho: connection %d: connect failed: %s\n", i + 1,
					strerror(errno));
			bad++;
			continue;
		}
		if (!roundtrip(fd, bytes, timeout_ms)) {
			if (!quiet)
				fprintf(stderr, "tcpecho: connection %d: echo of %zu bytes failed\n",
					i + 1, bytes);
			bad++;
		} else {
			times[ok++] = ms;
		}
		if (hold > 0)
			sleep(hold);
		close(fd);
	}
	qsort(times, ok, sizeof(*times), cmp_double);
	printf("ok=%d failed=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", ok, bad,
	       ok ? times[(ok - 1) / 2] : 0, ok ? times[(int)((ok - 1) * 0.99)] : 0,
	       ok ? times[ok - 1] : 0);
	freeaddrinfo(ai);
	free(times);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "serve"))
		return serve(atoi(argv[2]), argc >= 4 ? argv[3] : NULL); // NOLINT(cert-err34-c): test tool, port from the test scripts
	if (argc >= 4 && !strcmp(argv[1], "client"))
		return client(argc - 2, argv + 2);
	fprintf(stderr, "usage: tcpecho serve PORT [LOG] | tcpecho client ADDR PORT [-n N] [-b BYTES] [-t MS] [-s HOLD_S] [-i MS] [-q]\n");
	return 2;
}
