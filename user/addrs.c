// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn CLI: the network namespace's own addresses in the pinned map
 * xdpsyn_local_addrs (include/xdpsyn.h): on a host that does not forward,
 * the XDP program answers a SYN through a wildcard listener only for
 * these; a SYN for any other address goes to the kernel, as it would
 * without xdpsyn. */
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "cli.h"

/* The address of IFA as the map's key; 0, or -1 for another family. */
static int addr_key(const struct ifaddrs *ifa, struct xdpsyn_addr *k)
{
	memset(k, 0, sizeof(*k));
	if (!ifa->ifa_addr)
		return -1;
	if (ifa->ifa_addr->sa_family == AF_INET) {
		k->family = XDPSYN_V4;
		k->addr[0] = ((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr.s_addr;
		return 0;
	}
	if (ifa->ifa_addr->sa_family == AF_INET6) {
		k->family = XDPSYN_V6;
		memcpy(k->addr, &((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

int local_addrs_fill(int fd)
{
	struct xdpsyn_addr k, next;
	struct ifaddrs *all, *ifa;
	__u8 one = 1;
	int n = 0;

	if (getifaddrs(&all))
		return -errno;
	/* empty it first: an address removed since is no longer ours */
	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		k = next;
		if (bpf_map_delete_elem(fd, &k))
			break;
	}
	for (ifa = all; ifa; ifa = ifa->ifa_next) {
		if (addr_key(ifa, &k))
			continue;
		if (bpf_map_update_elem(fd, &k, &one, BPF_ANY)) {
			int err = -errno;

			freeifaddrs(all);
			return err;
		}
		n++;
	}
	freeifaddrs(all);
	return n;
}

int local_addrs_missing(int fd, char *buf, size_t len)
{
	struct ifaddrs *all, *ifa;
	struct xdpsyn_addr k;
	size_t o = 0;
	__u8 v;
	int n = 0;

	buf[0] = 0;
	if (getifaddrs(&all))
		return -errno;
	for (ifa = all; ifa; ifa = ifa->ifa_next) {
		char a[INET6_ADDRSTRLEN];

		if (addr_key(ifa, &k) || !bpf_map_lookup_elem(fd, &k, &v))
			continue;
		n++;
		inet_ntop(k.family == XDPSYN_V4 ? AF_INET : AF_INET6, k.addr, a, sizeof(a));
		if (o < len)
			o += snprintf(buf + o, len - o, "%s%s", o ? ", " : "", a);
	}
	freeifaddrs(all);
	return n;
}
