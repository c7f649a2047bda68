/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the BPF_PROG_TEST_RUN programs (unit tests, fuzz, bench micro) share:
 * setup commands, the TAI clock, real sockets for bpf_skc_lookup_tcp to
 * find, and the per-CPU counters summed. */
#ifndef XDPSYN_TEST_HARNESS_H
#define XDPSYN_TEST_HARNESS_H

#include <stdarg.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "xdpsyn.h"

/* Name used in error messages (set by main). */
extern const char *harness_prog;

/* Run a shell command (printf format); exit 1 if it fails. */
void run_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t tai_ns(void);

/* A private network namespace with the fixtures' addresses on its
 * loopback: server 10.201.1.1 / fd00:201::1, client 10.201.2.7 /
 * fd00:201::2:7 (SRV6, CLI6 filled). Exits with "0 passed, 1 failed" when
 * it cannot be made. */
void netns_fixture(uint8_t srv6[16], uint8_t cli6[16]);
/* A listening TCP socket on addr:port (IPv6 only when v6); exits on error. */
int listen_on(int v6, const uint8_t *addr, int port);
/* A real established IPv4 connection cli:? -> srv:port through the listener
 * lfd: returns the client fd, the accepted fd in *afd, the port in *cport. */
int established_pair(const uint8_t cli[4], const uint8_t srv[4], int port,
		     int lfd, uint16_t *cport, int *afd);
/* The xdpsyn_stats per-CPU map summed over nproc CPUs; exits on error. */
void stats_sum(struct bpf_map *m, int nproc, uint64_t out[XDPSYN_CNT_MAX]);
/* Checks and their report lines, shared by the test programs that
 * define HARNESS_CHECKS: check() notes the first failed condition,
 * report(NAME) prints "ok   NAME" or "FAIL NAME: <that condition>" and
 * counts it in passed / failed. */
#ifdef HARNESS_CHECKS
extern int passed, failed;
extern char fail_msg[512];
int check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report(const char *name);
#endif

/* libbpf print callback without the debug level. */
int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap);

#endif
