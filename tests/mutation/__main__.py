"""Plant small bugs in the guarded modules, one at a time, and see whether the tests catch each.

    .venv/bin/python -m tests.mutation                 # every guarded module (make mutate)
    .venv/bin/python -m tests.mutation --changed       # those changed since the last tag or the
                                                       # previous commit, within a time budget,
                                                       # failing below the target (make test)

The engine is mutmut 3: it rewrites each function into its variants once and, after one traced
run of the tests, runs for each mutant only the tests that reach the function it mutates, in a
forked process. Each group below is mutated in its own copy of the repository under
``.mutation/<group>/`` (no compiled extensions there, so every mutant runs as Python) with the
fastest test tier that reaches its modules; mutmut keeps its results there, and a later run
re-tests only the functions that changed. The report lists per module the mutants killed (a
test failed or timed out), survived, declared equivalent (``equivalent.toml``, with the reason)
and not reached by any test, and every survivor's diff.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / ".mutation"
BIN = Path(sys.executable).parent
EQUIVALENT = Path(__file__).with_name("equivalent.toml")
FLOORS = Path(__file__).with_name("floors.toml")
TARGET = 0.90


@dataclass(frozen=True)
class Group:
    """Modules mutated together (those of ``exclude`` left to another group), and the tests
    that guard them."""

    name: str
    modules: tuple[str, ...]
    tests: tuple[str, ...]
    exclude: tuple[str, ...] = ()

    def guards(self, module: str) -> bool:
        """Whether ``module`` is one of this group's (a path, or a pattern of paths)."""
        return any(fnmatch.fnmatch(module, p) for p in self.modules) and not any(
            fnmatch.fnmatch(module, p) for p in self.exclude
        )


INDICATORS = "marketpulse/analytics/indicators/*"
GROUPS = (
    Group(
        "unit",
        (
            "marketpulse/analytics/*",
            "marketpulse/api/security.py",
            "marketpulse/storage/line_protocol.py",
            "marketpulse/streams/delivery.py",
            "marketpulse/tables/journal.py",
            "marketpulse/tables/live_states.py",
        ),
        ("tests/unit",),
        exclude=(INDICATORS,),
    ),
    # the indicators' own tests are their oracle (TA-Lib, batch and streaming); the rest of the
    # unit tests reach them too, but only through the same functions, and several times slower
    Group("indicators", (INDICATORS,), ("tests/unit/analytics/indicators",)),
    Group(
        "integration",
        (
            "marketpulse/api/ratelimit.py",
            "marketpulse/sinks/runner.py",
            "marketpulse/streams/batches.py",
            "marketpulse/tables/store.py",
        ),
        # in-process tests only: mutmut reaps every child of its process, so a test that runs
        # a process of its own (the API tests' servers, the sink-fault tests' own stores) makes
        # it fail
        (
            "tests/integration/api/test_ratelimit.py",
            "tests/integration/sinks/test_runner.py",
            "tests/integration/streams/test_batches.py",
            "tests/integration/tables/test_store.py",
        ),
    ),
)

# no cache written into the copy; mutmut 3.7's attribute under pytest 9 (see pytest_compat)
PYTEST_PLUGINS = ("-p", "no:cacheprovider", "-p", "tests.mutation.pytest_compat")
# tests of the checkout itself (its compiled extensions, its tracked files), not of behaviour
ABOUT_THE_CHECKOUT = (
    "tests/unit/analytics/indicators/test_compiled.py",
    "tests/unit/test_standalone.py",
)
KILLED = {1, 3, 36, 24, -24, 152, 255, 37}  # a test failed, pytest broke, or it timed out
SURVIVED, NO_TESTS = {0}, {5, 33}
NOT_RUN: set[int | None] = {None}  # the verdict of a mutant mutmut has not run
FRESH_TIMEOUT_S = 300


@dataclass
class ModuleResult:
    """What became of one module's mutants."""

    counts: Counter[str] = field(default_factory=Counter)
    survivors: list[tuple[str, str]] = field(default_factory=list)  # (name, diff)
    equivalent: list[tuple[str, str, str]] = field(default_factory=list)  # (name, diff, why)

    @property
    def score(self) -> float | None:
        """Killed among the mutants that are not equivalent and were run."""
        judged = self.counts["killed"] + self.counts["survived"] + self.counts["no tests"]
        return self.counts["killed"] / judged if judged else None


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [name for name in listed.splitlines() if (REPO / name).is_file()]


def sync(tree: Path) -> None:
    """Copy the repository's files into ``tree``, leaving unchanged files (and their times,
    which mutmut reads) alone; compiled extensions are never copied."""
    wanted, changed = set(), False
    for name in tracked_files():
        if name.endswith(".so"):
            continue
        wanted.add(name)
        source, target = REPO / name, tree / name
        if not target.exists() or target.read_bytes() != source.read_bytes():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            changed = changed or name.endswith(".py")
    for folder in ("marketpulse", "tests"):
        for path in (tree / folder).rglob("*.py"):
            if str(path.relative_to(tree)) not in wanted:
                path.unlink()
                changed = True
    if changed:
        # mutmut traces which tests reach which function once, and afterwards only the tests
        # it has not seen: a test that now calls a new function, or code that now reaches
        # another, would keep its old trace, and the mutants of what it reaches now would be
        # run without it (survivors that no test was asked about)
        (tree / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    # mutmut copies the rest of the checkout into mutants/ on every run, over what is there: a
    # file removed or moved since would stay behind (a test module twice, under two paths)
    for name in {name.split("/")[0] for name in wanted} - {"marketpulse"}:
        copied = tree / "mutants" / name
        if copied.is_dir():
            shutil.rmtree(copied)
        elif copied.exists():
            copied.unlink()
    # and it never copies a file of the package again once copied: the data files (the JSON
    # Schemas) would stay as they were at the first run
    for name in wanted:
        copied = tree / "mutants" / name
        if name.startswith("marketpulse/") and not name.endswith(".py") and copied.exists():
            if copied.read_bytes() != (tree / name).read_bytes():
                copied.unlink()


def configure(tree: Path, group: Group, modules: list[str]) -> None:
    """The copy's pyproject.toml: the project's, with the mutmut settings of this run."""
    settings = {
        "source_paths": ["marketpulse"],
        "only_mutate": modules,
        "do_not_mutate": list(group.exclude),
        "pytest_add_cli_args_test_selection": list(group.tests),
        # the copy has no compiled extensions and no git history: leave out the tests of those
        "pytest_add_cli_args": [
            *PYTEST_PLUGINS,
            "-q",
            *(f"--ignore={test}" for test in ABOUT_THE_CHECKOUT),
        ],
        "use_git_change_detection": False,
        # mutmut runs the tests in mutants/, with the sources and tests; some tests read the
        # rest of the checkout (the README, docs, deployment files)
        "also_copy": sorted({name.split("/")[0] for name in tracked_files()} - {"marketpulse"}),
    }
    lines = ["", "[tool.mutmut]"] + [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    text = (REPO / "pyproject.toml").read_text() + "\n".join(lines) + "\n"
    (tree / "pyproject.toml").write_text(text)


def verdicts(tree: Path, modules: list[str]) -> Iterator[tuple[str, dict[str, int | None]]]:
    """Each mutated module among ``modules`` and its mutants' last exit codes (mutmut's records),
    those of another group's tree left out."""
    group = next(g for g in GROUPS if tree.name.removesuffix("-changed") == g.name)
    for meta in sorted((tree / "mutants").rglob("*.py.meta")):
        module = str(meta.relative_to(tree / "mutants"))[: -len(".meta")]
        if any(fnmatch.fnmatch(module, pattern) for pattern in modules) and group.guards(module):
            # mutmut keeps the verdicts of mutants that an earlier version of the module had:
            # only those its mutated copy still defines count
            source = (tree / "mutants" / module).read_text()
            try:
                codes = json.loads(meta.read_text())["exit_code_by_key"]
            except json.JSONDecodeError:
                # the budget stopped mutmut while it wrote this record: its mutants count as
                # not run, as every mutant the budget left
                codes = {}
            yield (
                module,
                {
                    name: code
                    for name, code in codes.items()
                    if f"def {name.rsplit('.', 1)[1]}(" in source
                },
            )


def selected(tree: Path, modules: list[str], wanted: set[int | None]) -> list[str]:
    """The names of the mutants of ``modules`` whose last verdict is among ``wanted``: those
    that survived (or reached no test) last time, to run after new tests; those not run yet,
    to go on with a module whose mutants take longer than one budget (mutmut, given names,
    runs each again whatever its verdict)."""
    return [
        name
        for _module, codes in verdicts(tree, modules)
        for name, code in codes.items()
        if code in wanted
    ]


def run_mutmut(
    tree: Path, modules: list[str], budget_s: float | None, names: list[str] | None = None
) -> bool:
    """Run mutmut in ``tree`` on ``modules`` (only ``names``, when given, whatever their last
    verdict); False when the budget ran out first (results so far are kept)."""
    log = (tree / "mutmut.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "mutmut"), "run", "--max-children", str(os.cpu_count() or 2), *(names or [])],
        cwd=tree, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        code = process.wait(timeout=budget_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()
        return False
    finally:
        log.close()
    if code != 0 and not any(codes for _module, codes in verdicts(tree, modules)):
        # mutmut fails when no test reaches any mutant; modules made only of what it does not
        # mutate (dataclasses) have none at all: nothing to judge, not a failure
        return True
    if code != 0:
        tail = (tree / "mutmut.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"mutmut failed in {tree} (exit {code}):\n{tail}")
    return True


_IMPORTED = """
import importlib, json, pathlib, pkgutil, sys
import mutmut
import marketpulse
mutmut._stats = set()
asked = json.load(sys.stdin)
for module in asked["modules"]:
    importlib.import_module(module)
for found in pkgutil.walk_packages(marketpulse.__path__, "marketpulse."):
    importlib.import_module(found.name)
for tests in asked["tests"]:
    path = pathlib.Path(tests)
    for file in sorted([path] if path.is_file() else path.rglob("*.py")):
        importlib.import_module(".".join(file.with_suffix("").parts))
print(json.dumps(sorted(mutmut._stats)))
"""


def dotted(module: str) -> str:
    """``marketpulse/a/b.py`` as ``marketpulse.a.b``."""
    return module.removesuffix(".py").replace("/", ".")


def function_of(mutant: str) -> str:
    """The mangled function a mutant belongs to, as mutmut's records name it."""
    return mutant.rsplit("__mutmut_", 1)[0]


def run_at_import(tree: Path, modules: list[str], tests: tuple[str, ...]) -> set[str]:
    """The functions of ``modules`` that run while the package or the tests are imported (a
    registry's decorators, rules built at module level, a schema that asks the registry for its
    output names, a test module that parametrizes over the catalog). mutmut forks its test runs
    after the import, so their mutants never run there."""
    asked = {"modules": [dotted(m) for m in modules], "tests": list(tests)}
    out = subprocess.run(
        [sys.executable, "-c", _IMPORTED], cwd=tree / "mutants", input=json.dumps(asked),
        env={**os.environ, "MUTANT_UNDER_TEST": "stats"}, capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    return set(json.loads(out.splitlines()[-1]))


def tests_of(tree: Path, module: str, skip: set[str]) -> list[str]:
    """The test files of the tests mutmut traced through ``module``'s functions other than
    ``skip``: whole files, since a mutant chosen before the import may change what a file's
    parametrized tests are (a registry's catalog), and a test asked for by a name that is no
    longer there is a usage error, not a verdict."""
    traced = json.loads((tree / "mutants" / "mutmut-stats.json").read_text())
    prefix = dotted(module) + "."
    return sorted(
        {
            test.split("::")[0]
            for function, tests in traced["tests_by_mangled_function_name"].items()
            if function.startswith(prefix) and function not in skip
            for test in tests
        }
    )


def rerun_at_import(tree: Path, group: Group, modules: list[str], deadline: float) -> int:
    """Run again, each in a fresh interpreter with the mutant chosen before the import, the
    surviving mutants of functions that run at import; record their verdicts where mutmut
    keeps its own. Returns how many were run."""
    chosen = [module for module, codes in verdicts(tree, modules) if codes]
    if not chosen:  # nothing mutated, so nothing that runs at import either
        return 0
    at_import = run_at_import(tree, chosen, group.tests)
    done = 0
    for module in chosen:
        meta = tree / "mutants" / f"{module}.meta"
        record = json.loads(meta.read_text())
        codes = record["exit_code_by_key"]
        pending = [
            name
            for name, code in codes.items()
            if code in SURVIVED | NO_TESTS and function_of(name) in at_import
        ]
        # a fresh interpreter costs a whole run of the module's tests: not for a mutant that
        # is declared equivalent, which no run would count
        equivalent = load_equivalent()
        pending = [
            name
            for name, diff in zip(pending, diffs(tree, pending), strict=True)
            if (module, changed_lines(diff)) not in equivalent
        ]
        tests = tests_of(tree, module, at_import) or list(group.tests)
        for name in pending:
            if time.monotonic() > deadline:
                # mutmut's verdict was reached with the function already run: none at all
                codes[name] = None
                continue
            try:
                ran = subprocess.run(
                    [sys.executable, "-m", "pytest", *PYTEST_PLUGINS, "-x", "-q", *tests],
                    cwd=tree / "mutants", env={**os.environ, "MUTANT_UNDER_TEST": name},
                    capture_output=True, timeout=FRESH_TIMEOUT_S, check=False,
                )  # fmt: skip
                codes[name] = ran.returncode
            except subprocess.TimeoutExpired:
                codes[name] = 24  # mutmut's code for a timeout
            done += 1
        meta.write_text(json.dumps(record))
    return done


def results(tree: Path, modules: list[str]) -> dict[str, ModuleResult]:
    """Each mutated module's outcome, read from mutmut's records, with survivors' diffs."""
    equivalent = load_equivalent()
    by_module: dict[str, ModuleResult] = {}
    survivors: list[tuple[str, str]] = []
    for module, codes in verdicts(tree, modules):
        outcome = by_module.setdefault(module, ModuleResult())
        for name, code in codes.items():
            if code in KILLED:
                outcome.counts["killed"] += 1
            elif code in SURVIVED or code in NO_TESTS:
                survivors.append((module, name))
            else:
                outcome.counts["not run"] += 1
    for (module, name), diff in zip(survivors, diffs(tree, [n for _, n in survivors]), strict=True):
        outcome = by_module[module]
        why = equivalent.get((module, changed_lines(diff)))
        if why is not None:
            outcome.counts["equivalent"] += 1
            outcome.equivalent.append((name, diff, why))
            continue
        no_tests = "no tests" if diff.startswith("#no-tests") else "survived"
        outcome.counts[no_tests] += 1
        outcome.survivors.append((name, diff.removeprefix("#no-tests\n")))
    return by_module


_DIFFS = """
import json, sys
from mutmut.__main__ import find_mutant, get_diff_for_mutant, status_by_exit_code
for name in json.load(sys.stdin):
    m = find_mutant(name)
    status = status_by_exit_code[m.exit_code_by_key[name]]
    prefix = "#no-tests\\n" if status == "no tests" else ""
    print(json.dumps(prefix + get_diff_for_mutant(name, path=m.path)))
"""


def diffs(tree: Path, names: list[str]) -> list[str]:
    """Each mutant's diff against the original, as mutmut shows it."""
    if not names:
        return []
    out = subprocess.run(
        [sys.executable, "-c", _DIFFS], cwd=tree, input=json.dumps(names),
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [json.loads(line) for line in out.splitlines() if line.startswith('"')]


def changed_lines(diff: str) -> tuple[str, ...]:
    """What a mutant changes, independent of its number and line position."""
    return tuple(
        line[0] + line[1:].strip()
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )


def load_equivalent() -> dict[tuple[str, tuple[str, ...]], str]:
    """Mutants that change no behaviour, each with its reason (``equivalent.toml``)."""
    found = {}
    for entry in tomllib.loads(EQUIVALENT.read_text()).get("mutant", []):
        lines = (
            *(f"-{line.strip()}" for line in entry["original"].strip().splitlines()),
            *(f"+{line.strip()}" for line in entry["mutant"].strip().splitlines()),
        )
        found[(entry["module"], lines)] = entry["why"]
    return found


def floor_of(module: str) -> float:
    """The score a module must keep: the target, or, for a module not there yet, the score it
    had when last measured (``floors.toml``), so that it can only rise."""
    floors: dict[str, float] = tomllib.loads(FLOORS.read_text()).get("floors", {})
    return min(TARGET, floors.get(module, TARGET))


def write_floors(outcomes: dict[str, ModuleResult]) -> None:
    """Record each measured module below the target at its score, less a point for the mutants
    whose verdict can vary (timeouts on a loaded machine); a module measured at the target
    loses its floor, and the floors of modules not measured (or with nothing judged) stand."""
    floors: dict[str, float] = tomllib.loads(FLOORS.read_text()).get("floors", {})
    for module, outcome in outcomes.items():
        if outcome.score is None:  # nothing judged: what was known stands
            continue
        floors.pop(module, None)
        if outcome.score < TARGET:
            floors[module] = max(0.0, int(outcome.score * 100) / 100 - 0.01)
    lines = [
        "# Modules below the mutation target, at their last measured score less one point:",
        "# `make test` fails when a changed module falls below its floor (or below the target",
        "# once it has reached it). Written by `python -m tests.mutation --update-floors`.",
        "[floors]",
        *(f'"{module}" = {floor:.2f}' for module, floor in sorted(floors.items())),
    ]
    FLOORS.write_text("\n".join(lines) + "\n")


def default_base() -> str:
    """The last tag, or else the previous commit."""
    tag = subprocess.run(
        ["git", "describe", "--tags", "--abbrev=0"], cwd=REPO, capture_output=True, text=True
    )
    return tag.stdout.strip() if tag.returncode == 0 else "HEAD~1"


def changed_modules(group: Group, base: str) -> list[str]:
    """The group's modules changed since ``base``."""
    listed = subprocess.run(
        ["git", "diff", "--name-only", base, "--"], cwd=REPO, capture_output=True, text=True
    )
    if listed.returncode != 0:  # a clone with one commit: nothing to compare with
        return []
    return sorted(
        name
        for name in listed.stdout.split()
        if name.endswith(".py") and (REPO / name).exists() and group.guards(name)
    )


def report(outcomes: dict[str, ModuleResult], note: str) -> str:
    """The report in Markdown: a table of modules, then every survivor's diff."""
    lines = [
        "# Mutation testing report",
        "",
        note,
        "",
        "| module | mutants | killed | survived | no tests | equivalent | not run | score |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for module, outcome in sorted(outcomes.items()):
        c = outcome.counts
        score = "n/a" if outcome.score is None else f"{outcome.score:.1%}"
        total = sum(c.values())
        lines.append(
            f"| `{module}` | {total} | {c['killed']} | {c['survived']} | {c['no tests']} | "
            f"{c['equivalent']} | {c['not run']} | {score} |"
        )
    for module, outcome in sorted(outcomes.items()):
        if not outcome.survivors:
            continue
        lines += ["", f"## `{module}`: survivors", ""]
        for name, diff in outcome.survivors:
            lines += [f"`{name}`", "", "```diff", diff.strip(), "```", ""]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changed", action="store_true", help="only the changed modules")
    parser.add_argument("--base", default=None, help="changed since (default: last tag, HEAD~1)")
    parser.add_argument("--budget", type=float, default=None, help="seconds per group")
    parser.add_argument("--report", type=Path, default=None, help="where to write the report")
    parser.add_argument(
        "--update-floors", action="store_true", help="record the modules below the target"
    )
    parser.add_argument(
        "--retest", action="store_true", help="run the last survivors again (after new tests)"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="run the mutants not run yet (a budget ran out), keeping the verdicts of the rest",
    )
    parser.add_argument("--group", choices=[g.name for g in GROUPS], help="only this group")
    parser.add_argument("--only", nargs="+", help="only these modules (globs) of the groups")
    parser.add_argument(
        "--no-run", action="store_true", help="report the results kept, without running mutmut"
    )
    args = parser.parse_args()
    outcomes: dict[str, ModuleResult] = {}
    notes = []
    for group in GROUPS:
        if args.group not in (None, group.name):
            continue
        base = args.base or default_base()
        modules = changed_modules(group, base) if args.changed else list(group.modules)
        if args.only:
            modules = [
                name
                for name in args.only
                if any(fnmatch.fnmatch(name, pattern) for pattern in group.modules)
                and not any(fnmatch.fnmatch(name, pattern) for pattern in group.exclude)
            ]
        # mutmut rewrites the mutated copy of every module outside its configured set as plain
        # source: the full tree is always configured with the whole group (a selection runs by
        # mutant names), and a run on the changed modules has a tree of its own
        tree = WORK / (f"{group.name}-changed" if args.changed else group.name)
        configured = modules if args.changed else list(group.modules)
        if not modules:
            continue
        if args.no_run:
            configure(tree, group, configured)  # mutmut finds mutants by the configured modules
            notes.append(
                f"{group.name}: the results of the last runs, against {', '.join(group.tests)}"
            )
            outcomes.update(results(tree, modules))
            continue
        tree.mkdir(parents=True, exist_ok=True)
        sync(tree)
        configure(tree, group, configured)
        started = time.monotonic()
        wanted = (SURVIVED | NO_TESTS if args.retest else set()) | (
            NOT_RUN if args.resume else set()
        )
        if wanted:
            names: list[str] | None = selected(tree, modules, wanted)
        elif args.only:
            names = [f"{m.removesuffix('.py').replace('/', '.')}.*" for m in modules]
        else:
            names = None
        if names == []:
            outcomes.update(results(tree, modules))
            continue
        finished = run_mutmut(tree, modules, args.budget, names)
        deadline = started + (args.budget if args.budget is not None else float("inf"))
        fresh = rerun_at_import(tree, group, modules, deadline) if finished else 0
        finished = finished and time.monotonic() <= deadline
        spent = time.monotonic() - started
        notes.append(
            f"{group.name}: {', '.join(modules)} against {', '.join(group.tests)}, "
            f"{spent:.0f} s, {fresh} run again from a fresh import"
            f"{'' if finished else ' (budget reached: the mutants run so far)'}"
        )
        outcomes.update(results(tree, modules))
    if not outcomes:
        print("mutation: no guarded module changed")
        return 0
    text = report(outcomes, "\n".join(f"- {n}" for n in notes))
    if args.report is not None:
        args.report.write_text(text)
    if args.update_floors:
        write_floors(outcomes)
    below = []
    for module, outcome in sorted(outcomes.items()):
        score, floor = outcome.score, floor_of(module)
        shown = "n/a" if score is None else f"{score:.1%}"
        print(f"mutation {shown:>6} (floor {floor:.0%})  {module}  {dict(outcome.counts)}")
        if score is not None and score < floor:
            below.append(module)
    if below:
        print(f"mutation: below the floor: {', '.join(below)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
