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

/* Exit codes (documented in `xdpsyn --help`). */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,  /* kernel or BPF operation failed */
	EXIT_USAGE = 2,    /* bad arguments, no such interface */
	EXIT_CONFLICT = 3, /* already attached / not attached */
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
#define PIN_CONFIG "xdpsyn_config"
#define PIN_KEYS "xdpsyn_keys"
#define PIN_PORTS "xdpsyn_ports"
#define PIN_STATS "xdpsyn_stats"
#define PIN_HANDOFF_ERR "xdpsyn_handoff_err"
#define PIN_FLOWS "xdpsyn_flows"
#define PIN_EVENTS "xdpsyn_events"
#define PIN_CMS "xdpsyn_cms"
#define PIN_TOP "xdpsyn_top"
#define PIN_HS "xdpsyn_hs"
#define PIN_RATE "xdpsyn_rate"
#define PIN_POLICY "xdpsyn_policy"
#define PIN_META "xdpsyn_meta"
#define PIN_LINK_XDP "link_xdp"
#define PIN_PROG_TC "prog_tc"
#define PIN_PROG_TC_EGRESS "prog_tc_egress"

/* Every name xdpsyn may pin in an interface directory (detach removes
 * these and nothing else). */
extern const char *const pin_names[];

/* Value of the 1-entry array map xdpsyn_meta: how the attachment was made,
 * so detach and status need nothing else. Times are CLOCK_REALTIME s. */
#define XDPSYN_META_VERSION 1
#define XDPSYN_META_CLSACT_CREATED 0x1 /* attach created the clsact qdisc */
struct xdpsyn_meta {
	__u32 version;
	__u32 ifindex;
	__u32 xdp_flags;      /* XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE */
	__u32 tc_handle;
	__u32 tc_priority;
	__u32 flags;          /* XDPSYN_META_* */
	__u64 netns_dev;      /* network namespace of the interface */
	__u64 netns_ino;
	__u64 attached_at;
	__u64 key_rotated_at;
};

/* An attachment opened from its pins; fds are -1 when the pin is absent. */
struct pins {
	char ifname[IF_NAMESIZE];
	int config_fd, keys_fd, ports_fd, stats_fd, herr_fd, meta_fd;
	int flows_fd, events_fd, cms_fd, top_fd;
	int hs_fd, rate_fd, policy_fd;
	int link_fd, tc_fd, tc_egress_fd;
	bool have_meta;
	struct xdpsyn_meta meta;
};

int pin_path(char *buf, size_t len, const char *ifname, const char *name);
/* 0 if /sys/fs/bpf/xdpsyn/IFACE exists, else an exit code after a message
 * (EXIT_CONFLICT "not attached", EXIT_PREREQ on EACCES). */
int pin_dir_check(const char *ifname);
/* Open every pin of IFACE (after pin_dir_check). Returns 0 or an exit
 * code after a message when a pin in need (mask of PINS_*) is missing. */
#define PINS_CONFIG 0x01
#define PINS_KEYS 0x02
#define PINS_PORTS 0x04
#define PINS_STATS 0x08
#define PINS_META 0x10
#define PINS_FLOWS 0x20
#define PINS_EVENTS 0x40
#define PINS_CMS 0x80
#define PINS_TOP 0x100
#define PINS_HS 0x200
#define PINS_RATE 0x400
#define PINS_POLICY 0x800
#define PINS_TRACKER (PINS_FLOWS | PINS_EVENTS | PINS_CMS | PINS_TOP | \
		      PINS_HS | PINS_RATE | PINS_POLICY)
int pins_open(struct pins *p, const char *ifname, unsigned need);
void pins_close(struct pins *p);
int meta_write(int fd, const struct xdpsyn_meta *m);
/* Names of attached interfaces (directories under PIN_BASE), sorted; a
 * NULL-terminated array to free with names_free. *err gets an exit code
 * when it cannot be read (0 and an empty list when PIN_BASE is absent). */
char **attached_list(int *err);
/* The interfaces a reading command (status, flows, top) works on: the one
 * left in argv at optind_ (checked to be attached), or every attached one.
 * A NULL-terminated list for names_free(), or NULL with *err set. */
char **ifaces_select(const char *cmd, int argc, char **argv, int optind_,
		     bool *named, int *err);
void names_free(char **names);
/* Mount bpffs on /sys/fs/bpf unless it is there. 0 or an exit code. */
int bpffs_ensure(void);

/* Interfaces and system, in the caller's network namespace. */
bool ifname_valid(const char *name);
int iface_mtu(const char *ifname);                    /* -errno on error */
int iface_driver(const char *ifname, char *buf, size_t len);
/* IFF_LOOPBACK set on IFNAME (false when unreadable). */
bool iface_is_loopback(const char *ifname);
int netns_id(__u64 *dev, __u64 *ino);
bool netns_is_current(const struct xdpsyn_meta *m);
int sysctl_read(const char *name, char *buf, size_t len); /* "net.ipv4.x" */
int sysctl_read_long(const char *name, long *val);
int sysctl_write(const char *name, const char *val);
int kernel_version(int *major, int *minor, char *buf, size_t len);
/* 0 if the caller may load BPF and change network config, else a message
 * and EXIT_PREREQ. */
int need_privileges(void);

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
#define SYN_RATE_MAX 100000000
#define CALM_DEFAULT 10
#define POLICY_SECS_MAX 3600

/* TC and programs (tc.c). */
/* Remove the clsact qdisc of IFINDEX if neither of its blocks holds a
 * filter; true when removed. */
bool clsact_destroy_if_empty(int ifindex);
/* Remove every filter of the clsact ingress (or EGRESS) block of IFINDEX
 * that runs program PROG_ID. The number removed, or -errno. */
int tc_detach_prog(int ifindex, bool egress, __u32 prog_id);
/* 1 when a filter of that block runs PROG_ID, 0 when none, -errno. */
int tc_prog_attached(int ifindex, bool egress, __u32 prog_id);
/* Id of the program behind FD, 0 when unknown. */
__u32 prog_id_of(int fd);

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

/* Counters (counters.c). */
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

/* Prometheus text exposition, version 0.0.4 (metrics.c): every metric of
 * the interfaces NAMES (NULL-terminated) into F. 0, or the first exit code
 * of an interface that could not be read (the others are still written). */
int metrics_write(FILE *f, char *const *names);

#endif
