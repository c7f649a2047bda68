// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn CLI helpers: values, port lists, keys, interfaces, system. */
#define _GNU_SOURCE
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <arpa/inet.h>
#include <net/if_arp.h>
#include <linux/capability.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cli.h"

int parse_ulong(const char *s, unsigned long min, unsigned long max,
		unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int port_parse(const char *s, size_t len, unsigned long *port)
{
	char buf[8];

	if (!len || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	return parse_ulong(buf, 1, 65535, port);
}

int ports_parse(const char *s, struct xdpsyn_ports *out, char *err,
		size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!strcmp(s, "none"))
		return 0;
	if (!*s) {
		snprintf(err, errlen, "empty port list (use \"none\" for no port)");
		return -1;
	}
	for (;;) {
		size_t len = strcspn(s, ",");
		const char *dash = memchr(s, '-', len);
		unsigned long lo, hi;

		if (dash) {
			if (port_parse(s, dash - s, &lo) ||
			    port_parse(dash + 1, len - (dash - s) - 1, &hi))
				goto bad;
			if (lo > hi) {
				snprintf(err, errlen, "reversed range \"%.*s\"",
					 (int)len, s);
				return -1;
			}
		} else {
			if (port_parse(s, len, &lo))
				goto bad;
			hi = lo;
		}
		for (unsigned long p = lo; p <= hi; p++)
			out->bits[p / 64] |= 1ULL << (p % 64);
		if (!s[len])
			return 0;
		s += len + 1;
		continue;
bad:
		if (!len) {
			snprintf(err, errlen, "empty entry in the list");
			return -1;
		}
		snprintf(err, errlen, "\"%.*s\" is not a port (1-65535) or a range "
			 "of ports", (int)len, s);
		return -1;
	}
}

static bool port_bit(const struct xdpsyn_ports *p, unsigned port)
{
	return (p->bits[port / 64] >> (port % 64)) & 1;
}

char *ports_format(const struct xdpsyn_ports *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bool first = true;

	if (!f)
		return NULL;
	for (unsigned port = 0; port < 65536; port++) {
		unsigned end = port;

		if (!port_bit(p, port))
			continue;
		while (end + 1 < 65536 && port_bit(p, end + 1))
			end++;
		fprintf(f, "%s%u", first ? "" : ",", port);
		if (end != port)
			fprintf(f, "-%u", end);
		first = false;
		port = end;
	}
	if (first)
		fputs("none", f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void key_from_bytes(struct xdpsyn_key *k, const unsigned char b[16])
{
	__u64 w[2];

	memcpy(w, b, sizeof(w));
	k->k0 = le64toh(w[0]);
	k->k1 = le64toh(w[1]);
}

int key_random(struct xdpsyn_key *k)
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != sizeof(b)) {
		errmsg("getrandom", "%s: cannot make a cookie key",
		       strerror(errno));
		return EXIT_RUNTIME;
	}
	key_from_bytes(k, b);
	explicit_bzero(b, sizeof(b));
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int key_from_file(const char *path, struct xdpsyn_key *k)
{
	unsigned char buf[128], key[16];
	int fd, ret = EXIT_USAGE;
	struct stat st;
	ssize_t n;
	size_t lo = 0, hi;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errmsg(path, "cannot open key file: %s", strerror(errno));
		return EXIT_USAGE;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		errmsg(path, "not a regular file: give a file holding the key");
		goto out;
	}
	if (st.st_mode & (S_IRGRP | S_IROTH)) {
		errmsg(path, "key file is readable by group or others: "
		       "chmod 600 %s", path);
		goto out;
	}
	n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		errmsg(path, "cannot read key file: %s", strerror(errno));
		goto out;
	}
	if (n == 16) {
		memcpy(key, buf, 16);
	} else {
		hi = n;
		while (lo < hi && isspace(buf[lo]))
			lo++;
		while (hi > lo && isspace(buf[hi - 1]))
			hi--;
		if (hi - lo != 32)
			goto bad;
		for (int i = 0; i < 16; i++) {
			int a = hexval(buf[lo + 2 * (size_t)i]), b = hexval(buf[lo + 2 * (size_t)i + 1]);

			if (a < 0 || b < 0)
				goto bad;
			key[i] = a << 4 | b;
		}
	}
	key_from_bytes(k, key);
	explicit_bzero(key, sizeof(key));
	ret = 0;
	goto out;
bad:
	errmsg(path, "not a key: the file must hold exactly 16 bytes or 32 hex "
	       "characters (make one: umask 077; head -c16 /dev/urandom > FILE)");
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return ret;
}

__u32 cookie_counter_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_TAI, &ts);
	return ((__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec) >>
	       XDPSYN_COUNTER_NS_SHIFT;
}

__u64 realtime_now(void)
{
	return time(NULL);
}

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

__u64 tai_now_ns(void)
{
	return clock_ns(CLOCK_TAI);
}

__u64 mono_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

__u64 realtime_now_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/* CLOCK_TAI is CLOCK_REALTIME plus the kernel's TAI offset, a whole number
 * of seconds (0 unless something set it, e.g. chrony or ptp4l): round the
 * difference of two reads to the second. */
__s64 tai_offset_ns(void)
{
	__s64 d = (__s64)(clock_ns(CLOCK_TAI) - clock_ns(CLOCK_REALTIME));
	__s64 s = (d + (d < 0 ? -500000000LL : 500000000LL)) / 1000000000LL;

	return s * 1000000000LL;
}

void fmt_rfc3339(char *buf, size_t len, __u64 ns)
{
	time_t t = ns / 1000000000ULL;
	struct tm tm;
	char s[32];

	if (!gmtime_r(&t, &tm) || !strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(s, sizeof(s), "%llu", ns / 1000000000ULL);
	snprintf(buf, len, "%s.%03lluZ", s, ns / 1000000ULL % 1000);
}

void fmt_clock(char *buf, size_t len, __u64 ns)
{
	time_t t = ns / 1000000000ULL;
	struct tm tm;
	char s[16];

	if (!localtime_r(&t, &tm) || !strftime(s, sizeof(s), "%H:%M:%S", &tm))
		snprintf(s, sizeof(s), "%llu", ns / 1000000000ULL);
	snprintf(buf, len, "%s.%03llu", s, ns / 1000000ULL % 1000);
}

void fmt_addr(char *buf, size_t len, __u8 family, const __be32 addr[4])
{
	if (!inet_ntop(family == XDPSYN_V6 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
}

void fmt_endpoint(char *buf, size_t len, __u8 family, const __be32 addr[4],
		  __be16 port)
{
	char a[INET6_ADDRSTRLEN];

	fmt_addr(a, sizeof(a), family, addr);
	snprintf(buf, len, family == XDPSYN_V6 ? "[%s]:%u" : "%s:%u", a,
		 ntohs(port));
}

void fmt_ratio(char *buf, size_t len, double v)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else if (v > 0 && v < 0.001) /* a flood's ratio: keep its digits */
		snprintf(buf, len, "%.1e", v);
	else
		snprintf(buf, len, "%.3f", v);
}

volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void stop_signals_install(void)
{
	struct sigaction sa = { .sa_handler = on_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void sleep_interruptible(__u64 ns)
{
	struct timespec ts = {
		.tv_sec = ns / 1000000000ULL, .tv_nsec = ns % 1000000000ULL,
	};

	while (!stop_requested && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

void fmt_duration(char *buf, size_t len, __u64 s)
{
	if (s >= 86400)
		snprintf(buf, len, "%llud%lluh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%lluh%llum", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%llum%llus", s / 60, s % 60);
	else
		snprintf(buf, len, "%llus", s);
}

void fmt_time(char *buf, size_t len, __u64 secs)
{
	time_t t = secs;
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "%llu", secs);
}

const char *xdp_mode_name(__u32 xdp_flags)
{
	if (xdp_flags & XDP_FLAGS_SKB_MODE)
		return "generic";
	if (xdp_flags & XDP_FLAGS_DRV_MODE)
		return "native";
	return "unknown";
}

bool ifname_valid(const char *name)
{
	size_t len = strlen(name);

	if (!len || len >= IF_NAMESIZE || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || isspace((unsigned char)*p))
			return false;
	return true;
}

static int ifreq_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strncpy(ifr->ifr_name, ifname, IF_NAMESIZE - 1);
	if (ioctl(fd, req, ifr))
		ret = -errno;
	close(fd);
	return ret;
}

int iface_mtu(const char *ifname)
{
	struct ifreq ifr = {};
	int err = ifreq_ioctl(ifname, SIOCGIFMTU, &ifr);

	return err ? err : ifr.ifr_mtu;
}

int iface_driver(const char *ifname, char *buf, size_t len)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { .ifr_data = (void *)&info };
	int err = ifreq_ioctl(ifname, SIOCETHTOOL, &ifr);

	if (err)
		return err;
	snprintf(buf, len, "%.*s", (int)sizeof(info.driver), info.driver);
	return 0;
}

bool iface_is_veth(const char *ifname)
{
	char drv[32];

	return !iface_driver(ifname, drv, sizeof(drv)) && !strcmp(drv, "veth");
}

int iface_rxvlan(const char *ifname)
{
	struct ethtool_value v = { .cmd = ETHTOOL_GFLAGS };
	struct ifreq ifr = { .ifr_data = (void *)&v };
	int err = ifreq_ioctl(ifname, SIOCETHTOOL, &ifr);

	if (err)
		return err;
	return !!(v.data & ETH_FLAG_RXVLAN);
}

int iface_mac(const char *ifname, __u8 mac[6])
{
	struct ifreq ifr = {};
	int err = ifreq_ioctl(ifname, SIOCGIFHWADDR, &ifr);

	if (err)
		return err;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -ENOTSUP;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

void fmt_mac(char *buf, size_t len, const __u8 m[6])
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

bool iface_is_loopback(const char *ifname)
{
	struct ifreq ifr = {};

	return !ifreq_ioctl(ifname, SIOCGIFFLAGS, &ifr) &&
	       (ifr.ifr_flags & IFF_LOOPBACK);
}

int netns_id(__u64 *dev, __u64 *ino)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

bool netns_is_current(const struct xdpsyn_meta *m)
{
	__u64 dev = 0, ino = 0;

	return !netns_id(&dev, &ino) && dev == m->netns_dev && ino == m->netns_ino;
}

/* /proc/sys/net/... is that of the caller's network namespace. */
static void sysctl_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "/proc/sys/%s", name);
	for (char *p = buf + strlen("/proc/sys/"); *p; p++)
		if (*p == '.')
			*p = '/';
}

int sysctl_read(const char *name, char *buf, size_t len)
{
	char path[256];
	ssize_t n;
	int fd;

	sysctl_path(path, sizeof(path), name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

int sysctl_read_long(const char *name, long *val)
{
	char buf[64], *end;
	int err = sysctl_read(name, buf, sizeof(buf));

	if (err)
		return err;
	errno = 0;
	*val = strtol(buf, &end, 10);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

int sysctl_write(const char *name, const char *val)
{
	char path[256];
	int fd, ret = 0;

	sysctl_path(path, sizeof(path), name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int kernel_version(int *major, int *minor, char *buf, size_t len)
{
	struct utsname u;

	if (uname(&u))
		return -errno;
	snprintf(buf, len, "%s", u.release);
	/* NOLINTNEXTLINE(cert-err34-c): uname's release starts with small decimals; anything else fails the == 2 test */
	if (sscanf(u.release, "%d.%d", major, minor) != 2)
		return -EINVAL;
	return 0;
}

static bool cap_has(const struct __user_cap_data_struct d[2], int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

int need_privileges(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	if (syscall(SYS_capget, &h, d)) {
		errmsg("capabilities", "capget: %s", strerror(errno));
		return EXIT_PREREQ;
	}
	if ((cap_has(d, CAP_SYS_ADMIN) || cap_has(d, CAP_BPF)) &&
	    cap_has(d, CAP_NET_ADMIN))
		return 0;
	errmsg("privileges", "need CAP_BPF (or CAP_SYS_ADMIN) and CAP_NET_ADMIN: "
	       "run as root");
	return EXIT_PREREQ;
}

static const char *const policy_names[] = {
	[XDPSYN_POLICY_PROXY] = "proxy",
	[XDPSYN_POLICY_TRACK] = "track",
	[XDPSYN_POLICY_AUTO] = "auto",
};

const char *policy_name(__u32 policy)
{
	return policy < sizeof(policy_names) / sizeof(policy_names[0]) ?
	       policy_names[policy] : "?";
}

int policy_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(policy_names) / sizeof(policy_names[0]); i++)
		if (!strcmp(name, policy_names[i]))
			return (int)i;
	return -1;
}

const char *switch_reason_name(__u32 reason)
{
	static const char *const names[] = {
		[XDPSYN_SWITCH_SET] = "set",
		[XDPSYN_SWITCH_RATE] = "rate",
		[XDPSYN_SWITCH_KCOOKIE] = "kernel_cookie",
		[XDPSYN_SWITCH_CALM] = "calm",
	};

	return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "?";
}

void config_policy_derive(struct xdpsyn_config *cfg)
{
	int ncpus = libbpf_num_possible_cpus();

	cfg->rate_hi = xdpsyn_rate_threshold(cfg->syn_rate);
	cfg->rate_hi_cpu = cfg->rate_hi / (ncpus > 0 ? (__u64)ncpus : 1);
	cfg->rate_lo = cfg->rate_hi / 2;
	cfg->calm_ns = (__u64)cfg->calm_s * 1000000000ULL;
}

int policy_state_reset(int fd, __u32 policy)
{
	struct xdpsyn_policy_state ps;
	__u32 zero = 0;
	__u64 now = tai_now_ns();

	if (bpf_map_lookup_elem(fd, &zero, &ps))
		memset(&ps, 0, sizeof(ps));
	/* the kernel keeps its timer: the value written there is ignored */
	memset(&ps.timer, 0, sizeof(ps.timer));
	ps.state = policy == XDPSYN_POLICY_PROXY ? XDPSYN_POLICY_PROXY :
						   XDPSYN_POLICY_TRACK;
	ps.reason = XDPSYN_SWITCH_SET;
	ps.since_ns = now;
	ps.last_high_ns = now;
	ps.switch_rate = 0;
	return bpf_map_update_elem(fd, &zero, &ps, BPF_ANY) ? -errno : 0;
}

__u64 syn_rate_read(int fd)
{
	int ncpus = libbpf_num_possible_cpus();
	struct xdpsyn_rate *r;
	__u64 now = tai_now_ns(), sum = 0;
	__u32 zero = 0;

	if (fd < 0 || ncpus <= 0)
		return 0;
	r = calloc(ncpus, sizeof(*r));
	if (!r)
		return 0;
	if (!bpf_map_lookup_elem(fd, &zero, r))
		for (int c = 0; c < ncpus; c++)
			sum += xdpsyn_rate_sum(&r[c], now);
	free(r);
	return sum / xdpsyn_rate_threshold(1);
}

int nl_dump(int proto, const struct nlmsghdr *req,
	    int (*cb)(const struct nlmsghdr *h, void *arg), void *arg)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	int fd, ret = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return -errno;
	if (send(fd, req, req->nlmsg_len, 0) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		const struct nlmsghdr *h = (const struct nlmsghdr *)buf;

		if (len <= 0) {
			ret = len ? -errno : 0;
			goto out;
		}
		for (; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				ret = e->error ? e->error : -EPROTO;
				goto out;
			}
			ret = cb(h, arg);
			if (ret)
				goto out;
		}
	}
out:
	close(fd);
	return ret;
}
