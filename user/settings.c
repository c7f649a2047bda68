// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn CLI: the settings of attach and set, from the table in
 * settings.h: parsing, --help, the config map's fields, status lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "cli.h"

/* Value number I of "a|b|c" into BUF; false when there is none. */
static bool value_at(const char *values, long i, char *buf, size_t len)
{
	const char *p = values, *end;

	for (; p && i > 0; i--)
		p = (p = strchr(p, '|')) ? p + 1 : NULL;
	if (!p || i < 0)
		return false;
	end = strchr(p, '|');
	snprintf(buf, len, "%.*s", (int)(end ? (size_t)(end - p) : strlen(p)), p);
	return true;
}

/* "proxy, track or auto" of "proxy|track|auto". */
static void values_prose(const char *values, char *buf, size_t len)
{
	char v[32];
	size_t n = 0;
	long i;

	buf[0] = 0;
	for (i = 0; value_at(values, i, v, sizeof(v)); i++)
		;
	for (long k = 0; k < i && n < len; k++) {
		value_at(values, k, v, sizeof(v));
		n += snprintf(buf + n, len - n, "%s%s", k == 0 ? "" :
			      k == i - 1 ? " or " : ", ", v);
	}
}

const char *setting_value_name(int id, long v, char *buf, size_t len)
{
	const struct setting *s = &settings[id];

	if (s->type == ST_ONOFF)
		snprintf(buf, len, "%s", v ? "on" : "off");
	else if (s->type != ST_ENUM || !value_at(s->values, v, buf, len))
		snprintf(buf, len, "%ld", v);
	return buf;
}

int setting_find(const char *name, unsigned flag)
{
	for (int i = 0; i < SETTING_N; i++)
		if ((settings[i].flags & flag) && !strcmp(settings[i].name, name))
			return i;
	return -1;
}

int setting_parse(const char *cmd, const char *shown, int id, const char *val,
		  struct setting_vals *sv)
{
	const struct setting *s = &settings[id];
	unsigned long u;
	char err[128], v[32];
	long i;

	switch (s->type) {
	case ST_UINT:
		if (parse_ulong(val, s->min, s->max, &u))
			return usage_err(cmd, "%s: expected %ld..%ld%s", shown,
					 s->min, s->max, !strcmp(s->unit, "s") ?
					 " seconds" : "");
		sv->v[id] = u;
		break;
	case ST_ONOFF:
		if (strcmp(val, "on") && strcmp(val, "off"))
			return usage_err(cmd, "%s: expected on or off", shown);
		sv->v[id] = !strcmp(val, "on");
		break;
	case ST_ENUM:
	case ST_ACTION:
		for (i = 0; value_at(s->values, i, v, sizeof(v)); i++)
			if (!strcmp(v, val))
				break;
		if (!value_at(s->values, i, v, sizeof(v))) {
			values_prose(s->values, err, sizeof(err));
			return usage_err(cmd, "%s: expected %s", shown, err);
		}
		sv->v[id] = i;
		break;
	case ST_IFNAME:
		if (!ifname_valid(val))
			return usage_err(cmd, "%s: not a valid interface name", shown);
		snprintf(sv->ifname, sizeof(sv->ifname), "%s", val);
		break;
	case ST_PREFIXES: {
		int n = gw_prefixes_parse(val, sv->prefixes, XDPSYN_GW_PREFIXES_MAX,
					  err, sizeof(err));

		if (n < 0)
			return usage_err(cmd, "%s: %s", shown, err);
		sv->nprefixes = n;
		break;
	}
	case ST_PORTS: {
		/* ports: both families; ports4, ports6: one */
		int fam = id == SETTING_PORTS6 ? XDPSYN_V6 : XDPSYN_V4;

		if (ports_parse(val, &sv->ports[fam], err, sizeof(err)))
			return usage_err(cmd, "%s: %s", shown, err);
		if (id == SETTING_PORTS)
			sv->ports[XDPSYN_V6] = sv->ports[XDPSYN_V4];
		sv->given[fam == XDPSYN_V6 ? SETTING_PORTS6 : SETTING_PORTS4] = true;
		if (id == SETTING_PORTS)
			sv->given[SETTING_PORTS6] = true;
		break;
	}
	}
	sv->given[id] = true;
	return 0;
}

void setting_vals_defaults(struct setting_vals *sv)
{
	for (int i = 0; i < SETTING_N; i++)
		if (!sv->given[i] && settings[i].def >= 0)
			sv->v[i] = settings[i].def;
}

static void cfg_store(const struct setting *s, struct xdpsyn_config *cfg,
		      long v)
{
	char *p = (char *)cfg + s->cfg_off;

	switch (s->cfg_size) {
	case 1: *(__u8 *)p = v; break;
	case 2: *(__u16 *)p = v; break;
	case 4: *(__u32 *)p = v; break;
	}
}

static long cfg_load(const struct setting *s, const struct xdpsyn_config *cfg)
{
	const char *p = (const char *)cfg + s->cfg_off;

	switch (s->cfg_size) {
	case 1: return *(const __u8 *)p;
	case 2: return *(const __u16 *)p;
	case 4: return *(const __u32 *)p;
	}
	return 0;
}

bool settings_to_config(const struct setting_vals *sv,
			struct xdpsyn_config *cfg, bool defaults)
{
	bool any = false;

	for (int i = 0; i < SETTING_N; i++) {
		if (!settings[i].cfg_size ||
		    !(sv->given[i] || (defaults && settings[i].def >= 0)))
			continue;
		cfg_store(&settings[i], cfg, sv->v[i]);
		any = true;
	}
	return any;
}

void settings_of(struct setting_vals *sv, const struct xdpsyn_config *cfg,
		 __u32 flows_max, __u32 hs_max)
{
	memset(sv->given, 0, sizeof(sv->given));
	for (int i = 0; cfg && i < SETTING_N; i++) {
		const struct setting *s = &settings[i];

		if (!s->cfg_size)
			continue;
		sv->v[i] = cfg_load(s, cfg);
		/* 0 where 0 is out of range: an attachment made before the
		 * setting existed, whose programs use the default */
		if (s->type == ST_UINT && sv->v[i] < s->min && s->def >= 0)
			sv->v[i] = s->def;
		sv->given[i] = sv->v[i] >= s->min || s->type != ST_UINT;
	}
	sv->v[SETTING_FLOWS_MAX] = flows_max;
	sv->given[SETTING_FLOWS_MAX] = flows_max > 0;
	sv->v[SETTING_HS_MAX] = hs_max;
	sv->given[SETTING_HS_MAX] = hs_max > 0;
}

void settings_print(FILE *f, const struct setting_vals *sv, unsigned show)
{
	const char *sep = "";
	char v[32];

	for (int i = 0; i < SETTING_N; i++) {
		const struct setting *s = &settings[i];

		if (!(s->flags & show) || !sv->given[i])
			continue;
		fprintf(f, "%s%s %s%s", sep, s->name,
			setting_value_name(i, sv->v[i], v, sizeof(v)),
			!strcmp(s->unit, "s") ? "s" : "");
		sep = "  ";
	}
}

void settings_json(struct json_object *o, const struct setting_vals *sv,
		   unsigned show, bool policy)
{
	char key[40], v[32];

	for (int i = 0; i < SETTING_N; i++) {
		const struct setting *s = &settings[i];
		struct json_object *j;

		if (!sv->given[i] || !(s->flags & show) ||
		    !!(s->flags & SF_JSON_POLICY) != policy)
			continue;
		snprintf(key, sizeof(key), "%s%s", s->name,
			 !strcmp(s->unit, "s") ? "_s" : "");
		for (char *c = key; *c; c++)
			if (*c == '-')
				*c = '_';
		if (s->type == ST_ONOFF)
			j = json_object_new_boolean(sv->v[i]);
		else if (s->type == ST_ENUM)
			j = json_object_new_string(setting_value_name(i, sv->v[i], v,
								      sizeof(v)));
		else
			j = json_object_new_int64(sv->v[i]);
		json_object_object_add(o, key, j);
	}
}

void help_item(FILE *f, const char *left, int width, const char *text)
{
	const char *p = text;
	int col;

	col = fprintf(f, "%s", left);
	if (col > width - 2) {
		fprintf(f, "\n");
		col = 0;
	}
	while (*p) {
		size_t w = strcspn(p, " ");

		if (col > width && col + 1 + (int)w > 79) {
			fprintf(f, "\n");
			col = 0;
		}
		if (col < width)
			col += fprintf(f, "%*s", width - col, "");
		else
			col += fprintf(f, " ");
		col += fprintf(f, "%.*s", (int)w, p);
		p += w;
		p += strspn(p, " ");
	}
	fprintf(f, "\n");
}

void settings_help(FILE *f, unsigned where)
{
	bool attach = where == SF_ATTACH;
	char left[64], text[640], arg[40];

	for (int i = 0; i < SETTING_N; i++) {
		const struct setting *s = &settings[i];
		int n;

		if (!(s->flags & where))
			continue;
		if (s->type == ST_UINT)
			snprintf(arg, sizeof(arg), "%s", !strcmp(s->unit, "s") ?
				 "SECS" : "N");
		else if (s->type == ST_PORTS || s->type == ST_PREFIXES)
			snprintf(arg, sizeof(arg), "LIST");
		else if (s->type == ST_IFNAME)
			snprintf(arg, sizeof(arg), "IFACE_S");
		else
			snprintf(arg, sizeof(arg), "%s", s->values ? s->values :
				 "on|off");
		if (attach && s->type == ST_ONOFF)
			snprintf(left, sizeof(left), "  --%s, --no-%s", s->name,
				 s->name);
		else if (attach)
			snprintf(left, sizeof(left), "  --%s %s", s->name, arg);
		else
			snprintf(left, sizeof(left), "  %s=%s", s->name, arg);
		n = snprintf(text, sizeof(text), "%s", s->help);
		if (s->type == ST_UINT)
			n += snprintf(text + n, sizeof(text) - n, ", %ld..%ld",
				      s->min, s->max);
		if (attach && s->def_text)
			snprintf(text + n, sizeof(text) - n, " (default: %s)",
				 s->def_text);
		else if (attach && s->def >= 0)
			snprintf(text + n, sizeof(text) - n, " (default %s)",
				 setting_value_name(i, s->def, arg, sizeof(arg)));
		help_item(f, left, attach ? 22 : 16, text);
	}
}
