#!/usr/bin/env python3
"""Report pairs of modules that import each other, in every crate of the workspace.

Usage: scripts/module-cycles.py [WORKSPACE_ROOT]   (default: the parent of scripts/)

A crate is a directory with a Cargo.toml and a src/ directory under crates/, src-tauri/, src-ui/
or tests/ (target/, fuzz/ and node_modules/ are skipped). Each file under src/ defines a module:
lib.rs and main.rs the crate root, foo.rs and foo/mod.rs `foo`, a/b.rs `a::b`, and so on.

A module references another when it names it in a `use` statement or in a path in code:
`crate::a::b::Item`, `super::x`, `self::x`, or a path starting with one of its own declared child
modules (`child::f`). A path counts as a reference to the longest prefix a file defines
(`crate::a::b::Item` is `a::b` if a file defines it, else `a`). References to a module's own
ancestors and descendants count too. Not references: `mod child;` declarations, `pub use`
re-exports of a module's own descendants, comments, strings, `#[cfg(test)]` items, and test files
(files named tests.rs and anything inside a `tests` module). Inline `mod x { }` blocks are read as
part of their file's module. Only two-module circles are reported.

Exit status: 1 and one `crate: a <-> b` line per circle when any exist, else 0 and a summary.
Python 3.11, standard library only.
"""

import os
import re
import sys
from pathlib import Path

SEARCH_ROOTS = ("crates", "src-tauri", "src-ui", "tests")
SKIP_DIRS = {"target", "fuzz", "node_modules"}

CHAR_LITERAL = re.compile(r"'(?:\\u\{[0-9a-fA-F]+\}|\\.|[^\\'\n])'")
RAW_STRING = re.compile(r'b?r(#*)"')
CFG_TEST = re.compile(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
ATTRIBUTE = re.compile(r"\s*#\s*!?\s*\[")
MOD_DECL = re.compile(r"\bmod\s+(\w+)\s*;")
# A `use` item, optionally `pub`/`pub(crate)`; group 1 is the visibility, group 2 the use tree.
USE_ITEM = re.compile(r"(?<![\w:])(pub\s*(?:\([^)]*\))?\s*)?\buse\s+([\w:{}\s,*]+?)\s*;")
# A path of two or more segments not preceded by `::` (so `std::sync::Arc` is not `sync::Arc`).
CODE_PATH = re.compile(r"(?<![\w:])\$?(\w+(?:\s*::\s*\w+)+)")


def strip_comments_and_strings(text: str) -> str:
    """Blanks out comments, string literals and char literals, keeping lifetimes and code."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("//", i):
            i = n if (j := text.find("\n", i)) < 0 else j
        elif text.startswith("/*", i):  # block comments nest in Rust
            depth, i = 1, i + 2
            while i < n and depth:
                step = text[i : i + 2]
                depth += (step == "/*") - (step == "*/")
                i += 2 if step in ("/*", "*/") else 1
            out.append(" ")
        elif (m := RAW_STRING.match(text, i)) and not re.match(r"\w", text[i - 1 : i]):
            end = text.find('"' + m.group(1), m.end())
            i = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""')
        elif text[i] == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            out.append('""')
        elif m := CHAR_LITERAL.match(text, i):  # a lone `'` starts a lifetime and is kept
            i = m.end()
            out.append("' '")
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def past_group(code: str, i: int, open_: str, close: str) -> int:
    """The index just past the `close` that matches the `open_` at `code[i]`."""
    depth = 0
    for j in range(i, len(code)):
        depth += (code[j] == open_) - (code[j] == close)
        if depth == 0:
            return j + 1
    return len(code)


def strip_cfg_test_items(code: str) -> str:
    """Removes every `#[cfg(test)]` item: up to its first `;`, or its matching `}` if a `{`
    opens first (brackets and parentheses are skipped so `[u8; 4]` does not end it)."""
    while m := CFG_TEST.search(code):
        i = m.end()
        while a := ATTRIBUTE.match(code, i):  # further attributes on the same item
            i = past_group(code, a.end() - 1, "[", "]")
        nesting = 0
        while i < len(code) and not (nesting == 0 and code[i] in ";{"):
            nesting += (code[i] in "([") - (code[i] in ")]")
            i += 1
        end = past_group(code, i, "{", "}") if code[i : i + 1] == "{" else i + 1
        code = code[: m.start()] + " " + code[end:]
    return code


def expand_use_tree(tree: str) -> list[list[str]]:
    """`a::{self, b::{c, d as e}, f::*}` -> [a], [a, b, c], [a, b, d], [a, f]."""
    tree = re.sub(r"\s+as\s+\w+", "", tree)
    tree = re.sub(r"\s+", "", tree)
    if "{" not in tree:
        return [[s for s in tree.split("::") if s not in ("", "*")]]
    brace = tree.index("{")
    prefix = [s for s in tree[:brace].split("::") if s]
    inner, depth, parts, start = tree[brace + 1 : tree.rindex("}")], 0, [], 0
    for i, ch in enumerate(inner + ","):  # split the group on top-level commas
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    paths = []
    for part in filter(None, parts):
        for sub in expand_use_tree(part):
            paths.append(prefix + [s for s in sub if s != "self"])
    return paths


def resolve(segments, module, children, modules):
    """The file-defined module a path names, or None if it is not a path into this crate."""
    first = segments[0]
    if first == "crate":
        full = list(segments[1:])
    elif first in ("self", "super"):
        base, rest = list(module), list(segments)
        while rest and rest[0] in ("self", "super"):
            if rest.pop(0) == "super":
                if not base:
                    return None
                base.pop()
        full = base + rest
    elif first in children:
        full = list(module) + list(segments)
    else:
        return None  # std, another crate, a type or a local name
    for k in range(len(full), -1, -1):
        if tuple(full[:k]) in modules:
            return tuple(full[:k])
    return None


def module_of(rel: Path) -> tuple[str, ...] | None:
    """The module a file under src/ defines, or None for files this check skips."""
    parts = list(rel.with_suffix("").parts)
    if parts[0] == "bin":  # separate binaries with their own crate roots; none exist today
        return None
    if parts in (["lib"], ["main"]):
        return ()
    if parts[-1] == "mod":
        parts.pop()
    if "tests" in parts:  # test code may import freely
        return None
    return tuple(parts)


def crates(root: Path):
    """(name, directory) of every crate under the search roots."""
    for top in SEARCH_ROOTS:
        for dirpath, dirnames, filenames in os.walk(root / top):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            if "Cargo.toml" in filenames and (Path(dirpath) / "src").is_dir():
                toml = (Path(dirpath) / "Cargo.toml").read_text()
                found = re.search(r'^\s*name\s*=\s*"([^"]+)"', toml, re.M)
                yield (found.group(1) if found else Path(dirpath).name), Path(dirpath)


def name(module: tuple[str, ...]) -> str:
    """How a module is printed: `a::b`, or `crate` for the root."""
    return "::".join(module) or "crate"


def crate_cycles(crate: Path) -> tuple[int, list[tuple[str, str]]]:
    """The number of modules in `crate` and its pairs of modules that reference each other."""
    files = {}
    for path in sorted((crate / "src").rglob("*.rs")):
        module = module_of(path.relative_to(crate / "src"))
        if module is not None:
            files.setdefault(module, []).append(path)
    modules = set(files) | {()}
    refs: dict[tuple, set] = {m: set() for m in modules}
    for module, paths in files.items():
        for path in paths:
            code = strip_cfg_test_items(strip_comments_and_strings(path.read_text()))
            children = set(MOD_DECL.findall(code))
            for item in USE_ITEM.finditer(code):
                for segments in expand_use_tree(item.group(2)):
                    target = resolve(segments, module, children, modules) if segments else None
                    is_descendant = target is not None and target[: len(module)] == module
                    if item.group(1) and is_descendant:
                        continue  # a parent's `pub use child::X` re-export is not a reference
                    refs[module].add(target)
            for m in CODE_PATH.finditer(USE_ITEM.sub(" ", code)):
                segments = [s.strip() for s in m.group(1).split("::")]
                refs[module].add(resolve(segments, module, children, modules))
        refs[module] -= {None, module}  # not into this crate, or into itself
    cycles = sorted((name(a), name(b)) for a in refs for b in refs[a] if a in refs[b])
    cycles = [(a, b) for a, b in cycles if a < b]  # each pair once
    return len(modules), cycles


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    crate_count = module_count = 0
    circles = []
    for crate_name, crate in crates(root):
        count, cycles = crate_cycles(crate)
        crate_count, module_count = crate_count + 1, module_count + count
        circles += [f"{crate_name}: {a} <-> {b}" for a, b in cycles]
    for line in circles:
        print(line)
    print(f"{len(circles) or 'no'} module circle(s) in {crate_count} crates ({module_count} modules)")
    return 1 if circles else 0


if __name__ == "__main__":
    sys.exit(main())
