#!/usr/bin/python3
"""Quoted output in the documentation, produced by the code.

usage: doc_outputs.py --check|--update [--dualpath BIN] [FILE.md ...]

A fenced block that quotes a command's output is marked by an HTML comment
on the line just before its opening fence:

    <!-- output of: dualpath run scenarios/quickstart.yaml; lines: /^  job/../^  TTFT/; /^  engine/ -->

The command runs in an empty temporary folder (so files it writes land there
and relative names in its output are the defaults); `dualpath` is the
binary under test and any argument naming a file of the repository (such as
scenarios/quickstart.yaml) is given as that file. Without `lines:` the block
is the whole output. With it, each `;`-separated item picks lines, in order:
`/RE/` the next line matching RE, `/RE1/../RE2/` the next line matching RE1
through the next matching RE2; non-adjacent picks are separated by a `...`
line. --check compares every quoted line with a fresh run and exits 1 with a
diff when one differs (tests/e2e/doc_outputs.sh); --update rewrites the
blocks. Default files: every *.md of the repository with a marker.
"""
import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = re.compile(r"^<!-- output of: (.*?)(?:; lines: (.*?))? -->$")


def run(cmd, dualpath):
    args = shlex.split(cmd)
    if args[0] != "dualpath":
        sys.exit("doc_outputs.py: only dualpath commands are quoted, not: %s" % cmd)
    args[0] = dualpath
    args[1:] = [os.path.join(ROOT, a) if os.path.exists(os.path.join(ROOT, a)) else a
                for a in args[1:]]
    with tempfile.TemporaryDirectory() as tmp:
        p = subprocess.run(args, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=dict(os.environ, DUALPATH_SCRIPTS=os.path.join(ROOT, "scripts")))
    if p.returncode != 0:
        sys.exit("doc_outputs.py: `%s` failed (exit %d):\n%s" % (cmd, p.returncode, p.stderr))
    return p.stdout.rstrip("\n").split("\n")


def pick(lines, spec):
    """The quoted excerpt: the picked lines, '...' between non-adjacent ones."""
    if not spec:
        return lines
    out, at, last = [], 0, None
    for item in spec.split(";"):
        res = re.findall(r"/((?:[^/\\]|\\.)*)/", item.strip())
        if not res or len(res) > 2:
            sys.exit("doc_outputs.py: bad lines item %r" % item)
        i = next((k for k in range(at, len(lines)) if re.search(res[0], lines[k])), None)
        if i is None:
            sys.exit("doc_outputs.py: no line matches /%s/ after line %d" % (res[0], at))
        j = i
        if len(res) == 2:
            j = next((k for k in range(i, len(lines)) if re.search(res[1], lines[k])), None)
            if j is None:
                sys.exit("doc_outputs.py: no line matches /%s/ after line %d" % (res[1], i))
        if last is not None and i != last + 1:
            out.append("...")
        out += lines[i:j + 1]
        at, last = j + 1, j
    return out


def blocks(text):
    """(marker line index, command, spec, first and end line of the body)."""
    lines = text.split("\n")
    for n, line in enumerate(lines):
        m = MARK.match(line)
        if not m:
            continue
        if n + 1 >= len(lines) or not lines[n + 1].startswith("```"):
            sys.exit("doc_outputs.py: a marker not followed by a fence: %s" % line)
        end = next(k for k in range(n + 2, len(lines)) if lines[k].startswith("```"))
        yield n, m.group(1), m.group(2), n + 2, end


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--update", action="store_true")
    ap.add_argument("--dualpath", default=os.path.join(ROOT, "build", "sim", "dualpath"))
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    a.dualpath = os.path.abspath(a.dualpath)
    files = a.files or sorted(
        os.path.join(d, f) for d, dirs, fs in os.walk(ROOT) for f in fs
        if f.endswith(".md") and not os.path.relpath(d, ROOT).startswith(("build", ".git")))
    bad = checked = 0
    for path in files:
        text = open(path).read()
        found = list(blocks(text))
        if not found:
            continue
        lines = text.split("\n")
        for n, cmd, spec, body, end in reversed(found):
            want = pick(run(cmd, a.dualpath), spec)
            have = lines[body:end]
            checked += 1
            if have != want:
                if a.update:
                    lines[body:end] = want
                else:
                    bad += 1
                    rel = os.path.relpath(path, ROOT)
                    sys.stdout.writelines(difflib.unified_diff(
                        [x + "\n" for x in have], [x + "\n" for x in want],
                        "%s:%d (quoted)" % (rel, body + 1), "`%s` (now)" % cmd))
        if a.update:
            with open(path, "w") as f:
                f.write("\n".join(lines))
    print("doc_outputs.py: %d quoted outputs %s, %d differ" %
          (checked, "updated" if a.update else "checked", bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
