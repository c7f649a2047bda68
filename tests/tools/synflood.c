// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * synflood: a bounded SYN (or forged-ACK) flood generator for xdpsyn's tests
 * and benchmarks. It only ever runs inside the network namespaces a test
 * creates, and refuses any address outside 10.201.0.0/16 and fd00:201::/64.
 *
 * Frames are built in user space (Ethernet + IPv4/IPv6 + TCP) and sent on an
 * AF_PACKET socket with the qdisc bypassed, in batches with sendmmsg(). A ring
 * of frames is built once from a template; before each send a frame gets a
 * new source address, source port, ISN (and TSval, IP ID, flow label) from a
 * xoshiro256** generator, and its checksums are finished from a partial sum
 * of the template's fixed fields plus the few changed words.
 *
 * Build: gcc -O2 -g -Wall -Wextra -Werror -o build/synflood tests/tools/synflood.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <math.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PROG		"synflood"
#define RING_SLOTS	4096		/* frames in the ring */
#define SLOT_SIZE	128		/* bytes per ring slot (largest frame: 94) */
#define MAX_BATCH	1024		/* UIO_MAXIOV, sendmmsg's vlen limit */
#define MAX_DURATION	120.0		/* seconds, hard cap */
#define ETH_HLEN_	14
#define IP4_HLEN	20
#define IP6_HLEN	40
#define TCP_HLEN	20

/* The only address space this tool may ever use (project rule). */
#define SAFE4_NET	0x0ac90000u	/* 10.201.0.0 */
#define SAFE4_LEN	16
static const uint8_t SAFE6_NET[8] = { 0xfd, 0x00, 0x02, 0x01, 0, 0, 0, 0 }; /* fd00:201::/64 */
#define SAFE6_LEN	64

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see --help)\n", stderr);
	exit(EXIT_USAGE);
}

static void runtime_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void runtime_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_RUNTIME);
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)(v >> 32)); put32(p + 4, (uint32_t)v); }
static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Checksums. The Internet checksum does not depend on byte order (RFC 1071
 * 2(B)): words are loaded in native order, summed, folded and stored back in
 * native order. Loading 32 bits at a 16-bit boundary of the summed area adds
 * the same two 16-bit words, so changed fields are added as 32-bit loads.
 */
static inline uint16_t ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline void st16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += ld16(p + i);
	if (len & 1) {
		uint8_t last[2] = { p[len - 1], 0 };

		sum += ld16(last);
	}
	return sum;
}

static inline uint16_t csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}

/* xoshiro256** (Blackman & Vigna), seeded through splitmix64. */
struct rng { uint64_t s[4]; };

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
	s[2] ^= t; s[3] = rotl(s[3], 45);
	return out;
}

static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* Configuration and argument parsing                                  */

struct cfg {
	const char *ifname;
	int ifindex;
	bool v6;
	uint8_t dst[16];		/* 4 or 16 bytes used */
	uint8_t net[16];		/* source prefix, host bits cleared */
	bool net_v6;
	int plen;
	uint8_t dmac[6], smac[6];
	bool have_dmac, have_smac, have_dst, have_net;
	uint16_t dport;
	bool have_dport;
	uint16_t sport_lo, sport_hi;
	uint64_t count;			/* 0 = no count limit */
	double duration;
	uint64_t rate;			/* pps, 0 = unpaced */
	unsigned batch;
	bool opts_linux;
	bool ack;
	bool stats;
	bool quiet;
	uint16_t mss;			/* 0 = 1460 (IPv4) / 1440 (IPv6) */
	uint64_t seed;
	bool have_seed;
};

static uint64_t parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+')
		usage_error("%s: '%s' is not a number", opt, s);
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s)
		usage_error("%s: '%s' is not a number", opt, s);
	if (v < min || v > max)
		usage_error("%s: %llu out of range %" PRIu64 "..%" PRIu64, opt, v, min, max);
	return v;
}

static void parse_mac(const char *opt, const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char sep[5], tail;
	int n;

	/* NOLINTNEXTLINE(cert-err34-c): %2x reads at most two hex digits, cannot overflow; count and length checked below */
	n = sscanf(s, "%2x%c%2x%c%2x%c%2x%c%2x%c%2x%c", &b[0], &sep[0], &b[1], &sep[1],
		   &b[2], &sep[2], &b[3], &sep[3], &b[4], &sep[4], &b[5], &tail);
	if (n != 11 || strlen(s) != 17)
		usage_error("%s: '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)", opt, s);
	for (int i = 0; i < 5; i++)
		if (sep[i] != ':' && sep[i] != '-')
			usage_error("%s: '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)", opt, s);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
}

static bool in_safe4(const uint8_t a[4])
{
	uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];

	return (v & (0xffffffffu << (32 - SAFE4_LEN))) == SAFE4_NET;
}

static bool in_safe6(const uint8_t a[16])
{
	return memcmp(a, SAFE6_NET, 8) == 0;
}

static void refuse(const char *what, const char *val)
{
	fprintf(stderr, PROG ": refusing %s %s: only 10.201.0.0/16 (IPv4) and fd00:201::/64 (IPv6) are allowed\n",
		what, val);
	exit(EXIT_USAGE);
}

static void parse_dst(struct cfg *c, const char *s)
{
	if (inet_pton(AF_INET, s, c->dst) == 1) {
		if (!in_safe4(c->dst))
			refuse("--dst-ip", s);
		c->v6 = false;
	} else if (inet_pton(AF_INET6, s, c->dst) == 1) {
		if (!in_safe6(c->dst))
			refuse("--dst-ip", s);
		c->v6 = true;
	} else {
		usage_error("--dst-ip: '%s' is not an IPv4 or IPv6 address", s);
	}
	c->have_dst = true;
}

static void parse_net(struct cfg *c, const char *s)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	int max;

	if (strlen(s) >= sizeof(buf))
		usage_error("--src-net: '%s' is not a PREFIX/LEN", s);
	strcpy(buf, s); // NOLINT(clang-analyzer-security.insecureAPI.strcpy): length checked against sizeof(buf) just above
	slash = strchr(buf, '/');
	if (!slash)
		usage_error("--src-net: '%s' has no /LEN", s);
	*slash = 0;
	memset(c->net, 0, sizeof(c->net));
	if (inet_pton(AF_INET, buf, c->net) == 1) {
		c->net_v6 = false;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->net) == 1) {
		c->net_v6 = true;
		max = 128;
	} else {
		usage_error("--src-net: '%s' is not an IPv4 or IPv6 prefix", s);
	}
	c->plen = (int)parse_u64("--src-net length", slash + 1, 0, (uint64_t)max);
	/* The prefix must lie wholly inside the allowed block. */
	if (!c->net_v6 && (c->plen < SAFE4_LEN || !in_safe4(c->net)))
		refuse("--src-net", s);
	if (c->net_v6 && (c->plen < SAFE6_LEN || !in_safe6(c->net)))
		refuse("--src-net", s);
	/* Clear host bits. */
	for (int bit = c->plen; bit < max; bit++)
		c->net[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	c->have_net = true;
}

static void parse_range(struct cfg *c, const char *s)
{
	char buf[32], *dash;

	if (strlen(s) >= sizeof(buf))
		usage_error("--sport-range: '%s' is not A-B", s);
	strcpy(buf, s); // NOLINT(clang-analyzer-security.insecureAPI.strcpy): length checked against sizeof(buf) just above
	dash = strchr(buf, '-');
	if (!dash)
		usage_error("--sport-range: '%s' is not A-B", s);
	*dash = 0;
	c->sport_lo = (uint16_t)parse_u64("--sport-range", buf, 1, 65535);
	c->sport_hi = (uint16_t)parse_u64("--sport-range", dash + 1, 1, 65535);
	if (c->sport_lo > c->sport_hi)
		usage_error("--sport-range: %u > %u", c->sport_lo, c->sport_hi);
}

static void help(void)
{
	printf(
"Usage: " PROG " -i IFACE --dst-ip ADDR --dst-mac MAC --dport PORT --src-net PREFIX/LEN [options]\n"
"\n"
"Bounded SYN (or forged-ACK) flood for xdpsyn tests. Builds Ethernet + IPv4/IPv6 +\n"
"TCP frames in user space and sends them on an AF_PACKET socket bound to IFACE\n"
"(qdisc bypassed) in sendmmsg() batches. Each frame has a random source address\n"
"inside --src-net, a random source port, ISN, TSval (and IPv4 ID / IPv6 flow label)\n"
"and correct IPv4 header and TCP checksums. No ARP/ND: --dst-mac is required.\n"
"\n"
"SAFETY: addresses outside 10.201.0.0/16 (IPv4) and fd00:201::/64 (IPv6) are\n"
"refused (exit 2). Run it only inside a test's own network namespace.\n"
"\n"
"Required:\n"
"  -i, --iface IFACE        interface to send on (looked up in this netns)\n"
"      --dst-ip ADDR        destination IPv4 or IPv6 address\n"
"      --dst-mac MAC        destination MAC (aa:bb:cc:dd:ee:ff), unicast\n"
"      --dport PORT         destination TCP port (1-65535)\n"
"      --src-net PREFIX/LEN source prefix, same family as --dst-ip; IPv4 /16../32,\n"
"                           IPv6 /64../128. IPv4 never uses the network or\n"
"                           broadcast address (all addresses of a /31 or /32 are\n"
"                           used); IPv6 never uses the all-zero interface id\n"
"                           (except for a /128). Never --dst-ip itself. Host\n"
"                           bits given are cleared.\n"
"Options:\n"
"      --src-mac MAC        source MAC (default: IFACE's own)\n"
"      --count N            packets to attempt, sent or failed (default 100000;\n"
"                           0 = no count limit, --duration still applies)\n"
"      --duration SECS      time limit, may be fractional (default 10, max 120)\n"
"                           the run stops at whichever limit comes first\n"
"      --rate PPS           pace to PPS packets per second with a token bucket\n"
"                           (default 0 = as fast as possible)\n"
"      --batch N            frames per sendmmsg() call, 1-1024 (default 64)\n"
"      --sport-range A-B    source ports (default 1024-65535)\n"
"      --options linux|none TCP options. linux (default): a SYN carries MSS,\n"
"                           SACK_PERM, TS (TSval random, TSecr 0), NOP, WS 7 in\n"
"                           Linux's order; with --ack: NOP, NOP, TS (both random).\n"
"                           none: a bare 20-byte TCP header\n"
"      --mss N              MSS in the SYN's option (default 1460 IPv4, 1440 IPv6)\n"
"      --ack                send bare ACKs with random seq/ack (forged-ACK flood)\n"
"                           instead of SYNs\n"
"      --seed N             seed the generator (repeatable frames); default: getrandom()\n"
"      --stats              append to the final line: family, mode, seed, and the\n"
"                           interface's tx_packets/tx_dropped/tx_errors deltas\n"
"  -q, --quiet              no start and progress lines on stderr\n"
"  -h, --help               this text\n"
"\n"
"Output: unless -q, a line on stderr at start and once a second, e.g.\n"
"  synflood: 1.0 s 412345 sent 412 kpps\n"
"and at the end one line on stdout:\n"
"  sent=N errors=N seconds=F pps=N\n"
"(sent: frames the kernel accepted; errors: frames it refused, e.g. ENOBUFS).\n"
"SIGINT/SIGTERM stop the run cleanly (the final line is still printed).\n"
"Exit status: 0 success, 1 runtime error, 2 usage error or refused address.\n");
}

enum {
	OPT_DST_IP = 256, OPT_DST_MAC, OPT_DPORT, OPT_SRC_NET, OPT_SRC_MAC, OPT_COUNT,
	OPT_DURATION, OPT_RATE, OPT_BATCH, OPT_SPORT_RANGE, OPT_OPTIONS, OPT_ACK,
	OPT_STATS, OPT_SEED, OPT_MSS,
};

static void parse_args(struct cfg *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "dst-ip", required_argument, NULL, OPT_DST_IP },
		{ "dst-mac", required_argument, NULL, OPT_DST_MAC },
		{ "dport", required_argument, NULL, OPT_DPORT },
		{ "src-net", required_argument, NULL, OPT_SRC_NET },
		{ "src-mac", required_argument, NULL, OPT_SRC_MAC },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "sport-range", required_argument, NULL, OPT_SPORT_RANGE },
		{ "options", required_argument, NULL, OPT_OPTIONS },
		{ "mss", required_argument, NULL, OPT_MSS },
		{ "ack", no_argument, NULL, OPT_ACK },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int o;

	memset(c, 0, sizeof(*c));
	c->sport_lo = 1024;
	c->sport_hi = 65535;
	c->count = 100000;
	c->duration = 10.0;
	c->batch = 64;
	c->opts_linux = true;

	opterr = 0;
	while ((o = getopt_long(argc, argv, ":i:qh", longopts, NULL)) != -1) {
		switch (o) {
		case 'i':
			c->ifname = optarg;
			break;
		case OPT_DST_IP:
			parse_dst(c, optarg);
			break;
		case OPT_DST_MAC:
			parse_mac("--dst-mac", optarg, c->dmac);
			c->have_dmac = true;
			break;
		case OPT_DPORT:
			c->dport = (uint16_t)parse_u64("--dport", optarg, 1, 65535);
			c->have_dport = true;
			break;
		case OPT_SRC_NET:
			parse_net(c, optarg);
			break;
		case OPT_SRC_MAC:
			parse_mac("--src-mac", optarg, c->smac);
			c->have_smac = true;
			break;
		case OPT_COUNT:
			c->count = parse_u64("--count", optarg, 0, UINT64_MAX);
			break;
		case OPT_DURATION: {
			char *end;

			errno = 0;
			c->duration = strtod(optarg, &end);
			if (errno || *end || end == optarg || !isfinite(c->duration) || c->duration <= 0)
				usage_error("--duration: '%s' is not a positive number of seconds", optarg);
			if (c->duration > MAX_DURATION)
				usage_error("--duration: %s s is over the %.0f s cap", optarg, MAX_DURATION);
			break;
		}
		case OPT_RATE:
			c->rate = parse_u64("--rate", optarg, 0, 1000000000);
			break;
		case OPT_BATCH:
			c->batch = (unsigned)parse_u64("--batch", optarg, 1, MAX_BATCH);
			break;
		case OPT_SPORT_RANGE:
			parse_range(c, optarg);
			break;
		case OPT_OPTIONS:
			if (!strcmp(optarg, "linux"))
				c->opts_linux = true;
			else if (!strcmp(optarg, "none"))
				c->opts_linux = false;
			else
				usage_error("--options: '%s' is not linux or none", optarg);
			break;
		case OPT_MSS:
			c->mss = (uint16_t)parse_u64("--mss", optarg, 1, 65535);
			break;
		case OPT_ACK:
			c->ack = true;
			break;
		case OPT_STATS:
			c->stats = true;
			break;
		case OPT_SEED:
			c->seed = parse_u64("--seed", optarg, 0, UINT64_MAX);
			c->have_seed = true;
			break;
		case 'q':
			c->quiet = true;
			break;
		case 'h':
			help();
			exit(0);
		case ':':
			usage_error("%s needs an argument", argv[optind - 1]);
		default:
			usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!c->ifname)
		usage_error("-i IFACE is required");
	if (!c->have_dst)
		usage_error("--dst-ip is required");
	if (!c->have_dmac)
		usage_error("--dst-mac is required (there is no ARP/ND)");
	if (c->dmac[0] & 1)
		usage_error("--dst-mac must be a unicast address");
	if (!c->have_dport)
		usage_error("--dport is required");
	if (!c->have_net)
		usage_error("--src-net is required");
	if (c->net_v6 != c->v6)
		usage_error("--dst-ip and --src-net must both be IPv4 or both IPv6");
	if (!c->mss)
		c->mss = c->v6 ? 1440 : 1460;
}

/* ------------------------------------------------------------------ */
/* Frame template                                                       */

struct tmpl {
	size_t len;		/* frame length */
	size_t l4;		/* TCP header offset */
	size_t tsval;		/* offset of TSval in the frame, 0 = none */
	size_t tsecr;		/* offset of a random TSecr (ACK mode), 0 = none */
	uint64_t tcp_base;	/* TCP sum of the fixed words, pseudo-header included */
	uint64_t ip_base;	/* IPv4 header sum of the fixed words */
	uint8_t b[SLOT_SIZE];
};

/* Per-frame random parameters derived once from the configuration. */
struct gen {
	bool v6, ack;
	uint32_t sport_span;	/* hi - lo + 1 */
	uint16_t sport_lo;
	/* IPv4: source = net4 | host; host drawn from [host_lo, host_lo + host_n) */
	uint32_t net4, host_lo, host_n, host_mask;
	/* IPv6: low 64 bits = net6lo | (r & host6_mask); never zero host unless /128 */
	uint64_t net6lo, host6_mask;
	/* Never the destination itself (the receiver drops it as a martian). */
	uint32_t dst4;
	bool avoid6;
	uint64_t dst6host;
};

#define L3 ETH_HLEN_

static void build_template(const struct cfg *c, struct tmpl *t)
{
	/* only the address of t->b is taken here; *t is zeroed just below */
	// cppcheck-suppress ctuuninitvar
	uint8_t *p = t->b, *ip = p + L3, *tcp;
	size_t optlen, tcplen;
	uint8_t pseudo[40];
	uint64_t sum;

	memset(t, 0, sizeof(*t));
	memcpy(p, c->dmac, 6);
	memcpy(p + 6, c->smac, 6);
	put16(p + 12, c->v6 ? 0x86dd : 0x0800);

	if (!c->opts_linux)
		optlen = 0;
	else
		optlen = c->ack ? 12 : 20;
	tcplen = TCP_HLEN + optlen;
	t->l4 = L3 + (c->v6 ? IP6_HLEN : IP4_HLEN);
	t->len = t->l4 + tcplen;
	tcp = p + t->l4;

	if (!c->v6) {
		ip[0] = 0x45;
		ip[1] = 0;
		put16(ip + 2, (uint16_t)(IP4_HLEN + tcplen));
		/* ip + 4: ID, random per frame */
		put16(ip + 6, 0x4000);		/* DF */
		ip[8] = 64;			/* TTL */
		ip[9] = IPPROTO_TCP;
		/* ip + 10: checksum; ip + 12: source, random per frame */
		memcpy(ip + 16, c->dst, 4);
	} else {
		put32(ip, 6u << 28);		/* flow label random per frame */
		put16(ip + 4, (uint16_t)tcplen);
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;			/* hop limit */
		memcpy(ip + 8, c->net, 8);	/* upper half fixed: prefix >= /64 */
		/* ip + 16: lower half of the source, random per frame */
		memcpy(ip + 24, c->dst, 16);
	}

	/* tcp + 0: source port, + 4: seq, + 8: ack, random per frame */
	put16(tcp + 2, c->dport);
	tcp[12] = (uint8_t)((tcplen / 4) << 4);
	if (c->ack) {
		tcp[13] = 0x10;			/* ACK */
		put16(tcp + 14, 502);		/* ~64240 >> 7, as after WS 7 */
	} else {
		tcp[13] = 0x02;			/* SYN */
		/* Linux: the largest multiple of the MSS not above 65535 */
		put16(tcp + 14, (uint16_t)(65535 / c->mss * c->mss));
	}
	if (c->opts_linux && !c->ack) {
		uint8_t *o = tcp + TCP_HLEN;

		o[0] = 2; o[1] = 4; put16(o + 2, c->mss);	/* MSS */
		o[4] = 4; o[5] = 2;				/* SACK_PERM */
		o[6] = 8; o[7] = 10;				/* TS: TSval, TSecr 0 */
		o[16] = 1;					/* NOP */
		o[17] = 3; o[18] = 3; o[19] = 7;		/* WS 7 */
		t->tsval = t->l4 + TCP_HLEN + 8;
	} else if (c->opts_linux) {
		uint8_t *o = tcp + TCP_HLEN;

		o[0] = 1; o[1] = 1;				/* NOP NOP */
		o[2] = 8; o[3] = 10;				/* TS: TSval, TSecr */
		t->tsval = t->l4 + TCP_HLEN + 4;
		t->tsecr = t->l4 + TCP_HLEN + 8;
	}

	/*
	 * Base sums, taken while every per-frame field is still zero: the
	 * source address (or its lower half), ID, ports, seq, ack, TSval, TSecr
	 * and both checksums.
	 */
	memset(pseudo, 0, sizeof(pseudo));
	if (!c->v6) {
		/* src(4, zero here) dst(4) zero proto len(2) */
		memcpy(pseudo + 4, c->dst, 4);
		pseudo[9] = IPPROTO_TCP;
		put16(pseudo + 10, (uint16_t)tcplen);
		sum = csum_add(0, pseudo, 12);
		t->ip_base = csum_add(0, ip, IP4_HLEN);
	} else {
		/* src(16: upper half fixed) dst(16) len(4) zero(3) nh(1) */
		memcpy(pseudo, c->net, 8);
		memcpy(pseudo + 16, c->dst, 16);
		put32(pseudo + 32, (uint32_t)tcplen);
		pseudo[39] = IPPROTO_TCP;
		sum = csum_add(0, pseudo, 40);
	}
	t->tcp_base = csum_add(sum, tcp, tcplen);
}

static void init_gen(const struct cfg *c, struct gen *g)
{
	memset(g, 0, sizeof(*g));
	g->v6 = c->v6;
	g->ack = c->ack;
	g->sport_lo = c->sport_lo;
	g->sport_span = (uint32_t)c->sport_hi - c->sport_lo + 1;
	if (!c->v6) {
		uint32_t size = 1u << (32 - c->plen);	/* plen >= 16 */

		g->net4 = (uint32_t)c->net[0] << 24 | (uint32_t)c->net[1] << 16 |
			  (uint32_t)c->net[2] << 8 | c->net[3];
		if (c->plen <= 30) {		/* skip network and broadcast */
			g->host_lo = 1;
			g->host_n = size - 2;
		} else {			/* /31 (RFC 3021), /32: every address */
			g->host_lo = 0;
			g->host_n = size;
		}
		g->dst4 = (uint32_t)c->dst[0] << 24 | (uint32_t)c->dst[1] << 16 |
			  (uint32_t)c->dst[2] << 8 | c->dst[3];
		if (g->host_n == 1 && g->net4 == g->dst4)
			usage_error("--src-net holds no address but --dst-ip");
	} else {
		int hb = 128 - c->plen;		/* 0..64 */
		uint64_t dlo = get64(c->dst + 8);

		g->net6lo = get64(c->net + 8);
		g->host6_mask = hb == 64 ? UINT64_MAX : hb == 0 ? 0 : (1ull << hb) - 1;
		g->avoid6 = !memcmp(c->dst, c->net, 8) && (dlo & ~g->host6_mask) == g->net6lo;
		g->dst6host = dlo & g->host6_mask;
		/* Usable hosts: none but 0 for a /128, else 1..mask. */
		if (g->avoid6 && (!g->host6_mask || (g->host6_mask == 1 && g->dst6host == 1)))
			usage_error("--src-net holds no address but --dst-ip");
	}
}

/* Gives frame p (a copy of the template) new random fields and checksums. */
static inline void refresh(uint8_t *p, const struct tmpl *t, const struct gen *g, struct rng *r)
{
	uint8_t *ip = p + L3, *tcp = p + t->l4;
	uint64_t a = rng_next(r), b = rng_next(r), e = rng_next(r), sum = t->tcp_base;
	uint16_t sport = (uint16_t)(g->sport_lo + (((b & 0xffffffffu) * g->sport_span) >> 32));

	if (!g->v6) {
		uint32_t src = g->net4 | (g->host_lo + (uint32_t)(((a >> 32) * g->host_n) >> 32));
		uint64_t isum = t->ip_base;

		while (src == g->dst4)
			src = g->net4 | (g->host_lo + (uint32_t)(((rng_next(r) >> 32) * g->host_n) >> 32));
		put32(ip + 12, src);
		put16(ip + 4, (uint16_t)e);			/* ID */
		isum += ld16(ip + 4) + (uint64_t)ld32(ip + 12);
		st16(ip + 10, csum_fold(isum));
		sum += ld32(ip + 12);
	} else {
		uint64_t host = rng_next(r) & g->host6_mask;

		/* Not the subnet-router anycast (all-zero host), nor the destination. */
		while ((!host && g->host6_mask) || (g->avoid6 && host == g->dst6host))
			host = rng_next(r) & g->host6_mask;
		put64(ip + 16, g->net6lo | host);
		put32(ip, 6u << 28 | (uint32_t)(e >> 44));	/* 20-bit flow label */
		sum += (uint64_t)ld32(ip + 16) + ld32(ip + 20);
	}
	put16(tcp, sport);
	put32(tcp + 4, (uint32_t)a);				/* ISN / seq */
	sum += ld16(tcp) + (uint64_t)ld32(tcp + 4);
	if (g->ack) {
		uint64_t c = rng_next(r);

		put32(tcp + 8, (uint32_t)c);			/* ack */
		sum += ld32(tcp + 8);
		if (t->tsecr) {
			put32(p + t->tsecr, (uint32_t)(c >> 32));
			sum += ld32(p + t->tsecr);
		}
	}
	if (t->tsval) {
		put32(p + t->tsval, (uint32_t)(b >> 32));
		sum += ld32(p + t->tsval);
	}
	st16(tcp + 16, csum_fold(sum));
}

/* ------------------------------------------------------------------ */
/* Interface helpers                                                    */

struct link_stats { uint64_t tx_packets, tx_dropped, tx_errors; };

/* The interface's 64-bit counters over rtnetlink (this netns). */
static int get_link_stats(int ifindex, struct link_stats *ls)
{
	static uint8_t buf[65536];
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	ssize_t n;
	int fd, ret = -1;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -1;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_GETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = ifindex;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		goto out;
	for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
	     nh = NLMSG_NEXT(nh, n)) {
		struct rtattr *rta;
		int len;

		if (nh->nlmsg_type != RTM_NEWLINK)
			continue;
		rta = (struct rtattr *)((uint8_t *)NLMSG_DATA(nh) + NLMSG_ALIGN(sizeof(struct ifinfomsg)));
		len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(struct ifinfomsg));
		for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
			struct rtnl_link_stats64 st;

			if (rta->rta_type != IFLA_STATS64 || RTA_PAYLOAD(rta) < sizeof(st))
				continue;
			memcpy(&st, RTA_DATA(rta), sizeof(st));
			ls->tx_packets = st.tx_packets;
			ls->tx_dropped = st.tx_dropped;
			ls->tx_errors = st.tx_errors;
			ret = 0;
		}
		break;
	}
out:
	close(fd);
	return ret;
}

static int open_socket(struct cfg *c)
{
	struct sockaddr_ll sll;
	struct ifreq ifr;
	int fd, one = 1, sndbuf = 4 << 20;

	/* Protocol 0: this socket receives nothing, it only sends. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		runtime_error("socket(AF_PACKET, SOCK_RAW): %s%s", strerror(errno),
			      errno == EPERM ? " (needs CAP_NET_RAW)" : "");

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", c->ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		runtime_error("%s: SIOCGIFFLAGS: %s", c->ifname, strerror(errno));
	if (!(ifr.ifr_flags & IFF_UP))
		runtime_error("%s is down", c->ifname);
	if (!c->have_smac) {
		if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
			runtime_error("%s: SIOCGIFHWADDR: %s (give --src-mac)", c->ifname, strerror(errno));
		memcpy(c->smac, ifr.ifr_hwaddr.sa_data, 6);
	}

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = c->ifindex;
	sll.sll_protocol = 0;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		runtime_error("bind to %s: %s", c->ifname, strerror(errno));
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0)
		runtime_error("PACKET_QDISC_BYPASS: %s", strerror(errno));
	/* A bigger send buffer so a burst never blocks; failure is harmless. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	return fd;
}

/* ------------------------------------------------------------------ */

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void fmt_mac(char *out, const uint8_t m[6])
{
	sprintf(out, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

int main(int argc, char **argv)
{
	static uint8_t ring[RING_SLOTS][SLOT_SIZE] __attribute__((aligned(64)));
	static struct iovec iov[RING_SLOTS];
	static struct mmsghdr msgs[RING_SLOTS];
	struct cfg c;
	struct tmpl t;
	struct gen g;
	struct rng rng;
	struct sigaction sa;
	struct link_stats ls0 = { 0 }, ls1 = { 0 };
	bool have_ls = false;
	uint64_t sent = 0, errors = 0, attempted = 0, pos = 0;
	uint64_t start, now, deadline, next_report, last_report, last_sent = 0;
	double tokens = 0, cap = 0, want = 1;
	uint64_t last_fill = 0;
	int fd, rc = 0, saved_errno = 0;

	parse_args(&c, argc, argv);
	init_gen(&c, &g);		/* may still find a usage error */

	c.ifindex = (int)if_nametoindex(c.ifname);
	if (!c.ifindex)
		runtime_error("no interface %s in this network namespace", c.ifname);
	fd = open_socket(&c);

	if (!c.have_seed) {
		if (getrandom(&c.seed, sizeof(c.seed), 0) != sizeof(c.seed))
			c.seed = mono_ns() ^ ((uint64_t)getpid() << 32);
	}
	rng_seed(&rng, c.seed);

	build_template(&c, &t);
	for (unsigned i = 0; i < RING_SLOTS; i++) {
		memcpy(ring[i], t.b, t.len);
		refresh(ring[i], &t, &g, &rng);
		iov[i].iov_base = ring[i];
		iov[i].iov_len = t.len;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: interrupt a blocked send or sleep */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Precise pacing sleeps. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	if (c.stats)
		have_ls = get_link_stats(c.ifindex, &ls0) == 0;

	if (!c.quiet) {
		char dst[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN], dm[18], sm[18];

		inet_ntop(c.v6 ? AF_INET6 : AF_INET, c.dst, dst, sizeof(dst));
		inet_ntop(c.v6 ? AF_INET6 : AF_INET, c.net, net, sizeof(net));
		fmt_mac(dm, c.dmac);
		fmt_mac(sm, c.smac);
		fprintf(stderr, PROG ": %s %s -> %s, %s%s%s port %u <- %s/%d ports %u-%u, %s options %s,"
			" batch %u, rate %" PRIu64 ", count %" PRIu64 ", duration %g s, seed %" PRIu64 "\n",
			c.ifname, sm, dm, c.v6 ? "[" : "", dst, c.v6 ? "]" : "", c.dport, net, c.plen,
			c.sport_lo, c.sport_hi, c.ack ? "ACK" : "SYN", c.opts_linux ? "linux" : "none",
			c.batch, c.rate, c.count, c.duration, c.seed);
	}

	start = now = mono_ns(); // NOLINT(clang-analyzer-deadcode.DeadStores): harmless, keeps now valid from the start
	deadline = start + (uint64_t)(c.duration * 1e9);
	next_report = start + 1000000000ull;
	last_report = start;
	if (c.rate) {
		want = (double)c.batch;
		if (want > (double)c.rate / 1000.0)	/* send at least every ~1 ms */
			want = (double)c.rate / 1000.0;
		if (want < 1)
			want = 1;
		cap = (double)c.rate / 100.0;		/* at most 10 ms of burst */
		if (cap < 2 * want)
			cap = 2 * want;
		tokens = want;
		last_fill = start;
	}

	while (!stop_flag) {
		uint64_t n = c.batch;
		int r;

		now = mono_ns();
		if (now >= deadline)
			break;
		if (!c.quiet && now >= next_report) {
			double dt = (double)(now - last_report) / 1e9;

			fprintf(stderr, PROG ": %.1f s %" PRIu64 " sent %.0f kpps\n",
				(double)(now - start) / 1e9, sent,
				dt > 0 ? (double)(sent - last_sent) / dt / 1000.0 : 0.0);
			last_sent = sent;
			last_report = now;
			next_report += 1000000000ull;
			if (next_report <= now)
				next_report = now + 1000000000ull;
		}
		if (c.count) {
			if (attempted >= c.count)
				break;
			if (n > c.count - attempted)
				n = c.count - attempted;
		}
		if (c.rate) {
			tokens += (double)(now - last_fill) * (double)c.rate / 1e9;
			last_fill = now;
			if (tokens > cap)
				tokens = cap;
			if (tokens < want && tokens < (double)n) {
				double need = (want < (double)n ? want : (double)n) - tokens;
				uint64_t wake = now + (uint64_t)(need * 1e9 / (double)c.rate) + 1;
				struct timespec ts;

				if (wake > deadline)
					wake = deadline;
				ts.tv_sec = (time_t)(wake / 1000000000ull);
				ts.tv_nsec = (long)(wake % 1000000000ull);
				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
				continue;
			}
			if ((double)n > tokens)
				n = (uint64_t)tokens;
		}
		if (n > RING_SLOTS - pos)
			n = RING_SLOTS - pos;

		for (uint64_t i = 0; i < n; i++)
			refresh(ring[pos + i], &t, &g, &rng);
		r = sendmmsg(fd, &msgs[pos], (unsigned)n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS || errno == EAGAIN) {
				/* The frame at pos was refused; count it and move on. */
				errors++;
				attempted++;
				if (c.rate)
					tokens -= 1;
				pos = (pos + 1) % RING_SLOTS;
				continue;
			}
			saved_errno = errno;
			rc = EXIT_RUNTIME;
			break;
		}
		sent += (uint64_t)r;
		attempted += (uint64_t)r;
		if (c.rate)
			tokens -= r;
		pos = (pos + (uint64_t)r) % RING_SLOTS;
	}
	now = mono_ns();
	if (c.stats)
		have_ls = have_ls && get_link_stats(c.ifindex, &ls1) == 0;
	close(fd);

	if (rc)
		fprintf(stderr, PROG ": sendmmsg on %s: %s\n", c.ifname, strerror(saved_errno));
	{
		double secs = (double)(now - start) / 1e9;
		uint64_t pps = secs > 0 ? (uint64_t)((double)sent / secs + 0.5) : 0;

		printf("sent=%" PRIu64 " errors=%" PRIu64 " seconds=%.3f pps=%" PRIu64, sent, errors, secs, pps);
		if (c.stats) {
			printf(" family=%d mode=%s options=%s seed=%" PRIu64, c.v6 ? 6 : 4,
			       c.ack ? "ack" : "syn", c.opts_linux ? "linux" : "none", c.seed);
			if (have_ls)
				printf(" if_tx_packets=%" PRIu64 " if_tx_dropped=%" PRIu64 " if_tx_errors=%" PRIu64,
				       ls1.tx_packets - ls0.tx_packets, ls1.tx_dropped - ls0.tx_dropped,
				       ls1.tx_errors - ls0.tx_errors);
		}
		printf("\n");
	}
	fflush(stdout);
	return rc;
}
