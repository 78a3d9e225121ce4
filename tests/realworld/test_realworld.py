"""`ssot scan` on published Odoo addons nobody here wrote: exactly the oracle's findings, nothing else.

The tree is built once per session from the pinned wheels (tests/realworld/corpus.py); the scan is
the product's default (`ssot.pipeline.scan`, checkov as configured). Precision and recall against
tests/realworld/oracle.yaml are printed in the summary, like the detector corpus's.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ssot.pipeline import scan

from . import corpus

STATS: dict[str, Any] = {}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = corpus.cache_dir()
    wanted = corpus.pinned()
    if any(corpus.wheel_for(cache, n, v) is None for n, v in wanted):
        try:
            corpus.download(cache)
        except (OSError, subprocess.SubprocessError) as exc:
            if os.environ.get("CI"):
                raise
            pytest.skip(f"the real-world corpus is not cached and could not be downloaded ({type(exc).__name__}); "
                        "scripts/setup downloads it")
    root = tmp_path_factory.mktemp("realworld")
    for name, version in wanted:
        wheel = corpus.wheel_for(cache, name, version)
        assert wheel is not None, f"{name}=={version} missing from {cache}"
        assert corpus.unpack(wheel, root) > 0, f"{wheel.name} has no odoo/addons files"
    return root


def _oracle() -> dict[str, Any]:
    data = yaml.safe_load(corpus.ORACLE.read_text())
    assert isinstance(data, dict)
    return data


def test_the_corpus_is_what_the_requirements_pin(tree: Path) -> None:
    addons = sorted(p.name for p in (tree / "odoo" / "addons").iterdir())
    assert len(addons) == len(corpus.pinned()) >= 10
    assert sum(1 for p in tree.rglob("*") if p.is_file()) > 300


def test_findings_are_exactly_the_oracles(tree: Path) -> None:
    oracle = _oracle()
    result = scan(tree)
    assert result.inventory.incomplete == []
    got = {(f.rule_id, f.location.path, f.subject, f.severity.label) for f in result.findings}
    want = {(e["rule"], e["path"], e["subject"], e["severity"]) for e in oracle["findings"]}
    tp, fp, fn = len(got & want), len(got - want), len(want - got)
    STATS.update(expected=len(want), found=len(got), true_positives=tp, false_positives=fp, false_negatives=fn,
                 precision=tp / (tp + fp) if tp + fp else 1.0, recall=tp / (tp + fn) if tp + fn else 1.0,
                 blocking=sum(1 for f in result.findings if f.severity.label in ("critical", "high")))
    print(f"real-world corpus: precision {STATS['precision']:.3f}, recall {STATS['recall']:.3f}")
    assert sorted(got - want) == [], "reported, not in the oracle"
    assert sorted(want - got) == [], "in the oracle, not reported"
    quiet = {q["path"] for q in oracle["quiet"]}
    assert not [f for f in result.findings if f.location.path in quiet]
