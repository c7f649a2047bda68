// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The settings table of user/settings.h, one row a line, tab-separated:
 * name, where (attach, set, or attach+set), type, range (min..max, or the
 * values a|b), default (the value as the user types it, the default text,
 * or "-"). For tests/docs/check_man.py. */
#include <stdio.h>
#include <string.h>
#include "settings.h"

static const char *const type_names[] = {
	[ST_UINT] = "uint", [ST_ONOFF] = "on-off", [ST_ENUM] = "enum",
	[ST_PORTS] = "ports", [ST_ACTION] = "action", [ST_IFNAME] = "ifname",
	[ST_PREFIXES] = "prefixes",
};

int main(void)
{
	for (int i = 0; i < SETTING_N; i++) {
		const struct setting *s = &settings[i];
		char range[64] = "-", def[160] = "-";

		if (s->type == ST_UINT)
			snprintf(range, sizeof(range), "%ld..%ld", s->min, s->max);
		else if (s->type == ST_ONOFF)
			snprintf(range, sizeof(range), "on|off");
		else if (s->values)
			snprintf(range, sizeof(range), "%s", s->values);
		if (s->def_text) {
			snprintf(def, sizeof(def), "%s", s->def_text);
		} else if (s->def >= 0 && s->type == ST_ONOFF) {
			snprintf(def, sizeof(def), "%s", s->def ? "on" : "off");
		} else if (s->def >= 0 && s->type == ST_ENUM) {
			const char *p = s->values;

			for (long k = 0; p && k < s->def; k++)
				p = (p = strchr(p, '|')) ? p + 1 : NULL;
			snprintf(def, sizeof(def), "%.*s", p ? (int)strcspn(p, "|") : 1,
				 p ? p : "?");
		} else if (s->def >= 0) {
			snprintf(def, sizeof(def), "%ld", s->def);
		}
		printf("%s\t%s\t%s\t%s\t%s\n", s->name,
		       (s->flags & SF_BOTH) == SF_BOTH ? "attach+set" :
		       s->flags & SF_ATTACH ? "attach" : "set",
		       type_names[s->type], range, def);
	}
	return 0;
}
