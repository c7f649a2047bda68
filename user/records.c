// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn CLI: reading the tracker's maps (flow records, top sources and
 * the count-min sketch of SYNs). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cli.h"

#define DUMP_CHUNK 1024

__u32 map_max_entries(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}

struct dump {
	size_t ksz, vsz, n, cap;
	char *keys, *vals;
};

static int dump_reserve(struct dump *d, size_t more)
{
	size_t cap = d->cap ? d->cap : DUMP_CHUNK;
	char *k, *v;

	while (cap < d->n + more)
		cap *= 2;
	if (cap == d->cap)
		return 0;
	k = realloc(d->keys, cap * d->ksz);
	if (!k)
		return -ENOMEM;
	d->keys = k;
	v = realloc(d->vals, cap * d->vsz);
	if (!v)
		return -ENOMEM;
	d->vals = v;
	/* zeroed: tools that do not know the batch syscall (valgrind) see the
	 * kernel's writes as uninitialised otherwise */
	memset(k + d->cap * d->ksz, 0, (cap - d->cap) * d->ksz);
	memset(v + d->cap * d->vsz, 0, (cap - d->cap) * d->vsz);
	d->cap = cap;
	return 0;
}

/* The kernel's batched lookup: a few syscalls for the whole map, and no
 * restart from the first key when an entry is evicted meanwhile. */
static int dump_batch(int fd, struct dump *d)
{
	__u64 token = 0;
	bool first = true;
	size_t want = DUMP_CHUNK;

	for (;;) {
		__u32 count;
		int err;

		err = dump_reserve(d, want);
		if (err)
			return err;
		count = want;
		err = bpf_map_lookup_batch(fd, first ? NULL : &token, &token,
					   d->keys + d->n * d->ksz,
					   d->vals + d->n * d->vsz, &count, NULL);
		err = err ? -errno : 0;
		if (err && err != -ENOENT && err != -ENOSPC)
			return err;
		if (err == -ENOSPC && !count) {
			/* a bucket holds more entries than asked for */
			if (want >= (1u << 20))
				return err;
			want *= 2;
			continue;
		}
		d->n += count;
		first = false;
		if (err == -ENOENT)
			return 0;
	}
}

/* Key by key, for kernels or map types without batch operations. */
static int dump_iter(int fd, struct dump *d)
{
	void *prev = NULL;
	int err;

	d->n = 0;
	for (;;) {
		err = dump_reserve(d, 1);
		if (err)
			return err;
		if (bpf_map_get_next_key(fd, prev, d->keys + d->n * d->ksz))
			return errno == ENOENT ? 0 : -errno;
		prev = d->keys + d->n * d->ksz;
		if (bpf_map_lookup_elem(fd, prev, d->vals + d->n * d->vsz)) {
			if (errno == ENOENT) /* deleted meanwhile */
				continue;
			return -errno;
		}
		d->n++;
	}
}

int map_dump(int fd, void **keys, void **vals, size_t *n)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct dump d = {};
	int err;

	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (err)
		return err;
	d.ksz = info.key_size;
	d.vsz = info.value_size;
	err = dump_batch(fd, &d);
	if (err == -EINVAL || err == -EOPNOTSUPP ||
	    err == -524 /* ENOTSUPP */)
		err = dump_iter(fd, &d);
	if (err) {
		free(d.keys);
		free(d.vals);
		return err;
	}
	*keys = d.keys;
	*vals = d.vals;
	*n = d.n;
	return 0;
}

int flows_read(int fd, struct xdpsyn_flow_event **out, size_t *n)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char *keys = NULL, *vals = NULL;
	struct xdpsyn_flow_event *ev;
	size_t vsz;
	int err;

	/* An attachment made by an older xdpsyn has shorter values (the
	 * cookie fields only, 24 bytes): the fields it has are at the same
	 * offsets, the rest reads as 0 (state 0: a cookie record). */
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.key_size != sizeof(struct xdpsyn_flow_key) ||
	    info.value_size < offsetof(struct xdpsyn_flow, state))
		return -EINVAL;
	vsz = info.value_size < sizeof(struct xdpsyn_flow) ?
	      info.value_size : sizeof(struct xdpsyn_flow);
	err = map_dump(fd, (void **)&keys, (void **)&vals, n);
	if (err)
		return err;
	ev = calloc(*n ? *n : 1, sizeof(*ev));
	if (!ev) {
		err = -ENOMEM;
	} else {
		for (size_t i = 0; i < *n; i++) {
			memcpy(&ev[i].key, keys + i * info.key_size,
			       sizeof(ev[i].key));
			memcpy(&ev[i].flow, vals + i * (size_t)info.value_size, vsz);
		}
		*out = ev;
	}
	free(keys);
	free(vals);
	return err;
}

__u64 cms_estimate(const __u64 *sum, const struct xdpsyn_prefix *prefix)
{
	__u64 h = xdpsyn_prefix_hash(prefix), est = ~0ULL;

	for (int r = 0; r < XDPSYN_CMS_ROWS; r++) {
		__u64 c = sum[r * XDPSYN_CMS_COLS + xdpsyn_cms_col(h, r)];

		if (c < est)
			est = c;
	}
	return est;
}

/* The sketch summed over the possible CPUs, ROWS x COLS u64 (malloc'd). */
static int cms_sum(int fd, __u64 **out)
{
	int ncpus = libbpf_num_possible_cpus();
	const size_t cells = (size_t)XDPSYN_CMS_ROWS * XDPSYN_CMS_COLS;
	struct xdpsyn_cms *percpu;
	__u64 *sum;
	__u32 zero = 0;

	if (ncpus <= 0)
		return -EINVAL;
	percpu = calloc(ncpus, sizeof(*percpu));
	sum = calloc(cells, sizeof(*sum));
	if (!percpu || !sum) {
		free(percpu);
		free(sum);
		return -ENOMEM;
	}
	int err = bpf_map_lookup_elem(fd, &zero, percpu);

	if (err) {
		free(percpu);
		free(sum);
		return err;
	}
	for (int c = 0; c < ncpus; c++)
		for (int r = 0; r < XDPSYN_CMS_ROWS; r++)
			for (int i = 0; i < XDPSYN_CMS_COLS; i++)
				sum[(size_t)r * XDPSYN_CMS_COLS + i] += percpu[c].c[r][i];
	free(percpu);
	*out = sum;
	return 0;
}

static int top_cmp(const void *a, const void *b)
{
	const struct top_entry *x = a, *y = b;

	if (x->syns != y->syns)
		return x->syns < y->syns ? 1 : -1;
	if (x->val.completed != y->val.completed)
		return x->val.completed < y->val.completed ? 1 : -1;
	return memcmp(&x->prefix, &y->prefix, sizeof(x->prefix));
}

int top_read(int top_fd, int cms_fd, struct top_entry **out, size_t *n)
{
	struct xdpsyn_prefix *keys = NULL;
	struct xdpsyn_top_val *vals = NULL;
	struct top_entry *t = NULL;
	__u64 *sum = NULL;
	int err;

	err = cms_sum(cms_fd, &sum);
	if (!err)
		err = map_dump(top_fd, (void **)&keys, (void **)&vals, n);
	if (!err) {
		t = calloc(*n ? *n : 1, sizeof(*t));
		if (!t)
			err = -ENOMEM;
	}
	if (!err) {
		for (size_t i = 0; i < *n; i++) {
			t[i].prefix = keys[i];
			t[i].val = vals[i];
			t[i].syns = cms_estimate(sum, &keys[i]);
		}
		qsort(t, *n, sizeof(*t), top_cmp);
		*out = t;
	}
	free(keys);
	free(vals);
	free(sum);
	return err;
}
