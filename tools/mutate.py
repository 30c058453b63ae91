"""Mutation testing of one tamrig module: does the suite notice when the code is wrong?

A small AST-based runner (no mutmut: mutmut 3 copies the tree into ``mutants/`` and wants the
whole suite's call graph first, too heavy for this project's layout and test times). It
applies one standard mutation at a time to the module's syntax tree:

- comparison flips (``<`` ↔ ``<=``, ``>`` ↔ ``>=``, ``==`` ↔ ``!=``, ``is`` ↔ ``is not``,
  ``in`` ↔ ``not in``), ``and`` ↔ ``or``, ``not x`` → ``x``, ``-x`` → ``x``;
- arithmetic swaps (``+`` ↔ ``-``, ``*`` ↔ ``/``, ``//`` → ``/``, ``%`` → ``*``, ``**`` → ``*``,
  ``&`` ↔ ``|``, ``<<`` ↔ ``>>``), augmented assignments swapped and ``x op= y`` → ``x = y``;
- numbers ``n`` → ``n + 1``, ``True`` ↔ ``False``;
- ``return x`` → ``return None``, ``lambda: x`` → ``lambda: None``, ``x = v`` → ``x = None``,
  a call statement dropped, ``break`` ↔ ``continue``.

Strings, annotations, docstrings, f-strings, imports, ``if TYPE_CHECKING`` blocks and
logging calls are left alone.

Each mutant runs against the tests that call the mutated function, found by one profiled
baseline run of the module's test files (module-level mutants run them all). The tests run
in a forked child of a process that has the third-party libraries imported but not tamrig;
an import hook gives the child the mutated module. So a mutant costs only its tests' time.
Tests that start another Python process cannot see the mutant (they cannot kill one).

A mutant is *killed* when a test fails or errors, or when the tests overrun the time limit
(an endless loop); it *survives* when they pass. Survivors listed in
``tools/mutation_equivalents.txt`` (a one-line reason each: the mutant does not change
behaviour) are reported apart. Score = killed / (mutants − listed equivalents).

Usage (one module at a time, the machine is shared)::

    .venv/bin/python tools/mutate.py tamrig/analysis/fitting.py
    .venv/bin/python tools/mutate.py tamrig/engine/engine.py --sample 120 --seed 1
    .venv/bin/python tools/mutate.py tamrig/storage/writer.py --function ScanWriter.resume
    .venv/bin/python tools/mutate.py tamrig/analysis/peak.py --list   # mutants only

Not part of ``make test`` or CI: a whole module takes minutes.
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib.machinery
import importlib.util
import json
import os
import random
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "tools" / "mutation_equivalents.txt"

#: The test files that exercise each module; extra files can be given with --tests.
DEFAULT_TESTS: dict[str, list[str]] = {
    "tamrig/analysis/fitting.py": ["tests/test_fit.py", "tests/test_error_messages.py"],
    "tamrig/acquisition/accumulator.py": [
        "tests/test_acquisition.py",
        "tests/test_accumulator.py",
        "tests/test_error_messages.py",
    ],
    # (the fault matrix of tests/test_reliability_faults.py would triple the time per mutant)
    "tamrig/engine/engine.py": [
        "tests/test_engine.py",
        "tests/test_engine_blocks.py",
        "tests/test_engine_edges.py",
        "tests/test_error_messages.py",
    ],
    "tamrig/analysis/pixel_weights.py": [
        "tests/test_pixel_weights.py",
        "tests/test_monitor.py",
        "tests/test_napari_reader.py",
    ],
    "tamrig/acquisition/sequencing.py": [
        "tests/test_acquisition.py",
        "tests/test_engine.py",
        "tests/test_engine_edges.py",
        "tests/test_error_messages.py",
    ],
    "tamrig/storage/writer.py": [
        "tests/test_storage.py",
        "tests/test_storage_safety.py",
        "tests/test_storage_columns.py",
        "tests/test_storage_legacy.py",
        "tests/test_storage_edges.py",
        "tests/test_storage_compression.py",
        "tests/test_error_messages.py",
    ],
}
ANALYSIS_TESTS = [
    "tests/test_analysis.py",
    "tests/test_analysis_timezero.py",
    "tests/test_analysis_branches.py",
    "tests/test_analysis_command.py",
    "tests/test_monitor.py",
    "tests/test_drift.py",
    "tests/test_fluence_trend.py",
    "tests/test_analysis_edges.py",
    "tests/test_transport_model_fit.py",
]

#: Third-party modules imported once in the parent, so a forked child starts warm.
PRELOAD = (
    "numpy",
    "scipy.linalg",
    "scipy.optimize",
    "scipy.special",
    "scipy.stats",
    "scipy.interpolate",
    "scipy.ndimage",
    "h5py",
    "pydantic",
    "rich.console",
    "hypothesis",
    "matplotlib",
    "matplotlib.pyplot",
    "threadpoolctl",
    "tomli_w",
    "PyQt6.QtCore",
    "pytestqt.plugin",
    "_hypothesis_pytestplugin",
    "pytest_timeout",
)

LOGGER_NAMES = {"log", "logger", "_log", "_logger", "logging"}

CMP_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
BIN_SWAP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.Mult,
    ast.Pow: ast.Mult,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}


@dataclass
class Mutant:
    index: int
    line: int
    function: str  # qualified name of the enclosing def, "" at module level
    change: str  # "old → new"
    text: bool = False  # of the --strings families (texts, keyword arguments)

    @property
    def key(self) -> str:
        return f"{self.function or '<module>'}: {self.change}"


def _short(node: ast.AST, limit: int = 70) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _is_logging_call(call: ast.Call) -> bool:
    f = call.func
    return (
        isinstance(f, ast.Attribute)
        and isinstance(f.value, ast.Name)
        and (f.value.id in LOGGER_NAMES)
    )


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


class Mutator:
    """Walks a module tree in a fixed order; lists the mutation sites or applies one."""

    SKIP_FIELDS = frozenset({"annotation", "returns", "type_comment", "decorator_list"})

    def __init__(self, target: int | None = None, strings: bool = False) -> None:
        self.target = target
        self.strings = strings  # the extra families: texts and keyword arguments
        self.sites: list[Mutant] = []
        self.scope: list[str] = []  # qualname parts
        self.def_depth: list[int] = []  # how deep in defs each scope entry is
        self.applied = False

    # -- the mutations of one node ----------------------------------------------------------
    def _options(self, node: ast.AST, parent: ast.AST | None) -> Iterator[tuple[str, ast.AST]]:
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                swap = CMP_SWAP.get(type(op))
                if swap:
                    new = copy.deepcopy(node)
                    new.ops[i] = swap()
                    yield f"{_short(node)} → {_short(new)}", new
        elif isinstance(node, ast.BinOp):
            swap_b = BIN_SWAP.get(type(node.op))
            if swap_b:
                new = copy.deepcopy(node)
                new.op = swap_b()
                yield f"{_short(node)} → {_short(new)}", new
        elif isinstance(node, ast.BoolOp):
            new = copy.deepcopy(node)
            new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            yield f"{_short(node)} → {_short(new)}", new
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
            if not (isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)):
                yield f"{_short(node)} → {_short(node.operand)}", copy.deepcopy(node.operand)
        elif isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool):
                new_c = ast.Constant(not v)
            elif isinstance(v, int | float) and not isinstance(v, complex):
                new_c = ast.Constant(v + 1)
            elif isinstance(v, str) and self.strings:
                new_c = ast.Constant(f"XX{v}XX")
            else:
                return
            where = parent if isinstance(parent, ast.expr) else node
            if where is node:
                yield f"{_short(node)} → {_short(new_c)}", new_c
            else:
                before = _short(where)
                saved = node.value
                node.value = new_c.value
                after = _short(where)
                node.value = saved
                yield f"{before} → {after}", new_c
        elif isinstance(node, ast.Return) and node.value is not None:
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                yield f"{_short(node)} → return None", ast.Return(ast.Constant(None))
        elif isinstance(node, ast.Lambda):
            if not (isinstance(node.body, ast.Constant) and node.body.value is None):
                new_l = copy.deepcopy(node)
                new_l.body = ast.Constant(None)
                yield f"{_short(node)} → {_short(new_l)}", new_l
        elif isinstance(node, ast.Assign):
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                new_a = copy.deepcopy(node)
                new_a.value = ast.Constant(None)
                yield f"{_short(node)} → {_short(new_a)}", new_a
        elif isinstance(node, ast.AugAssign):
            swap_a = BIN_SWAP.get(type(node.op))
            if swap_a:
                new_g = copy.deepcopy(node)
                new_g.op = swap_a()
                yield f"{_short(node)} → {_short(new_g)}", new_g
            plain = ast.Assign(targets=[copy.deepcopy(node.target)], value=node.value, lineno=0)
            plain.targets[0].ctx = ast.Store()
            yield f"{_short(node)} → {_short(plain)}", plain
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            if not _is_logging_call(node.value):
                yield f"{_short(node)} → (dropped)", ast.Pass()
        elif isinstance(node, ast.JoinedStr) and self.strings:
            new_j = copy.deepcopy(node)
            new_j.values.insert(0, ast.Constant("XX"))
            yield f"{_short(node)} → {_short(new_j)}", new_j
        elif isinstance(node, ast.Call) and self.strings:
            for i, kw in enumerate(node.keywords):
                if kw.arg is not None:
                    new_k = copy.deepcopy(node)
                    del new_k.keywords[i]
                    yield f"{_short(node)} → {_short(new_k)}", new_k
        elif isinstance(node, ast.Break):
            yield "break → continue", ast.Continue()
        elif isinstance(node, ast.Continue):
            yield "continue → break", ast.Break()

    # -- the walk ---------------------------------------------------------------------------
    def run(self, tree: ast.Module) -> ast.Module:
        self._visit_body(tree, "body", tree.body)
        return tree

    def _function(self) -> str:
        return ".".join(self.scope)

    def _visit_body(self, owner: ast.AST, name: str, body: list[Any]) -> None:
        for i, stmt in enumerate(list(body)):
            if i == 0 and isinstance(stmt, ast.stmt) and _is_docstring(stmt):
                continue
            self._visit(owner, name, i, stmt, None)

    def _visit(
        self, owner: ast.AST, name: str, index: int | None, node: ast.AST, parent: ast.AST | None
    ) -> None:
        if self.applied:
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            return
        if isinstance(node, ast.If) and _is_type_checking(node):
            return
        if self.strings and isinstance(node, ast.Call) and _is_logging_call(node):
            return  # log texts and arguments are for people reading logs, not for tests
        if isinstance(node, ast.JoinedStr) and not self.strings:
            return
        for change, replacement in self._options(node, parent):
            text = isinstance(node, ast.JoinedStr | ast.Call) or (
                isinstance(node, ast.Constant) and isinstance(node.value, str)
            )
            site = Mutant(
                len(self.sites), getattr(node, "lineno", 0), self._function(), change, text
            )
            self.sites.append(site)
            if site.index == self.target:
                ast.copy_location(replacement, node)
                if isinstance(node, ast.Constant):  # a constant's parent keeps the node
                    node.value = replacement.value  # type: ignore[attr-defined]
                elif index is None:
                    setattr(owner, name, replacement)
                else:
                    getattr(owner, name)[index] = replacement
                self.applied = True
                return
        if isinstance(node, ast.JoinedStr):
            return  # its parts: the one text mutant above is enough
        pushed = False
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if self.scope and self.def_depth[-1]:
                self.scope.append("<locals>")
                self.def_depth.append(self.def_depth[-1])
            self.scope.append(node.name)
            self.def_depth.append(
                (self.def_depth[-1] if self.def_depth else 0)
                + (0 if isinstance(node, ast.ClassDef) else 1)
            )
            pushed = True
        try:
            for fname, value in ast.iter_fields(node):
                if fname in self.SKIP_FIELDS:
                    continue
                if isinstance(node, ast.arguments) and fname not in ("defaults", "kw_defaults"):
                    continue
                if isinstance(value, list):
                    if (
                        fname in ("body", "orelse", "finalbody")
                        and value
                        and isinstance(value[0], ast.stmt)
                    ):
                        if isinstance(node, ast.FunctionDef | ast.ClassDef):
                            self._visit_body(node, fname, value)
                        else:
                            for i, item in enumerate(list(value)):
                                self._visit(node, fname, i, item, node)
                    else:
                        for i, item in enumerate(list(value)):
                            if isinstance(item, ast.AST):
                                self._visit(node, fname, i, item, node)
                elif isinstance(value, ast.AST):
                    self._visit(node, fname, None, value, node)
        finally:
            if pushed:
                self.scope.pop()
                self.def_depth.pop()
                if self.scope and self.scope[-1] == "<locals>":
                    self.scope.pop()
                    self.def_depth.pop()


def list_mutants(source: str, strings: bool = False) -> list[Mutant]:
    m = Mutator(strings=strings)
    m.run(ast.parse(source))
    counts: dict[str, int] = {}
    for site in m.sites:  # the same change twice in a function gets "#2", "#3"...
        counts[site.key] = counts.get(site.key, 0) + 1
        if counts[site.key] > 1:
            site.change += f" #{counts[site.key]}"
    return m.sites


def mutated_code(source: str, path: Path, index: int, strings: bool = False) -> CodeType:
    tree = ast.parse(source)
    m = Mutator(target=index, strings=strings)
    m.run(tree)
    if not m.applied:
        raise RuntimeError(f"mutant {index} not found")
    ast.fix_missing_locations(tree)
    return compile(tree, str(path), "exec")


# -- running tests in a forked child ---------------------------------------------------------
def _module_name(path: Path) -> str:
    rel = path.resolve().relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _install_mutant(path: Path, code: CodeType) -> None:
    name = _module_name(path)
    is_package = path.name == "__init__.py"

    class Loader(importlib.machinery.SourceFileLoader):
        def get_code(self, fullname: str) -> CodeType:
            return code

    class Finder:
        @staticmethod
        def find_spec(fullname: str, _path: Any = None, _target: Any = None) -> Any:
            if fullname != name:
                return None
            return importlib.util.spec_from_file_location(
                fullname,
                str(path),
                loader=Loader(fullname, str(path)),
                submodule_search_locations=[str(path.parent)] if is_package else None,
            )

    sys.meta_path.insert(0, Finder())


def _child_pytest(args: list[str], plugins: list[Any]) -> int:
    import pytest

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    return int(
        pytest.main(
            # plain asserts: rewriting every test module again costs more than the tests
            [*args, "-q", "-x", "-p", "no:cacheprovider", "--no-header", "--assert=plain"],
            plugins=plugins,
        )
    )


def _fork(run: Callable[[], int], timeout: float) -> tuple[str, float]:
    """Run ``run`` in a forked child; ('pass'|'fail'|'timeout'|'error N', seconds).

    pytest's exit codes: 0 passed, 1 a test failed, 2 interrupted (a collection error, e.g.
    the mutated module does not import); 3-5 are problems of the run itself.
    """
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # child
        os.setsid()
        code = 3
        try:
            code = run()
        except BaseException:
            code = 3
        finally:
            sys.stdout.flush()
            os._exit(code)
    deadline = start + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            elapsed = time.monotonic() - start
            code = os.waitstatus_to_exitcode(status)
            if code in (0, 1, 2) or code < 0:  # < 0: killed by a signal (a crash)
                return ("pass" if code == 0 else "fail"), elapsed
            return f"error {code}", elapsed
        if time.monotonic() > deadline:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            return "timeout", time.monotonic() - start
        time.sleep(0.02)


class _CallMap:
    """pytest plugin: which tests call which functions of the target file (any thread)."""

    def __init__(self, filenames: set[str], out: Path) -> None:
        self.filenames = filenames
        self.out = out
        self.current = ""
        self.calls: dict[str, set[str]] = {}
        self.durations: dict[str, float] = {}
        self.failed: list[str] = []

    def _profile(self, frame: FrameType, event: str, _arg: Any) -> None:
        code = frame.f_code
        if event == "call" and code.co_filename in self.filenames and self.current:
            key = f"{code.co_filename}::{_def_name(code.co_qualname)}"
            self.calls.setdefault(key, set()).add(self.current)

    def _clear_caches(self) -> None:
        """Empty the target file's functools caches: a cached function runs (and is mapped)
        for every test that calls it, not only for the first caller of each argument."""
        for module in list(sys.modules.values()):
            file = getattr(module, "__file__", None)
            if file is None or str(Path(file).resolve()) not in self.filenames:
                continue
            for value in list(vars(module).values()):
                clear = getattr(value, "cache_clear", None)
                if callable(clear):
                    clear()

    def pytest_runtest_setup(self, item: Any) -> None:
        import threading

        self._clear_caches()
        self.current = item.nodeid
        self._t0 = time.monotonic()
        sys.setprofile(self._profile)
        threading.setprofile(self._profile)

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.failed:
            self.failed.append(report.nodeid)
        if report.when == "teardown":
            self.durations[report.nodeid] = time.monotonic() - self._t0

    def pytest_sessionfinish(self) -> None:
        import threading

        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
        data = {
            "calls": {k: sorted(v) for k, v in self.calls.items()},
            "durations": self.durations,
            "failed": self.failed,
        }
        self.out.write_text(json.dumps(data))


def _def_name(qualname: str) -> str:
    """Drop lambda / comprehension frames: their mutants belong to the enclosing def."""
    parts = qualname.split(".")
    while parts and parts[-1].startswith("<") and parts[-1] != "<locals>":
        parts.pop()
        if parts and parts[-1] == "<locals>":
            parts.pop()
    return ".".join(parts)


@dataclass
class Baseline:
    calls: dict[str, list[str]]
    durations: dict[str, float]
    all_tests: list[str] = field(default_factory=list)


def baseline(paths: list[Path], tests: list[str], cache: Path) -> Baseline:
    out = cache / "baseline.json"
    out.unlink(missing_ok=True)
    plugin = _CallMap({str(p.resolve()) for p in paths}, out)
    args = [*tests, "-p", "no:cacheprovider"]

    def run() -> int:
        import pytest

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        return int(pytest.main([*args, "-q", "--no-header"], plugins=[plugin]))

    status, seconds = _fork(run, timeout=1800)
    if not out.exists():
        sys.exit(f"baseline run did not finish ({status})")
    data = json.loads(out.read_text())
    if data["failed"]:
        sys.exit(f"the tests fail without any mutant: {data['failed'][:5]}")
    print(f"baseline: {len(data['durations'])} tests pass in {seconds:.1f} s")
    return Baseline(data["calls"], data["durations"], sorted(data["durations"]))


def tests_for(m: Mutant, path: Path, base: Baseline) -> list[str]:
    prefix = f"{path.resolve()}::"
    chosen: set[str] = set()
    if not m.function:  # module level: every test that runs any code of the file
        for fn, ids in base.calls.items():
            if fn.startswith(prefix):
                chosen.update(ids)
    else:  # the def itself, its nested defs, or (class body) its methods
        for fn, ids in base.calls.items():
            name = fn[len(prefix) :] if fn.startswith(prefix) else None
            if name is not None and (name == m.function or name.startswith(m.function + ".")):
                chosen.update(ids)
        if not chosen and "." not in m.function:
            # a class body whose code runs elsewhere (a dataclass's generated __init__
            # is not in this file): every test that runs code of the file
            for fn, ids in base.calls.items():
                if fn.startswith(prefix):
                    chosen.update(ids)
    return sorted(chosen, key=lambda t: base.durations.get(t, 0.0))


def load_equivalents(module: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if not EQUIVALENTS.exists():
        return out
    for raw in EQUIVALENTS.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        mod, key, reason = (part.strip() for part in line.split(" | ", 2))
        if mod == module:
            out[f"{mod} | {key}"] = reason
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("module", help="source file or package folder, e.g. tamrig/analysis")
    parser.add_argument("--tests", nargs="*", help="test files (default: the module's own)")
    parser.add_argument("--exclude", nargs="*", default=[], help="file names left out")
    parser.add_argument("--sample", type=int, help="try this many mutants drawn at random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--function", help="only mutants inside this function (qualname)")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument(
        "--strings",
        action="store_true",
        help="add mutmut's text and argument families: every string and f-string gets 'XX'"
        " around it, every keyword argument of a call is dropped (its default used)",
    )
    parser.add_argument(
        "--only-strings", action="store_true", help="only the --strings families' mutants"
    )
    parser.add_argument("--verbose", action="store_true", help="name each survivor at once")
    parser.add_argument("--json", type=Path, help="write every mutant's outcome here")
    parser.add_argument(
        "--rerun", type=Path, help="only the survivors recorded in this --json file of a run"
    )
    args = parser.parse_args(argv)
    args.strings = args.strings or args.only_strings

    os.chdir(ROOT)
    target = (ROOT / args.module).resolve()
    files = (
        [target]
        if target.is_file()
        else sorted(p for p in target.glob("*.py") if p.name not in args.exclude)
    )
    sources = {f: f.read_text() for f in files}
    pool: list[tuple[Path, Mutant]] = []
    for f in files:
        pool += [
            (f, m)
            for m in list_mutants(sources[f], args.strings)
            if (m.function == args.function or not args.function)
            and (m.text or not args.only_strings)
        ]
    rel = {f: str(f.relative_to(ROOT)) for f in files}
    if args.list:
        for f, m in pool:
            print(f"{rel[f]}:{m.line}  #{m.index}  {m.key}")
        print(f"{len(pool)} mutants")
        return 0
    tests: list[str] = list(args.tests or [])
    if not tests:
        for f in files:
            default = DEFAULT_TESTS.get(rel[f])
            if default is None and rel[f].startswith("tamrig/analysis/"):
                default = ANALYSIS_TESTS
            if default is None:
                parser.error(f"no default tests for {rel[f]}: give --tests")
            tests += [t for t in default if t not in tests]
    total = len(pool)
    if args.rerun:
        before = json.loads(args.rerun.read_text())
        again = {(r.get("file", rel[files[0]]), r["key"]) for r in before if r["status"] == "pass"}
        pool = [(f, m) for f, m in pool if (rel[f], m.key) in again]
    if args.sample and args.sample < total:
        chosen = set(random.Random(args.seed).sample(range(total), args.sample))
        pool = [item for i, item in enumerate(pool) if i in chosen]

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    for lib in PRELOAD:
        try:
            importlib.import_module(lib)
        except ImportError:
            pass
    import pytest  # noqa: F401 - warm for the children

    cache = ROOT / ".mutation"
    cache.mkdir(exist_ok=True)
    base = baseline(files, tests, cache)
    equivalents = {k: v for f in files for k, v in load_equivalents(rel[f]).items()}

    outcome: dict[str, list[tuple[Path, Mutant]]] = {"killed": [], "survived": [], "equivalent": []}
    records = []
    t_start = time.monotonic()
    print(f"{args.module}: {len(pool)} of {total} mutants, tests from {' '.join(tests)}")
    for n, (path, m) in enumerate(pool, 1):
        selected = tests_for(m, path, base)
        if not selected:
            status, seconds = "pass", 0.0  # no test reaches the code: nothing can notice
        else:
            code = mutated_code(sources[path], path, m.index, args.strings)
            limit = 10.0 + 3.0 * sum(base.durations.get(t, 1.0) for t in selected)

            def run(
                code: CodeType = code, selected: list[str] = selected, path: Path = path
            ) -> int:
                _install_mutant(path, code)
                return _child_pytest(selected, [])

            status, seconds = _fork(run, limit)
        if status.startswith("error"):
            sys.exit(f"mutant {m.index} ({m.key}): the test run itself failed ({status})")
        key = f"{rel[path]} | {m.key}"
        if status == "pass":
            kind = "equivalent" if key in equivalents else "survived"
        else:
            kind = "killed"
        outcome[kind].append((path, m))
        records.append(
            {
                **m.__dict__,
                "file": rel[path],
                "key": m.key,
                "status": status,
                "tests": len(selected),
                "s": seconds,
            }
        )
        mark = {"killed": ".", "survived": "S", "equivalent": "e"}[kind]
        print(mark, end="" if n % 60 else "\n", flush=True)
        if kind == "survived" and args.verbose:
            print(f"\n  survived {rel[path]}:{m.line}: {m.key}", flush=True)
    print()
    tried = len(pool)
    killed = len(outcome["killed"])
    eq = len(outcome["equivalent"])
    score = killed / max(tried - eq, 1)
    elapsed = time.monotonic() - t_start
    print(
        f"{args.module}: {tried} mutants of {total} tried, {killed} killed, "
        f"{len(outcome['survived'])} survived, {eq} listed equivalent; "
        f"score {100 * score:.1f} % ({elapsed:.0f} s)"
    )
    for path, m in outcome["survived"]:
        print(f"  SURVIVED {rel[path]}:{m.line}: {m.key}")
    for path, m in outcome["equivalent"]:
        key = f"{rel[path]} | {m.key}"
        print(f"  equivalent {rel[path]}:{m.line}: {m.key}  ({equivalents[key]})")
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))
    for path, m in outcome["killed"]:
        if f"{rel[path]} | {m.key}" in equivalents:
            print(f"  note: listed as equivalent but killed: {rel[path]} | {m.key}")
    if not args.sample and not args.function and not args.rerun:
        tried_keys = {f"{rel[p]} | {m.key}" for p, m in pool}
        for key in sorted(set(equivalents) - tried_keys):
            print(f"  note: listed as equivalent but no longer a mutant: {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
