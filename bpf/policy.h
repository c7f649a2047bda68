/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The auto policy: count SYNs per CPU in sliding windows, switch to proxy
 * when their sum over all CPUs reaches syn_rate (or the kernel started
 * sending its own cookies), and back to track when a timer finds the rate
 * below syn_rate / 2 for calm_s. include/xdpsyn.h has the window maths. */
#ifndef XDPSYN_BPF_POLICY_H
#define XDPSYN_BPF_POLICY_H

#include "defs.h"
#include "maps.h"

/* Set by the loader: CPUs to sum over (libbpf_num_possible_cpus). */
const volatile __u32 nr_cpus = 1;

struct rate_walk {
	__u64 now;
	__u64 sum;
};

static long rate_step(__u32 cpu, void *arg)
{
	struct rate_walk *w = arg;
	struct xdpsyn_rate *r;
	__u32 zero = 0;

	r = bpf_map_lookup_percpu_elem(&xdpsyn_rate, &zero, cpu);
	if (r)
		w->sum += xdpsyn_rate_sum(r, w->now);
	return 0;
}

/* The sliding-window sum of every CPU (another CPU's slot may be read while
 * it changes: an estimate either way). */
static __always_inline __u64 rate_sum_all(__u64 now)
{
	struct rate_walk w = { .now = now };
	__u32 n = nr_cpus;

	if (n > XDPSYN_MAX_CPUS)
		n = XDPSYN_MAX_CPUS;
	bpf_loop(n, rate_step, &w, 0);
	return w.sum;
}

static int policy_tick(void *map, __u32 *key, struct xdpsyn_policy_state *ps);

/* Move the state FROM -> TO once (the CPU that wins the exchange records
 * and counts the switch). */
static __always_inline int policy_switch(struct xdpsyn_policy_state *ps,
					 __u64 from, __u64 to, __u32 reason,
					 __u64 now, __u64 sum)
{
	if (__sync_val_compare_and_swap(&ps->state, from, to) != from)
		return 0;
	ps->since_ns = now;
	ps->reason = reason;
	ps->last_high_ns = now;
	ps->switch_rate = sum / xdpsyn_rate_threshold(1);
	{
		/* only the exchange's winner gets here: no other writer */
		struct xdpsyn_switch *h = &ps->history[ps->switches % XDPSYN_SWITCH_HIST];

		h->time_ns = now;
		h->rate = ps->switch_rate;
		h->to = (__u32)to;
		h->reason = reason;
		ps->switches++;
	}
	count(stats_get(), to == XDPSYN_POLICY_PROXY ?
		  XDPSYN_CNT_POLICY_TO_PROXY : XDPSYN_CNT_POLICY_TO_TRACK);
	if (to == XDPSYN_POLICY_PROXY) {
		/* -EBUSY when initialised by an earlier switch: fine. */
		bpf_timer_init(&ps->timer, &xdpsyn_policy, CLOCK_MONOTONIC);
		bpf_timer_set_callback(&ps->timer, policy_tick);
		bpf_timer_start(&ps->timer, XDPSYN_POLICY_TICK_NS, 0);
	}
	return 1;
}

/* While in proxy: every tick, note whether the rate is still at least
 * syn_rate / 2; after calm_ns below it, go back to track and stop. */
static int policy_tick(void *map, __u32 *key, struct xdpsyn_policy_state *ps)
{
	struct xdpsyn_config *cfg;
	__u32 zero = 0;
	__u64 now, sum;

	cfg = bpf_map_lookup_elem(&xdpsyn_config, &zero);
	if (!cfg || cfg->policy != XDPSYN_POLICY_AUTO ||
	    ps->state != XDPSYN_POLICY_PROXY)
		return 0;
	now = bpf_ktime_get_tai_ns();
	sum = rate_sum_all(now);
	if (sum >= cfg->rate_lo) {
		ps->last_high_ns = now;
	} else if (now - ps->last_high_ns >= cfg->calm_ns) {
		policy_switch(ps, XDPSYN_POLICY_PROXY, XDPSYN_POLICY_TRACK,
			      XDPSYN_SWITCH_CALM, now, sum);
		return 0;
	}
	bpf_timer_start(&ps->timer, XDPSYN_POLICY_TICK_NS, 0);
	return 0;
}

/* A SYN under the auto policy: count it in this CPU's window and decide
 * what to do with it (XDPSYN_POLICY_PROXY or _TRACK). The other CPUs are
 * summed only when this CPU's own sum reaches its share of the threshold,
 * and then every 8th SYN. */
static __always_inline __u32 policy_auto_syn(const struct xdpsyn_config *cfg,
					     struct xdpsyn_policy_state *ps,
					     __u64 now)
{
	__u64 w = now >> XDPSYN_RATE_WIN_SHIFT, sum;
	struct xdpsyn_rate *r;
	__u32 zero = 0;

	r = bpf_map_lookup_elem(&xdpsyn_rate, &zero);
	if (!r)
		return ps->state;
	if (r->win != w) {
		r->prev = r->win + 1 == w ? r->cur : 0;
		r->cur = 0;
		r->win = w;
	}
	r->cur++;
	if (ps->state != XDPSYN_POLICY_TRACK)
		return XDPSYN_POLICY_PROXY;
	if (ps->kcookie_ns && now - ps->kcookie_ns < XDPSYN_KCOOKIE_TRIGGER_NS) {
		policy_switch(ps, XDPSYN_POLICY_TRACK, XDPSYN_POLICY_PROXY,
			      XDPSYN_SWITCH_KCOOKIE, now, rate_sum_all(now));
		return XDPSYN_POLICY_PROXY;
	}
	if ((r->cur & 7) || xdpsyn_rate_sum(r, now) < cfg->rate_hi_cpu)
		return XDPSYN_POLICY_TRACK;
	sum = rate_sum_all(now);
	if (sum < cfg->rate_hi)
		return XDPSYN_POLICY_TRACK;
	policy_switch(ps, XDPSYN_POLICY_TRACK, XDPSYN_POLICY_PROXY,
		      XDPSYN_SWITCH_RATE, now, sum);
	return XDPSYN_POLICY_PROXY;
}

/* What the XDP program does with a SYN now. */
static __always_inline __u32 policy_for_syn(const struct xdpsyn_config *cfg,
					    __u64 now)
{
	struct xdpsyn_policy_state *ps;

	if (cfg->policy != XDPSYN_POLICY_AUTO)
		return cfg->policy == XDPSYN_POLICY_TRACK ? XDPSYN_POLICY_TRACK :
							    XDPSYN_POLICY_PROXY;
	ps = policy_get();
	if (!ps)
		return XDPSYN_POLICY_PROXY;
	return policy_auto_syn(cfg, ps, now);
}

#endif
