"""The Management API stand-in lives with the example estate (examples/estate/live/mgmt_api_standin.py),
which must not depend on tests/; tests import it from there through this module, plus `require_spec`,
which skips a test (fails it in CI: tests/needs.py), saying where the document was expected, when the
reference data is absent."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from needs import missing_dependency

_PATH = Path(__file__).resolve().parents[1] / "examples" / "estate" / "live" / "mgmt_api_standin.py"
_NAME = "ssot_estate_live_mgmt_api_standin"


def _load() -> Any:
    if _NAME not in sys.modules:
        spec = importlib.util.spec_from_file_location(_NAME, _PATH)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = module
        spec.loader.exec_module(module)
    return sys.modules[_NAME]


_standin = _load()
MgmtApiServer = _standin.MgmtApiServer
FakeClock = _standin.FakeClock
free_port_url = _standin.free_port_url
sha256_hex = _standin.sha256_hex
load_spec = _standin.load_spec
SPEC_PATH: Path = _standin.SPEC_PATH
seed = _standin.seed


def require_spec() -> dict[str, Any]:
    """The OpenAPI document, or skip the test saying where it was expected."""
    if not SPEC_PATH.is_file():
        missing_dependency(f"Supabase Management API OpenAPI document not found at {SPEC_PATH} "
                    f"(reference data kept outside the repository, in ../shared)")
    spec: dict[str, Any] = load_spec()
    return spec


@contextmanager
def running_server(**kwargs: Any) -> Iterator[Any]:
    """Start a server; at exit, stop it and fail if any request or response broke the document."""
    require_spec()
    with _standin.running_server(**kwargs) as server:
        yield server
