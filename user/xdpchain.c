// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn CLI: the interface's XDP chain through libxdp's dispatcher. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "cli.h"

static int libxdp_print(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	if (!verbose || (level == LIBXDP_DEBUG && !getenv("XDPSYN_LIBXDP_DEBUG")))
		return 0;
	fprintf(stderr, "libxdp: ");
	return vfprintf(stderr, fmt, ap);
}

void libxdp_quiet(void)
{
	libxdp_set_print(libxdp_print);
}

__u32 map_id_of(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* True when program ID uses map MAP_ID. */
static bool prog_uses_map(__u32 id, __u32 map_id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ids[64];
	bool found = false;
	int fd;

	if (!map_id)
		return false;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return false;
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		__u32 n = info.nr_map_ids < 64 ? info.nr_map_ids : 64;

		for (__u32 i = 0; i < n && !found; i++)
			found = ids[i] == map_id;
	}
	close(fd);
	return found;
}

static bool is_ours(const struct xdp_program *p, __u32 prog_id, __u32 map_id)
{
	__u32 id = xdp_program__id(p);

	return id && (id == prog_id || prog_uses_map(id, map_id));
}

int xdp_chain_read(int ifindex, __u32 our_prog_id, __u32 our_map_id,
		   struct xdp_chain *c)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p, *main_prog;
	long err;

	memset(c, 0, sizeof(*c));
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	err = libxdp_get_error(mp);
	if (err)
		return err < 0 ? (int)err : -EINVAL;
	if (!mp)
		return -ENOENT;
	main_prog = xdp_multiprog__main_prog(mp);
	if (!main_prog) {
		xdp_multiprog__close(mp);
		return -ENOENT;
	}
	c->main_id = xdp_program__id(main_prog);
	snprintf(c->main_name, sizeof(c->main_name), "%s",
		 xdp_program__name(main_prog) ? xdp_program__name(main_prog) : "");
	c->legacy = xdp_multiprog__is_legacy(mp);
	c->mode = xdp_multiprog__attach_mode(mp);
	if (c->legacy) {
		/* one program, no dispatcher: the chain is that program */
		struct xdp_entry *e = &c->e[c->n++];

		e->prog_id = c->main_id;
		e->prio = xdp_program__run_prio(main_prog);
		snprintf(e->name, sizeof(e->name), "%s", c->main_name);
		e->ours = is_ours(main_prog, our_prog_id, our_map_id);
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p && c->n < XDP_CHAIN_MAX;
	     p = xdp_multiprog__next_prog(p, mp)) {
		struct xdp_entry *e = &c->e[c->n++];

		e->prog_id = xdp_program__id(p);
		e->prio = xdp_program__run_prio(p);
		for (unsigned int a = XDP_ABORTED; a <= XDP_REDIRECT; a++)
			if (xdp_program__chain_call_enabled(p, a))
				e->chain_actions |= 1U << a;
		snprintf(e->name, sizeof(e->name), "%s",
			 xdp_program__name(p) ? xdp_program__name(p) : "");
		e->ours = is_ours(p, our_prog_id, our_map_id);
	}
	xdp_multiprog__close(mp);
	return 0;
}

int xdp_chain_detach_ours(int ifindex, __u32 our_prog_id, __u32 our_map_id)
{
	struct xdp_program *ours[XDP_CHAIN_MAX], *p;
	struct xdp_multiprog *mp;
	size_t n = 0;
	long err;

	mp = xdp_multiprog__get_from_ifindex(ifindex);
	err = libxdp_get_error(mp);
	if (err == -ENOENT || (!err && !mp))
		return 0;
	if (err)
		return err < 0 ? (int)err : -EINVAL;
	if (xdp_multiprog__is_legacy(mp)) {
		/* no dispatcher: ours attached alone (libxdp's fallback where
		 * the kernel refuses freplace programs), or another's */
		p = xdp_multiprog__main_prog(mp);
		err = p && is_ours(p, our_prog_id, our_map_id) ?
		      xdp_multiprog__detach(mp) : 0;
		n = p && is_ours(p, our_prog_id, our_map_id) && !err;
		xdp_multiprog__close(mp);
		return err ? (int)err : (int)n;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p && n < XDP_CHAIN_MAX;
	     p = xdp_multiprog__next_prog(p, mp))
		if (is_ours(p, our_prog_id, our_map_id))
			ours[n++] = p;
	err = n ? xdp_program__detach_multi(ours, n, ifindex,
					    xdp_multiprog__attach_mode(mp), 0) : 0;
	xdp_multiprog__close(mp);
	return err ? (int)err : (int)n;
}

int prog_link_count(__u32 prog_id)
{
	__u32 id = 0;
	int n = 0;

	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    info.prog_id == prog_id)
			n++;
		close(fd);
	}
	return errno == ENOENT ? n : -errno;
}

void xdp_actions_format(char *buf, size_t len, __u32 actions)
{
	static const char *const names[] = { "XDP_ABORTED", "XDP_DROP",
					     "XDP_PASS", "XDP_TX",
					     "XDP_REDIRECT" };
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int a = 0; a < 5; a++) {
		if (!(actions & (1U << a)))
			continue;
		int w = snprintf(buf + off, len - off, "%s%s", off ? "," : "",
				 names[a]);

		if (w < 0 || (size_t)w >= len - off)
			break;
		off += w;
	}
}
