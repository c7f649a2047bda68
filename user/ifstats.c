// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn CLI: reading an interface's counters (the per-CPU maps
 * xdpsyn_stats and xdpsyn_handoff_err) and their names. Used by `xdpsyn
 * stats` (counters.c), the Prometheus metrics (metrics.c) and status. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cli.h"

#define CNT_NAME(name, help) #name,
#define CNT_HELP(name, help) help,
static const char *const cnt_names[] = { XDPSYN_COUNTERS(CNT_NAME) };
static const char *const cnt_helps[] = { XDPSYN_COUNTERS(CNT_HELP) };
#undef CNT_NAME
#undef CNT_HELP

const char *counter_name(int idx)
{
	static char lower[XDPSYN_CNT_MAX][32];

	if (idx < 0 || idx >= XDPSYN_CNT_MAX)
		return NULL;
	if (!lower[idx][0])
		for (size_t i = 0; cnt_names[idx][i] && i + 1 < sizeof(lower[0]); i++)
			lower[idx][i] = tolower((unsigned char)cnt_names[idx][i]);
	return lower[idx];
}

const char *counter_help(int idx)
{
	return idx >= 0 && idx < XDPSYN_CNT_MAX ? cnt_helps[idx] : NULL;
}

/* Sum of a per-CPU array slot of NWORDS u64 over the possible CPUs. The
 * map's own value size sets the stride: a map pinned by an older xdpsyn
 * has fewer counters (those it lacks read 0). */
static int percpu_sum(int fd, __u32 key, __u64 *out, size_t nwords)
{
	int ncpus = libbpf_num_possible_cpus();
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	size_t stride = nwords;
	__u64 *vals;

	if (ncpus <= 0)
		return -EINVAL;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.value_size)
		stride = (info.value_size + 7) / 8;
	vals = calloc((size_t)ncpus * stride, sizeof(__u64));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, vals)) {
		int err = -errno;

		free(vals);
		return err;
	}
	memset(out, 0, nwords * sizeof(__u64));
	for (int c = 0; c < ncpus; c++)
		for (size_t i = 0; i < nwords && i < stride; i++)
			out[i] += vals[(size_t)c * stride + i];
	free(vals);
	return 0;
}

int counters_read(int stats_fd, __u64 out[XDPSYN_CNT_MAX])
{
	return percpu_sum(stats_fd, 0, out, XDPSYN_CNT_MAX);
}

int handoff_errs_read(int fd, __u64 out[XDPSYN_ERRNO_SLOTS])
{
	for (__u32 slot = 0; slot < XDPSYN_ERRNO_SLOTS; slot++) {
		int err = percpu_sum(fd, slot, &out[slot], 1);

		if (err)
			return err;
	}
	return 0;
}

const char *errno_name(int e)
{
	const char *n;

	if (e == XDPSYN_ERRNO_SLOTS - 1)
		return "other"; /* the last slot counts every larger errno too */
	n = e ? strerrorname_np(e) : NULL;
	return n ? n : "?";
}

int ifstats_read(struct ifstats *s, const char *name)
{
	struct pins p;
	int ret, err;

	memset(s, 0, sizeof(*s));
	s->name = name;
	ret = pins_open(&p, name, PINS_STATS);
	if (ret)
		return ret;
	s->ifindex = p.have_meta ? p.meta.ifindex : 0;
	s->mono_ns = mono_now_ns();
	s->real_ns = realtime_now_ns();
	err = counters_read(p.stats_fd, s->cnt);
	if (err) {
		errmsg(name, "reading %s: %s", pin_names[PIN_STATS], strerror(-err));
		pins_close(&p);
		return EXIT_RUNTIME;
	}
	if (p.herr_fd >= 0 && !handoff_errs_read(p.herr_fd, s->errs))
		s->have_errs = true;
	handoff_read(&s->handoff, &p, false);
	pins_close(&p);
	return 0;
}
