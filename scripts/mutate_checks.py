"""Mutation testing of ``checks/`` against the unit tests: does every verdict change make a test fail?

    python scripts/mutate_checks.py                      # every checks/*.py, one mutant at a time
    python scripts/mutate_checks.py --jobs 2 checks/host.py --report /tmp/mutants.txt
    python scripts/mutate_checks.py --list checks/gpu.py  # the mutants, without running anything

For each file it generates mutants with the standard library's ``ast``, one at a time:
comparison swaps (``<`` to ``<=`` and ``>=``, ``==`` to ``!=``, ``in`` to ``not in``, ``is`` to ``is not``),
``and``/``or`` swaps, ``not`` removal, numeric constants +1/-1, ``True``/``False`` flips, and the status
of every ``Outcome.passed/warned/failed/skipped/errored(...)`` swapped for each other one.
Decorator arguments (``@check(timeout_s=...)``) and docstrings are left alone: they are not verdicts.

Each mutant is written over the file (the source is restored in a ``finally`` and on SIGINT/SIGTERM,
and its bytecode dropped) and ``python -m pytest -x -q tests/unit -p no:cacheprovider`` runs with a
timeout: a failing run kills the mutant. With ``--jobs N`` the mutants run in N private copies of the
``glm5_doctor`` package instead (``doctor/`` linked, ``checks/`` copied, first on PYTHONPATH), so the
working tree is never written. Not part of CI: it takes minutes.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from queue import Queue
from types import FrameType

ROOT = Path(__file__).resolve().parents[1]
TEST_COMMAND = ["-m", "pytest", "-x", "-q", "tests/unit", "-p", "no:cacheprovider"]

OUTCOME_FACTORIES = ("passed", "warned", "failed", "skipped", "errored")
COMPARE_SWAPS: dict[type[ast.cmpop], tuple[type[ast.cmpop], ...]] = {
    ast.Lt: (ast.LtE, ast.GtE),
    ast.LtE: (ast.Lt, ast.Gt),
    ast.Gt: (ast.GtE, ast.LtE),
    ast.GtE: (ast.Gt, ast.Lt),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
}
SYMBOLS = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}


@dataclass(frozen=True)
class Mutant:
    path: Path
    line: int
    #: position of the node in ast.walk order, and which of its mutations
    node: int
    variant: int
    description: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


# --- generating mutants -----------------------------------------------------------------------------


def _skipped_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes inside decorators and docstrings: metadata, not verdicts."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for decorator in node.decorator_list:
                skipped.update(id(inner) for inner in ast.walk(decorator))
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skipped.add(id(body[0].value))
    return skipped


def _mutations(node: ast.AST) -> list[tuple[str, Callable[[ast.AST], ast.AST]]]:
    """(description, apply) for each mutation of ``node``; apply returns the replacement node."""
    found: list[tuple[str, Callable[[ast.AST], ast.AST]]] = []
    if isinstance(node, ast.Compare):
        for position, op in enumerate(node.ops):
            for new in COMPARE_SWAPS.get(type(op), ()):

                def swap(target: ast.AST, position: int = position, new: type[ast.cmpop] = new) -> ast.AST:
                    assert isinstance(target, ast.Compare)
                    target.ops[position] = new()
                    return target

                found.append((f"'{SYMBOLS[type(op)]}' -> '{SYMBOLS[new]}'", swap))
    elif isinstance(node, ast.BoolOp):
        other = ast.Or if isinstance(node.op, ast.And) else ast.And

        def flip(target: ast.AST, other: type[ast.boolop] = other) -> ast.AST:
            assert isinstance(target, ast.BoolOp)
            target.op = other()
            return target

        names = {ast.And: "and", ast.Or: "or"}
        found.append((f"'{names[type(node.op)]}' -> '{names[other]}'", flip))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        found.append(("'not' removed", lambda target: target.operand))  # type: ignore[attr-defined]
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        found.append((f"{node.value} -> {not node.value}", lambda target: ast.Constant(not target.value)))  # type: ignore[attr-defined]
    elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        for delta in (1, -1):

            def shift(target: ast.AST, delta: int = delta) -> ast.AST:
                assert isinstance(target, ast.Constant) and isinstance(target.value, (int, float))
                return ast.Constant(target.value + delta)

            found.append((f"{node.value!r} -> {node.value + delta!r}", shift))
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "Outcome"
        and node.func.attr in OUTCOME_FACTORIES
    ):
        for other_factory in OUTCOME_FACTORIES:
            if other_factory == node.func.attr:
                continue

            def restatus(target: ast.AST, other_factory: str = other_factory) -> ast.AST:
                assert isinstance(target, ast.Call) and isinstance(target.func, ast.Attribute)
                target.func.attr = other_factory
                return target

            found.append((f"Outcome.{node.func.attr} -> Outcome.{other_factory}", restatus))
    return found


def generate(path: Path) -> list[Mutant]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skipped = _skipped_nodes(tree)
    mutants = []
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skipped:
            continue
        for variant, (description, _) in enumerate(_mutations(node)):
            mutants.append(Mutant(path, getattr(node, "lineno", 0), index, variant, description))
    return mutants


def mutated_source(mutant: Mutant) -> str:
    """The whole file with this one mutation applied (formatting normalised by ast.unparse)."""
    tree = ast.parse(mutant.path.read_text(encoding="utf-8"), filename=str(mutant.path))
    nodes = list(ast.walk(tree))
    target = nodes[mutant.node]
    _, apply = _mutations(target)[mutant.variant]
    replacement = apply(copy.deepcopy(target))
    for parent in nodes:
        for field, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, field, replacement)
                return ast.unparse(tree) + "\n"
            if isinstance(value, list) and any(item is target for item in value):
                value[value.index(target)] = replacement
                return ast.unparse(tree) + "\n"
    raise AssertionError(f"{mutant.where}: node {mutant.node} has no parent")


# --- running them -----------------------------------------------------------------------------------


class Sandbox:
    """Where a mutant is written: the working tree's checks/ itself, or a private copy of the package."""

    def __init__(self, private: bool) -> None:
        self.private = private
        self.tmp: tempfile.TemporaryDirectory[str] | None = None
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.env["GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        if not private:
            self.checks = ROOT / "checks"
            return
        self.tmp = tempfile.TemporaryDirectory(prefix="glm5-doctor-mutants-")
        package = Path(self.tmp.name) / "glm5_doctor"
        package.mkdir()
        for entry in (ROOT / "doctor").iterdir():
            if entry.name != "__pycache__":
                (package / entry.name).symlink_to(entry)
        (package / "fixes").symlink_to(ROOT / "fixes")
        self.checks = package / "checks"
        shutil.copytree(ROOT / "checks", self.checks, ignore=shutil.ignore_patterns("__pycache__"))
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [self.tmp.name, self.env.get("PYTHONPATH")]))

    def target(self, mutant: Mutant) -> Path:
        return self.checks / mutant.path.name

    def drop_bytecode(self, mutant: Mutant) -> None:
        for stale in (self.checks / "__pycache__").glob(f"{mutant.path.stem}.*.pyc"):
            stale.unlink(missing_ok=True)

    def close(self) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()


def run_tests(sandbox: Sandbox, timeout: float) -> str:
    """'passed', 'failed' (exit status 1) or another word for what stopped the run."""
    try:
        completed = subprocess.run(
            [sys.executable, *TEST_COMMAND],
            cwd=ROOT,
            env=sandbox.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "timeout"
    return {0: "passed", 1: "failed"}.get(completed.returncode, f"exit {completed.returncode}")


def try_mutant(sandbox: Sandbox, mutant: Mutant, timeout: float) -> str:
    """Write the mutant, run the tests, restore the file whatever happens."""
    target = sandbox.target(mutant)
    original = target.read_bytes()
    try:
        target.write_text(mutated_source(mutant), encoding="utf-8")
        sandbox.drop_bytecode(mutant)
        result = run_tests(sandbox, timeout)
    finally:
        target.write_bytes(original)
        sandbox.drop_bytecode(mutant)
    # a mutant the tests notice in any way (failure, crash, hang) is killed
    return "survived" if result == "passed" else f"killed ({result})"


def run_all(mutants: list[Mutant], jobs: int, timeout: float) -> dict[Mutant, str] | None:
    """Every mutant's result (None when the tests fail on the unmutated code)."""
    private = jobs > 1
    sandboxes: Queue[Sandbox] = Queue()
    for _ in range(max(1, jobs)):
        sandboxes.put(Sandbox(private))
    results: dict[Mutant, str] = {}
    lock = threading.Lock()

    def work(mutant: Mutant) -> None:
        box = sandboxes.get()
        try:
            result = try_mutant(box, mutant, timeout)
        finally:
            sandboxes.put(box)
        with lock:
            results[mutant] = result
            shown = result.split()[0].upper()
            print(f"[{len(results)}/{len(mutants)}] {shown:8} {mutant.where}: {mutant.description}", flush=True)

    try:
        first = sandboxes.get()
        sandboxes.put(first)
        if run_tests(first, timeout) != "passed":
            return None
        if private:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                list(pool.map(work, mutants))
        else:
            for mutant in mutants:
                work(mutant)
    finally:
        while not sandboxes.empty():
            sandboxes.get().close()
    return results


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("files", nargs="*", type=Path, help="files under checks/ (default: all of them)")
    parser.add_argument("--jobs", type=int, default=1, help="parallel runs in private package copies")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per test run")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--report", type=Path, help="also write every result here")
    args = parser.parse_args(argv)

    files = [path.resolve() for path in args.files] or sorted((ROOT / "checks").glob("*.py"))
    files = [path for path in files if path.name != "__init__.py"]
    mutants = [mutant for path in files for mutant in generate(path)]
    if args.list:
        for mutant in mutants:
            print(f"{mutant.where}: {mutant.description}")
        print(f"{len(mutants)} mutants")
        return 0

    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    try:
        results = run_all(mutants, args.jobs, args.timeout)
    except KeyboardInterrupt:
        print("interrupted: every mutated file was restored", file=sys.stderr)
        return 130
    if results is None:
        print("the unit tests fail without any mutant: fix them first", file=sys.stderr)
        return 2

    survived = [mutant for mutant in mutants if results.get(mutant) == "survived"]
    killed = sum(1 for result in results.values() if result.startswith("killed"))
    lines = [f"{results[m].upper()} {m.where}: {m.description}" for m in mutants if m in results]
    summary = [
        "",
        f"survived ({len(survived)}):",
        *(f"  {mutant.where}: {mutant.description}" for mutant in survived),
        f"score: {killed}/{len(results)} killed in {time.monotonic() - started:.0f} s",
    ]
    print("\n".join(summary))
    if args.report:
        args.report.write_text("\n".join(lines + summary) + "\n", encoding="utf-8")
    return 0 if not survived else 1


if __name__ == "__main__":
    raise SystemExit(main())
