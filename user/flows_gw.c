// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn flows, gateway mode: the connections of the state table
 * xdpsyn_gw_conns (include/xdpsyn.h, "Gateway mode"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <json-c/json.h>
#include "cli.h"

struct gw_flow {
	struct xdpsyn_gw_key k;
	struct xdpsyn_gw_conn v;
};

/* "TS,SACK,WS,ECN" of one side's flags (the client's: SHIFT 0, the
 * server's: 4), "-" when none. */
static void side_opts(char *buf, size_t len, __u16 flags, int shift)
{
	static const char *const names[] = { "TS", "SACK", "WS", "ECN" };
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < 4; i++)
		if (flags & (1u << (i + shift)))
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "", names[i]);
	if (!n)
		snprintf(buf, len, "-");
}

static json_object *side_json(__u16 flags, int shift, __u8 ws, __u16 mss)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "ts", json_object_new_boolean(flags & (0x1 << shift)));
	json_object_object_add(j, "sack", json_object_new_boolean(flags & (0x2 << shift)));
	json_object_object_add(j, "ws", json_object_new_boolean(flags & (0x4 << shift)));
	json_object_object_add(j, "ecn", json_object_new_boolean(flags & (0x8 << shift)));
	json_object_object_add(j, "wscale", ws == XDPSYN_WSCALE_NONE ? NULL :
			       json_object_new_int(ws));
	json_object_object_add(j, "mss", mss ? json_object_new_int(mss) : NULL);
	return j;
}

static __u64 secs_since(__u64 mono, __u64 t)
{
	return t && mono > t ? (mono - t) / 1000000000ULL : 0;
}

static json_object *gw_flow_json(const struct gw_flow *f, __u64 mono)
{
	const struct xdpsyn_gw_key *k = &f->k;
	const struct xdpsyn_gw_conn *v = &f->v;
	json_object *j = json_object_new_object();
	char a[INET6_ADDRSTRLEN];

#define ADD(key, val) json_object_object_add(j, key, val)
	ADD("family", json_object_new_int(k->family == XDPSYN_V6 ? 6 : 4));
	fmt_addr(a, sizeof(a), k->family, k->caddr);
	ADD("client", json_object_new_string(a));
	ADD("cport", json_object_new_int(ntohs(k->cport)));
	fmt_addr(a, sizeof(a), k->family, k->saddr);
	ADD("server", json_object_new_string(a));
	ADD("sport", json_object_new_int(ntohs(k->sport)));
	ADD("state", json_object_new_string(gw_state_name(v->state)));
	ADD("c_rtt_us", v->c_rtt_us ? json_object_new_int64(v->c_rtt_us) : NULL);
	ADD("s_rtt_us", v->s_rtt_us ? json_object_new_int64(v->s_rtt_us) : NULL);
	ADD("c2s_pkts", json_object_new_uint64(v->c2s_pkts));
	ADD("s2c_pkts", json_object_new_uint64(v->s2c_pkts));
	ADD("age_s", json_object_new_uint64(secs_since(mono, v->created_ns)));
	ADD("idle_s", json_object_new_uint64(secs_since(mono, v->last_ns)));
	ADD("client_opts", side_json(v->flags, 0, v->c_ws, v->c_mss));
	ADD("server_opts", side_json(v->flags, 4, v->s_ws, v->s_mss));
	ADD("g_ws", json_object_new_int(v->g_ws));
	ADD("adopted", json_object_new_boolean(v->flags & XDPSYN_GW_ADOPTED));
	ADD("rst", json_object_new_boolean(v->flags & XDPSYN_GW_RST));
	ADD("fin_client", json_object_new_boolean(v->flags & XDPSYN_GW_FIN_C));
	ADD("fin_server", json_object_new_boolean(v->flags & XDPSYN_GW_FIN_S));
	ADD("vlan", v->vlan & XDPSYN_VLAN_VID_MASK ?
	    json_object_new_int(v->vlan & XDPSYN_VLAN_VID_MASK) : NULL);
#undef ADD
	return j;
}

static void fmt_us(char *buf, size_t len, __u32 us)
{
	if (us)
		snprintf(buf, len, "%.3f", us / 1e3);
	else
		snprintf(buf, len, "-");
}

static void fmt_ws(char *buf, size_t len, __u8 ws)
{
	if (ws == XDPSYN_WSCALE_NONE)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%u", ws);
}

#define GW_FLOW_FMT "%-*s %-*s %-11s %9s %9s %8s %8s %7s %7s %-15s %-15s %-8s %s\n"

static void gw_flow_print(const struct gw_flow *f, __u64 mono, int aw)
{
	const struct xdpsyn_gw_conn *v = &f->v;
	char c[INET6_ADDRSTRLEN + 8], s[INET6_ADDRSTRLEN + 8], crtt[16], srtt[16];
	char c2s[24], s2c[24], age[24], idle[24], copt[24], sopt[24], ws[24];
	char cw[4], gw[4], sw[4], mark[24];

	fmt_endpoint(c, sizeof(c), f->k.family, f->k.caddr, f->k.cport);
	fmt_endpoint(s, sizeof(s), f->k.family, f->k.saddr, f->k.sport);
	fmt_us(crtt, sizeof(crtt), v->c_rtt_us);
	fmt_us(srtt, sizeof(srtt), v->s_rtt_us);
	snprintf(c2s, sizeof(c2s), "%llu", v->c2s_pkts);
	snprintf(s2c, sizeof(s2c), "%llu", v->s2c_pkts);
	snprintf(age, sizeof(age), "%llu", secs_since(mono, v->created_ns));
	snprintf(idle, sizeof(idle), "%llu", secs_since(mono, v->last_ns));
	side_opts(copt, sizeof(copt), v->flags, 0);
	side_opts(sopt, sizeof(sopt), v->flags, 4);
	fmt_ws(cw, sizeof(cw), v->c_ws);
	fmt_ws(gw, sizeof(gw), v->g_ws);
	fmt_ws(sw, sizeof(sw), v->s_ws);
	snprintf(ws, sizeof(ws), "%s/%s/%s", cw, gw, sw);
	snprintf(mark, sizeof(mark), "%s%s%s",
		 v->flags & XDPSYN_GW_ADOPTED ? "ADOPTED" : "",
		 (v->flags & XDPSYN_GW_ADOPTED) && (v->flags & XDPSYN_GW_RST) ? "," : "",
		 v->flags & XDPSYN_GW_RST ? "RST" : "");
	printf(GW_FLOW_FMT, aw, c, aw, s, gw_state_name(v->state), crtt, srtt,
	       c2s, s2c, age, idle, copt, sopt, ws, mark[0] ? mark : "-");
}

static int cmp_created(const void *a, const void *b)
{
	const struct gw_flow *x = a, *y = b;

	if (x->v.created_ns != y->v.created_ns)
		return x->v.created_ns < y->v.created_ns ? -1 : 1;
	return memcmp(&x->k, &y->k, sizeof(x->k));
}

/* Slowest first; without a value last. */
static int cmp_us(__u32 x, __u32 y, const void *a, const void *b)
{
	if (!x != !y)
		return x ? -1 : 1;
	if (x != y)
		return x > y ? -1 : 1;
	return cmp_created(a, b);
}

static int cmp_c_rtt(const void *a, const void *b)
{
	return cmp_us(((const struct gw_flow *)a)->v.c_rtt_us,
		      ((const struct gw_flow *)b)->v.c_rtt_us, a, b);
}

static int cmp_s_rtt(const void *a, const void *b)
{
	return cmp_us(((const struct gw_flow *)a)->v.s_rtt_us,
		      ((const struct gw_flow *)b)->v.s_rtt_us, a, b);
}

/* "established,syn_sent" into a mask of 1 << state; -1 on an unknown name. */
static int gw_states_parse(const char *arg, unsigned *mask)
{
	*mask = 0;
	while (arg && *arg) {
		size_t len = strcspn(arg, ",");
		int st;

		for (st = 1; st < GW_NSTATES; st++)
			if (strlen(gw_state_name(st)) == len &&
			    !strncmp(arg, gw_state_name(st), len))
				break;
		if (st == GW_NSTATES)
			return -1;
		*mask |= 1u << st;
		arg += len + !!arg[len];
	}
	return 0;
}

int gw_flows_one(const struct pins *p, int sort, unsigned long limit,
		 const char *states, json_object *jarr, bool first)
{
	struct xdpsyn_gw_key *k = NULL;
	struct xdpsyn_gw_conn *v = NULL;
	struct gw_flow *f;
	__u64 mono = mono_now_ns(), max = map_max_entries(p->gw_conns_fd);
	size_t n, nsel = 0, skip = 0;
	unsigned mask = 0;
	int err, aw = 21;

	if (states && gw_states_parse(states, &mask))
		return usage_err("flows", "--state %s: a gateway's states are "
				 "syn_sent, established, fin_wait, closed", states);
	err = gw_conns_read(p->gw_conns_fd, &k, &v, &n);
	if (err) {
		errmsg(p->ifname, "reading %s: %s", pin_names[PIN_GW_CONNS],
		       strerror(-err));
		return EXIT_RUNTIME;
	}
	f = calloc(n ? n : 1, sizeof(*f));
	if (!f) {
		free(k);
		free(v);
		errmsg("memory", "out of memory");
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < n; i++)
		if (!mask || (v[i].state < 32 && (mask & 1u << v[i].state)))
			f[nsel++] = (struct gw_flow){ .k = k[i], .v = v[i] };
	free(k);
	free(v);
	qsort(f, nsel, sizeof(*f), sort == 1 ? cmp_c_rtt : sort == 2 ? cmp_s_rtt :
	      cmp_created);
	if (limit && nsel > limit) {
		skip = sort == 0 ? nsel - limit : 0; /* the newest, in order */
		nsel = limit;
	}
	if (jarr) {
		json_object *j = json_object_new_object(), *jf = json_object_new_array();

		json_object_object_add(j, "name", json_object_new_string(p->ifname));
		json_object_object_add(j, "gateway", json_object_new_boolean(true));
		json_object_object_add(j, "count", json_object_new_uint64(n));
		json_object_object_add(j, "max", json_object_new_uint64(max));
		for (size_t i = 0; i < nsel; i++)
			json_object_array_add(jf, gw_flow_json(&f[skip + i], mono));
		json_object_object_add(j, "flows", jf);
		json_object_array_add(jarr, j);
		free(f);
		return 0;
	}
	for (size_t i = 0; i < nsel; i++) {
		char buf[INET6_ADDRSTRLEN + 8];
		int l;

		fmt_endpoint(buf, sizeof(buf), f[skip + i].k.family,
			     f[skip + i].k.caddr, f[skip + i].k.cport);
		l = strlen(buf);
		aw = l > aw ? l : aw;
		fmt_endpoint(buf, sizeof(buf), f[skip + i].k.family,
			     f[skip + i].k.saddr, f[skip + i].k.sport);
		l = strlen(buf);
		aw = l > aw ? l : aw;
	}
	printf("%s%s: gateway, %zu connections in the state table (max %llu)",
	       first ? "" : "\n", p->ifname, n, max);
	if (mask)
		printf(", %zu match --state %s", nsel + skip, states);
	printf("\n");
	if (nsel)
		printf(GW_FLOW_FMT, aw, "CLIENT", aw, "SERVER", "STATE", "C_RTT(ms)",
		       "S_RTT(ms)", "C2S", "S2C", "AGE(s)", "IDLE(s)", "C_OPTS",
		       "S_OPTS", "WS(c/g/s)", "MARK");
	for (size_t i = 0; i < nsel; i++)
		gw_flow_print(&f[skip + i], mono, aw);
	free(f);
	return 0;
}
