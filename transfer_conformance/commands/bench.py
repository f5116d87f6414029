"""`transfer-conformance bench`: the fault matrix, next to the Schemathesis CLI alone, and the
false-alarm matrix over the conformant variants of the reference (targets/variants/).

Every catalogued fault gets its own reference instance (its own process), so runs share no
state; runs go two at a time on a thread pool, each a separate `transfer-conformance run`
process. The baseline runs the Schemathesis CLI with our spec and real ids against the same
faults, with the same example budget.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reference_target.embedded import EmbeddedReference
from reference_target.faults import FAULTS, Fault, parse_faults
from transfer_conformance.http.client import RecordingClient
from transfer_conformance.paths import REPORTS
from transfer_conformance.plugin.options import positive
from transfer_conformance.run.summary import SUMMARY_FILE, RunSummary, run_command
from transfer_conformance.run.verdicts import Verdict, rule_verdicts
from transfer_conformance.target_api.api import ChatApi
from transfer_conformance.target_api.auth import authorization
from transfer_conformance.target_api.profile import load_profile
from transfer_contract.catalogue import rules
from transfer_contract.paths import OPENAPI, TARGETS

BENCH = REPORTS / "bench"
RUNS = REPORTS / "bench-runs"  # per-run output, apart from the matrix files
DEFAULT_EXAMPLES = 8
REFERENCE = "reference"
VARIANTS = TARGETS / "variants"


@dataclass
class SuiteRun:
    name: str
    rule: str | None
    exit_code: int
    wall_s: float
    failed_rules: list[str] = field(default_factory=list)
    broken_rules: list[str] = field(default_factory=list)
    first_failure_s: float | None = None

    @property
    def caught(self) -> bool:
        return self.rule is not None and self.rule in self.failed_rules


@dataclass
class BaselineRun:
    name: str
    exit_code: int
    wall_s: float
    signatures: list[str] = field(default_factory=list)

    @property
    def caught(self) -> bool:
        """The issue's measure: the CLI reported any failure against this target."""
        return self.exit_code == 1


# An operation's heading: "___ POST /path ___", or the bare "POST /path" when it is too long.
OPERATION = re.compile(r"^[_ ]*((?:GET|POST|PUT|DELETE|PATCH|TRACE|HEAD|OPTIONS) /\S*)[_ ]*$")
FAILURE = re.compile(r"^- (ST\d+) ")


def failure_signatures(console: str) -> list[str]:
    """(operation, failure code) pairs the Schemathesis CLI printed."""
    found, operation = set(), "?"
    for line in console.splitlines():
        header = OPERATION.match(line)
        if header:
            operation = header.group(1)
        failure = FAILURE.match(line.strip())
        if failure:
            found.add(f"{operation} {failure.group(1)}")
    return sorted(found)


def run_suite(
    name: str,
    fault: Fault | None,
    examples: int,
    output: Path,
    target: str = REFERENCE,
    strict: bool = True,
) -> SuiteRun:
    """One `run` in its own process; a non-strict run also forgets the profile's decisions,
    as a new user's first run against a target would."""
    command = run_command(
        target,
        output,
        "--strict" if strict else "--ignore-decisions",
        "--no-report",
        "--profile",
        "ci",
        "--examples",
        str(examples),
        "--no-shrink",
    )
    if fault is not None:
        command += ["--fault", fault.name]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    # A run that fails before it starts (a usage error) writes no folder: keep its console anyway.
    output.mkdir(parents=True, exist_ok=True)
    (output / "console.txt").write_text(done.stdout + done.stderr, encoding="utf-8")
    run = SuiteRun(name, fault.rule if fault else None, done.returncode, round(wall, 2))
    summary = RunSummary.load(output / SUMMARY_FILE)
    if summary:
        verdicts = rule_verdicts(summary, strict=True, known=None)
        run.failed_rules = [rule for rule, v in verdicts.items() if v.verdict is Verdict.VIOLATED]
        run.broken_rules = [rule for rule, v in verdicts.items() if v.verdict is Verdict.BROKEN]
        if summary.failed():
            run.first_failure_s = round(min(r.finished for r in summary.failed()) - summary.started, 2)
    return run


def run_baseline(name: str, fault: Fault | None, examples: int, output: Path) -> BaselineRun:
    """The Schemathesis CLI alone, default checks, our spec, real ids, the same budget."""
    output.mkdir(parents=True, exist_ok=True)
    profile = load_profile("reference")
    started = time.perf_counter()
    with EmbeddedReference((fault.name,) if fault else ()) as reference:
        profile.base_url = profile.login_url = profile.visitor_url = reference.url
        api = ChatApi(profile, RecordingClient(timeout_s=10))
        login = profile.agents["transferring"]
        agent = api.auth.log_in(login)
        api.set_availability(agent, "Online")
        chat_id = api.request_chat()
        api.take_chat(agent)
        config = (
            f'base-url = "{reference.url}"\n'
            "[generation]\n"
            f"max-examples = {examples}\n"
            'database = "none"\n'
            "[parameters]\n"
            f'"path.accountId" = "{profile.account_id}"\n'
            f'"path.agentSessionId" = "{agent.session_id}"\n'
            f'"path.chatId" = "{chat_id}"\n'
            f'"query.appKey" = "{profile.visitor_app_key}"\n'
            f'"query.v" = "1"\n'
        )
        (output / "schemathesis.toml").write_text(config, encoding="utf-8")
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            str(OPENAPI),
            "--url",
            reference.url,
            "-H",
            "Authorization: " + authorization(agent.bearer)["Authorization"],
            "--exclude-operation-id",
            "agentLogout",
            "--exclude-operation-id",
            "agentLogin",
            "--generation-deterministic",
            "--no-color",
        ]
        done = subprocess.run(command, cwd=output, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    console = (done.stdout + done.stderr).replace(agent.bearer, "$LP_BEARER")
    (output / "console.txt").write_text(console, encoding="utf-8")
    return BaselineRun(name, done.returncode, round(wall, 2), failure_signatures(console))


def new_signatures(run: BaselineRun, baseline: dict[str, BaselineRun]) -> list[str]:
    reference = set(baseline[REFERENCE].signatures) if REFERENCE in baseline else set()
    return sorted(set(run.signatures) - reference)


def plot(
    suite: list[SuiteRun], baseline: dict[str, BaselineRun], variants: list[dict[str, Any]], path: Path
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    faults = [run for run in suite if run.rule is not None]
    rules = sorted({rule for run in suite for rule in run.failed_rules} | {r.rule for r in faults})
    columns = [*rules, "Schemathesis CLI alone", "…beyond its reference failures"]
    heights = (
        [max(4, len(faults) * 0.32), max(1.5, len(variants) * 0.32)]
        if variants
        else [max(5, len(faults) * 0.32)]
    )
    fig, axes = plt.subplots(
        len(heights),
        1,
        figsize=(max(8, len(columns) * 0.45), sum(heights) + 1),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    _plot_faults(axes[0][0], faults, rules, columns, baseline)
    if variants:
        _plot_variants(axes[1][0], variants)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_faults(
    ax: Any, faults: list[SuiteRun], rules: list[str], columns: list[str], baseline: dict[str, BaselineRun]
) -> None:
    """Faults (rows) by the rules that caught them (columns), then the Schemathesis CLI's two."""
    for y, run in enumerate(faults):
        for x, rule in enumerate(rules):
            if rule in run.failed_rules:
                own = rule == run.rule
                ax.scatter(x, y, marker="s", s=90, color="tab:green" if own else "tab:orange")
            elif rule == run.rule:
                ax.scatter(x, y, marker="x", s=90, color="tab:red")
        base = baseline.get(run.name)
        if base is not None:
            ax.scatter(len(rules), y, marker="s", s=90, color="tab:blue" if base.caught else "lightgrey")
            beyond = bool(new_signatures(base, baseline))
            ax.scatter(len(rules) + 1, y, marker="s", s=90, color="tab:blue" if beyond else "lightgrey")
    ax.set_xticks(range(len(columns)), columns, rotation=90, fontsize=7)
    ax.set_yticks(range(len(faults)), [run.name for run in faults], fontsize=7)
    ax.invert_yaxis()
    ax.set_title(
        "Faults (rows) caught by rules (columns): green own rule, orange other rule, "
        "red missed; blue caught by Schemathesis alone",
        fontsize=8,
    )
    ax.grid(True, alpha=0.2)


def _plot_variants(ax: Any, variants: list[dict[str, Any]]) -> None:
    """Conformant variants (rows): a false alarm in either mode is red."""
    for y, row in enumerate(variants):
        for x, found in enumerate((row["must_failures"], row["strict_failures"])):
            ax.scatter(x, y, marker="s", s=90, color="tab:red" if found else "tab:green")
    ax.set_xticks([0, 1], ["MUST failures, decisions ignored", "any failure, declared, --strict"], fontsize=7)
    ax.set_yticks(range(len(variants)), [row["name"] for row in variants], fontsize=7)
    ax.set_xlim(-0.5, 1.5)
    ax.invert_yaxis()
    ax.set_title("Conformant variants (rows): green no false alarm, red a false alarm", fontsize=8)


def markdown(data: dict[str, Any]) -> str:
    lines = [
        "# Fault matrix",
        "",
        f"Example budget per property: {data['examples']}. Our suite: `run --strict --profile ci`. "
        "Baseline: the Schemathesis CLI alone on specs/chat-agent-api.yaml with real ids.",
        "",
        f"- kill_rate (faults caught by their own rule): **{data['kill_rate']:.2f}**",
        f"- false_positives (failures on the reference): **{data['false_positives']}**",
        f"- baseline_kill_rate (Schemathesis CLI alone): **{data['baseline_kill_rate']}**",
        f"- baseline_false_positives (distinct failures it reports on the reference): "
        f"{data['baseline_false_positives']}",
        f"- baseline_kill_rate_beyond_reference (a failure it does not also report on the reference): "
        f"**{data['baseline_kill_rate_beyond_reference']}**",
        f"- matrix wall time: {data['wall_time_s']} s on {data['workers']} workers",
        "",
        "| fault | its rule | caught | other rules tripped | first failure (s) | wall (s) "
        "| Schemathesis alone | beyond reference | its wall (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in data["faults"]:
        base = row.get("baseline") or {}
        lines.append(
            f"| {row['name']} | {row['rule']} | {'yes' if row['caught'] else 'NO'} | "
            f"{', '.join(row['other_rules']) or '-'} | {row['first_failure_s'] or '-'} | "
            f"{row['wall_s']} | {('caught' if base.get('caught') else 'missed') if base else '-'} | "
            f"{', '.join(base.get('new_vs_reference', [])) or 'nothing new'} | {base.get('wall_s', '-')} |"
        )
    if data["variants"]:
        lines += [
            "",
            "## False-alarm matrix: conformant variants of the reference",
            "",
            f"- variants_false_positives (MUST failures, decisions ignored, not strict): "
            f"**{data['variants_false_positives']}**",
            f"- variants_strict_false_positives (any failure, declared decisions, --strict): "
            f"**{data['variants_strict_false_positives']}**",
            f"- broken results in those runs: {data['variants_broken']}",
            "",
            "| variant | MUST failures (plain) | failures (strict) | broken | exits | wall (s) |",
            "|---|---|---|---|---|---|",
        ]
        for row in data["variants"]:
            broken = row["plain_broken"] + row["strict_broken"]
            lines.append(
                f"| {row['name']} | {', '.join(row['must_failures']) or 'none'} | "
                f"{', '.join(row['strict_failures']) or 'none'} | {', '.join(broken) or 'none'} | "
                f"{row['plain_exit']} / {row['strict_exit']} | {row['wall_s']} |"
            )
    ref = data["reference"]
    lines += [
        "",
        f"Reference run: exit {ref['exit_code']}, failed rules {ref['failed_rules'] or 'none'}, "
        f"{ref['wall_s']} s.",
        "",
        "![fault matrix](bench.png)",
        "",
    ]
    return "\n".join(lines)


def variant_names() -> list[str]:
    return sorted(path.stem for path in VARIANTS.glob("*.toml"))


def must_failures(run: SuiteRun) -> list[str]:
    return [rule for rule in run.failed_rules if rules()[rule].gating]


def run_variants(pool: ThreadPoolExecutor, names: list[str], examples: int) -> list[dict[str, Any]]:
    """Each conformant variant twice: decisions ignored and not strict (any MUST failure is a
    false alarm), then declared and strict (any failure is)."""
    jobs = [(name, strict) for name in names for strict in (False, True)]

    def one(job: tuple[str, bool]) -> SuiteRun:
        name, strict = job
        folder = RUNS / "variants" / f"{name}-{'strict' if strict else 'plain'}"
        return run_suite(name, None, examples, folder, f"variants/{name}", strict=strict)

    done = dict(zip(jobs, pool.map(one, jobs), strict=True))
    rows = []
    for name in names:
        plain, strict = done[(name, False)], done[(name, True)]
        rows.append(
            {
                "name": name,
                "must_failures": must_failures(plain),
                "plain_broken": plain.broken_rules,
                "plain_exit": plain.exit_code,
                "strict_failures": strict.failed_rules,
                "strict_broken": strict.broken_rules,
                "strict_exit": strict.exit_code,
                "wall_s": round(plain.wall_s + strict.wall_s, 2),
            }
        )
    return rows


def rate(hits: list[bool]) -> float | None:
    """The share of hits, to three places; None for no runs."""
    return round(sum(hits) / len(hits), 3) if hits else None


def fault_row(run: SuiteRun, baseline: dict[str, BaselineRun]) -> dict[str, Any]:
    """One fault's row of bench.json: what caught it, and what the CLI alone saw."""
    base = baseline.get(run.name)
    return {
        **asdict(run),
        "caught": run.caught,
        "other_rules": [r for r in run.failed_rules if r != run.rule],
        "baseline": (
            {**asdict(base), "caught": base.caught, "new_vs_reference": new_signatures(base, baseline)}
            if base is not None
            else None
        ),
    }


def figures(
    suite: list[SuiteRun], baseline: dict[str, BaselineRun], variant_rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """bench.json's figures from the runs."""
    reference, faults = suite[0], suite[1:]
    base_faults = [baseline[f.name] for f in faults if f.name in baseline]
    return {
        "kill_rate": rate([run.caught for run in faults]) or 0.0,
        "false_positives": len(reference.failed_rules),
        "baseline_kill_rate": rate([run.caught for run in base_faults]),
        "baseline_false_positives": len(baseline[REFERENCE].signatures) if REFERENCE in baseline else None,
        # A stricter reading: the CLI reports a failure it does not also report on the reference.
        "baseline_kill_rate_beyond_reference": rate(
            [bool(new_signatures(run, baseline)) for run in base_faults]
        ),
        "variants": variant_rows,
        "variants_false_positives": sum(len(row["must_failures"]) for row in variant_rows),
        "variants_strict_false_positives": sum(len(row["strict_failures"]) for row in variant_rows),
        "variants_broken": sum(len(row["plain_broken"]) + len(row["strict_broken"]) for row in variant_rows),
        "reference": asdict(reference),
        "faults": [fault_row(run, baseline) for run in faults],
    }


def run_bench(args: argparse.Namespace) -> int:
    examples = args.examples or DEFAULT_EXAMPLES
    chosen = [f for f in FAULTS if not args.faults or f.name in args.faults]
    variants = [] if args.no_variants else variant_names()
    shutil.rmtree(BENCH, ignore_errors=True)
    shutil.rmtree(RUNS, ignore_errors=True)
    BENCH.mkdir(parents=True)
    jobs: list[tuple[str, Fault | None]] = [(REFERENCE, None), *((f.name, f) for f in chosen)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        suite = list(pool.map(lambda job: run_suite(*job, examples, RUNS / "suite" / job[0]), jobs))
        variant_rows = run_variants(pool, variants, examples)
        baseline_runs = (
            []
            if args.no_baseline
            else list(pool.map(lambda job: run_baseline(*job, examples, RUNS / "baseline" / job[0]), jobs))
        )
    baseline = {run.name: run for run in baseline_runs}
    data = {
        "examples": examples,
        "workers": args.workers,
        **figures(suite, baseline, variant_rows),
        "wall_time_s": round(time.perf_counter() - started, 1),
    }
    (BENCH / "bench.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    try:
        plot(suite, baseline, variant_rows, BENCH / "bench.png")
    except ImportError:
        print("note: no plot (matplotlib is in the bench extra: pip install 'transfer-conformance[bench]')")
    (BENCH / "bench.md").write_text(markdown(data), encoding="utf-8")
    print(markdown(data))
    print(f"written: {BENCH / 'bench.json'}, {BENCH / 'bench.md'}, {BENCH / 'bench.png'}")
    false_alarms = ("false_positives", "variants_false_positives", "variants_strict_false_positives")
    clean = not any(data[key] for key in (*false_alarms, "variants_broken"))
    return 0 if data["kill_rate"] == 1.0 and clean else 1


def register(commands: argparse._SubParsersAction) -> None:
    bench = commands.add_parser("bench", help="fault matrix, baseline and plot")
    bench.add_argument("--examples", type=positive, default=None, help="example budget per property")
    bench.add_argument("--workers", type=positive, default=2)
    bench.add_argument("--faults", nargs="*", default=None, help="only these faults")
    bench.add_argument("--no-baseline", action="store_true")
    bench.add_argument("--no-variants", action="store_true", help="skip the false-alarm matrix")
    bench.set_defaults(handler=command_bench)


def command_bench(args: argparse.Namespace) -> int:
    parse_faults(args.faults or [])  # an unknown fault is a usage error before anything runs
    return run_bench(args)
