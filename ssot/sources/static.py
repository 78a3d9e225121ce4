"""The static source: one walk of the repository, every static scanner once, one Inventory.

checkov (the real CLI) is started after the walk, in the background, with only the IaC frameworks
the tree has files for (its secrets framework on request); our own scanners (Odoo addons, GitHub
workflows, plain files, stack config) run while it works; then its report is mapped and merged.
The same secret on the same line, flagged by checkov and by our detectors, becomes one asset
naming both. Locations are relative to the scanned root. `.ssotignore` (gitignore-style globs)
removes paths from every scanner, checkov's results included.

The tree is hostile input (a pull request from a stranger): the walk opens only regular files,
never through a symlink, and checkov is run on a private copy of exactly the files that passed,
so it can neither follow a link out of the tree (to `/proc/self/environ`, `/dev/zero`) nor hang on
a FIFO. What could not be read (unreadable files and directories, special files, undecodable
names, YAML bombs withheld from checkov, large files whose structure was not parsed) is listed in
`Inventory.incomplete`.

A scanner that cannot read something (checkov crashing, a malformed manifest or workflow) adds a
line to `Inventory.incomplete`, so the scan can never pass silently.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from ssot.errors import ConfigError
from ssot.inventory import Asset, Inventory, Kind, Phase, Store
from ssot.safefile import NotRead, decode, read_bytes, remove_tree
from ssot.sources import checkov as ck
from ssot.sources._repo import (
    MAX_FILE_BYTES,
    RepoFile,
    SecretNamer,
    is_ignored,
    load_ignore,
    scan_large,
    secret_asset,
    walk,
)
from ssot.sources.files import is_crontab, is_stack_file, scan_files
from ssot.sources.odoo_addons import MANIFESTS, Addon, addon_of, find_addons, scan_addons
from ssot.sources.workflows import is_workflow, scan_workflows

__all__ = ["collect_static", "walk"]


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
        match = index.get(key) if t.fingerprint else _in_block(ours, t)
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


def _in_block(ours: list[Asset], t: Asset) -> Asset | None:
    """Ours within the block an IaC check flagged (it names the block, not the value)."""
    rng = t.props.get("line_range")
    if not (isinstance(rng, list) and len(rng) == 2 and all(isinstance(n, int) for n in rng)):
        return None
    return next((a for a in ours if a.kind is Kind.SECRET_LITERAL and a.location.path == t.location.path
                 and a.location.line is not None and rng[0] <= a.location.line <= rng[1]), None)


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


_SUFFIX = re.compile(r"#\d+\Z")


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
                   only: set[str] | None = None, ignore_file: Path | None = None) -> Inventory:
    """Every static asset under root. Raises CheckovNotFound (exit 2) when checkov is wanted but absent.

    checkov runs only the frameworks the tree has files for (`ck.plan_for`); its secrets framework
    only with `checkov_secrets`. With `only` (relative paths: what changed), only those files are
    scanned; the whole tree is still walked, so that a changed file is read as part of its Odoo addon.
    """
    root = Path(root)
    if not root.is_dir():
        raise ConfigError.single(str(root), "", "an existing directory to scan")
    rules = load_ignore(root, ignore_file)
    inv = Inventory(phases={Phase.STATIC})
    # The walk comes first (it is cheap) so that checkov is started only for what the tree holds.
    files, not_read = walk(root, rules)
    if only is not None:
        not_read = [line for line in not_read if any(line.startswith(f"{rel}:") or line == rel for rel in only)]
    inv.incomplete.extend(f"not read: {line}" for line in not_read)
    selected = files if only is None else [f for f in files if f.rel in only]
    plan = ck.plan_for(((f.rel, f.path) for f in selected if not f.large),
                       secrets=checkov_secrets and only is None) if use_checkov else ck.Plan()
    if only is not None and checkov_secrets and use_checkov:
        # the secrets framework on the changed files only (checkov reads the files it is given)
        plan = ck.Plan(("secrets", *plan.frameworks), tuple(f.rel for f in selected if not f.large))

    run: ck.CheckovRun | None = None
    staging: str | None = None
    try:
        if plan.frameworks:
            exe = checkov_exe or ck.find_checkov()
            # checkov reads only a private copy of what passed the walk's filter (regular files,
            # no symlink, nothing outside the tree, nothing ignored, no YAML bomb), never the tree;
            # and of that, only the files its frameworks are run on.
            staging = tempfile.mkdtemp(prefix="ssot-checkov-")
            wanted = set(plan.files) if plan.files else None
            inv.incomplete.extend(stage([f for f in selected if wanted is None or f.rel in wanted],
                                        Path(staging)))
            try:
                run = ck.CheckovRun.start(Path(staging), exe=exe, timeout=checkov_timeout,
                                          frameworks=plan.frameworks, files=plan.files)
            except ck.CheckovFailed as exc:
                inv.incomplete.append(f"checkov: {exc}")
        try:
            ours, problems, odoo_roots = _scan_ours(files, only)
        except BaseException:
            if run is not None:
                run.kill()
                run.wait_quietly()
            raise
        inv.incomplete.extend(problems)

        theirs: list[Asset] = []
        if run is not None:
            try:
                reports = run.wait()
                theirs = [a for a in ck.map_reports(reports, run.root, odoo_roots=odoo_roots)
                          if a.location.path and not is_ignored(a.location.path, rules)]
            except ck.CheckovFailed as exc:
                inv.incomplete.append(f"checkov: {exc}")
    finally:
        if staging is not None:
            remove_tree(staging)

    extra = _merge_schedules(ours, _merge_secrets(ours, theirs))
    assets = ours + extra
    _unique_names(assets)
    inv.extend(assets)
    return inv


_YAML = re.compile(r"\.ya?ml\Z", re.IGNORECASE)


def stage(files: Sequence[RepoFile], dest: Path) -> list[str]:
    """Copy the files checkov may read under dest (same relative paths), through `open_regular`.

    Large files are not copied (our detectors stream them; checkov would load them whole), nor YAML
    that `yamlpos.check_bounds` refuses (checkov expands aliases when it parses workflows and
    Kubernetes manifests). Returns what was withheld from checkov, for `Inventory.incomplete`.
    """
    from ssot.yamlpos import compose_all

    withheld: list[str] = []
    made: set[str] = {""}
    for f in files:
        if f.large:
            continue
        try:
            data = read_bytes(f.path, limit=MAX_FILE_BYTES, rel=f.rel)
        except NotRead as exc:
            withheld.append(f"checkov: not given {exc}")
            continue
        if _YAML.search(f.rel):
            try:
                compose_all(decode(data), f.rel)
            except ConfigError as exc:
                issue = exc.issues[0]
                if "alias" in issue.expected or "nested" in issue.expected:
                    at = f"{f.rel}:{issue.line}" if issue.line else f.rel
                    withheld.append(f"checkov: not given {at}: expected {issue.expected}")
                    continue
        parent, _, _ = f.rel.rpartition("/")
        _make_dirs(dest, parent, made)
        fd = os.open(dest / f.rel, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    return withheld


def _make_dirs(dest: Path, rel_dir: str, made: set[str]) -> None:
    # One level at a time: Path.mkdir(parents=True) recurses per level, and a hostile tree can be
    # 1,000 directories deep.
    if rel_dir in made:
        return
    parts = rel_dir.split("/")
    for i in range(1, len(parts) + 1):
        sub = "/".join(parts[:i])
        if sub not in made:
            os.mkdir(dest / sub, 0o700)
            made.add(sub)


def _scan_ours(files: list[RepoFile], only: set[str] | None = None) -> tuple[list[Asset], list[str], list[str]]:
    small = [f for f in files if not f.large]
    addons, problems = find_addons(small)
    if only is not None:
        # Addons are found in the whole tree; only those a change touches are read, and only the
        # changed files in them (a manifest's problems count only when the manifest changed).
        touched = {id(a) for f in only if (a := addon_of(f, addons)) is not None}
        problems = [p for p in problems if any(p.startswith(f"odoo-addons: {m}:") for m in only)]
        addons = [a for a in addons if id(a) in touched]
        files = [f for f in files if f.rel in only]
        small = [f for f in files if not f.large]
    large = [f for f in files if f.large]
    namer = SecretNamer()
    addon_files, workflow_files, plain = [], [], []
    for f in small:
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
    found, probs = _scan_large(large, addons, namer)
    assets += found
    problems += probs
    return assets, problems, [a.root for a in addons]


def _scan_large(files: list[RepoFile], addons: Sequence[Addon], namer: SecretNamer) -> tuple[list[Asset], list[str]]:
    """Files over MAX_FILE_BYTES: secret literals by the streamed detectors; a file whose structure
    we would also parse (SQL, addon data and code, workflows, stack files, crontabs) is reported as
    only partly read, since its cron jobs, tables or schedules were not."""
    assets: list[Asset] = []
    problems: list[str] = []
    for f in files:
        context, store = "file", Store.REPOSITORY
        if addon_of(f.rel, addons) is not None:
            context = "odoo-addon"
        elif is_workflow(f.rel):
            context = "workflow"
        elif is_stack_file(f.rel):
            context, store = "stack-config", Store.STACK_CONFIG
        try:
            matches = scan_large(f)
        except NotRead as exc:
            problems.append(f"not read: {exc}")
            continue
        for m in matches:
            assets.append(secret_asset(m, f.rel, context, store, namer.name(store, f.rel, m.secret_type)))
        # (a manifest too: padded past the limit it would otherwise hide its whole addon)
        if (f.rel.lower().endswith(".sql") or is_crontab(f.rel) or context != "file"
                or PurePosixPath(f.rel).name in MANIFESTS):
            problems.append(f"not parsed: {f.rel}: larger than {MAX_FILE_BYTES} bytes (secret literals "
                            "scanned; its jobs, tables and schedules not read)")
    return assets, problems
