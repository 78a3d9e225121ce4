"""The static source: one walk of the repository, every static scanner once, one Inventory.

checkov (the real CLI) is started after the walk, in the background, with only the IaC frameworks
the tree has files for (its secrets framework on request); our own scanners (Odoo addons, GitHub
workflows, plain files, stack config) run while it works; then its report is mapped and merged.
The same secret on the same line, flagged by checkov and by our detectors, becomes one asset
naming both. Locations are relative to the scanned root. `.ssotignore` (gitignore-style globs)
removes paths from every scanner, checkov's results included.

A scanner that cannot read something (checkov crashing, a malformed manifest or workflow) adds a
line to `Inventory.incomplete`, so the scan can never pass silently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ssot.errors import ConfigError
from ssot.inventory import Asset, Inventory, Kind, Phase
from ssot.sources import checkov as ck
from ssot.sources._repo import IgnoreRule, RepoFile, SecretNamer, is_ignored, load_ignore, walk
from ssot.sources.files import scan_files
from ssot.sources.odoo_addons import addon_of, find_addons, scan_addons
from ssot.sources.workflows import is_workflow, scan_workflows

__all__ = ["collect_static", "walk"]


def _skip_path_regexes(rules: Sequence[IgnoreRule]) -> list[str]:
    # checkov matches --skip-path regexes against paths relative to its working directory (the
    # root); positive ignore rules are passed to spare it the work, and its results are filtered
    # again afterwards in case a negation re-includes something.
    out = [r"(^|/)\.venv[^/]*(/|$)", r"(^|/)\.checkov-venv(/|$)", r"(^|/)node_modules(/|$)",
           r"(^|/)\.pgdata(/|$)", r"(^|/)\.git(/|$)"]
    if not any(r.negate for r in rules):
        # whole path components only, so that `vendor/` does not also hide `src/vendorlib.py`
        out += [f"(^|/){r.body}(/|$)" for r in rules]
    return out


def _merge_secrets(ours: list[Asset], theirs: list[Asset]) -> list[Asset]:
    """checkov's secret literals folded into ours where both flagged the same value on the same line."""
    index: dict[tuple[str | None, int | None, str | None], Asset] = {}
    for a in ours:
        if a.kind is Kind.SECRET_LITERAL:
            index.setdefault((a.location.path, a.location.line, a.fingerprint), a)
    extra: list[Asset] = []
    for t in theirs:
        if t.kind is not Kind.SECRET_LITERAL:
            extra.append(t)
            continue
        key = (t.location.path, t.location.line, t.fingerprint)
        match = index.get(key) if t.fingerprint else None
        if match is None:
            extra.append(t)
            if t.fingerprint:
                index[key] = t
            continue
        dets = match.props.setdefault("detectors", [match.props.get("detector")])
        if "checkov" not in dets:
            dets.append("checkov")
        ids = match.props.setdefault("check_ids", [])
        for cid in t.props.get("check_ids", []):
            if cid not in ids:
                ids.append(cid)
        match.props.setdefault("check_id", t.props.get("check_id"))
    return extra


def _merge_schedules(ours: list[Asset], theirs: list[Asset]) -> list[Asset]:
    index = {(a.kind, a.location.path, a.location.line): a for a in ours if a.kind is Kind.SCHEDULE}
    extra = []
    for t in theirs:
        if t.kind is not Kind.SCHEDULE:
            extra.append(t)
            continue
        match = index.get((t.kind, t.location.path, t.location.line))
        if match is None:
            extra.append(t)
            continue
        dets = match.props.setdefault("detectors", ["ssot"])
        if "checkov" not in dets:
            dets.append("checkov")
        match.props["check_id"] = t.props.get("check_id")
    return extra


_SUFFIX = re.compile(r"#\d+$")


def _unique_names(assets: list[Asset]) -> None:
    # `name` is unique per (store, kind); repeats (a cron rewritten from Python after its XML record,
    # a secret type flagged twice in one file by different scanners) get an ordinal suffix.
    seen: dict[tuple[str, str, str], int] = {}
    for a in assets:
        key = (a.store.value, a.kind.value, a.name)
        n = seen.get(key, 0) + 1
        seen[key] = n
        if n > 1:
            a.name = f"{a.name}#{n}"
            seen[(a.store.value, a.kind.value, a.name)] = 1


def collect_static(root: Path, *, use_checkov: bool = True, checkov_exe: str | None = None,
                   checkov_timeout: float = ck.DEFAULT_TIMEOUT, checkov_secrets: bool = False,
                   only: set[str] | None = None) -> Inventory:
    """Every static asset under root. Raises CheckovNotFound (exit 2) when checkov is wanted but absent.

    checkov runs only the frameworks the tree has files for (`ck.frameworks_for`); its secrets
    framework only with `checkov_secrets`. With `only` (relative paths: what changed), only those
    files are scanned; the whole tree is still walked, so that a changed file is read as part of its
    Odoo addon.
    """
    root = Path(root)
    if not root.is_dir():
        raise ConfigError.single(str(root), "", "an existing directory to scan")
    rules = load_ignore(root)
    inv = Inventory(phases={Phase.STATIC})

    # The walk comes first (it is cheap) so that checkov is started only for what the tree holds.
    files, _too_big = walk(root, rules)
    selected = files if only is None else [f for f in files if f.rel in only]
    run: ck.CheckovRun | None = None
    plan = ck.plan_for(((f.rel, f.path) for f in selected), secrets=checkov_secrets and only is None) \
        if use_checkov else ck.Plan()
    if only is not None and checkov_secrets and use_checkov:
        # the secrets framework on the changed files only (checkov reads the files it is given)
        plan = ck.Plan(("secrets", *plan.frameworks), tuple(f.rel for f in selected))
    if plan.frameworks:
        exe = checkov_exe or ck.find_checkov(root)
        try:
            run = ck.CheckovRun.start(root, exe=exe, skip_paths=_skip_path_regexes(rules),
                                      timeout=checkov_timeout, frameworks=plan.frameworks, files=plan.files)
        except ck.CheckovFailed as exc:
            inv.incomplete.append(f"checkov: {exc}")

    try:
        ours, problems, odoo_roots = _scan_ours(files, only)
    except BaseException:
        if run is not None:
            run.proc.kill()
            run.wait_quietly()
        raise
    inv.incomplete.extend(problems)

    theirs: list[Asset] = []
    if run is not None:
        try:
            reports = run.wait()
            theirs = [a for a in ck.map_reports(reports, root, odoo_roots=odoo_roots)
                      if a.location.path and not is_ignored(a.location.path, rules)]
        except ck.CheckovFailed as exc:
            inv.incomplete.append(f"checkov: {exc}")

    extra = _merge_schedules(ours, _merge_secrets(ours, theirs))
    assets = ours + extra
    _unique_names(assets)
    inv.extend(assets)
    return inv


def _scan_ours(files: list[RepoFile], only: set[str] | None = None) -> tuple[list[Asset], list[str], list[str]]:
    addons, problems = find_addons(files)
    if only is not None:
        # Addons are found in the whole tree; only those a change touches are read, and only the
        # changed files in them (a manifest's problems count only when the manifest changed).
        touched = {id(a) for f in only if (a := addon_of(f, addons)) is not None}
        problems = [p for p in problems if any(p.startswith(f"odoo-addons: {m}:") for m in only)]
        addons = [a for a in addons if id(a) in touched]
        files = [f for f in files if f.rel in only]
    namer = SecretNamer()
    addon_files, workflow_files, plain = [], [], []
    for f in files:
        if addon_of(f.rel, addons) is not None:
            addon_files.append(f)
        elif is_workflow(f.rel):
            workflow_files.append(f)
        else:
            plain.append(f)
    assets: list[Asset] = []
    found, probs = scan_addons(addon_files, addons, namer)
    assets += found
    problems += probs
    found, probs = scan_workflows(workflow_files, namer)
    assets += found
    problems += probs
    assets += scan_files(plain, namer)
    return assets, problems, [a.root for a in addons]
