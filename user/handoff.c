// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn CLI: hand-off health (cli.h): the sysctls the hand-off depends on
 * and the MPTCP listeners on protected ports, for status, stats and the
 * exporter. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include "cli.h"

static const struct {
	const char *sysctl;
	const char *option; /* what it turns off; NULL: the hand-off itself */
} ho_tab[HO_N] = {
	[HO_SYNCOOKIES] = { "net.ipv4.tcp_syncookies", NULL },
	[HO_TIMESTAMPS] = { "net.ipv4.tcp_timestamps", "timestamps" },
	[HO_SACK] = { "net.ipv4.tcp_sack", "SACK" },
	[HO_WSCALE] = { "net.ipv4.tcp_window_scaling", "window scaling" },
	[HO_ECN] = { "net.ipv4.tcp_ecn", "ECN" },
};

const char *handoff_sysctl(int i)
{
	return i >= 0 && i < HO_N ? ho_tab[i].sysctl : NULL;
}

const char *handoff_option(int i)
{
	return i >= 0 && i < HO_N ? ho_tab[i].option : NULL;
}

static bool port_protected(const struct xdpsyn_ports *p, __u16 port)
{
	return (p->bits[port / 64] >> (port % 64)) & 1;
}

struct mptcp_dump {
	struct handoff *h;
	const struct xdpsyn_ports *ports; /* per family */
};

static int mptcp_msg(const struct nlmsghdr *nh, void *arg)
{
	const struct inet_diag_msg *m = NLMSG_DATA(nh);
	struct mptcp_dump *d = arg;
	struct handoff *h = d->h;
	__u16 port;
	int i;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return 0;
	port = ntohs(m->id.idiag_sport);
	/* protected in either family: a dual-stack listener takes both */
	if (!port_protected(&d->ports[XDPSYN_V4], port) &&
	    !port_protected(&d->ports[XDPSYN_V6], port))
		return 0;
	for (i = 0; i < h->nmptcp && h->mptcp_ports[i] != port; i++)
		;
	if (i == h->nmptcp && i < HANDOFF_MPTCP_MAX)
		h->mptcp_ports[h->nmptcp++] = port;
	return 0;
}

/* Add the ports PORTS protects that FAMILY's MPTCP listeners (in the
 * caller's netns) listen on to H. 0 or -errno. */
static int mptcp_listeners(struct handoff *h, int family,
			   const struct xdpsyn_ports ports[XDPSYN_NFAMILIES])
{
	struct {
		struct nlmsghdr n;
		struct inet_diag_req_v2 r;
		struct rtattr a;
		__u32 proto;
	} req = {
		.n.nlmsg_len = sizeof(req),
		.n.nlmsg_type = SOCK_DIAG_BY_FAMILY,
		.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.n.nlmsg_seq = 1,
		.r.sdiag_family = family,
		/* sdiag_protocol is 8 bits: IPPROTO_MPTCP (262) goes in the
		 * INET_DIAG_REQ_PROTOCOL attribute, as ss -M sends it */
		.r.sdiag_protocol = IPPROTO_TCP,
		.r.idiag_states = 1U << TCP_LISTEN,
		.a.rta_type = INET_DIAG_REQ_PROTOCOL,
		.a.rta_len = RTA_LENGTH(sizeof(__u32)),
		.proto = IPPROTO_MPTCP,
	};
	struct mptcp_dump d = { .h = h, .ports = ports };

	return nl_dump(NETLINK_SOCK_DIAG, &req.n, mptcp_msg, &d);
}

static int port_cmp(const void *a, const void *b)
{
	return (int)*(const __u16 *)a - (int)*(const __u16 *)b;
}

void handoff_read(struct handoff *h, const struct pins *p, bool mptcp)
{
	struct xdpsyn_config cfg;
	__u32 zero = 0;

	memset(h, 0, sizeof(*h));
	h->other_netns = p->have_meta && !netns_is_current(&p->meta);
	for (int i = 0; i < HO_N; i++) {
		h->err[i] = sysctl_read_long(ho_tab[i].sysctl, &h->val[i]);
		if (h->err[i] || h->val[i] < 0)
			h->val[i] = -1;
	}
	h->kcookie = p->have_meta && (p->meta.flags & XDPSYN_META_KCOOKIE);
	h->ready = h->kcookie ? h->val[HO_SYNCOOKIES] == 2 : h->val[HO_SYNCOOKIES] > 0;
	h->ecn_cfg = p->config_fd >= 0 &&
		     !bpf_map_lookup_elem(p->config_fd, &zero, &cfg) ? cfg.ecn : -1;
	if (mptcp && p->ports_fd >= 0) {
		struct xdpsyn_ports ports[XDPSYN_NFAMILIES];
		int err = 0;

		for (__u32 f = 0; !err && f < XDPSYN_NFAMILIES; f++)
			if (bpf_map_lookup_elem(p->ports_fd, &f, &ports[f]))
				err = -errno;
		if (!err)
			err = mptcp_listeners(h, AF_INET, ports);
		if (!err)
			err = mptcp_listeners(h, AF_INET6, ports);
		h->mptcp_read = !err;
		h->mptcp_err = err;
		qsort(h->mptcp_ports, h->nmptcp, sizeof(__u16), port_cmp);
	}
}

/* Option I is offered: its sysctl is on (and for ECN, xdpsyn's setting). */
static bool offered(const struct handoff *h, int i)
{
	return h->val[i] > 0 && (i != HO_ECN || h->ecn_cfg != 0);
}

void handoff_summary(char *buf, size_t len, const struct handoff *h)
{
	char opts[96] = "";
	size_t o = 0;

	if (h->val[HO_SYNCOOKIES] < 0) {
		snprintf(buf, len, "unknown: %s unreadable: %s",
			 ho_tab[HO_SYNCOOKIES].sysctl,
			 strerror(h->err[HO_SYNCOOKIES] ?
				  -h->err[HO_SYNCOOKIES] : EINVAL));
		return;
	}
	if (h->kcookie) {
		if (!h->ready)
			snprintf(buf, len, "kernel-cookie: CANNOT WORK: %s=%ld (it "
				 "needs 2): SYNs go to the kernel unanswered: "
				 "sysctl -w %s=2", ho_tab[HO_SYNCOOKIES].sysctl,
				 h->val[HO_SYNCOOKIES], ho_tab[HO_SYNCOOKIES].sysctl);
		else if (h->val[HO_TIMESTAMPS] == 2)
			snprintf(buf, len, "kernel-cookie: ready (syncookies=2; the "
				 "kernel's own cookies: the MSS, and window scaling, "
				 "SACK, ECN for clients that send timestamps)");
		else
			snprintf(buf, len, "kernel-cookie: ready (syncookies=2; the "
				 "kernel's own cookies: the MSS alone, since %s=%ld, "
				 "not 2)", ho_tab[HO_TIMESTAMPS].sysctl,
				 h->val[HO_TIMESTAMPS]);
		return;
	}
	if (!h->ready) {
		snprintf(buf, len, "CANNOT WORK: %s=0: SYNs go to the kernel "
			 "unprotected: sysctl -w %s=1", ho_tab[HO_SYNCOOKIES].sysctl,
			 ho_tab[HO_SYNCOOKIES].sysctl);
		return;
	}
	for (int i = HO_SYNCOOKIES + 1; i < HO_N; i++)
		if (offered(h, i) && o < sizeof(opts))
			o += snprintf(opts + o, sizeof(opts) - o, "%s%s",
				      o ? ", " : "", ho_tab[i].option);
	if (o)
		snprintf(buf, len, "ready (syncookies=%ld; %s offered as the "
			 "kernel would)", h->val[HO_SYNCOOKIES], opts);
	else
		snprintf(buf, len, "ready (syncookies=%ld; no TCP option "
			 "offered)", h->val[HO_SYNCOOKIES]);
}

void handoff_not_offered(char *buf, size_t len, const struct handoff *h)
{
	size_t o = 0;

	buf[0] = 0;
	for (int i = HO_SYNCOOKIES + 1; i < HO_N && o < len; i++) {
		const char *sep = o ? ", " : "";

		if (h->val[i] < 0)
			o += snprintf(buf + o, len - o, "%s%s (%s unreadable)", sep,
				      ho_tab[i].option, ho_tab[i].sysctl);
		else if (!h->val[i])
			o += snprintf(buf + o, len - o, "%s%s (%s=0)", sep,
				      ho_tab[i].option, ho_tab[i].sysctl);
		else if (!offered(h, i))
			o += snprintf(buf + o, len - o, "%s%s (xdpsyn set ecn=off)",
				      sep, ho_tab[i].option);
	}
}

json_object *handoff_json(const struct handoff *h)
{
	json_object *o = json_object_new_object(), *sc, *on, *off, *mp;
	char buf[256];

	handoff_summary(buf, sizeof(buf), h);
	json_object_object_add(o, "mode", json_object_new_string(
		h->kcookie ? "kernel-cookie" : "reqsk"));
	json_object_object_add(o, "ready", json_object_new_boolean(h->ready));
	json_object_object_add(o, "summary", json_object_new_string(buf));
	/* the sysctls are those of the netns the command runs in */
	json_object_object_add(o, "sysctls_netns", json_object_new_string(
		h->other_netns ? "other" : "interface"));
	sc = json_object_new_object();
	on = json_object_new_array();
	off = json_object_new_array();
	for (int i = 0; i < HO_N; i++) {
		json_object_object_add(sc, ho_tab[i].sysctl, h->val[i] < 0 ? NULL :
				       json_object_new_int64(h->val[i]));
		if (i != HO_SYNCOOKIES)
			json_object_array_add(offered(h, i) ? on : off,
				json_object_new_string(ho_tab[i].option));
	}
	json_object_object_add(o, "sysctls", sc);
	json_object_object_add(o, "offered", on);
	json_object_object_add(o, "not_offered", off);
	if (h->mptcp_read) {
		mp = json_object_new_array();
		for (int i = 0; i < h->nmptcp; i++)
			json_object_array_add(mp, json_object_new_int(h->mptcp_ports[i]));
		json_object_object_add(o, "mptcp_ports", mp);
	}
	return o;
}
