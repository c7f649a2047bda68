/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xdpsyn CLI: declarations shared by the command files. */
#ifndef XDPSYN_CLI_H
#define XDPSYN_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <net/if.h>
#include <linux/types.h>
#include "xdpsyn.h"
#include "settings.h"

/* Exit codes (documented in `xdpsyn --help`). */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,  /* kernel or BPF operation failed */
	EXIT_USAGE = 2,    /* bad arguments, no such interface */
	EXIT_CONFLICT = 3, /* already attached / not attached / locked by
	                    * another command longer than LOCK_WAIT_S */
	EXIT_PREREQ = 4,   /* kernel too old, sysctl, privileges */
};

extern bool verbose;
extern bool json_out;

/* "xdpsyn: OBJ: message" on stderr. */
void errmsg(const char *obj, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "xdpsyn: warning: OBJ: message" on stderr. */
void warnmsg(const char *obj, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Bad usage of CMD: message plus a pointer to `xdpsyn CMD --help`;
 * returns EXIT_USAGE. */
int usage_err(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* getopt_long returned '?' (getopt's own message is off: opterr = 0):
 * one usage line naming the option; returns EXIT_USAGE. */
int bad_option(const char *cmd, char **argv);

/* JSON output of status and stats: ROOT is {"interfaces": [...]}. For one
 * named interface (SINGLE) the interface's object alone is printed, so
 * `xdpsyn stats IFACE -j | jq .counters.syn` works. Frees ROOT. */
struct json_object;
void json_print_list(struct json_object *root, bool single);
/* The same with json-c's JSON_C_TO_STRING_* FLAGS (e.g. one line). */
void json_print_list_ext(struct json_object *root, bool single, int flags);

/* Commands. argv[0] is the command name. */
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_flows(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_exporter(int argc, char **argv);

/*
 * Pins. Everything xdpsyn creates for an interface lives in
 * /sys/fs/bpf/xdpsyn/IFACE/: the maps by name, the XDP link, the TC program
 * and the meta map below.
 */
#define BPFFS_ROOT "/sys/fs/bpf"
#define PIN_BASE BPFFS_ROOT "/xdpsyn"
/*
 * Every name xdpsyn may pin in an interface directory, one row each:
 * X(ID, file name, fd field of struct pins). The maps are pinned under
 * their BPF map names (bpf/maps.h, bpf/xdpsyn_tc.bpf.c). The enum
 * PIN_<ID> indexes pin_names[]; PINS_<ID> is its bit for pins_open's
 * NEED; struct pins has one fd per row. detach removes these and nothing
 * else.
 */
#define XDPSYN_PINS(X)                                                          \
	X(LINK_XDP, "link_xdp", link_fd)     /* an older xdpsyn's XDP bpf_link */ \
	X(PROG_TC, "prog_tc", tc_fd)                                            \
	X(CONFIG, "xdpsyn_config", config_fd)                                   \
	X(KEYS, "xdpsyn_keys", keys_fd)                                         \
	X(PORTS, "xdpsyn_ports", ports_fd)                                      \
	X(STATS, "xdpsyn_stats", stats_fd)                                      \
	X(HANDOFF_ERR, "xdpsyn_handoff_err", herr_fd)                           \
	X(FLOWS, "xdpsyn_flows", flows_fd)                                      \
	X(EVENTS, "xdpsyn_events", events_fd)                                   \
	X(CMS, "xdpsyn_cms", cms_fd)                                            \
	X(TOP, "xdpsyn_top", top_fd)                                            \
	X(META, "xdpsyn_meta", meta_fd)                                         \
	X(HS, "xdpsyn_hs", hs_fd)                                               \
	X(RATE, "xdpsyn_rate", rate_fd)                                         \
	X(POLICY, "xdpsyn_policy", policy_fd)                                   \
	X(PROG_TC_EGRESS, "prog_tc_egress", tc_egress_fd)                       \
	X(HANDOFFS, "xdpsyn_handoffs", handoffs_fd)                             \
	X(LINK_TC_INGRESS, "link_tc_ingress", tc_link_fd) /* tcx (>= 6.6) */    \
	X(LINK_TC_EGRESS, "link_tc_egress", tc_egress_link_fd)                  \
	X(LOCAL_ADDRS, "xdpsyn_local_addrs", local_addrs_fd)                    \
	X(PROG_XDP, "prog_xdp", xdp_prog_fd) /* in libxdp's dispatcher */     \
	/* gateway mode (bpf/gateway_maps.h; IFACE_S's programs and link) */    \
	X(GW_CONNS, "xdpsyn_gw_conns", gw_conns_fd) /* outlives a detach */    \
	X(GW_SERVERS, "xdpsyn_gw_servers", gw_servers_fd)                       \
	X(GW_PREFIXES, "xdpsyn_gw_prefixes", gw_prefixes_fd)                    \
	X(PROG_XDP_SRV, "prog_xdp_srv", gw_xdp_prog_fd) /* IFACE_S's dispatcher */ \
	X(PROG_TC_SRV, "prog_tc_srv", gw_tc_fd)     /* IFACE_S's TC ingress */  \
	X(LINK_TC_SRV, "link_tc_srv", gw_tc_link_fd) /* ... as a tcx link */

#define PIN_ENUM_(id, name, fd) PIN_##id,
enum pin_id { XDPSYN_PINS(PIN_ENUM_) PIN_N };
#undef PIN_ENUM_
#define PINS_BIT_(id, name, fd) PINS_##id = 1u << PIN_##id,
enum { XDPSYN_PINS(PINS_BIT_) };
#undef PINS_BIT_

/* The file names, by enum pin_id, then NULL. */
extern const char *const pin_names[];

/* Value of the 1-entry array map xdpsyn_meta: how the attachment was made,
 * so detach and status need nothing else. Times are CLOCK_REALTIME s. */
#define XDPSYN_META_VERSION 1
#define XDPSYN_META_CLSACT_CREATED 0x1 /* attach created the clsact qdisc */
#define XDPSYN_META_KCOOKIE 0x4 /* the kernel-cookie hand-off (no TC
				       * ingress program) */
#define XDPSYN_META_VLAN_META 0x8 /* the XDP program reads offloaded VLAN
				   * tags from receive metadata (bound to
				   * the device: xdpsyn_xdp_vlan) */
#define XDPSYN_META_TCX 0x2 /* the TC programs run as tcx links (pinned
			     * PIN_LINK_TC_*), not as clsact filters */
#define XDPSYN_META_GATEWAY 0x10 /* gateway mode: IFACE_S is gw_ifindex */
#define XDPSYN_META_GW_TCX 0x20  /* IFACE_S's TC program is a tcx link
				  * (PIN_LINK_TC_SRV) */
#define XDPSYN_META_GW_CLSACT_CREATED 0x40 /* attach created IFACE_S's
					    * clsact qdisc */
/* Fields are appended only, and VERSION stays: a reader takes a shorter
 * value (an older xdpsyn's) zero-filled, a longer one cut to what it
 * knows (meta_read). */
struct xdpsyn_meta {
	__u32 version;
	__u32 ifindex;
	__u32 xdp_flags;      /* XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE */
	__u32 tc_handle;      /* clsact: the ingress filter's; 0 under tcx */
	__u32 tc_priority;
	__u32 flags;          /* XDPSYN_META_* */
	__u64 netns_dev;      /* network namespace of the interface */
	__u64 netns_ino;
	__u64 attached_at;
	__u64 key_rotated_at;
	/* gateway mode (XDPSYN_META_GATEWAY) */
	__u32 gw_ifindex;     /* IFACE_S */
	__u32 gw_tc_handle;   /* IFACE_S's clsact ingress filter; 0 under tcx */
	__u32 gw_tc_priority;
	__u32 pad;
};

/* An attachment opened from its pins; fds are -1 when the pin is absent.
 * fd[PIN_X] and the named field of row X are the same int. */
#define PIN_FD_(id, name, fd) int fd;
struct pins {
	char ifname[IF_NAMESIZE];
	union {
		int fd[PIN_N];
		struct { XDPSYN_PINS(PIN_FD_) };
	};
	bool have_meta;
	struct xdpsyn_meta meta;
};
#undef PIN_FD_

int pin_path(char *buf, size_t len, const char *ifname, const char *name);
/* 0 if /sys/fs/bpf/xdpsyn/IFACE exists, else an exit code after a message
 * (EXIT_CONFLICT "not attached", EXIT_PREREQ on EACCES). */
int pin_dir_check(const char *ifname);
/* Open every pin of IFACE (after pin_dir_check). Returns 0 or an exit
 * code after a message when a pin in need (mask of PINS_*) is missing. */
#define PINS_TRACKER (PINS_FLOWS | PINS_EVENTS | PINS_CMS | PINS_TOP | \
		      PINS_HS | PINS_RATE | PINS_POLICY)
int pins_open(struct pins *p, const char *ifname, unsigned need);
void pins_close(struct pins *p);
int meta_write(int fd, const struct xdpsyn_meta *m);
/* The meta map FD's value into M, whatever its size (see struct
 * xdpsyn_meta). 0 or -errno. */
int meta_read(int fd, struct xdpsyn_meta *m);
/* IFACE's directory holds a gateway's state table, kept by detach, and
 * nothing else. */
bool pin_dir_state_only(const char *ifname);
/* The attachment whose meta names IFINDEX (of this network namespace)
 * as its IFACE_S: its name into OWNER, true; false when none. SKIP: a
 * name not to look at (NULL: none). */
bool gw_owner_of(__u32 ifindex, const char *skip, char *owner, size_t len);
/* Names of attached interfaces (directories under PIN_BASE), sorted; a
 * NULL-terminated array to free with names_free. *err gets an exit code
 * when it cannot be read (0 and an empty list when PIN_BASE is absent). */
char **attached_list(int *err);
/* The same without the directories holding only a gateway's kept state
 * table (nothing to count or scrape there). */
char **attached_list_live(int *err);
/* The interfaces a reading command (status, flows, top) works on: the one
 * left in argv at optind_ (checked to be attached), or every attached one.
 * A NULL-terminated list for names_free(), or NULL with *err set. */
char **ifaces_select(const char *cmd, int argc, char **argv, int optind_,
		     bool *named, int *err);
void names_free(char **names);
/* Mount bpffs on /sys/fs/bpf unless it is there. 0 or an exit code. */
int bpffs_ensure(void);

/*
 * Locks (lock.c). Every command that changes state holds an exclusive
 * flock(2) on a pin directory while it works: attach and detach on PIN_BASE
 * and then on the interface's directory, set and key rotate on the
 * interface's directory. So a `set` (a read-modify-write of the config)
 * never interleaves with a key rotation, an attach or a detach. A second
 * command waits for the first, up to LOCK_WAIT_S; readers (status, stats,
 * flows, top, exporter) take no lock.
 */
#define LOCK_WAIT_S 10
/* PIN_BASE, created (0700) if missing, locked. The fd (closing it
 * releases the lock), or a negated exit code after a message. */
int pin_base_lock(void);
/* Unlock PIN_BASE, removing it first when no interface is left in it. */
void pin_base_unlock(int fd);
/* IFACE's pin directory, locked; it must exist (else the "not attached"
 * message of pin_dir_check). The fd, or a negated exit code after a
 * message (EXIT_CONFLICT when another command held it LOCK_WAIT_S). */
int pin_dir_lock(const char *ifname);
void pin_dir_unlock(int fd);

/* Interfaces and system, in the caller's network namespace. */
bool ifname_valid(const char *name);
int iface_mtu(const char *ifname);                    /* -errno on error */
/* 1 when IFACE takes VLAN tags off received frames (rx-vlan-offload, ethtool's
 * rxvlan), 0 when not, -errno when it cannot be asked. */
int iface_rxvlan(const char *ifname);

/* VLAN tags (user/vlan.c): which XDP program an interface needs. */
enum vlan_mode {
	VLAN_AUTO = -1,  /* metadata where the interface strips tags and the
			  * kernel can say them, else frame */
	VLAN_FRAME = 0,  /* tags read from the frame only (xdpsyn_xdp) */
	VLAN_METADATA,   /* offloaded tags from receive metadata, restored on
			  * the SYN-ACK (xdpsyn_xdp_vlan, bound to IFACE) */
};
#define VLAN_KFUNC "bpf_xdp_metadata_rx_vlan_tag"
const char *vlan_mode_name(int mode);
/* Decide MODE (VLAN_AUTO resolved) for IFACE attached natively or not and
 * alone or beside other XDP programs: 0, or an exit code after a message
 * naming what to do. */
int vlan_choose(const char *ifname, int *mode, bool native, bool others);
/* 1 with a warning in BUF when IFACE has a VLAN sub-interface whose
 * offloaded tags the attached program (METADATA: it reads them) misses. */
int vlan_warning(const char *ifname, bool metadata, bool native, char *buf,
		 size_t len);
int iface_driver(const char *ifname, char *buf, size_t len);
/* The interface is a veth (its driver says so). */
bool iface_is_veth(const char *ifname);
/* IFF_LOOPBACK set on IFNAME (false when unreadable). */
bool iface_is_loopback(const char *ifname);
/* The MAC of an Ethernet-type interface (ARPHRD_ETHER) into MAC: 0, or
 * -errno (-ENOTSUP for other link types: tunnels, loopback). */
int iface_mac(const char *ifname, __u8 mac[6]);
/* "02:00:0a:c9:00:01". */
void fmt_mac(char *buf, size_t len, const __u8 mac[6]);
int netns_id(__u64 *dev, __u64 *ino);
bool netns_is_current(const struct xdpsyn_meta *m);
int sysctl_read(const char *name, char *buf, size_t len); /* "net.ipv4.x" */
int sysctl_read_long(const char *name, long *val);
int sysctl_write(const char *name, const char *val);
int kernel_version(int *major, int *minor, char *buf, size_t len);
/* 0 if the caller may load BPF and change network config, else a message
 * and EXIT_PREREQ. */
int need_privileges(void);

/* A netlink dump: send REQ (nlmsg_len bytes) on a NETLINK_ socket of
 * protocol PROTO and call CB for each message of the answer up to
 * NLMSG_DONE. 0, the first nonzero return of CB, or -errno (that of an
 * NLMSG_ERROR). */
struct nlmsghdr;
int nl_dump(int proto, const struct nlmsghdr *req,
	    int (*cb)(const struct nlmsghdr *h, void *arg), void *arg);

/* Values. */
int parse_ulong(const char *s, unsigned long min, unsigned long max,
		unsigned long *out);
/* Port list "80,443,8000-8100" or "none" into a bitmap. On error returns
 * -1 with a reason in err. */
int ports_parse(const char *s, struct xdpsyn_ports *out, char *err,
		size_t errlen);
/* The bitmap as a port list (malloc'd): "80,443,8000-8100" or "none". */
char *ports_format(const struct xdpsyn_ports *p);
/* 16 random bytes, or a key file: exactly 16 bytes, or 32 hex characters
 * (whitespace around them allowed); refuses group/world-readable files.
 * 0 or an exit code after a message. */
int key_random(struct xdpsyn_key *k);
int key_from_file(const char *path, struct xdpsyn_key *k);
__u32 cookie_counter_now(void);
__u64 realtime_now(void);
/* "3d4h", "5m12s", "12s". */
void fmt_duration(char *buf, size_t len, __u64 secs);
/* "2025-06-01 12:00:00" (local time). */
void fmt_time(char *buf, size_t len, __u64 secs);
const char *xdp_mode_name(__u32 xdp_flags);

/* Policies (util.c). "proxy", "track", "auto"; "?" when unknown. */
const char *policy_name(__u32 policy);
/* enum xdpsyn_policy of NAME, -1 when not a policy. */
int policy_parse(const char *name);
/* "set", "rate", "kernel_cookie", "calm"; "?" when unknown. */
const char *switch_reason_name(__u32 reason);
/* Fill CFG's derived fields (rate_hi, rate_hi_cpu, rate_lo, calm_ns) from
 * syn_rate and calm_s. */
void config_policy_derive(struct xdpsyn_config *cfg);
/* Write the policy map FD for POLICY as attach and `set policy=` do: state
 * PROXY for proxy, TRACK for track and auto; reason SET; since now. The
 * kernel-cookie time and the switch history are kept. 0 or -errno. */
int policy_state_reset(int fd, __u32 policy);
/* The SYN rate now (SYN/s) from the per-CPU map xdpsyn_rate: every CPU's
 * sliding-window sum, added up (the windows count under the auto policy
 * only). 0 when unreadable. */
__u64 syn_rate_read(int rate_fd);

/*
 * Settings (settings.c; the table is settings.h). Values as given on the
 * command line, or read back from an attachment, by enum setting_id.
 */
struct setting_vals {
	long v[SETTING_N];
	bool given[SETTING_N];
	struct xdpsyn_ports ports[XDPSYN_NFAMILIES]; /* the ST_PORTS rows */
	char ifname[IF_NAMESIZE];    /* the ST_IFNAME row (--gateway) */
	int nprefixes;               /* the ST_PREFIXES row (--servers) */
	struct xdpsyn_gw_prefix prefixes[XDPSYN_GW_PREFIXES_MAX];
};
/* The row NAME among those with FLAG (SF_ATTACH, SF_LIVE); -1 if none. */
int setting_find(const char *name, unsigned flag);
/* Parse VAL for row ID into SV (marked given). SHOWN is what the user
 * typed ("--mss4 87", "mss4=87"), for the message. 0 or EXIT_USAGE after
 * a message naming the range or the values. */
int setting_parse(const char *cmd, const char *shown, int id, const char *val,
		  struct setting_vals *sv);
/* The fixed defaults into the rows not given (DEF_DERIVED, DEF_NONE are
 * left). */
void setting_vals_defaults(struct setting_vals *sv);
/* The given rows with a config field into CFG (with DEFAULTS, those not
 * given that have a fixed default too); true when there was one. */
bool settings_to_config(const struct setting_vals *sv,
			struct xdpsyn_config *cfg, bool defaults);
/* The values of an attachment: its config, and the map sizes (0:
 * unknown). A row is given when known. */
void settings_of(struct setting_vals *sv, const struct xdpsyn_config *cfg,
		 __u32 flows_max, __u32 hs_max);
/* "on", "auto", "64": the value V of row ID as the user types it. */
const char *setting_value_name(int id, long v, char *buf, size_t len);
/* "mss4 1460  mss6 1440  ..." of the known rows with flag SHOW. */
void settings_print(FILE *f, const struct setting_vals *sv, unsigned show);
/* The known rows with flag SHOW as keys of O ("calm_s": 10, "ecn": true);
 * POLICY: those with SF_JSON_POLICY, else those without. */
void settings_json(struct json_object *o, const struct setting_vals *sv,
		   unsigned show, bool policy);
/* The --help lines of the rows with WHERE (SF_ATTACH: options, SF_LIVE:
 * set's keys). */
void settings_help(FILE *f, unsigned where);
/* One --help item: LEFT, then TEXT in a column of WIDTH wrapped at 79. */
void help_item(FILE *f, const char *left, int width, const char *text);

/* TC and programs (tc.c). */
/* One program or filter on an interface's TC ingress (or egress) hook. */
struct tc_entry {
	bool tcx;           /* a tcx program; else a clsact filter */
	__u32 chain;        /* clsact: its chain (0 is the one that runs) */
	__u32 prio, handle; /* clsact */
	char kind[16];      /* clsact: "bpf", "u32", ... */
	__u32 prog_id;      /* its BPF program, 0 when none */
	char name[16];      /* that program's name (BPF_OBJ_NAME_LEN) */
};
#define TC_CHAIN_MAX 32
/* What IFINDEX's ingress (or EGRESS) hook runs, in the kernel's order:
 * the tcx programs in their order, then the clsact filters by chain and
 * priority. At most MAX into OUT; the number found (possibly more than
 * MAX), or -errno when neither can be read. */
int tc_chain_read(int ifindex, bool egress, struct tc_entry *out, int max);
/* "tcx prog 812 xdpsyn_tc", "clsact prio 1 u32",
 * "clsact prio 49152 bpf prog 9 foo". */
void tc_entry_format(char *buf, size_t len, const struct tc_entry *e);
/* In CHAIN (N entries, as tc_chain_read gives them), the first entry that
 * runs when it is not program OURS: its index; -1 when OURS runs first,
 * -2 when OURS is not there. */
int tc_chain_first_other(const struct tc_entry *c, int n, __u32 ours);
/* The warning about E running before xdpsyn's ingress program. */
void tc_not_first_msg(char *buf, size_t len, const struct tc_entry *e);
/* A tcx link (kernel >= 6.6) of PROG_FD on IFINDEX's ingress (or EGRESS)
 * hook, at the front of the chain. The link fd, or -errno: -EINVAL when
 * the kernel has no tcx. */
int tcx_attach_front(int prog_fd, int ifindex, bool egress);
/* The interface of a netdev link (XDP, tcx): its ifindex, 0 when the
 * interface is gone or the link detached, -1 when unreadable. */
int link_ifindex(int link_fd);

/*
 * XDP through libxdp (user/xdpchain.c): xdpsyn's program is one entry of
 * the interface's libxdp dispatcher, beside the other programs libxdp
 * tools attached; lower priorities run first.
 */
#define XDP_CHAIN_MAX 10      /* libxdp's MAX_DISPATCHER_ACTIONS */
struct xdp_entry {
	__u32 prog_id;
	unsigned int prio;
	__u32 chain_actions;      /* bit N: action N goes on to the next program */
	char name[16];
	bool ours;
};
struct xdp_chain {
	int n;                    /* entries */
	__u32 main_id;            /* what the interface runs: the dispatcher,
				   * or a program attached without libxdp */
	char main_name[16];
	bool legacy;              /* main_id is not libxdp's dispatcher */
	int mode;                 /* enum xdp_attach_mode: 1 native, 2 generic */
	struct xdp_entry e[XDP_CHAIN_MAX];
};
/* Route libxdp's messages through -v. */
void libxdp_quiet(void);
/* IFINDEX's XDP chain in run order; entries running program OUR_PROG_ID
 * or using the map OUR_MAP_ID are marked ours. 0, -ENOENT when no XDP
 * program is attached, -errno. */
int xdp_chain_read(int ifindex, __u32 our_prog_id, __u32 our_map_id,
		   struct xdp_chain *c);
/* Remove the entries xdp_chain_read marks ours from IFINDEX's dispatcher,
 * the others kept (the dispatcher goes when none is left). The number
 * removed, or -errno. */
int xdp_chain_detach_ours(int ifindex, __u32 our_prog_id, __u32 our_map_id);
/* How many BPF links run program PROG_ID (an freplace program: the
 * dispatchers it is attached to), -errno. */
int prog_link_count(__u32 prog_id);
/* The id of the map (or program) behind FD, 0 when unreadable. */
__u32 map_id_of(int fd);
/* "XDP_PASS,XDP_TX" of a chain_actions bit set. */
void xdp_actions_format(char *buf, size_t len, __u32 actions);
/* 1 when a clsact filter of IFINDEX's ingress (or EGRESS) block holds
 * priority PRIO, 0 when none (or no clsact qdisc), -errno. */
int tc_prio_taken(int ifindex, bool egress, __u32 prio);
/* Remove the clsact qdisc of IFINDEX if neither of its blocks holds a
 * filter; true when removed. */
bool clsact_destroy_if_empty(int ifindex);
/* Remove every filter of the clsact ingress (or EGRESS) block of IFINDEX
 * that runs program PROG_ID. The number removed, or -errno. */
int tc_detach_prog(int ifindex, bool egress, __u32 prog_id);
/* Id of the program behind FD, 0 when unknown. */
__u32 prog_id_of(int fd);

/*
 * Hand-off health (handoff.c). The kernel takes a handed-off connection
 * only while net.ipv4.tcp_syncookies is not 0, and refuses an option its
 * sysctl turns off; the XDP program reads these per SYN (from the
 * listener's network namespace) and follows them: with tcp_syncookies 0 it
 * passes SYNs to the kernel unanswered (syn_no_syncookies), an option
 * turned off is not offered (syn_opt_off), and SYNs to an MPTCP listener
 * go to the kernel (syn_mptcp). This reads the same sysctls, in the
 * caller's network namespace.
 */
enum { HO_SYNCOOKIES, HO_TIMESTAMPS, HO_SACK, HO_WSCALE, HO_ECN, HO_N };
#define HANDOFF_MPTCP_MAX 16
struct handoff {
	long val[HO_N];          /* each sysctl; -1 when unreadable */
	int err[HO_N];           /* -errno of an unreadable one */
	bool kcookie;            /* the kernel-cookie hand-off (meta) */
	bool ready;              /* tcp_syncookies read and not 0 (2 for
				  * the kernel-cookie hand-off) */
	bool other_netns;        /* the interface's netns is not ours */
	int ecn_cfg;             /* xdpsyn's ecn setting; -1 unknown */
	bool mptcp_read;         /* the MPTCP listeners were listed */
	int mptcp_err;           /* -errno when they could not be */
	int nmptcp;              /* protected ports with an MPTCP listener */
	__u16 mptcp_ports[HANDOFF_MPTCP_MAX];
};
/* The netns's addresses in the map FD (xdpsyn_local_addrs, user/addrs.c):
 * fill it (the number listed, or -errno), or count those missing from it
 * (naming them in BUF). */
int local_addrs_fill(int fd);
int local_addrs_missing(int fd, char *buf, size_t len);

/* "net.ipv4.tcp_syncookies", ...; the option's name ("timestamps", NULL
 * for syncookies). */
const char *handoff_sysctl(int i);
const char *handoff_option(int i);
/* Read them for the attachment P (its meta: the netns; its config: ecn;
 * with MPTCP, its ports: the MPTCP listeners on them, NETLINK_SOCK_DIAG). */
void handoff_read(struct handoff *h, const struct pins *p, bool mptcp);
/* "ready (syncookies=1; timestamps, SACK, window scaling, ECN offered as
 * the kernel would)", "CANNOT WORK: net.ipv4.tcp_syncookies=0: ...". */
void handoff_summary(char *buf, size_t len, const struct handoff *h);
/* "timestamps (net.ipv4.tcp_timestamps=0), ..."; empty when all are. */
void handoff_not_offered(char *buf, size_t len, const struct handoff *h);
/* {"ready", "summary", "sysctls_netns", "sysctls": {name: value},
 * "offered": [...], "not_offered": [...], "mptcp_ports": [...] (when
 * listed)} */
struct json_object *handoff_json(const struct handoff *h);

/* Time and addresses (util.c). The BPF programs stamp records with
 * CLOCK_TAI ns; realtime = TAI - tai_offset_ns(). */
__u64 tai_now_ns(void);
__u64 mono_now_ns(void);
__u64 realtime_now_ns(void);
__s64 tai_offset_ns(void);           /* whole seconds, in ns */
/* "2026-06-01T12:00:00.123Z" (UTC) of a CLOCK_REALTIME ns value. */
void fmt_rfc3339(char *buf, size_t len, __u64 realtime_ns);
/* "12:00:00.123" (local time of day) of a CLOCK_REALTIME ns value. */
void fmt_clock(char *buf, size_t len, __u64 realtime_ns);
/* "10.0.0.1", "fd00::1" of a record's address (FAMILY: enum xdpsyn_family). */
void fmt_addr(char *buf, size_t len, __u8 family, const __be32 addr[4]);
/* "10.0.0.1:80", "[fd00::1]:80". */
void fmt_endpoint(char *buf, size_t len, __u8 family, const __be32 addr[4],
		  __be16 port);

/* A ratio: "0.950", "1.6e-04" below 0.001, "-" when negative (none). */
void fmt_ratio(char *buf, size_t len, double v);

/* SIGINT and SIGTERM set stop_requested (no SA_RESTART: sleeps and polls
 * return early); SIGPIPE is ignored. */
extern volatile sig_atomic_t stop_requested;
void stop_signals_install(void);
/* Sleep NS nanoseconds, or until a stop signal. */
void sleep_interruptible(__u64 ns);

/* Counters (ifstats.c): the reader stats, status and the metrics share. */
const char *counter_name(int idx); /* lowercased X-macro name */
const char *counter_help(int idx);
int counters_read(int stats_fd, __u64 out[XDPSYN_CNT_MAX]);
int handoff_errs_read(int fd, __u64 out[XDPSYN_ERRNO_SLOTS]);
/* Name of a handoff errno slot: "ENOMEM" for 12, "other" for the last
 * slot (errno >= XDPSYN_ERRNO_SLOTS - 1), "?" when unknown. */
const char *errno_name(int e);

/* One reading of an interface's counters. */
struct ifstats {
	const char *name;
	__u32 ifindex;           /* from the meta pin; 0 when unknown */
	__u64 mono_ns;           /* CLOCK_MONOTONIC of the read */
	__u64 real_ns;           /* CLOCK_REALTIME of the read */
	bool have_errs;          /* errs read (TC errno map pinned) */
	__u64 cnt[XDPSYN_CNT_MAX];
	__u64 errs[XDPSYN_ERRNO_SLOTS];
	struct handoff handoff;  /* the hand-off's sysctls (no MPTCP query) */
};
/* Read NAME's counters from its pins. 0, or an exit code after a message. */
int ifstats_read(struct ifstats *s, const char *name);

/* The tracker's maps (records.c). */
/* Every entry of a hash map: KEYS and VALS (malloc'd, key and value sizes
 * from the map's info), *N entries. 0 or -errno. */
int map_dump(int fd, void **keys, void **vals, size_t *n);
/* The map's max_entries, 0 when unknown. */
__u32 map_max_entries(int fd);
/* Every record of xdpsyn_flows (or xdpsyn_hs: same types) as events (key
 * + record), malloc'd. Shorter values (an attachment by an older xdpsyn)
 * are zero-filled: state 0, a cookie record. 0 or -errno. */
int flows_read(int fd, struct xdpsyn_flow_event **out, size_t *n);
/* A top source with its SYN estimate from the sketch. */
struct top_entry {
	struct xdpsyn_prefix prefix;
	struct xdpsyn_top_val val;
	__u64 syns;              /* count-min estimate: sum over CPUs, min over rows */
};
/* Every entry of xdpsyn_top with its estimate, sorted by SYNs (then
 * completions) descending. 0 or -errno. */
int top_read(int top_fd, int cms_fd, struct top_entry **out, size_t *n);
/* Count-min estimate of PREFIX in a summed sketch (ROWS x COLS, u64). */
__u64 cms_estimate(const __u64 *sum, const struct xdpsyn_prefix *prefix);

/*
 * Gateway mode (gateway.c): the servers' prefixes, the state table and
 * the per-server table, as attach, status, flows, servers and the
 * metrics read them.
 */
/* "10.0.1.0/24,fd00::/64" into OUT (at most MAX; the address masked,
 * plen 32 + the prefix length). The number, or -1 with a reason in ERR. */
int gw_prefixes_parse(const char *s, struct xdpsyn_gw_prefix *out, int max,
		      char *err, size_t errlen);
/* "10.0.1.0/24" of a prefix. */
void gw_prefix_format(char *buf, size_t len, const struct xdpsyn_gw_prefix *p);
/* Every prefix of the LPM trie FD, malloc'd. 0 or -errno. */
int gw_prefixes_read(int fd, struct xdpsyn_gw_prefix **out, size_t *n);
/* "syn_sent", "established", "fin_wait", "closed", "unknown". */
const char *gw_state_name(__u8 state);
#define GW_NSTATES 5 /* enum xdpsyn_gw_state 1..4, and 0: unknown */
/* Every entry of xdpsyn_gw_conns (FD). 0 or -errno. */
int gw_conns_read(int fd, struct xdpsyn_gw_key **keys,
		  struct xdpsyn_gw_conn **vals, size_t *n);
/* The number of entries of a hash map, -errno. */
long map_count(int fd);
/* Every entry of xdpsyn_gw_servers (FD). 0 or -errno. */
int gw_servers_read(int fd, struct xdpsyn_gw_server_key **keys,
		    struct xdpsyn_gw_server **vals, size_t *n);
int cmd_servers(int argc, char **argv);
/* `flows` of the gateway P (flows_gw.c): its state table; SORT 0 time, 1
 * client RTT, 2 server RTT (flows.c's enum flow_sort); at most LIMIT (0:
 * all); STATES: a list of gw_state_name()s or NULL; into JARR when JSON.
 * 0 or an exit code after a message. */
int gw_flows_one(const struct pins *p, int sort, unsigned long limit,
		 const char *states, struct json_object *jarr, bool first);

/* Prometheus text exposition, version 0.0.4 (metrics.c): every metric of
 * the interfaces NAMES (NULL-terminated) into F. 0, or the first exit code
 * of an interface that could not be read (the others are still written). */
int metrics_write(FILE *f, char *const *names);

#endif
