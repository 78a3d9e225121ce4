"""Benchmark of ssot's secret detectors: MB/s of `scan_text` over a generated tree of mixed text.

    .venv/bin/python bench/bench_detectors.py [--mb 50] [--seed 1] [--out bench/results/detectors.json]

The tree (Python, TypeScript, YAML workflows and stack config, .env, SQL migrations, Odoo XML,
Markdown with lorem ipsum, JSON with base64 blobs, minified JS) is generated deterministically in a
temporary directory, with a synthetic secret planted in about one file in twenty. Each file is read
and then scanned; only the scanning is timed. Peak memory is the process's maximum RSS, plus the
tracemalloc peak of a second, traced pass over the largest files (tracing slows Python down, so the
throughput figure comes from the untraced pass).
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import os
import platform
import random
import resource
import string
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ssot.detectors import all_detectors, scan_text  # noqa: E402


def _load_synth() -> ModuleType:
    spec = importlib.util.spec_from_file_location("detector_synth", ROOT / "tests" / "detectors" / "detector_synth.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


synth = _load_synth()

WORDS = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et "
    "dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea "
    "commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla pariatur"
).split()
IDENTS = (
    "user account invoice partner schema table role grant session config value record job cron schedule "
    "sync status payload request response client server project region name count total item line order"
).split()
SECRETISH = ("api_key", "token", "secret_name", "db_password", "access_token", "webhook_secret")


def _ident(r: random.Random) -> str:
    return "_".join(r.choice(IDENTS) for _ in range(r.randint(1, 3)))


def python_file(r: random.Random) -> str:
    out = [
        '"""Module docstring: ' + " ".join(r.choices(WORDS, k=12)) + '."""',
        "",
        "from __future__ import annotations",
        "",
    ]
    out += [f"import {r.choice(['os', 're', 'json', 'typing', 'logging', 'pathlib'])}" for _ in range(4)]
    for _ in range(r.randint(8, 30)):
        fn = _ident(r)
        out += ["", "", f"def {fn}(self, {_ident(r)}: str, {_ident(r)}: int = {r.randint(0, 99)}) -> dict[str, str]:"]
        out.append(f'    """{" ".join(r.choices(WORDS, k=10))}."""')
        for _ in range(r.randint(3, 12)):
            choice = r.random()
            if choice < 0.03:
                out.append(f'    {r.choice(SECRETISH)} = os.environ["{_ident(r).upper()}"]')
            elif choice < 0.2:
                out.append(f'    {_ident(r)} = os.environ.get("{_ident(r).upper()}", "")')
            elif choice < 0.35:
                out.append(f"    if {_ident(r)} is None or len({_ident(r)}) > {r.randint(1, 500)}:")
                out.append(f'        raise ValueError("{" ".join(r.choices(WORDS, k=6))}")')
            elif choice < 0.5:
                out.append(f"    # {' '.join(r.choices(WORDS, k=r.randint(5, 14)))}")
            elif choice < 0.52:
                out.append(f"    password_hint = settings.{_ident(r)}")
            else:
                out.append(
                    f"    {_ident(r)} = self.{_ident(r)}({_ident(r)}, {r.randint(0, 9999)}, '{r.choice(WORDS)}')"
                )
        out.append(f"    return {{'{_ident(r)}': {_ident(r)}}}")
    return "\n".join(out) + "\n"


def typescript_file(r: random.Random) -> str:
    out = ["import { createClient } from '@supabase/supabase-js';", ""]
    for _ in range(r.randint(10, 40)):
        name = "".join(w.capitalize() for w in _ident(r).split("_"))
        out.append(f"export async function get{name}(id: string): Promise<{name} | null> {{")
        out.append(f"  const {{ data, error }} = await supabase.from('{_ident(r)}').select('*').eq('id', id);")
        if r.random() < 0.1:
            out.append(f"  const token = process.env.{_ident(r).upper()};")
        out.append(f"  const {_ident(r)} = await fetch(`${{baseUrl}}/{_ident(r)}`, {{ method: 'POST' }});")
        out.append("  if (error) throw new Error(`" + " ".join(r.choices(WORDS, k=5)) + "`);")
        out.append("  return data?.[0] ?? null;")
        out.append("}")
        out.append("")
    return "\n".join(out)


def workflow_file(r: random.Random) -> str:
    out = [
        "name: deploy",
        "on:",
        "  push:",
        "    branches: [main]",
        "jobs:",
        "  deploy:",
        "    runs-on: ubuntu-latest",
        "    steps:",
    ]
    for _ in range(r.randint(5, 20)):
        out.append(f"      - uses: actions/checkout@{''.join(r.choices('0123456789abcdef', k=40))}")
        out.append(f"      - name: {' '.join(r.choices(WORDS, k=4))}")
        out.append("        env:")
        out.append(f"          {_ident(r).upper()}: ${{{{ secrets.{_ident(r).upper()} }}}}")
        out.append("          SUPABASE_ACCESS_TOKEN: ${{ secrets.SUPABASE_ACCESS_TOKEN }}")
        out.append(f"        run: ssot preview --stack {r.choice(['dev', 'prod'])} --fail-on high")
    return "\n".join(out) + "\n"


def stack_file(r: random.Random) -> str:
    out = ["config:", "  ssot:region: eu-central-1"]
    for _ in range(r.randint(10, 40)):
        key = _ident(r)
        if r.random() < 0.3:
            key = r.choice(SECRETISH)
            ct = base64.b64encode(r.randbytes(12)).decode() + ":" + base64.b64encode(r.randbytes(40)).decode()
            out += [f"  ssot:{key}:", f"    secure: v1:{ct}"]
        else:
            out.append(f"  ssot:{key}: {r.choice(WORDS)}-{r.randint(1, 99)}")
    return "\n".join(out) + "\n"


def env_file(r: random.Random) -> str:
    out = ["# local development only"]
    for _ in range(r.randint(5, 25)):
        key = r.choice(SECRETISH) if r.random() < 0.3 else _ident(r)
        out.append(f"{key.upper()}=${{{_ident(r).upper()}}}")
        out.append(f"{_ident(r).upper()}_URL=https://{r.choice(WORDS)}.example.org/{r.choice(WORDS)}")
    out.append("DATABASE_URL=postgresql://postgres:postgres@localhost:54322/postgres")
    out.append("DB_PASSWORD=changeme")
    return "\n".join(out) + "\n"


def sql_file(r: random.Random) -> str:
    out = ["-- migration", "begin;"]
    for _ in range(r.randint(5, 30)):
        t = _ident(r)
        out.append(
            f"create table if not exists ops.{t} (id uuid primary key default gen_random_uuid(), "
            f"{_ident(r)} text not null, created_at timestamptz default now());"
        )
        out.append(f"grant select on ops.{t} to auditor;")
        out.append(f"select cron.schedule('{t}', '*/{r.randint(1, 59)} * * * *', $$ select ops.sync_{t}() $$);")
        out.append("select decrypted_secret from vault.decrypted_secrets where name = 'n8n_api_key';")
    out.append("commit;")
    return "\n".join(out) + "\n"


def odoo_xml_file(r: random.Random) -> str:
    out = ['<?xml version="1.0" encoding="utf-8"?>', "<odoo>"]
    for _ in range(r.randint(5, 30)):
        out.append(f'  <record id="{_ident(r)}" model="ir.config_parameter">')
        out.append(f'    <field name="key">{_ident(r).replace("_", ".")}</field>')
        out.append(f'    <field name="value">{r.choice(["True", "False", "42", "https://odoo.example.org"])}</field>')
        out.append("  </record>")
        out.append(
            f'  <record id="view_{_ident(r)}" model="ir.ui.view"><field name="arch" type="xml">'
            f'<form><field name="{_ident(r)}"/></form></field></record>'
        )
    out.append("</odoo>")
    return "\n".join(out) + "\n"


def markdown_file(r: random.Random) -> str:
    out = [f"# {' '.join(r.choices(WORDS, k=4)).title()}", ""]
    for _ in range(r.randint(10, 40)):
        out.append(" ".join(r.choices(WORDS, k=r.randint(30, 90))) + ".")
        out.append("")
        if r.random() < 0.2:
            out += ["```bash", "export PGPASSWORD=$SUPABASE_DB_PASSWORD", "psql -h db.internal -U postgres", "```", ""]
    return "\n".join(out)


def json_file(r: random.Random) -> str:
    items = []
    for _ in range(r.randint(5, 40)):
        item: dict[str, object] = {_ident(r): r.choice(WORDS) for _ in range(5)}
        item["id"] = f"{r.getrandbits(128):032x}"
        if r.random() < 0.2:
            item["icon"] = "data:image/png;base64," + base64.b64encode(r.randbytes(r.randint(200, 3000))).decode()
        items.append(item)
    return json.dumps(items, indent=2) + "\n"


def minified_js_file(r: random.Random) -> str:
    parts = []
    for _ in range(r.randint(200, 2000)):
        a, b = r.choice(string.ascii_letters), r.choice(string.ascii_letters)
        parts.append(f"function {a}{b}(e,t){{return e.{r.choice(IDENTS)}===t?{r.randint(0, 999)}:null}}")
    return ";".join(parts) + "\n"


GENERATORS: list[tuple[str, Callable[[random.Random], str], float]] = [
    (".py", python_file, 0.25),
    (".ts", typescript_file, 0.15),
    (".yml", workflow_file, 0.1),
    (".yaml", stack_file, 0.08),
    (".env", env_file, 0.05),
    (".sql", sql_file, 0.1),
    (".xml", odoo_xml_file, 0.07),
    (".md", markdown_file, 0.1),
    (".json", json_file, 0.07),
    (".min.js", minified_js_file, 0.03),
]

PLANTS = [
    ("supabase_secret_key", "SUPABASE_SECRET_KEY={s}"),
    ("supabase_service_role_jwt", 'const serviceKey = "{s}";'),
    ("n8n_api_jwt", 'curl -H "X-N8N-API-KEY: {s}" https://n8n.internal/api/v1/workflows'),
    ("anthropic_api", 'client = Anthropic(api_key="{s}")'),
    ("github_pat_classic", "  token: {s}"),
    ("aws_access_key_id", "aws_access_key_id = {s}"),
    ("password", "DATABASE_URL=postgresql://app:{s}@db.prod.internal:5432/app"),
    ("stripe_live", "STRIPE_KEY={s}"),
]


def generate_tree(root: Path, total_bytes: int, seed: int) -> tuple[int, int]:
    r = random.Random(seed)
    exts, gens, weights = zip(*[(e, g, w) for e, g, w in GENERATORS], strict=True)
    size = planted = n = 0
    while size < total_bytes:
        i = r.choices(range(len(gens)), weights=weights)[0]
        text = gens[i](r)
        if r.random() < 0.05:
            kind, template = r.choice(PLANTS)
            lines = text.split("\n")
            lines.insert(r.randint(0, len(lines)), template.format(s=synth.secret(kind, f"bench{n}")))
            text = "\n".join(lines)
            planted += 1
        path = root / f"d{n % 97:02d}" / f"f{n}{exts[i]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        size += len(text.encode())
        n += 1
    return n, planted


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--mb", type=float, default=50.0, help="size of the generated tree in MB (default 50)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "detectors.json")
    args = ap.parse_args(argv)

    all_detectors()  # discovery and regex compilation are not part of the scan
    with tempfile.TemporaryDirectory(prefix="ssot-bench-detectors-") as tmp:
        root = Path(tmp)
        files, planted = generate_tree(root, int(args.mb * 1_000_000), args.seed)
        paths = sorted(p for p in root.rglob("*") if p.is_file())
        texts = [(str(p.relative_to(root)), p.read_text()) for p in paths]
    total = sum(len(t.encode()) for _, t in texts)

    start = time.perf_counter()
    found = 0
    for path, text in texts:
        found += len(scan_text(text, path))
    wall = time.perf_counter() - start

    largest = sorted(texts, key=lambda pt: len(pt[1]), reverse=True)[:20]
    tracemalloc.start()
    for path, text in largest:
        scan_text(text, path)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    result = {
        "benchmark": "ssot.detectors.scan_text",
        "bytes": total,
        "files": files,
        "planted_secrets": planted,
        "matches": found,
        "wall_seconds": round(wall, 4),
        "mb_per_second": round(total / 1_000_000 / wall, 2),
        "peak_rss_mib": round(rss_kib / 1024, 1),
        "scan_tracemalloc_peak_mib_largest_20_files": round(traced_peak / 2**20, 2),
        "detectors": len(all_detectors()),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "seed": args.seed,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
