"""The phases end to end: collect an inventory once, run every rule over it, shape a report.

The CLI, the benchmarks and the tests all go through here, so what they measure is what users run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssot.errors import ConfigError, SsotError
from ssot.findings import Finding
from ssot.inventory import Asset, Inventory, Kind, Location, Phase, Provenance, Store
from ssot.model import Platform, load_platform
from ssot.rules import all_rules, run_rules

if TYPE_CHECKING:
    from ssot.sources.live import SourceResult


@dataclass
class PhaseResult:
    inventory: Inventory
    findings: list[Finding]
    target: str
    default_artifact: str | None
    resources: int = 0
    # `ssot audit` only: per source what was read, what could not be, or "not configured"; drift summary.
    audit: dict[str, Any] | None = None
    sources_read: list[str] | None = None
    # What the run chose not to do and the reader must know (reported as warnings).
    notes: list[str] = field(default_factory=list)


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
         changed_since: str | None = None, with_preview: bool = False,
         ignore_file: Path | None = None) -> PhaseResult:
    """`ssot scan`: the repository's files, checkov and our own scanners, plus its stack files.

    With `changed_since` (a git ref): only the files changed since then, and, when a change can
    change what the Pulumi program declares (a stack file, `__main__.py`, a component) and
    `with_preview` is set, the program's preview for each stack, whose findings are reported with the
    scan's. Without `with_preview` the report says the preview was not run.
    """
    from ssot.sources.static import collect_static

    if not root.is_dir():
        raise SsotError(f"{root}: expected a directory to scan")
    changed: set[str] | None = None
    if changed_since is not None:
        from ssot.sources.git import changed_files

        changed = changed_files(root, changed_since)
    inv = collect_static(root, use_checkov=use_checkov, checkov_secrets=checkov_secrets, only=changed,
                         ignore_file=ignore_file)
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
    notes: list[str] = []
    # A preview executes the scanned tree's Python. `ssot preview` does that by design and says so; a
    # scan reads files and must not execute them unless asked, so the preview here is opt-in (the PR
    # workflow runs `ssot preview` for every stack anyway), and even then runs in a child process
    # that never sees this process's environment (in CI: its tokens): ssot.sandbox.
    if changed is not None and _affects_program(root, changed) and not with_preview:
        notes.append("the change affects the Pulumi program; its preview was not run by this scan "
                     "(it executes the repository's code): run `ssot preview --stack NAME` or pass --with-preview")
    if changed is not None and _affects_program(root, changed) and with_preview:
        keys = {f.key for f in findings}
        for path in stack_files(root):
            name = path.name[len("Pulumi."):].rsplit(".", 1)[0]
            result = preview(root, name, isolated=True)
            inv.merge(result.inventory)
            findings += [f for f in result.findings if f.key not in keys]
            keys |= {f.key for f in result.findings}
    return PhaseResult(inv, findings, target=str(root), default_artifact=None, notes=notes)


def scan_history(root: Path, *, since: str | None = None) -> PhaseResult:
    """`ssot scan --history [--since REF]`: every secret ever committed, where it was introduced."""
    from ssot.sources.history import collect_history

    if not root.is_dir():
        raise SsotError(f"{root}: expected a directory to scan")
    inv, _stats = collect_history(root, since)
    return PhaseResult(inv, run_rules(inv, all_rules()), target=f"{root} (git history)", default_artifact=None)


def preview(root: Path, stack: str, *, isolated: bool = False) -> PhaseResult:
    """`ssot preview`: the Pulumi program under the mock runtime, offline, then the rules.

    `isolated`: in a child process with a clean environment and resource limits (`ssot.sandbox`),
    for a scan of code nobody has reviewed yet; `ssot preview` itself runs the program here, by design.
    """
    from ssot.mockrun import run_stack
    from ssot.model import stack_file
    from ssot.sources.declared import ResourceView, inventory_from_resources

    path = stack_file(stack, root)
    if not (root / "Pulumi.yaml").is_file() or not (root / "__main__.py").is_file():
        raise SsotError(f"{root}: expected a Pulumi project (Pulumi.yaml and __main__.py)")
    # Validate the stack file first, leniently, so config mistakes are reported as such (exit 2)
    # rather than as a failed program run.
    load_platform(path, stack=stack, strict=False, display=_rel(path, root))
    if isolated:
        from ssot.sandbox import run_stack_resources

        views = [ResourceView(*r) for r in run_stack_resources(root, stack)]
    else:
        run = run_stack(root, stack, env={"PULUMI_SKIP_UPDATE_CHECK": "1"})
        views = [ResourceView(r.type, r.name, r.urn, r.props) for r in run.resources]
    inv = inventory_from_resources(views)
    return PhaseResult(inv, run_rules(inv, all_rules()), target=f"{_rel(root, Path(os.getcwd()))} (stack {stack})",
                       default_artifact=_rel(path, root), resources=len(views))


def declared_inventory(root: Path, stack: str, state: Path | None = None) -> tuple[Inventory, int]:
    """What the stack declares: the program under the mock runtime (as `ssot preview`), or the
    resources of a `pulumi stack export` file (what was last applied)."""
    from ssot.sources.declared import ResourceView, inventory_from_resources

    if state is not None:
        from ssot.sources.state import load_state

        views = load_state(state, display=_rel(state, Path(os.getcwd())))
        return inventory_from_resources(views), len(views)
    from ssot.mockrun import run_stack

    if not (root / "Pulumi.yaml").is_file() or not (root / "__main__.py").is_file():
        raise SsotError(f"{root}: expected a Pulumi project (Pulumi.yaml and __main__.py)")
    run = run_stack(root, stack, env={"PULUMI_SKIP_UPDATE_CHECK": "1"})
    inv = inventory_from_resources(ResourceView(r.type, r.name, r.urn, r.props) for r in run.resources)
    return inv, len(run.resources)


def _annotate_live(live: Inventory, platform: Platform) -> None:
    """A live catalog does not know the doctrine facts the declaration gives (a role's kind, a schema's
    domain, a secret's category): take them from the stack by name, as the scan does for tables."""
    kinds = {r.name: r.kind for r in platform.roles}
    if platform.audit and platform.audit.db_user:
        # The role the audit connects as is the auditor, declared as a role or only named here.
        kinds.setdefault(platform.audit.db_user, "auditor")
    odoo_raw = {r.name for r in platform.roles if r.odoo_raw_allowed}
    domains = {s.name: s.domain for s in platform.schemas}
    categories = {v.name: v.category for v in platform.vault_secrets}
    for a in live.of(Kind.ROLE):
        a.props["role_kind"] = kinds.get(a.name)
        a.props["odoo_raw_allowed"] = a.name in odoo_raw
    for a in live.of(Kind.SCHEMA):
        a.props["domain"] = domains.get(a.name)
    for a in live.of(Kind.TABLE):
        a.props["domain"] = domains.get(str(a.props.get("schema")))
    for a in live.of(Kind.GRANT, Kind.DEFAULT_PRIVILEGE):
        a.props["role_kind"] = kinds.get(str(a.props.get("role")))
        a.props["schema_domain"] = domains.get(str(a.props.get("schema")))
    for a in live.of(Kind.VAULT_SECRET):
        a.props["category"] = categories.get(a.name)


def _source_summary(res: SourceResult, title: str) -> dict[str, Any]:
    status = "not configured" if not res.configured else ("incomplete" if res.gaps else "read")
    return {"source": res.source, "title": title, "status": status, "read": dict(sorted(res.read.items())),
            "gaps": [{"object": g.object, "reason": g.reason, "permission": g.permission} for g in res.gaps]}


def audit(root: Path, stack: str, *, state: Path | None = None, datadir: Path | None = None,
          local_db: bool = False, env: dict[str, str] | None = None,
          progress: Callable[[str, str, int | None], None] | None = None,
          only: list[str] | None = None) -> PhaseResult:
    """`ssot audit`: every configured live system read once, the doctrine rules over the live
    inventory, and drift between what the stack declares and what runs.

    Rules other than drift judge the live inventory only: the declared side's own findings are
    `ssot preview`'s. A source that could not read everything makes the result incomplete."""
    from ssot.fingerprint import use_key
    from ssot.model import stack_file
    from ssot.sources.live import SourceContext, SourceResult, all_sources

    path = stack_file(stack, root)
    platform = load_platform(path, stack=stack, strict=False, display=_rel(path, root))
    environ = dict(os.environ) if env is None else env
    # The key the program fingerprints under is the stack's fingerprintKey or one it generated and
    # keeps secret: the audit only has it if the environment names it. Otherwise the database's probe
    # tells the Postgres source the keys differ, and it says so.
    use_key(environ.get("SSOT_FINGERPRINT_KEY") or None)
    declared, resources = declared_inventory(root, stack, state)
    timeout = float(platform.audit.timeout_seconds) if platform.audit else 30.0
    deadline = float(platform.audit.deadline_seconds) if platform.audit else 600.0
    live = Inventory(phases={Phase.LIVE})
    summaries: list[dict[str, Any]] = []
    known = {src.name for src in all_sources()}
    unknown = sorted(set(only or ()) - known)
    if unknown:
        raise SsotError(f"--source: one of {', '.join(sorted(known))}; got {', '.join(unknown)}")
    for src in all_sources():
        if only and src.name not in only:
            # Left out on request: neither read nor failed, and its kinds are not compared.
            summaries.append({"source": src.name, "title": src.title, "status": "skipped", "read": {}, "gaps": []})
            continue

        def report(what: str, n: int | None, _name: str = src.name) -> None:
            if progress is not None:
                progress(_name, what, n)

        ctx = SourceContext(env=environ, root=str(root), timeout=timeout, deadline=deadline, progress=report,
                            datadir=str(datadir) if datadir else None, local_db=local_db)
        try:
            res = src.collect(platform, ctx)
        except Exception as exc:  # a source's bug must make the audit incomplete, not crash it
            # Only the type: an exception's text can quote what the source was handling.
            res = SourceResult(src.name, configured=True)
            res.gap("*", f"the source failed unexpectedly ({type(exc).__name__}); rerun with SSOT_DEBUG=1")
            if environ.get("SSOT_DEBUG") == "1":
                raise
        if progress is not None:
            progress(src.name, "done", None)
        summaries.append(_source_summary(res, src.title))
        if res.configured:
            live.merge(res.inventory)
            live.incomplete.extend(g.describe() for g in res.gaps)
    _annotate_live(live, platform)
    _fingerprint_comparability(live, declared)
    live.justifications.extend(j.as_dict() for j in platform.justifications)
    drift_rules = [r for r in all_rules() if r.id == "drift"]
    findings = run_rules(live, [r for r in all_rules() if r.id != "drift"])
    covered = _covered_kinds(summaries)
    combined = Inventory(phases={Phase.DECLARED, Phase.LIVE})
    # Only kinds a live source did read are compared: "not read" must never read as "missing".
    combined.extend(a for a in declared.assets if a.kind in covered)
    combined.merge(live)
    combined.incomplete = list(live.incomplete)
    seen = {f.key for f in findings}
    findings += [f for f in run_rules(combined, drift_rules) if f.key not in seen]
    findings.sort(key=lambda f: (-f.severity, f.rule_id, f.location.describe(), f.key))
    from ssot.rules.drift import summary as drift_summary

    drift_info = drift_summary(combined, findings)
    drift_info["not_compared"] = sorted(k.value for k in _DRIFT_READS if k not in covered)
    audit_info = {"sources": summaries, "drift": drift_info}
    result = PhaseResult(live, findings, target=f"{_rel(root, Path(os.getcwd()))} (stack {stack}, live)",
                         default_artifact=_rel(path, root), resources=resources, audit=audit_info)
    # What `--store` records as read (ssot.store.run.sources_for): the declared side and each live
    # source that read everything it was asked to.
    result.sources_read = ["pulumi state export" if state is not None else "pulumi program (mock runtime)",
                           *(s["source"] for s in summaries if s["status"] == "read")]
    return result


def _fingerprint_comparability(live: Inventory, declared: Inventory) -> None:
    """Vault fingerprints under a key other than this process's cannot be compared with anything:
    when a comparison was due (declared fingerprints, or another store's), that is a gap, not a pass."""
    differs = [a for a in live.of(Kind.VAULT_SECRET) if a.props.get("fingerprint_key_differs")]
    if not differs:
        return
    others = any(a.fingerprint for a in live.assets if a.store != Store.VAULT) or any(
        a.fingerprint for a in declared.of(Kind.VAULT_SECRET, Kind.EDGE_SECRET))
    if others:
        live.incomplete.append("postgres: vault fingerprints: the fingerprint key in Vault differs from this "
                               "process's SSOT_FINGERPRINT_KEY, so Vault values cannot be compared with the "
                               "declared state or other stores (needs SSOT_FINGERPRINT_KEY set to the stack's "
                               "fingerprintKey)")


# Which live read each compared kind comes from: (source, the object it reports in gaps and counts;
# None when any gap of that source makes the kind unreliable).
_DRIFT_READS: dict[Kind, tuple[str, str | None]] = {
    Kind.SCHEMA: ("postgres", "schemas"), Kind.ROLE: ("postgres", "roles"), Kind.GRANT: ("postgres", "grants"),
    Kind.DEFAULT_PRIVILEGE: ("postgres", "default privileges"), Kind.VAULT_SECRET: ("postgres", "vault.secrets"),
    Kind.CRON_JOB: ("postgres", "cron.job"), Kind.EDGE_SECRET: ("supabase_api", None),
}


def _covered_kinds(summaries: list[dict[str, Any]]) -> set[Kind]:
    by_source = {s["source"]: s for s in summaries}
    out = set()
    for kind, (source, obj) in _DRIFT_READS.items():
        s = by_source.get(source)
        if s is None or s["status"] in ("not configured", "skipped"):
            continue
        blocked = {g["object"] for g in s["gaps"]}
        if obj is None and blocked:
            continue
        if blocked & {"connection", "*"} or obj in blocked:
            continue
        if obj is not None and obj not in s["read"]:
            continue
        out.add(kind)
    return out
