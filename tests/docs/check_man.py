#!/usr/bin/env python3
"""The man page documents every setting of the table in user/settings.h.

For each row (build/settings_dump prints them) the entry of man/xdpsyn.8:
attach's option (a .TP under "attach", its tag naming --NAME) with the
range (min..max, or every value) and the default, and set's key (a .TP
under "set", its tag naming NAME=) with the range. Then the other way:
every option and key the man page lists there is in the binary's --help.
One check a row, ending with "N passed, N failed".

Usage: check_man.py SETTINGS_DUMP XDPSYN MAN_PAGE
"""
import re
import subprocess
import sys

PASS = FAIL = 0


def ok(name):
    global PASS
    print(f"ok   {name}")
    PASS += 1


def bad(name, why):
    global FAIL
    print(f"FAIL {name}: {why}")
    FAIL += 1


def roff_text(line):
    """One roff line as the reader sees it: macro names dropped, the
    alternating-font macros' words joined, escapes resolved."""
    m = re.match(r'\.(B|I|R|BI|BR|IB|IR|RB|RI)\s+(.*)$', line)
    if m:
        words = re.findall(r'"([^"]*)"|(\S+)', m.group(2))
        words = [a or b for a, b in words]
        line = ("" if len(m.group(1)) == 2 else " ").join(words)
    elif line.startswith('.'):
        return ""
    line = re.sub(r'\\f[BIRP]|\\f\(..|\\&|\\c', '', line)
    return line.replace('\\-', '-').replace('\\(em', '-').replace('\\e', '\\')


def tp_entries(man):
    """(section, tag, text) of every .TP entry: the section is the first
    word of its .SS title."""
    out, sec, cur = [], "", None
    lines = man.split('\n')
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith(('.SS', '.SH', '.PP', '.TP', '.IP', '.RE')):
            if cur:
                out.append(cur)
                cur = None
        if ln.startswith('.SS'):
            sec = ln.split()[1].strip('"')
        elif ln.startswith('.SH'):
            sec = ""
        elif ln.startswith('.TP') and i + 1 < len(lines):
            i += 1
            cur = [sec, roff_text(lines[i]), ""]
        elif cur:
            cur[2] += " " + roff_text(ln)
        i += 1
    if cur:
        out.append(cur)
    return [(s, re.sub(r'\s+', ' ', t).strip(),
             re.sub(r'\s+', ' ', t + ' ' + b).strip()) for s, t, b in out]


def main():
    dump, xdpsyn, man_path = sys.argv[1:4]
    rows = [ln.split('\t') for ln in
            subprocess.run([dump], check=True, capture_output=True,
                           text=True).stdout.splitlines()]
    man = open(man_path, encoding='utf-8').read()
    entries = tp_entries(man)
    for name, where, typ, rng, default in rows:
        why = []
        if 'attach' in where:
            tag, text = entry(entries, 'attach', f"--{name}", why)
            if typ == 'on-off' and tag is not None:  # --NAME and --no-NAME
                if not re.search(r'--no-' + re.escape(name) + r'(?![\w-])', tag):
                    why.append(f"no --no-{name} beside --{name}")
            elif tag is not None:
                why += range_missing(text, typ, rng, f"--{name}")
            if tag is not None and default != '-' and not re.search(
                    r'default:?\s+' + re.escape(default), text):
                why.append(f"--{name}: no \"default {default}\"")
        if 'set' in where:
            tag, text = entry(entries, 'set', f"{name}=", why)
            if tag is not None:
                why += range_missing(text, typ, rng, f"{name}=")
        label = f"man page: {name} ({where}, {typ} {rng}, default {default})"
        if why:
            bad(label, "; ".join(why))
        else:
            ok(label)
    # the other way: what the man page lists is in the --help
    for sec, pat, fmt in (('attach', r'--[a-z][a-z0-9-]*', '{}'),
                          ('set', r'(?<![\w-])[a-z][a-z0-9-]*(?==)', '{}=')):
        helptext = subprocess.run([xdpsyn, sec, '--help'], check=True,
                                  capture_output=True, text=True).stdout
        names = sorted({fmt.format(w) for e in entries if e[0] == sec
                        for w in re.findall(pat, e[1])})
        gone = [n for n in names if not re.search(
            r'(^|[\s,])' + re.escape(n) + ('' if n.endswith('=') else
                                            r'(?![\w-])'), helptext, re.M)]
        label = f"man page: every {sec} {'option' if sec == 'attach' else 'key'}" \
                f" it lists is in xdpsyn {sec} --help ({len(names)})"
        if gone or not names:
            bad(label, "not in --help: " + " ".join(gone or ["(none found)"]))
        else:
            ok(label)
    print(f"{PASS} passed, {FAIL} failed")
    return 1 if FAIL else 0


def entry(entries, sec, word, why):
    """(tag, text) of the first .TP under SEC whose tag names WORD
    (--NAME, or NAME=); (None, None) after a reason in WHY."""
    pat = re.compile(r'(^|[\s,])' + re.escape(word) +
                     ('' if word.endswith('=') else r'(?![\w-])'))
    for e in entries:
        if e[0] == sec and pat.search(e[1]):
            return e[1], e[2]
    why.append(f"no .TP under {sec} naming {word}")
    return None, None


def range_missing(text, typ, rng, what):
    if rng == '-':
        return []
    if typ == 'uint':
        return [] if rng in text else [f"{what}: no range {rng}"]
    return [f"{what}: value {v} missing" for v in rng.split('|')
            if not re.search(r'(?<![\w-])' + re.escape(v) + r'(?![\w-])', text)]


if __name__ == '__main__':
    sys.exit(main())
