#!/bin/bash
# gen-completion.sh BINARY TEMPLATE > xdpsyn: the bash completion with the
# option and key lists parsed from BINARY's --help (by the template's own
# parser), so they cannot drift from the binary they ship with.
set -euo pipefail
bin=$1 tmpl=$2
data=$(bash -c 'source "$1" >/dev/null; _xdpsyn_load_help "$2"
	[ -n "${_XDPSYN_OPTS[attach]}" ] && [ -n "$_XDPSYN_KEYS" ] || exit 1
	declare -p _XDPSYN_OPTS _XDPSYN_KEYS' _ "$tmpl" "$bin") || {
	echo "gen-completion: no options or keys parsed from $bin --help" >&2; exit 1; }
data=${data//declare -A/declare -gA}
data=${data//declare --/declare -g}
while IFS= read -r line; do
	if [ "$line" = "# @XDPSYN_HELP_DATA@" ]; then
		echo "# Generated from $(basename "$bin") --help by packaging/gen-completion.sh."
		printf '%s\n' "$data"
	else
		printf '%s\n' "$line"
	fi
done <"$tmpl"
