"""The phases end to end: collect an inventory once, run every rule over it, shape a report.

The CLI, the benchmarks and the tests all go through here, so what they measure is what users run.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ssot.errors import ConfigError, SsotError
from ssot.findings import Finding
from ssot.inventory import Asset, Inventory, Kind, Location, Phase, Provenance, Store
from ssot.model import Platform, load_platform
from ssot.rules import all_rules, run_rules


@dataclass
class PhaseResult:
    inventory: Inventory
    findings: list[Finding]
    target: str
    default_artifact: str | None
    resources: int = 0


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def stack_files(root: Path) -> list[Path]:
    found = sorted((root / "stacks").glob("Pulumi.*.yaml")) + sorted(root.glob("Pulumi.*.yaml"))
    # Never through a link: a `stacks` symlink in a pull request could point anywhere on the runner.
    real = root.resolve()
    return [p for p in found if _same_path_resolved(p, root, real)]


def _same_path_resolved(path: Path, root: Path, real_root: Path) -> bool:
    try:
        return path.resolve().relative_to(real_root) == path.relative_to(root)
    except ValueError:
        return False


def stack_inventory(platform: Platform, phase: Phase = Phase.STATIC) -> Inventory:
    """What a stack file says, read without running the program: plaintext where a secret belongs,
    and the justifications it declares (which rules in every phase honour)."""
    inv = Inventory(phases={phase})
    for label, src in platform.secret_sources():
        if src.kind != "literal":
            continue
        inv.add(Asset(Kind.CONFIG_VALUE, Store.STACK_CONFIG, label, phase,
                      Location(path=src.where.file, line=src.where.line),
                      {"key": label, "config_path": src.where.path, "config_key": src.ref,
                       "expected": "a secret reference ({secret: <configKey>}, {env: VAR}, {generate: ...})"},
                      provenance=Provenance("literal", src.ref)))
    inv.justifications.extend(j.as_dict() for j in platform.justifications)
    return inv


def _drop_literals_explained_by_config(inv: Inventory) -> None:
    """A plaintext secret in a stack file is seen twice: by the detectors (a literal) and by the
    model (plaintext where a secret reference belongs). The model's finding says more; keep it."""
    at = {(a.location.path, a.location.line) for a in inv.of(Kind.CONFIG_VALUE)}
    if at:
        inv.discard(lambda a: a.kind == Kind.SECRET_LITERAL and (a.location.path, a.location.line) in at)


def load_stacks(root: Path, *, strict: bool = False) -> list[Platform]:
    platforms, issues = [], []
    for path in stack_files(root):
        try:
            platforms.append(load_platform(path, strict=strict, display=_rel(path, root)))
        except ConfigError as exc:
            issues.extend(exc.issues)
    if issues:
        raise ConfigError(issues)
    return platforms


# Files whose change can change what the Pulumi program declares: its project and entry point, its
# stack files, and Python beside it (components it imports).
_PROGRAM_FILE = re.compile(r"(?:Pulumi(?:\.[^/]+)?\.ya?ml|stacks/Pulumi\.[^/]+\.ya?ml"
                           r"|(?!tests?/|\.)[^\n]*\.py)\Z")


def _affects_program(root: Path, changed: set[str]) -> bool:
    return (root / "Pulumi.yaml").is_file() and any(_PROGRAM_FILE.match(p) for p in changed)


def scan(root: Path, *, use_checkov: bool = True, checkov_secrets: bool = False,
         changed_since: str | None = None) -> PhaseResult:
    """`ssot scan`: the repository's files, checkov and our own scanners, plus its stack files.

    With `changed_since` (a git ref): only the files changed since then, and, when a change can
    change what the Pulumi program declares (a stack file, `__main__.py`, a component), the program's
    preview for each stack, whose findings are reported with the scan's.
    """
    from ssot.sources.static import collect_static

    if not root.is_dir():
        raise SsotError(f"{root}: expected a directory to scan")
    changed: set[str] | None = None
    if changed_since is not None:
        from ssot.sources.git import changed_files

        changed = changed_files(root, changed_since)
    inv = collect_static(root, use_checkov=use_checkov, checkov_secrets=checkov_secrets, only=changed)
    platforms = load_stacks(root, strict=False)
    if changed is not None:
        platforms = [p for p in platforms if _rel(Path(p.file), root) in changed]
    for platform in platforms:
        inv.merge(stack_inventory(platform))
    # SQL alone does not say which doctrine domain a schema belongs to; the stacks do.
    domains = {s.name: s.domain for p in platforms for s in p.schemas}
    for table in inv.of(Kind.TABLE, Kind.GRANT, Kind.DEFAULT_PRIVILEGE):
        if table.props.get("domain") is None:
            table.props["domain"] = domains.get(str(table.props.get("schema")))
    inv.phases.add(Phase.STATIC)
    _drop_literals_explained_by_config(inv)
    findings = run_rules(inv, all_rules())
    if changed is not None and _affects_program(root, changed):
        keys = {f.key for f in findings}
        for path in stack_files(root):
            name = path.name[len("Pulumi."):].rsplit(".", 1)[0]
            result = preview(root, name)
            inv.merge(result.inventory)
            findings += [f for f in result.findings if f.key not in keys]
            keys |= {f.key for f in result.findings}
    return PhaseResult(inv, findings, target=str(root), default_artifact=None)


def scan_history(root: Path, *, since: str | None = None) -> PhaseResult:
    """`ssot scan --history [--since REF]`: every secret ever committed, where it was introduced."""
    from ssot.sources.history import collect_history

    if not root.is_dir():
        raise SsotError(f"{root}: expected a directory to scan")
    inv, _stats = collect_history(root, since)
    return PhaseResult(inv, run_rules(inv, all_rules()), target=f"{root} (git history)", default_artifact=None)


def preview(root: Path, stack: str) -> PhaseResult:
    """`ssot preview`: the Pulumi program under the mock runtime, offline, then the rules."""
    from ssot.mockrun import run_stack
    from ssot.model import stack_file
    from ssot.sources.declared import ResourceView, inventory_from_resources

    path = stack_file(stack, root)
    if not (root / "Pulumi.yaml").is_file() or not (root / "__main__.py").is_file():
        raise SsotError(f"{root}: expected a Pulumi project (Pulumi.yaml and __main__.py)")
    # Validate the stack file first, leniently, so config mistakes are reported as such (exit 2)
    # rather than as a failed program run.
    load_platform(path, stack=stack, strict=False, display=_rel(path, root))
    run = run_stack(root, stack, env={"PULUMI_SKIP_UPDATE_CHECK": "1"})
    inv = inventory_from_resources(ResourceView(r.type, r.name, r.urn, r.props) for r in run.resources)
    return PhaseResult(inv, run_rules(inv, all_rules()), target=f"{_rel(root, Path(os.getcwd()))} (stack {stack})",
                       default_artifact=_rel(path, root), resources=len(run.resources))
