// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn exporter: the metrics of every attached interface over HTTP
 * (GET /metrics, Prometheus text format 0.0.4), with libmicrohttpd. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "cli.h"

#define LISTEN_DEFAULT "127.0.0.1:9477"
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static void exporter_help(FILE *f)
{
	fprintf(f,
		"Usage: xdpsyn exporter [--listen ADDR:PORT]\n"
		"\n"
		"Serve the metrics of every attached interface over HTTP for\n"
		"Prometheus: GET /metrics (text format 0.0.4); anything else is 404.\n"
		"Each scrape reads the pinned maps, so interfaces attached or\n"
		"detached later are followed. Runs until SIGINT or SIGTERM.\n"
		"\n"
		"Options:\n"
		"  --listen ADDR:PORT  address to listen on (default " LISTEN_DEFAULT
		"):\n"
		"                      IPv4:PORT, [IPv6]:PORT, HOSTNAME:PORT, or :PORT\n"
		"                      for every IPv4 address. The metrics carry no\n"
		"                      secret but there is no authentication: a\n"
		"                      non-loopback address is the operator's call\n"
		"  -h, --help          this help\n"
		"\n"
		"Metrics (see xdpsyn(8)): xdpsyn_<counter>_total for every counter of\n"
		"`xdpsyn stats`, xdpsyn_handoff_errors_total{errno}, xdpsyn_flows,\n"
		"xdpsyn_flows_max, xdpsyn_handshake_rtt_seconds (histogram of the\n"
		"flow records at scrape time), xdpsyn_handshakes{state}, the policy's\n"
		"xdpsyn_policy_proxy_active, xdpsyn_policy_info{policy},\n"
		"xdpsyn_policy_since_seconds, xdpsyn_syn_rate, and the hand-off's\n"
		"xdpsyn_handoff_ready (0: net.ipv4.tcp_syncookies is 0) and\n"
		"xdpsyn_handoff_sysctl{sysctl}; for gateways xdpsyn_gw_conns{state},\n"
		"xdpsyn_gw_conns_max and per server xdpsyn_gw_srv_<counter>_total\n"
		"{server,port}; labels ifname, ifindex.\n");
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
			     const char *type, char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status,
				  const char *msg)
{
	char *body = strdup(msg);

	return body ? reply(c, status, "text/plain; charset=utf-8", body,
			    strlen(body)) : MHD_NO;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, /* NOLINT(readability-non-const-parameter): libmicrohttpd's MHD_AccessHandlerCallback signature */
				  void **con_cls)
{
	char **names, *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	(void)cls;
	(void)version;
	(void)upload_data;
	(void)con_cls;
	if (*upload_data_size)
		return MHD_NO; /* no request body expected */
	if (strcmp(url, "/metrics"))
		return reply_text(c, MHD_HTTP_NOT_FOUND,
				  "not found: the metrics are at /metrics\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "method not allowed: GET /metrics\n");
	names = attached_list_live(&err);
	if (!names)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "cannot list the attached interfaces\n");
	f = open_memstream(&buf, &len);
	if (f) {
		/* an interface that cannot be read is left out (and logged) */
		metrics_write(f, names);
		if (fclose(f)) {
			free(buf);
			buf = NULL;
		}
	}
	names_free(names);
	if (!buf)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory\n");
	return reply(c, MHD_HTTP_OK, CONTENT_TYPE, buf, len);
}

static void on_stop_signal(int sig)
{
	(void)sig; /* taken by sigwait; never runs while the signals are blocked */
}

static bool addr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		const struct in6_addr *a = &s6->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/* "ADDR:PORT", "[ADDR]:PORT" or ":PORT" into a listening socket. Returns
 * the fd, or -exit code after a message. */
static int listen_on(const char *spec, char *shown, size_t shown_len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	char host[256], port[8], addr[INET6_ADDRSTRLEN];
	const char *colon = strrchr(spec, ':');
	struct addrinfo *ai;
	unsigned long p;
	size_t hlen;
	int fd, one = 1, err;

	if (!colon || colon - spec >= (long)sizeof(host) ||
	    parse_ulong(colon + 1, 1, 65535, &p))
		return -usage_err("exporter", "--listen %s: expected ADDR:PORT, "
				  "[IPv6]:PORT or :PORT", spec);
	hlen = colon - spec;
	if (hlen >= 2 && spec[0] == '[' && spec[hlen - 1] == ']') {
		memcpy(host, spec + 1, hlen - 2);
		host[hlen - 2] = 0;
		hints.ai_family = AF_INET6;
		hints.ai_flags |= AI_NUMERICHOST;
	} else if (memchr(spec, ':', hlen) || memchr(spec, '[', hlen)) {
		return -usage_err("exporter", "--listen %s: write an IPv6 address "
				  "in brackets: [::1]:9477", spec);
	} else {
		memcpy(host, spec, hlen);
		host[hlen] = 0;
	}
	snprintf(port, sizeof(port), "%lu", p);
	if (!host[0]) {
		hints.ai_family = AF_INET;
		hints.ai_flags |= AI_PASSIVE;
	}
	err = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (err)
		return -usage_err("exporter", "--listen %s: %s", spec,
				  gai_strerror(err));
	if (!addr_is_loopback(ai->ai_addr))
		warnmsg("exporter", "listening on %s, not a loopback address: "
			"anyone who can reach it reads the metrics", spec);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
		err = errno;
		errmsg("exporter", "cannot listen on %s: %s", spec, strerror(err));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return err == EADDRINUSE || err == EADDRNOTAVAIL ? -EXIT_USAGE :
		       -EXIT_RUNTIME;
	}
	if (ai->ai_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr,
			  addr, sizeof(addr));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr,
			  addr, sizeof(addr));
	snprintf(shown, shown_len, ai->ai_family == AF_INET6 ? "[%s]:%lu" :
		 "%s:%lu", addr, p);
	freeaddrinfo(ai);
	return fd;
}

int cmd_exporter(int argc, char **argv)
{
	enum { O_LISTEN = 256 };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *listen_spec = LISTEN_DEFAULT;
	struct MHD_Daemon *d;
	char shown[INET6_ADDRSTRLEN + 16], **names;
	sigset_t stop, saved;
	int c, fd, err, sig;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case O_LISTEN:
			listen_spec = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			exporter_help(stdout);
			return EXIT_OK;
		default:
			return bad_option("exporter", argv);
		}
	}
	if (optind != argc)
		return usage_err("exporter", "no argument expected (every attached "
				 "interface is exported)");
	/* the pins are readable by root only: say so now, not at each scrape */
	names = attached_list_live(&err);
	if (!names)
		return err;
	names_free(names);
	if (access(PIN_BASE, F_OK) == 0 && access(PIN_BASE, R_OK | X_OK)) {
		errmsg(PIN_BASE, "%s: run as root", strerror(errno));
		return EXIT_PREREQ;
	}

	/* SIGINT/SIGTERM are taken by sigwait below; the server's thread
	 * inherits the mask and never sees them. A handler, because a signal
	 * ignored at exec (a shell's background job) would be discarded. */
	signal(SIGINT, on_stop_signal);
	signal(SIGTERM, on_stop_signal);
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, &saved);
	signal(SIGPIPE, SIG_IGN);

	fd = listen_on(listen_spec, shown, sizeof(shown));
	if (fd < 0) {
		sigprocmask(SIG_SETMASK, &saved, NULL);
		return -fd;
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
			     0, NULL, NULL, on_request, NULL,
			     MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_CONNECTION_LIMIT, 32u,
			     MHD_OPTION_CONNECTION_TIMEOUT, 10u,
			     MHD_OPTION_END);
	if (!d) {
		errmsg("exporter", "starting the HTTP server on %s failed", shown);
		close(fd);
		sigprocmask(SIG_SETMASK, &saved, NULL);
		return EXIT_RUNTIME;
	}
	printf("xdpsyn exporter: serving http://%s/metrics\n", shown);
	fflush(stdout);
	do {
		err = sigwait(&stop, &sig);
	} while (err == EINTR);
	MHD_stop_daemon(d); /* closes the listening socket too */
	sigprocmask(SIG_SETMASK, &saved, NULL);
	printf("xdpsyn exporter: stopped (%s)\n", sigabbrev_np(sig) ?
	       sigabbrev_np(sig) : "signal");
	return EXIT_OK;
}
