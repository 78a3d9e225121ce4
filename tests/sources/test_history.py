"""`ssot scan --history`: every blob of the history once, where each secret was introduced."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssot.errors import ConfigError
from ssot.pipeline import scan_history
from ssot.sources import history
from ssot.sources.history import collect_history

from .conftest import TreeMaker, synthetic_secret
from .test_changed_since import git


def commit(root: Path, message: str, files: dict[str, str | None]) -> str:
    for rel, text in files.items():
        p = root / rel
        if text is None:
            p.unlink()
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(make_tree: TreeMaker) -> tuple[Path, dict[str, str], dict[str, str]]:
    root = make_tree({})
    git(root, "init", "-q", "-b", "main")
    gone, kept = synthetic_secret(), synthetic_secret()
    commits = {
        "base": commit(root, "base", {"README.md": "hello\n", "app.py": "x = 1\n"}),
        "leak": commit(root, "leak", {"app.py": f"x = 1\nKEY = '{gone}'\n", "ops/env": f"K={kept}\n"}),
        # the same file edited again: a new blob still holding the value, not a new introduction
        "edit": commit(root, "edit", {"app.py": f"x = 2\nKEY = '{gone}'\n"}),
        "remove": commit(root, "remove", {"app.py": "x = 2\n"}),
        # the same blob under a second path: read once
        "copy": commit(root, "copy", {"ops/env.bak": f"K={kept}\n"}),
    }
    return root, commits, {"gone": gone, "kept": kept}


def test_each_secret_is_reported_where_it_was_introduced(repo: tuple[Path, dict[str, str], dict[str, str]]) -> None:
    root, commits, values = repo
    inv, stats = collect_history(root)
    found = {(a.location.path, a.props["commit"], a.props["still_in_head"]) for a in inv.assets}
    # the copy under ops/env.bak is the same blob: read once, and not a new introduction
    assert found == {("app.py", commits["leak"], False), ("ops/env", commits["leak"], True)}
    assert stats.commits == 5 and inv.incomplete == []
    # 6 distinct blobs (README, app.py x4 versions... minus the identical ones), each read once
    assert stats.blobs == len({git(root, "rev-parse", f"{c}:{p}").strip() for c, p in [
        (commits["base"], "README.md"), (commits["base"], "app.py"), (commits["leak"], "app.py"),
        (commits["leak"], "ops/env"), (commits["edit"], "app.py"), (commits["remove"], "app.py")]})
    dates = {a.props["author_date"] for a in inv.assets}
    assert all(len(d) >= 19 and "T" in d for d in dates)
    text = repr(inv.assets)
    assert values["gone"] not in text and values["kept"] not in text


def test_findings_say_rotate_first_then_rewrite(repo: tuple[Path, dict[str, str], dict[str, str]]) -> None:
    root, commits, values = repo
    result = scan_history(root)
    by_path = {f.location.path: f for f in result.findings}
    gone = by_path["app.py"]
    assert gone.rule_id == "hardcoded_secret" and gone.location.object == f"commit {commits['leak']}"
    assert f"introduced in commit {commits['leak'][:12]}" in gone.explain and "no longer in HEAD" in gone.explain
    assert gone.propose.index("Rotate the credential now") < gone.propose.index("git filter-repo")
    assert "HEAD no longer holds it" in gone.propose
    assert "still in HEAD" in by_path["ops/env"].explain and "Remove it from ops/env" in by_path["ops/env"].propose
    assert gone.metadata["still_in_head"] is False and gone.metadata["commit"] == commits["leak"]
    rendered = "".join(repr(f.to_dict()) for f in result.findings)
    assert values["gone"] not in rendered and values["kept"] not in rendered


def test_since_limits_the_history(repo: tuple[Path, dict[str, str], dict[str, str]]) -> None:
    root, commits, _ = repo
    inv, stats = collect_history(root, since=commits["edit"])
    assert {a.location.path for a in inv.assets} == {"ops/env.bak"}
    assert stats.commits == 2
    with pytest.raises(ConfigError):
        collect_history(root, since="--all")


def test_oversized_blobs_make_the_run_incomplete(repo: tuple[Path, dict[str, str], dict[str, str]],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root, _, _ = repo
    commit(root, "big", {"big.txt": "a" * 4000 + "\n"})
    monkeypatch.setattr(history, "MAX_BLOB_BYTES", 1000)
    inv, stats = collect_history(root)
    assert stats.too_big == 1
    assert inv.incomplete == ["git-history: 1 blob(s) larger than 0 MiB were not scanned"]
    # what fits is still scanned
    assert {a.location.path for a in inv.assets} == {"app.py", "ops/env"}


def test_cli_history_and_its_usage_errors(repo: tuple[Path, dict[str, str], dict[str, str]],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from ssot.cli import main

    root, commits, values = repo
    assert main(["scan", str(root), "--history", "--format", "text"]) == 1
    out, err = capsys.readouterr()
    assert "app.py" in out and values["gone"] not in out + err
    assert main(["scan", str(root), "--history", "--since", commits["copy"]]) == 0
    assert main(["scan", str(root), "--since", "main"]) == 2  # --since only limits --history
    # a ref that is an option is refused by ssot's validation (not only by argparse)
    assert main(["scan", str(root), "--history", "--since=-x"]) == 2
    assert main(["scan", str(root), "--changed-since=--output=/tmp/x"]) == 2
    capsys.readouterr()
