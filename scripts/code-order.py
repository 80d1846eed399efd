#!/usr/bin/env python3
"""The app's code order: which of its functions a start and an idle window run, then which
a long history and a big team run beyond them.

src-tauri/build.rs hands the list to the linker (LLD's --symbol-ordering-file), which lays those
functions out first in the binary's code, in that order, so the pages they share are few
(BENCHMARKS.md, "Code order"). `scripts/bench.sh order` calls `collect` on callgrind's output of
starts, on the page faults of native starts (what callgrind's CPU did not run), and, for the
second tier, on perf samples of the long-history and big-team benches; `scripts/bench.sh app`
calls `check` to print how much of the list a build still has.

  code-order.py collect LIST [--keep] [--in-use] PROFILE...
      writes the functions of `confab-desktop` that ran (callgrind's output, or perf.data of
      page faults and samples); --keep adds them to what LIST has; --in-use adds them to the
      second tier, after the start's functions
  code-order.py check BINARY LIST
      prints the list's coverage of the binary's code

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

IN_USE = """\
# In use: what a long history and a big team run beyond the start (sync, scrolling, search,
# filtering), laid out after the start's functions so that the start still fills the fewest blocks.
"""

BLOCK = 64 * 1024  # the kernel's fault-around window: what one touched page maps at least


def read_list(path):
    """The two tiers of a list: the start's functions, then those of use."""
    tiers = ([], [])
    tier = 0
    with open(path) as f:
        for line in f:
            if line.startswith("# In use:"):
                tier = 1
            elif line.strip() and not line.startswith("#"):
                tiers[tier].append(line.strip())
    return tiers


def collect(out, profiles, keep, tier):
    """The functions in the app's own object that ran in any of `profiles`, into `tier` (0: the
    start, 1: use) of `out`, with what `out` already lists if `keep`."""
    start, use = read_list(out) if keep else ([], [])
    names = (set(start), set(use))
    before = len(names[0]) + len(names[1])
    for path in profiles:
        with open(path, "rb") as f:
            perf = f.read(8) == b"PERFILE2"
        names[tier].update(perf_samples(path) if perf else callgrind_functions(path))
    names[1].difference_update(names[0])
    if not names[0]:
        sys.exit(f"no function of confab-desktop in {', '.join(profiles)}: was it the app that ran?")
    with open(out, "w") as f:
        f.write(HEADER)
        f.writelines(n + "\n" for n in sorted(names[0]))
        if names[1]:
            f.write(IN_USE)
            f.writelines(n + "\n" for n in sorted(names[1]))
    after = len(names[0]) + len(names[1])
    print(
        f"code order: {len(names[0])} functions of the start, {len(names[1])} of use "
        f"({after - before} new), written to {out}"
    )


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


def perf_samples(path):
    """The app's functions in a native run's perf samples. A page fault (`-e minor-faults -c 1`)
    names the first function to run in a block of code not yet mapped, so a round finds what
    callgrind missed a block at a time; a `cpu-clock` sample names a function that ran long
    enough to be caught."""
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


def blocks(address, size):
    """The 64 KB blocks a function of `size` bytes at `address` lies in."""
    return range(address // BLOCK, (address + max(size, 1) - 1) // BLOCK + 1)


def check(binary, listed):
    try:
        start, use = read_list(listed)
    except FileNotFoundError:
        print(f"code order: no {listed}; the binary's functions are in the compiler's order")
        return
    wanted = set(start)
    symbols = list(text_symbols(binary))
    names = {n for _, _, n in symbols}
    hot = [(a, s) for a, s, n in symbols if n in wanted]
    code = sum(s for _, s, _ in symbols)
    hot_blocks = {b for a, s in hot for b in blocks(a, s)}
    all_blocks = {b for a, s, _ in symbols for b in blocks(a, s)}
    found = len(names & wanted)
    print(
        f"code order: {found} of the {len(wanted)} listed functions are in {binary} "
        f"({sum(s for _, s in hot) / 1e6:.2f} of its {code / 1e6:.2f} MB of code, "
        f"in {len(hot_blocks)} of its {len(all_blocks)} 64 KB blocks)"
    )
    if use:
        in_use = names & set(use)
        print(f"code order: then {len(in_use)} of the {len(use)} listed functions of use")
    if found < len(wanted) * 0.8:
        print("code order: the list is older than the code; `scripts/bench.sh order` retakes it")


def main(argv):
    if len(argv) >= 3 and argv[0] == "collect":
        out, rest = argv[1], argv[2:]
        keep = "--keep" in rest
        tier = 1 if "--in-use" in rest else 0
        profiles = [a for a in rest if a not in ("--keep", "--in-use")]
        collect(out, profiles, keep or tier == 1, tier)
    elif len(argv) == 3 and argv[0] == "check":
        check(argv[1], argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
