"""GitHub Actions workflows: scheduled triggers and hardcoded secrets.

`on.schedule` cron triggers → SCHEDULE (store GITHUB_ACTIONS): doctrine §5 wants scheduled work in
pg_cron or n8n, so each one is an asset a rule judges (justified by an `ssot: justified reason=...`
comment in the workflow). Literals in the file → SECRET_LITERAL (context "workflow"); the detectors
already ignore `${{ secrets.X }}` expressions.

The YAML is composed, not constructed: PyYAML would turn the `on:` key into the boolean True and
drop line numbers, and a workflow is data, never code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml

from ssot.inventory import Asset, Kind, Location, Phase, Store
from ssot.sources._repo import RepoFile, SecretNamer, read_text, secret_asset
from ssot.sources.files import justification

_WORKFLOW = re.compile(r"(^|/)\.github/workflows/[^/]+\.ya?ml\Z")


def is_workflow(rel: str) -> bool:
    return bool(_WORKFLOW.search(rel))


class WorkflowError(ValueError):
    """The workflow could not be read; the message names the file, the line and what was expected."""


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _scalar(node: yaml.Node | None) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def parse_workflow(text: str, rel: str) -> yaml.Node | None:
    # Bounded (see yamlpos.check_bounds): a workflow in a pull request is hostile input, and an
    # alias bomb or an anchor used inside itself must be refused, not walked.
    from ssot.errors import ConfigError
    from ssot.yamlpos import compose_all

    try:
        docs = compose_all(text, rel)
    except ConfigError as exc:
        issue = exc.issues[0]
        line = f":{issue.line}" if issue.line else ""
        raise WorkflowError(f"{rel}{line}: expected {issue.expected}") from None
    if len(docs) > 1:
        raise WorkflowError(f"{rel}:{docs[1].start_mark.line + 1}: expected a single YAML document")
    return docs[0] if docs else None


def workflow_schedules(text: str, rel: str) -> list[Asset]:
    root = parse_workflow(text, rel)
    on = _get(root, "on")
    if on is None:
        return []
    jobs = _get(root, "jobs")
    job_names = [k.value for k, _ in jobs.value] if isinstance(jobs, yaml.MappingNode) else []
    name = _scalar(_get(root, "name"))
    reason = justification(text)
    common: dict[str, Any] = {"scheduler": "github-actions", "command": ", ".join(job_names) or None,
                              "jobs": job_names, "workflow": name, "justified": reason is not None,
                              "justification": reason}
    crons: list[tuple[str | None, int]] = []
    if isinstance(on, yaml.ScalarNode) and on.value == "schedule":
        crons.append((None, on.start_mark.line + 1))
    elif isinstance(on, yaml.SequenceNode):
        crons += [(None, n.start_mark.line + 1) for n in on.value
                  if isinstance(n, yaml.ScalarNode) and n.value == "schedule"]
    else:
        sched = _get(on, "schedule")
        if isinstance(sched, yaml.SequenceNode):
            for item in sched.value:
                cron = _get(item, "cron")
                crons.append((_scalar(cron), (cron or item).start_mark.line + 1))
        elif sched is not None:
            crons.append((None, sched.start_mark.line + 1))
    out = []
    seen: dict[str, int] = {}
    for expr, line in crons:
        base = f"{rel}:{expr or 'schedule'}"
        seen[base] = seen.get(base, 0) + 1
        out.append(Asset(
            kind=Kind.SCHEDULE, store=Store.GITHUB_ACTIONS,
            name=base if seen[base] == 1 else f"{base}#{seen[base]}", phase=Phase.STATIC,
            location=Location(path=rel, line=line), props={"schedule": expr, **common},
        ))
    return out


def scan_workflows(files: Iterable[RepoFile], namer: SecretNamer | None = None
                   ) -> tuple[list[Asset], list[str]]:
    """Assets from the given workflow files, and the problems that kept a file from being read."""
    from ssot.detectors import scan_text

    namer = namer or SecretNamer()
    out: list[Asset] = []
    problems: list[str] = []
    for f in files:
        text = read_text(f)
        if text is None:
            continue
        try:
            out.extend(workflow_schedules(text, f.rel))
        except WorkflowError as exc:
            problems.append(f"workflows: {exc}")
        for m in scan_text(text, f.rel):
            out.append(secret_asset(m, f.rel, "workflow", Store.REPOSITORY,
                                    namer.name(Store.REPOSITORY, f.rel, m.secret_type)))
    return out, problems
