/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Top sources: a count-min sketch of SYN source prefixes (per CPU) and the
 * heavy-hitter table xdpsyn_top (include/xdpsyn.h explains both). Per SYN
 * only the sketch's few counter increments run here. */
#ifndef XDPSYN_BPF_TOP_H
#define XDPSYN_BPF_TOP_H

#include "defs.h"
#include "maps.h"

static __always_inline __be32 prefix_mask(int bits)
{
	if (bits <= 0)
		return 0;
	if (bits >= 32)
		return 0xffffffff;
	return bpf_htonl(0xffffffffu << (32 - bits));
}

static __always_inline void prefix_of(struct xdpsyn_prefix *p,
				      const struct xdpsyn_config *cfg,
				      __u8 family, const __be32 *saddr)
{
	int plen;

	p->family = family;
	p->pad[0] = 0;
	p->pad[1] = 0;
	if (family == XDPSYN_V4) {
		plen = cfg->top_plen4 ? cfg->top_plen4 : XDPSYN_TOP_PLEN4_DEFAULT;
		if (plen > 32)
			plen = 32;
		p->plen = plen;
		p->addr[0] = saddr[0] & prefix_mask(plen);
		p->addr[1] = 0;
		p->addr[2] = 0;
		p->addr[3] = 0;
		return;
	}
	plen = cfg->top_plen6 ? cfg->top_plen6 : XDPSYN_TOP_PLEN6_DEFAULT;
	if (plen > 128)
		plen = 128;
	p->plen = plen;
#pragma unroll
	for (int i = 0; i < 4; i++)
		p->addr[i] = saddr[i] & prefix_mask(plen - 32 * i);
}

static __always_inline void top_touch(const struct xdpsyn_prefix *p, __u64 now,
				      int completed)
{
	struct xdpsyn_top_val *v = bpf_map_lookup_elem(&xdpsyn_top, p);

	if (v) {
		v->last_ns = now;
		if (completed)
			__sync_fetch_and_add(&v->completed, 1);
	} else {
		struct xdpsyn_top_val nv = {
			.first_ns = now, .last_ns = now, .completed = completed,
		};

		bpf_map_update_elem(&xdpsyn_top, p, &nv, BPF_NOEXIST);
	}
}

/* A SYN from saddr: count it in the sketch; a prefix whose estimate on this
 * CPU reaches a power of two >= XDPSYN_HH_MIN is (re)listed as a top
 * source. */
static __always_inline void top_syn(const struct xdpsyn_config *cfg,
				    __u8 family, const __be32 *saddr)
{
	struct xdpsyn_prefix p;
	struct xdpsyn_cms *cms;
	__u32 zero = 0, est = 0xffffffff;
	__u64 h;

	cms = bpf_map_lookup_elem(&xdpsyn_cms, &zero);
	if (!cms)
		return;
	prefix_of(&p, cfg, family, saddr);
	h = xdpsyn_prefix_hash(&p);
#pragma unroll
	for (int r = 0; r < XDPSYN_CMS_ROWS; r++) {
		__u32 col = xdpsyn_cms_col(h, r) & (XDPSYN_CMS_COLS - 1);
		__u32 c = ++cms->c[r][col];

		if (c < est)
			est = c;
	}
	if (est >= XDPSYN_HH_MIN && !(est & (est - 1)))
		top_touch(&p, bpf_ktime_get_tai_ns(), 0);
}

#endif
