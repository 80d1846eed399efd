#!/usr/bin/env python3
"""The app's code order: which of its functions a start and an idle window run.

src-tauri/build.rs hands the list to the linker (LLD's --symbol-ordering-file), which lays those
functions out first in the binary's code, so the pages they share are few (BENCHMARKS.md, "Code
order"). `scripts/bench.sh order` runs the app under callgrind and calls `collect`;
then, for what callgrind's CPU did not run, the page faults of native runs; `scripts/bench.sh
app` calls `check` to print how much of the list a build still has.

  code-order.py collect LIST [--keep] PROFILE...  writes the functions of `confab-desktop` that ran
                                                (callgrind's output, or perf.data of page faults;
                                                --keep adds them to what LIST has)
  code-order.py check BINARY LIST                prints the list's coverage of the binary's code

It never edits code or links anything itself; the names are the binary's own symbols, sorted so
that a retaken list differs from the old one only where the code did.
"""

import re
import subprocess
import sys

HEADER = """\
# The functions of confab-desktop that a start from the cache and an idle window run, as the
# linker names them: src-tauri/build.rs lays them out first in the binary's code. Written by
# `scripts/bench.sh order` (scripts/code-order.py); a name the binary no longer has is skipped.
"""

BLOCK = 64 * 1024  # the kernel's fault-around window: what one touched page maps at least


def collect(out, profiles, keep):
    """The functions in the app's own object that ran in any of `profiles`, with those `out`
    already lists if `keep`."""
    names = set()
    if keep:
        with open(out) as f:
            names = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    before = len(names)
    for path in profiles:
        with open(path, "rb") as f:
            perf = f.read(8) == b"PERFILE2"
        names |= set(perf_faults(path) if perf else callgrind_functions(path))
    if not names:
        sys.exit(f"no function of confab-desktop in {', '.join(profiles)}: was it the app that ran?")
    with open(out, "w") as f:
        f.write(HEADER)
        f.writelines(n + "\n" for n in sorted(names))
    print(f"code order: {len(names)} functions ({len(names) - before} new), written to {out}")


def callgrind_functions(path):
    """Every function of the app that callgrind saw run: all of them, but under valgrind's CPU,
    whose features pick some code paths other than the machine's."""
    obj = None
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("ob="):
                obj = line[3:].strip()
            elif line.startswith("fn=") and obj and obj.endswith("/confab-desktop"):
                # callgrind marks a recursive call's copy with 'N; the symbol has no mark.
                name = re.sub(r"'\d+$", "", line[3:].strip())
                # "(below main)" and bare addresses are callgrind's, not symbols.
                if not name.startswith(("(", "0x")):
                    yield name


def perf_faults(path):
    """The app's functions that took a page fault in a native run (`perf record -e
    minor-faults,major-faults -c 1`): each is the first to run in a block of code not yet
    mapped, so a round finds the functions callgrind missed a block at a time."""
    script = subprocess.run(
        ["perf", "script", "--no-demangle", "-F", "ip,sym,dso", "-i", path],
        capture_output=True, text=True, check=True,
    )
    for line in script.stdout.splitlines():
        m = re.match(r"^\s*[0-9a-f]+ (\S+?)(?:\+0x[0-9a-f]+)? \((.*)\)$", line)
        if m and m.group(2).endswith("/confab-desktop") and m.group(1) not in ("[unknown]", "_init", "_start"):
            yield m.group(1)


def text_symbols(binary):
    """(address, size, name) of every function the binary defines."""
    nm = subprocess.run(["nm", "-S", "--defined-only", binary], capture_output=True, text=True, check=True)
    for line in nm.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tTwW":
            yield int(parts[0], 16), int(parts[1], 16), parts[3]


def check(binary, listed):
    try:
        f = open(listed)
    except FileNotFoundError:
        print(f"code order: no {listed}; the binary's functions are in the compiler's order")
        return
    with f:
        wanted = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    symbols = list(text_symbols(binary))
    hot = [(a, s) for a, s, n in symbols if n in wanted]
    code = sum(s for _, s, _ in symbols)
    blocks = {b for a, s in hot for b in range(a // BLOCK, (a + max(s, 1) - 1) // BLOCK + 1)}
    all_blocks = {b for a, s, _ in symbols for b in range(a // BLOCK, (a + max(s, 1) - 1) // BLOCK + 1)}
    found = len({n for _, _, n in symbols if n in wanted})
    print(
        f"code order: {found} of the {len(wanted)} listed functions are in {binary} "
        f"({sum(s for _, s in hot) / 1e6:.2f} of its {code / 1e6:.2f} MB of code, "
        f"in {len(blocks)} of its {len(all_blocks)} 64 KB blocks)"
    )
    if found < len(wanted) * 0.8:
        print("code order: the list is older than the code; `scripts/bench.sh order` retakes it")


def main(argv):
    if len(argv) >= 4 and argv[0] == "collect" and argv[2] == "--keep":
        collect(argv[1], argv[3:], keep=True)
    elif len(argv) >= 3 and argv[0] == "collect":
        collect(argv[1], argv[2:], keep=False)
    elif len(argv) == 3 and argv[0] == "check":
        check(argv[1], argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
