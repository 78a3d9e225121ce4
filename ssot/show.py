"""`ssot show`: the platform a stack declares, as a readable table of resources.

The table comes from running the actual program under the mock runtime, so it shows what
`pulumi up` would declare (types, names, parents), enriched with the doctrine facts of each one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ssot.inventory import Asset
from ssot.mockrun import run_stack
from ssot.model import load_platform, stack_file
from ssot.reporters._report import one_line
from ssot.sources.declared import ResourceView, inventory_from_resources

_SHORT = {
    "postgresql:index/schema:Schema": "postgresql.Schema",
    "postgresql:index/role:Role": "postgresql.Role",
    "postgresql:index/grant:Grant": "postgresql.Grant",
    "postgresql:index/defaultPrivileges:DefaultPrivileges": "postgresql.DefaultPrivileges",
    "postgresql:index/extension:Extension": "postgresql.Extension",
    "pulumi:providers:postgresql": "provider: postgresql",
    "pulumi-python:dynamic/ssot:VaultSecret": "ssot.VaultSecret",
    "pulumi-python:dynamic/ssot:CronJob": "ssot.CronJob",
    "pulumi-python:dynamic/ssot:SupabaseProject": "ssot.SupabaseProject",
    "pulumi-python:dynamic/ssot:EdgeFunctionSecret": "ssot.EdgeFunctionSecret",
}


def _details(asset: Asset | None) -> str:
    if asset is None:
        return ""
    p = asset.props
    kind = asset.kind.value
    if kind == "schema":
        return f"domain={p.get('domain')}" + (f" owner={p['owner']}" if p.get("owner") else "")
    if kind == "role":
        return f"kind={p.get('role_kind')}" + (" login" if p.get("login") else " nologin")
    if kind in ("grant", "default_privilege"):
        return f"{','.join(p.get('privileges', []))} on {p.get('object_type')} in {p.get('schema')}"
    if kind in ("vault_secret", "edge_secret"):
        src = asset.provenance.source if asset.provenance else "?"
        ref = f" ({asset.provenance.ref})" if asset.provenance and asset.provenance.ref else ""
        extra = f"; runtime-only: {p['runtime_only_reason']}" if p.get("runtime_only_reason") else ""
        return f"category={p.get('category')} value from {src}{ref}{extra}"
    if kind == "cron_job":
        return f"'{p.get('schedule')}'" + ("" if p.get("active", True) else " (inactive)")
    if kind == "extension":
        return f"in schema {p.get('schema')}"
    if kind == "supabase_project":
        return f"region={p.get('region')} org={p.get('organization')}"
    return ""


def render_platform(root: Path, stack: str) -> str:
    path = stack_file(stack, root)
    display = os.path.relpath(path, Path.cwd())
    decl = load_platform(path, stack=stack, strict=True, display=display)
    run = run_stack(root, stack)
    inv = inventory_from_resources(ResourceView(r.type, r.name, r.urn, r.props) for r in run.resources)
    by_urn = {a.location.urn: a for a in inv.assets if a.location.urn}
    body = []
    for r in run.resources:
        if not r.custom:
            continue
        asset = by_urn.get(r.urn)
        line = asset.location.line if asset and asset.location.line else 0
        where = f"{asset.location.path}:{line}" if asset and asset.location.path else ""
        # Details quote stack text (a runtime-only reason): no control or bidi character may act.
        body.append((line, (one_line(_SHORT.get(r.type, r.type)), one_line(asset.name if asset else r.name),
                            one_line(_details(asset)), one_line(where))))
    # Registration order depends on asyncio scheduling; the stack file's order is the stable one.
    rows = [("RESOURCE", "NAME", "DETAILS", "DECLARED AT"), *(row for _, row in sorted(body, key=lambda b: b[0]))]
    width = shutil.get_terminal_size((160, 24)).columns
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    widths[2] = max(10, min(widths[2], width - widths[0] - widths[1] - widths[3] - 6))
    lines = []
    for i, row in enumerate(rows):
        cells = [row[j].ljust(widths[j]) if j != 2 else _clip(row[j], widths[j]).ljust(widths[j])
                 for j in range(4)]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    db = decl.database
    where = ("the local cluster (`ssot db start`)" if db.local else
             "the project's database" if db.from_project else f"{db.host}:{db.port}")
    components = sum(1 for r in run.resources if not r.custom)
    head = [f"Platform '{decl.name}' (stack {stack}, {display})",
            f"{len(rows) - 1} resources in {components} components, declared into {where}; "
            f"evaluated with Pulumi's mock runtime (no engine, no credentials)", ""]
    return "\n".join(head + lines)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
