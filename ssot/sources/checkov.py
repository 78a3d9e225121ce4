"""The real checkov CLI: its secrets scan and our custom checks (`policies/checkov/`), as assets.

checkov's pins conflict with pulumi's, so it lives in its own virtualenv; the executable is found
through `SSOT_CHECKOV`, then `<repo>/.checkov-venv/bin/checkov`, then `checkov` on PATH.

checkov redacts secrets in its report and names each one by the SHA-1 of its value (`resource`).
To fingerprint a flagged secret and to apply our false-positive filters we re-read the flagged line
ourselves and find the exact substring whose SHA-1 is that name; the substring lives only long
enough to be fingerprinted and redacted. The SHA-1 itself is an unkeyed digest of a secret, so it is
dropped, never stored.

A checkov run that crashes, times out or prints something that is not its JSON report makes the
static source incomplete: the caller records the reason, never a silent pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from ssot.errors import SsotError
from ssot.fingerprint import fingerprint, redact
from ssot.inventory import Asset, Kind, Location, Phase, Store
from ssot.shape import describe

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHECKS_DIR = PROJECT_ROOT / "policies" / "checkov"
# checkov runs its IaC frameworks with ssot's doctrine checks (policies/checkov), and only those the
# tree has files for: GitHub Actions (CKV_SSOT_1), Kubernetes-style YAML (CKV_SSOT_2, a CronJob),
# Dockerfiles (CKV_SSOT_3, cron in an image), Kubernetes manifests (CKV_SSOT_4, a Secret with its
# data) and Terraform (checkov's own hardcoded-credential checks, TERRAFORM_SECRET_CHECKS). Its secrets
# framework is opt-in (`ssot scan --checkov-secrets`): on every corpus it found nothing our detectors
# missed, added false positives, and cost two orders of magnitude more time (bench/results/scan.md).
IAC_FRAMEWORKS = ("github_actions", "yaml", "kubernetes", "dockerfile", "terraform")
FRAMEWORKS = ("secrets", *IAC_FRAMEWORKS)  # everything, as `--checkov-secrets` runs it
# checkov's own checks that say something about the doctrine: a credential written into Terraform
# (§4: secrets MUST NOT be hardcoded). Its other checks for these frameworks are not run: they are
# container and cloud hardening (a root USER, a HEALTHCHECK, a `latest` tag, privileged pods, bucket
# encryption...) with no bearing on where data, schedules and secrets live, and a finding ssot cannot
# explain against a doctrine clause is noise (docs/rules/hardcoded_secret.md, "checkov").
TERRAFORM_SECRET_CHECKS = {
    "CKV_AWS_41": "AWS credentials in a Terraform provider",
    "CKV_AWS_45": "secret in a Lambda environment (Terraform)",
    "CKV_AWS_46": "secret in EC2 user data (Terraform)",
    "CKV_AZURE_45": "credentials in VM custom_data (Terraform)",
    "CKV_BCW_1": "API token in a Terraform provider",
    "CKV_LIN_1": "Linode token in a Terraform provider",
    "CKV_NCP_17": "NCP credentials in a Terraform provider",
    "CKV_OCI_1": "OCI private key in a Terraform provider",
    "CKV_OPENSTACK_1": "OpenStack credentials in a Terraform provider",
    "CKV_PAN_1": "PAN-OS credentials in a Terraform provider",
}
# Secrets that checkov's IaC checks flag without naming the value (no SHA-1 to locate it by).
IAC_SECRET_CHECKS = {**TERRAFORM_SECRET_CHECKS, "CKV_SSOT_4": "Kubernetes Secret manifest"}
IAC_CHECK_FILTER = ",".join(("CKV_SSOT_*", *TERRAFORM_SECRET_CHECKS))
CHECK_FILTER = "CKV_SECRET_*," + IAC_CHECK_FILTER
_YAML = (".yml", ".yaml")
# A Kubernetes-style manifest names its kind near the top; a file without it has nothing for the
# YAML framework's CKV_SSOT_2 (a CronJob) to find. With an apiVersion too, it is a Kubernetes object.
_KIND = re.compile(rb"^kind:\s*\S", re.MULTILINE)
_API_VERSION = re.compile(rb"^apiVersion:\s*\S", re.MULTILINE)
_SNIFF = 64 * 1024
# checkov's own test for a Dockerfile name (`Dockerfile`, `app.Dockerfile`, `Dockerfile.prod`).
_DOCKERFILE = re.compile(r"(?:.+\.)?[Dd]ockerfile(?:\..+)?\Z")


def _manifest(path: Path) -> str | None:
    """"kubernetes" for a manifest with a top-level kind and apiVersion, "yaml" for a kind alone."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF)
    except OSError:
        return None
    if _KIND.search(head) is None:
        return None
    return "kubernetes" if _API_VERSION.search(head) else "yaml"


def _iac_framework(rel: str) -> str | None:
    name = rel.rsplit("/", 1)[-1]
    if name.endswith(".tf"):
        return "terraform"
    if _DOCKERFILE.match(name) and not name.endswith(".dockerignore"):
        return "dockerfile"
    return None


@dataclass(frozen=True)
class Plan:
    """What checkov is run on: its frameworks and, for the IaC ones, exactly the files they check."""

    frameworks: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # relative paths; empty with the secrets framework (the whole tree)


# Above this many IaC files, checkov gets the directory instead of a command line of files.
_MAX_FILE_ARGS = 500


def plan_for(files: Iterable[tuple[str, Path]], *, secrets: bool = False) -> Plan:
    """The checkov frameworks worth running over these (relative path, path) files, and the files.

    checkov's YAML framework parses every YAML file it is pointed at, and a 2,000-file tree's 9 MB
    of YAML cost it 70 s; pointed at the few files our checks are about (workflows, manifests with a
    top-level `kind:`), it costs its start-up time.
    """
    found: set[str] = {"secrets"} if secrets else set()
    targets: list[str] = []
    for rel, path in files:
        if not rel.endswith(_YAML):
            framework = _iac_framework(rel)
            if framework:
                found.add(framework)
                targets.append(rel)
            continue
        if rel.startswith(".github/workflows/") and rel.count("/") == 2:
            found.add("github_actions")
            targets.append(rel)
        elif manifest := _manifest(path):
            # a Kubernetes object still goes through the YAML framework too, for CKV_SSOT_2
            found.update(("yaml", manifest))
            targets.append(rel)
    frameworks = tuple(f for f in FRAMEWORKS if f in found)
    whole_tree = secrets or len(targets) > _MAX_FILE_ARGS
    return Plan(frameworks, () if whole_tree else tuple(targets))


def frameworks_for(files: Iterable[tuple[str, Path]], *, secrets: bool = False) -> tuple[str, ...]:
    return plan_for(files, secrets=secrets).frameworks
DEFAULT_TIMEOUT = 900.0
_SHA1 = re.compile(r"^[0-9a-f]{40}\Z")
_MASK = "**********"
# How an allocation failure shows in a Python traceback, in C extensions (orjson, libyaml) and libc.
_OUT_OF_MEMORY = re.compile(r"^MemoryError\b|[Nn]ot enough memory|Cannot allocate memory|std::bad_alloc",
                            re.MULTILINE)
_EXC_NAME = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))\b", re.MULTILINE)


class CheckovNotFound(SsotError):
    """No checkov executable; exit code 2 (bad set-up), with how to install it."""

    def __init__(self, tried: Sequence[str]) -> None:
        super().__init__(
            "checkov not found (tried: " + ", ".join(tried) + "). Install it in its own virtualenv, "
            "since its pins conflict with pulumi's: `python3 -m venv .checkov-venv && "
            ".checkov-venv/bin/pip install checkov`, or set SSOT_CHECKOV to the executable, "
            "or run the scan with checkov disabled."
        )


class CheckovFailed(Exception):
    """checkov ran but gave no usable report; the message is safe to show (no file content)."""


def find_checkov(repo: Path | None = None) -> str:
    tried: list[str] = []
    env = os.environ.get("SSOT_CHECKOV")
    if env:
        # An environment value is described, never quoted (it could be anything, a secret included).
        tried.append(f"SSOT_CHECKOV (set to {describe(env)}, which is not an executable file)")
        if os.access(env, os.X_OK) and Path(env).is_file():
            return env
        raise CheckovNotFound(tried)
    for base in dict.fromkeys([repo or PROJECT_ROOT, PROJECT_ROOT]):
        cand = base / ".checkov-venv" / "bin" / "checkov"
        tried.append(str(cand))
        if os.access(cand, os.X_OK):
            return str(cand)
    tried.append("checkov on PATH")
    found = shutil.which("checkov")
    if found:
        return found
    raise CheckovNotFound(tried)




def command(exe: str, root: Path, skip_paths: Sequence[str] = (), checks_dir: Path = CHECKS_DIR,
            frameworks: Sequence[str] = FRAMEWORKS, files: Sequence[str] = ()) -> list[str]:
    secrets = "secrets" in frameworks
    # Explicit files (from our walk, .ssotignore applied) when given, else the directory.
    target = [arg for rel in files for arg in ("-f", str(root / rel))] if files else ["-d", str(root)]
    cmd = [exe, *target, "--framework", *frameworks, "--external-checks-dir", str(checks_dir),
           "--check", CHECK_FILTER if secrets else IAC_CHECK_FILTER, "--skip-download",
           *(["--enable-secret-scan-all-files"] if secrets else []), "-o", "json", "--quiet"]
    for p in skip_paths:
        cmd += ["--skip-path", p]
    return cmd


# What checkov may see of our environment: nothing that could be a CI secret (it once reported a
# key from the runner's environment through a symlink to /proc/self/environ).
_ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ")
# Bounds of the checkov process: address space, CPU seconds, size of any file it writes, no core
# dumps. Generous for a real scan (checkov's secrets scan of 2,000 files stays under 1 GiB), small
# enough that a hostile input cannot take the machine with it. SSOT_CHECKOV_MEMORY_MB overrides.
MEMORY_LIMIT_MB = 4096
FILE_SIZE_LIMIT = 1 << 30


def _memory_limit_mb() -> int:
    raw = os.environ.get("SSOT_CHECKOV_MEMORY_MB", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else MEMORY_LIMIT_MB


def _limits(memory_mb: int, cpu_seconds: int) -> Callable[[], None]:
    def apply() -> None:  # runs in the child, between fork and exec
        import resource

        mem = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP}
    env.update({"NO_COLOR": "1", "LOG_LEVEL": "ERROR", "BC_SKIP_MAPPING": "TRUE",
                "CHECKOV_NO_OUTPUT_COLOR": "1", "PYTHONUNBUFFERED": "1", "PYTHONWARNINGS": "ignore"})
    return env


@dataclass
class CheckovRun:
    """A checkov process started in the background, so our own scanners run while it works."""

    root: Path
    proc: subprocess.Popen[bytes]
    stdout: IO[bytes]
    stderr: IO[bytes]
    timeout: float
    cmd: list[str] = field(default_factory=list)
    memory_mb: int = MEMORY_LIMIT_MB

    @classmethod
    def start(cls, root: Path, *, exe: str | None = None, skip_paths: Sequence[str] = (),
              timeout: float = DEFAULT_TIMEOUT, checks_dir: Path = CHECKS_DIR,
              frameworks: Sequence[str] = FRAMEWORKS, files: Sequence[str] = ()) -> CheckovRun:
        root = root.resolve()
        # Never from the scanned tree: a pull request could ship its own `.checkov-venv/bin/checkov`.
        exe = exe or find_checkov()
        cmd = command(exe, root, skip_paths, checks_dir, frameworks, files)
        memory_mb = _memory_limit_mb()
        # Temporary files, not pipes: we do not read while checkov writes, and a full pipe would
        # block it.
        out = tempfile.TemporaryFile()
        err = tempfile.TemporaryFile()
        try:
            # Its own session, so that a timeout kills checkov's worker processes too.
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=root,
                                    env=_env(), start_new_session=True,
                                    preexec_fn=_limits(memory_mb, int(timeout) + 1))
        except OSError as exc:
            out.close()
            err.close()
            raise CheckovFailed(f"checkov could not be started ({type(exc).__name__}: {exc.strerror})"
                                ) from None
        return cls(root=root, proc=proc, stdout=out, stderr=err, timeout=timeout, cmd=cmd, memory_mb=memory_mb)

    def kill(self) -> None:
        """Kill checkov and every process it started (its session)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            self.proc.kill()

    def wait_quietly(self) -> None:
        """Reap a process we gave up on (after kill), releasing its files."""
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        self.stdout.close()
        self.stderr.close()

    def wait(self) -> list[dict[str, Any]]:
        """checkov's reports (one per framework); raises CheckovFailed with a value-free reason."""
        try:
            try:
                rc = self.proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                self.proc.wait()
                raise CheckovFailed(f"checkov did not finish within {self.timeout:.0f}s") from None
            # Workers left behind by a crashed checkov would keep reading the tree.
            self.kill()
            self.stdout.seek(0)
            self.stderr.seek(0)
            out = self.stdout.read().decode("utf-8", errors="replace")
            err = self.stderr.read().decode("utf-8", errors="replace")
        finally:
            self.stdout.close()
            self.stderr.close()
        if rc == -signal.SIGXCPU:
            raise CheckovFailed(f"checkov was stopped by its CPU time bound ({int(self.timeout) + 1}s)")
        if rc == -signal.SIGKILL:
            raise CheckovFailed(f"checkov was killed (SIGKILL: its CPU time bound of {int(self.timeout) + 6}s "
                                "or the system's memory limit)")
        if rc != 0 and _OUT_OF_MEMORY.search(err):
            raise CheckovFailed(f"checkov exceeded its memory bound ({self.memory_mb} MiB)")
        return parse_output(out, err, rc)


def _exc_names(err: str) -> str:
    names = list(dict.fromkeys(_EXC_NAME.findall(err)))
    return ", ".join(names[:3]) or "no exception name"


def parse_output(out: str, err: str, rc: int) -> list[dict[str, Any]]:
    # Only exception class names from stderr ever reach a message: a traceback can quote source
    # lines, and source lines can hold secrets.
    if rc not in (0, 1):
        raise CheckovFailed(f"checkov exited with code {rc} ({_exc_names(err)})")
    if "Traceback (most recent call last)" in err:
        raise CheckovFailed(f"checkov reported an internal error ({_exc_names(err)}); its results "
                            "may be missing checks")
    try:
        data = json.loads(out)
    except json.JSONDecodeError:
        raise CheckovFailed("checkov's output was not JSON") from None
    reports = data if isinstance(data, list) else [data]
    if not all(isinstance(r, dict) for r in reports):
        raise CheckovFailed("checkov's JSON was not a report or a list of reports")
    # With nothing at all to report checkov prints only a summary; that is a clean run.
    return [r for r in reports if "check_type" in r]


# --- mapping results to assets ------------------------------------------------------------------


@dataclass(frozen=True)
class Located:
    fingerprint: str
    redacted: str
    column: int
    fp_reason: str | None


def locate_secret(line: str, masked: str | None, sha1: str, path: str) -> Located | None:
    """Find the flagged secret in the original line by its SHA-1; only value-free facts leave."""
    from ssot.detectors import false_positive_reason, public_part

    hint = masked.find(_MASK) if masked else -1
    # Without checkov's masked line to anchor the search, every substring is a candidate: bound it.
    if not _SHA1.match(sha1) or len(line) > (20000 if hint >= 0 else 1000):
        return None
    starts = range(max(0, hint - 12), min(len(line), hint + 1)) if hint >= 0 else range(len(line))
    for s in starts:
        for e in range(len(line), s, -1):
            cand = line[s:e]
            if hashlib.sha1(cand.encode(), usedforsecurity=False).hexdigest() == sha1:
                located = Located(fingerprint(cand), redact(cand, public_part(cand)), s + 1,
                                  false_positive_reason(cand, line, path))
                del cand
                return located
    return None


def _rel(root: Path, r: dict[str, Any]) -> str:
    abs_path = r.get("file_abs_path")
    if isinstance(abs_path, str):
        try:
            return Path(abs_path).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(r.get("file_path") or "").lstrip("/")


def _read_lines(root: Path, rel: str, cache: dict[str, list[str] | None]) -> list[str] | None:
    if rel not in cache:
        try:
            cache[rel] = (root / rel).read_text(encoding="utf-8", errors="replace").split("\n")
        except OSError:
            cache[rel] = None
    return cache[rel]


def _context(rel: str) -> tuple[str, Store]:
    from ssot.sources.files import is_crontab, is_stack_file
    from ssot.sources.workflows import is_workflow

    if is_stack_file(rel):
        return "stack-config", Store.STACK_CONFIG
    if is_workflow(rel):
        return "workflow", Store.REPOSITORY
    if is_crontab(rel):
        return "cron-command", Store.REPOSITORY
    return "file", Store.REPOSITORY


def map_reports(reports: Sequence[dict[str, Any]], root: Path, *,
                odoo_roots: Sequence[str] = ()) -> list[Asset]:
    """Assets for checkov's failed checks: secrets (CKV_SECRET_*, IAC_SECRET_CHECKS) → SECRET_LITERAL,
    CKV_SSOT_1/2/3 → SCHEDULE."""
    out: list[Asset] = []
    cache: dict[str, list[str] | None] = {}
    for report in reports:
        results = report.get("results") or {}
        for r in results.get("failed_checks") or []:
            if not isinstance(r, dict):
                continue
            check_id = str(r.get("check_id") or "")
            rel = _rel(root, r)
            rng = r.get("file_line_range") or [None]
            line_no = rng[0] if isinstance(rng, list) and rng and isinstance(rng[0], int) else None
            if check_id.startswith("CKV_SECRET"):
                a = _secret(r, check_id, rel, line_no, root, cache, odoo_roots)
                if a is not None:
                    out.append(a)
            elif check_id == "CKV_SSOT_1":
                out.extend(_workflow_schedules(root, rel, check_id))
            elif check_id == "CKV_SSOT_2":
                out.extend(_k8s_schedules(root, rel, line_no, check_id))
            elif check_id == "CKV_SSOT_3":
                out.append(_container_cron(root, rel, line_no, check_id))
            elif check_id in IAC_SECRET_CHECKS:
                out.append(_iac_secret(check_id, rel, rng, odoo_roots))
            # anything else is not a check ssot asked for (IAC_CHECK_FILTER): not a doctrine finding
    return out


def _iac_secret(check_id: str, rel: str, rng: Any, odoo_roots: Sequence[str]) -> Asset:
    """A credential an IaC check found in a block: checkov names the block, not the value, so the
    asset has no fingerprint; static.py folds it into our own detectors' finding in that block."""
    start, end = (rng[0], rng[-1]) if isinstance(rng, list) and rng and all(isinstance(n, int) for n in rng) \
        else (None, None)
    context, store = _context(rel)
    if any(rel.startswith(f"{o}/") or not o for o in odoo_roots):
        context = "odoo-addon"
    secret_type = IAC_SECRET_CHECKS[check_id]
    props: dict[str, Any] = {"secret_type": secret_type, "detector": "checkov", "detectors": ["checkov"],
                             "context": context, "redacted": "…(unlocated)", "check_id": check_id,
                             "check_ids": [check_id], "located": False, "line_range": [start, end]}
    return Asset(kind=Kind.SECRET_LITERAL, store=store, name=f"{rel}:{secret_type}", phase=Phase.STATIC,
                 location=Location(path=rel, line=start), props=props)


def _container_cron(root: Path, rel: str, line_no: int | None, check_id: str) -> Asset:
    from ssot.sources.files import justification

    try:
        reason = justification((root / rel).read_text(encoding="utf-8", errors="replace"))
    except OSError:
        reason = None
    return Asset(
        kind=Kind.SCHEDULE, store=Store.CRONTAB, name=f"{rel}:cron", phase=Phase.STATIC,
        location=Location(path=rel, line=line_no or 1),
        # the schedule itself is in a crontab copied into the image, maybe from outside the tree
        props={"schedule": None, "scheduler": "container-cron", "command": None,
               "justified": reason is not None, "justification": reason, "check_id": check_id,
               "detectors": ["checkov"]},
    )


def _secret(r: dict[str, Any], check_id: str, rel: str, line_no: int | None, root: Path,
            cache: dict[str, list[str] | None], odoo_roots: Sequence[str]) -> Asset | None:
    lines = _read_lines(root, rel, cache)
    masked = None
    block = r.get("code_block") or []
    for entry in block:
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == line_no:
            masked = str(entry[1]).rstrip("\n")
    located = None
    if lines is not None and line_no and 1 <= line_no <= len(lines):
        located = locate_secret(lines[line_no - 1], masked, str(r.get("resource") or ""), rel)
    if located is not None and located.fp_reason:
        return None
    context, store = _context(rel)
    if any(rel.startswith(f"{o}/") or not o for o in odoo_roots):
        context = "odoo-addon"
    secret_type = str(r.get("check_name") or check_id)
    props: dict[str, Any] = {"secret_type": secret_type, "detector": "checkov", "detectors": ["checkov"],
                             "context": context, "redacted": located.redacted if located else "…(unlocated)",
                             "check_id": check_id, "check_ids": [check_id], "located": located is not None}
    return Asset(kind=Kind.SECRET_LITERAL, store=store, name=f"{rel}:{secret_type}", phase=Phase.STATIC,
                 location=Location(path=rel, line=line_no, column=located.column if located else None),
                 props=props, fingerprint=located.fingerprint if located else None)


def _workflow_schedules(root: Path, rel: str, check_id: str) -> list[Asset]:
    from ssot.sources.workflows import WorkflowError, workflow_schedules

    try:
        text = (root / rel).read_text(encoding="utf-8", errors="replace")
        found = workflow_schedules(text, rel)
    except (OSError, WorkflowError):
        found = []
    for a in found:
        a.props["detectors"] = ["checkov"]
        a.props["check_id"] = check_id
    return found


def _k8s_schedules(root: Path, rel: str, line_no: int | None, check_id: str) -> list[Asset]:
    from ssot.sources.files import justification

    try:
        text = (root / rel).read_text(encoding="utf-8", errors="replace")
        docs = list(yaml.safe_load_all(text))
    except (OSError, yaml.YAMLError):
        docs = []
    out = []
    reason = justification(text) if docs else None
    for doc in docs:
        if not (isinstance(doc, dict) and doc.get("kind") == "CronJob" and isinstance(doc.get("spec"), dict)):
            continue
        meta = doc.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        name = str(meta.get("name") or rel)
        containers: Any = doc["spec"]
        for key in ("jobTemplate", "spec", "template", "spec", "containers"):
            containers = containers.get(key) if isinstance(containers, dict) else None
        containers = containers if isinstance(containers, list) else []
        images = [c.get("image") for c in containers if isinstance(c, dict) and c.get("image")]
        out.append(Asset(
            kind=Kind.SCHEDULE, store=Store.CRONTAB, name=f"{rel}:{name}", phase=Phase.STATIC,
            location=Location(path=rel, line=line_no or 1),
            props={"schedule": str(doc["spec"].get("schedule")), "scheduler": "kubernetes-cronjob",
                   "command": ", ".join(map(str, images)) or None, "justified": reason is not None,
                   "justification": reason, "check_id": check_id, "detectors": ["checkov"]},
        ))
    return out
