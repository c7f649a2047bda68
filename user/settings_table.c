// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The settings table (user/settings.h) as data: no code, so a test tool
 * (tests/tools/settings_dump.c) can link it alone. */
#include "settings.h"

/* NOLINTBEGIN(bugprone-macro-parentheses): the arguments are initializers
 * (WHERE is designators) */
#define SETTING_ROW_(id, name_, type_, where, min_, max_, def_, def_text_,     \
		     unit_, flags_, values_, help_)                            \
	[SETTING_##id] = { .name = name_, .type = type_, where, .min = min_,   \
			   .max = max_, .def = def_, .def_text = def_text_,    \
			   .unit = unit_, .flags = flags_, .values = values_,  \
			   .help = help_ },
const struct setting settings[SETTING_N] = { XDPSYN_SETTINGS(SETTING_ROW_) };
#undef SETTING_ROW_
/* NOLINTEND(bugprone-macro-parentheses) */
