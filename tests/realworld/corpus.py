"""The real-world corpus: pinned wheels of published Odoo addons, unpacked into one addons tree.

The wheels come from PyPI (tests/realworld/requirements.txt: versions and hashes). scripts/setup
downloads them into .cache/realworld/ (or $SSOT_REALWORLD_CACHE); the test downloads what is
missing the same way. Only `odoo/addons/**` is unpacked, member by member, refusing absolute paths,
`..`, links and oversized members: a wheel is input like any other.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements.txt"
ORACLE = HERE / "oracle.yaml"
MAX_MEMBER_BYTES = 5 * 1024 * 1024


def cache_dir() -> Path:
    return Path(os.environ.get("SSOT_REALWORLD_CACHE") or ROOT / ".cache" / "realworld")


def pinned() -> list[tuple[str, str]]:
    """(distribution, version) per line of the requirements file."""
    out = []
    for line in REQUIREMENTS.read_text().splitlines():
        spec = line.split("#", 1)[0].split("--hash", 1)[0].strip()
        if spec:
            name, version = spec.split("==")
            out.append((name, version))
    return out


def wheel_for(cache: Path, name: str, version: str) -> Path | None:
    stem = f"{name.replace('-', '_')}-{version}-"
    found = [p for p in cache.glob("*.whl") if p.name.startswith(stem)]
    return found[0] if found else None


def download(cache: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--require-hashes", "-r", str(REQUIREMENTS), "-d", str(cache)],
                   check=True, stdin=subprocess.DEVNULL, timeout=600)


def unpack(wheel: Path, dest: Path) -> int:
    n = 0
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            p = PurePosixPath(info.filename)
            if info.is_dir() or p.parts[:2] != ("odoo", "addons"):
                continue
            if p.is_absolute() or ".." in p.parts or info.file_size > MAX_MEMBER_BYTES:
                raise ValueError(f"{wheel.name}: refusing member {info.filename!r}")
            if (info.external_attr >> 16) & 0o170000 == 0o120000:  # a symlink
                raise ValueError(f"{wheel.name}: refusing link {info.filename!r}")
            target = dest.joinpath(*p.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
            n += 1
    return n
