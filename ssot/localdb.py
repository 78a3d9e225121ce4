"""A throwaway PostgreSQL 15 + pg_cron cluster that the project starts itself.

It stands in for a Supabase project's database: Supabase's standard roles, schema `extensions` with
pgcrypto and uuid-ossp, pg_cron, and a stand-in for the Vault interface (ssot/sql/local_*.sql).
It listens on 127.0.0.1 only, keeps its unix socket inside its data directory, and its `postgres`
superuser has a random password kept in a 0600 file in the data directory.

initdb refuses to run as root, so when we are root the cluster belongs to the `postgres` OS user and
every server binary runs through `runuser -u postgres --`.

Functions here return data and raise LocalDbError subclasses; they never print (the CLI does).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg
from psycopg import conninfo as pg_conninfo

from ssot.errors import SsotError
from ssot.shape import describe

DEFAULT_PORT = 54329
PORT_ENV = "SSOT_LOCAL_DB_PORT"
BINDIR_ENV = "SSOT_PG_BINDIR"
PASSWORD_FILE = "ssot-superuser.password"
LOG_FILE = "ssot-server.log"
HOST = "127.0.0.1"
SUPERUSER = "postgres"
DBNAME = "postgres"
OS_USER = "postgres"
_BINDIR_CANDIDATES = ("/usr/lib/postgresql/15/bin",)
_SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
_START_TIMEOUT_S = 60
# The kernel limit on a unix socket path (sun_path) is 108 bytes, terminator included.
_MAX_SOCKET_PATH = 107


class LocalDbError(SsotError):
    """The local database could not be set up, started, stopped or inspected."""


class PostgresNotInstalled(LocalDbError):
    pass


class PortInUse(LocalDbError):
    pass


@dataclass(frozen=True)
class LocalDb:
    """A running local cluster. Holds no secret: the password is read from its file on demand."""

    datadir: Path
    port: int
    pid: int
    host: str = HOST
    user: str = SUPERUSER
    dbname: str = DBNAME

    @property
    def password_file(self) -> Path:
        return self.datadir / PASSWORD_FILE

    def conninfo(self, dbname: str | None = None) -> str:
        """A libpq conninfo for the superuser, password included: treat it as a secret."""
        return pg_conninfo.make_conninfo(
            host=self.host, port=str(self.port), user=self.user, dbname=dbname or self.dbname,
            password=_read_password(self.datadir),
        )

    def as_dict(self) -> dict[str, object]:
        return {"datadir": str(self.datadir), "host": self.host, "port": self.port, "pid": self.pid,
                "user": self.user, "dbname": self.dbname, "password_file": str(self.password_file)}


@dataclass(frozen=True)
class LocalDbStatus:
    datadir: Path
    initialized: bool
    running: bool
    pid: int | None = None
    port: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"datadir": str(self.datadir), "initialized": self.initialized, "running": self.running,
                "pid": self.pid, "port": self.port}


def project_root(start: Path | None = None) -> Path:
    """The nearest directory holding Pulumi.yaml, else pyproject.toml, else the working directory."""
    here = (start or Path.cwd()).resolve()
    for marker in ("Pulumi.yaml", "pyproject.toml"):
        for directory in (here, *here.parents):
            if (directory / marker).is_file():
                return directory
    return here


def default_datadir() -> Path:
    return project_root() / ".pgdata"


def resolve_port(port: int | None = None) -> int:
    if port is None:
        raw = os.environ.get(PORT_ENV)
        if raw is None or raw.strip() == "":
            return DEFAULT_PORT
        try:
            port = int(raw)
        except ValueError:
            raise LocalDbError(f"{PORT_ENV}: expected a TCP port number (1024-65535), got {describe(raw)}") from None
    if not 1024 <= port <= 65535:
        raise LocalDbError(f"expected a TCP port number between 1024 and 65535 for the local database, "
                           f"got {port}")
    return port


def bindir() -> Path:
    """Where initdb/pg_ctl/postgres live; PostgresNotInstalled naming the Debian packages otherwise."""
    given = os.environ.get(BINDIR_ENV)
    candidates = [Path(given)] if given else [Path(c) for c in _BINDIR_CANDIDATES]
    if not given:
        on_path = shutil.which("pg_ctl")
        if on_path:
            candidates.append(Path(on_path).resolve().parent)
    for candidate in candidates:
        if all(os.access(candidate / b, os.X_OK) for b in _SERVER_BINARIES):
            return candidate
    where = ", ".join(str(c) for c in candidates)
    raise PostgresNotInstalled(
        f"PostgreSQL 15 server binaries (initdb, pg_ctl, postgres) not found in {where}: install the "
        f"Debian packages postgresql-15 and postgresql-15-cron (apt-get install postgresql-15 "
        f"postgresql-15-cron), or set {BINDIR_ENV} to their directory"
    )


def _check_pg_cron(bin_dir: Path) -> None:
    pg_config = bin_dir / "pg_config"
    if not os.access(pg_config, os.X_OK):
        return  # cannot tell; the server's own error at start will say what is missing
    out = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True, check=False)
    sharedir = Path(out.stdout.strip())
    if out.returncode == 0 and not (sharedir / "extension" / "pg_cron.control").is_file():
        raise PostgresNotInstalled(
            f"pg_cron is not installed for the PostgreSQL in {bin_dir} (no pg_cron.control under "
            f"{sharedir}/extension): install the Debian package postgresql-15-cron"
        )


def _is_root() -> bool:
    return os.geteuid() == 0


def _postgres_account() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(OS_USER)
    except KeyError:
        raise PostgresNotInstalled(
            f"running as root but there is no '{OS_USER}' OS user to own the cluster (initdb refuses "
            f"root): install the Debian package postgresql-15, which creates it"
        ) from None


def _as_server_user(cmd: list[str]) -> list[str]:
    if _is_root():
        _postgres_account()
        return ["runuser", "-u", OS_USER, "--", *cmd]
    return cmd


def _run(cmd: list[str], what: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    try:
        # cwd="/" because the server user may not be allowed into the caller's working directory.
        done = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, check=False,
                              timeout=timeout, cwd="/", env=env)
    except subprocess.TimeoutExpired:
        raise LocalDbError(f"{what}: no answer after {timeout:.0f}s") from None
    except FileNotFoundError as exc:
        raise PostgresNotInstalled(f"{what}: {exc.filename} not found") from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
        raise LocalDbError(f"{what} failed (exit {done.returncode}): {tail}")
    return done


def _read_password(datadir: Path) -> str:
    try:
        return (datadir / PASSWORD_FILE).read_text().strip()
    except OSError as exc:
        raise LocalDbError(f"cannot read the local database password file {datadir / PASSWORD_FILE}: "
                           f"{exc.strerror}") from None


def _initialized(datadir: Path) -> bool:
    return (datadir / "PG_VERSION").is_file()


def _postmaster(datadir: Path) -> tuple[int, int | None] | None:
    """(pid, port) from postmaster.pid, or None if there is no pid file."""
    try:
        lines = (datadir / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LocalDbError(f"cannot read {datadir / 'postmaster.pid'}: {exc.strerror}") from None
    try:
        pid = int(lines[0])
    except (IndexError, ValueError):
        return (0, None)
    port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None
    return (pid, port)


def _is_postmaster(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return True  # no /proc: trust kill()
    # A pid file left by a crash may name a pid now reused by an unrelated process.
    return comm in ("postgres", "postmaster")


def status(datadir: Path | None = None) -> LocalDbStatus:
    datadir = (datadir or default_datadir()).resolve()
    if not _initialized(datadir):
        return LocalDbStatus(datadir, initialized=False, running=False)
    pm = _postmaster(datadir)
    if pm is None or not _is_postmaster(pm[0]):
        return LocalDbStatus(datadir, initialized=True, running=False)
    return LocalDbStatus(datadir, initialized=True, running=True, pid=pm[0], port=pm[1])


def _check_reachable_by_server_user(datadir: Path) -> None:
    if not _is_root():
        return
    account = _postgres_account()
    for parent in datadir.parents:
        st = parent.stat()
        if st.st_mode & 0o001:
            continue
        if st.st_uid == account.pw_uid and st.st_mode & 0o100:
            continue
        if st.st_gid == account.pw_gid and st.st_mode & 0o010:
            continue
        raise LocalDbError(
            f"the '{OS_USER}' OS user, which runs the cluster, cannot enter {parent} (mode "
            f"{st.st_mode & 0o777:04o}): put the data directory under a traversable directory (e.g. "
            f"{tempfile.gettempdir()}/ssot-XXXX with mode 0755) or `chmod o+x {parent}`"
        )


def _prepare_datadir(datadir: Path) -> None:
    _check_reachable_by_server_user(datadir)
    datadir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if any(datadir.iterdir()):
        raise LocalDbError(f"{datadir} exists, is not empty and is not a PostgreSQL data directory: "
                           "choose another directory or empty it")
    if _is_root():
        account = _postgres_account()
        os.chown(datadir, account.pw_uid, account.pw_gid)
    datadir.chmod(0o700)


def _give_to_server_user(path: Path) -> None:
    if _is_root():
        account = _postgres_account()
        os.chown(path, account.pw_uid, account.pw_gid)


def _conf_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _initdb(bin_dir: Path, datadir: Path) -> None:
    _prepare_datadir(datadir)
    password = secrets.token_urlsafe(32)
    # initdb reads the password from a file; it must sit outside the (still empty) data directory and
    # be readable by the server user only.
    fd, pwfile = tempfile.mkstemp(prefix=".ssot-initdb-", dir=datadir.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(password + "\n")
        os.chmod(pwfile, 0o600)
        _give_to_server_user(Path(pwfile))
        _run([str(bin_dir / "initdb"), "-D", str(datadir), "-U", SUPERUSER, "-E", "UTF8", "--locale=C",
              "--auth-local=peer", "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "--no-instructions"],
             "initdb")
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(pwfile)
    secret_path = datadir / PASSWORD_FILE
    fd = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    _give_to_server_user(secret_path)
    conf = [
        "",
        "# --- ssot local database (ssot/localdb.py) ---",
        f"listen_addresses = {_conf_quote(HOST)}",
        f"unix_socket_directories = {_conf_quote(str(datadir))}",
        "password_encryption = 'scram-sha-256'",
        "shared_preload_libraries = 'pg_cron'",
        "cron.database_name = 'postgres'",
        # Jobs run in background workers: no libpq login, so no password needed by the scheduler.
        "cron.use_background_workers = on",
        "max_worker_processes = 16",
        "max_connections = 50",
        "shared_buffers = 32MB",
        # A throwaway cluster: losing the last transactions on an OS crash is acceptable, corruption
        # is not (fsync stays on).
        "synchronous_commit = off",
        "",
    ]
    with (datadir / "postgresql.conf").open("a") as fh:
        fh.write("\n".join(conf))


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # The server itself sets SO_REUSEADDR, so a port only in TIME_WAIT is free for it too.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


@contextlib.contextmanager
def _locked(datadir: Path) -> Iterator[None]:
    """Serialize start/stop of one data directory across processes."""
    if datadir.exists() and not datadir.is_dir():
        raise LocalDbError(f"{datadir}: expected a directory for the local database cluster (or a path that "
                           "does not exist yet), found a file")
    lock_path = datadir.parent / f".{datadir.name}.ssot-lock"
    try:
        datadir.parent.mkdir(parents=True, exist_ok=True)
        fh = open(lock_path, "a")
    except OSError as exc:
        raise LocalDbError(f"{datadir}: cannot use this path for the local database cluster "
                           f"({exc.strerror or type(exc).__name__}); choose a writable directory") from None
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _log_tail(datadir: Path, lines: int = 8) -> str:
    try:
        text = (datadir / LOG_FILE).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def start(datadir: Path | None = None, port: int | None = None) -> LocalDb:
    """Start (initializing and bootstrapping as needed) and return the cluster; idempotent.

    If the cluster is already running it is returned as is, on the port it runs on.
    """
    datadir = (datadir or default_datadir()).absolute()
    bin_dir = bindir()
    with _locked(datadir):
        datadir = datadir.resolve()
        current = status(datadir)
        if current.running and current.pid is not None and current.port is not None:
            db = LocalDb(datadir=datadir, port=current.port, pid=current.pid)
            bootstrap(db)
            return db
        port = resolve_port(port)
        socket_path = datadir / f".s.PGSQL.{port}"
        if len(str(socket_path)) > _MAX_SOCKET_PATH:
            raise LocalDbError(f"data directory path too long for a unix socket ({socket_path}): use a "
                               f"shorter path")
        _check_pg_cron(bin_dir)
        if not current.initialized:
            _initdb(bin_dir, datadir)
        else:
            _check_reachable_by_server_user(datadir)
            stale = datadir / "postmaster.pid"
            if stale.exists():
                # status() said not running: the pid file outlived its server.
                stale.unlink()
        if not _port_free(port):
            raise PortInUse(f"port {port} on {HOST} is already in use by another process: choose another "
                            f"port (set {PORT_ENV}) or stop what is listening there")
        try:
            _run([str(bin_dir / "pg_ctl"), "-D", str(datadir), "-l", str(datadir / LOG_FILE), "-w",
                  "-t", str(_START_TIMEOUT_S), "-o", f"-p {port}", "start"],
                 "starting the local database", timeout=_START_TIMEOUT_S + 30)
        except LocalDbError as exc:
            tail = _log_tail(datadir)
            raise LocalDbError(f"{exc}\nserver log ({datadir / LOG_FILE}):\n{tail}" if tail else str(exc)
                               ) from None
        now = status(datadir)
        if not now.running or now.pid is None:
            raise LocalDbError(f"the local database did not stay up; see {datadir / LOG_FILE}:\n"
                               f"{_log_tail(datadir)}")
        db = LocalDb(datadir=datadir, port=now.port or port, pid=now.pid)
        bootstrap(db)
        return db


def stop(datadir: Path | None = None) -> bool:
    """Stop the cluster; True if it was running. Idempotent."""
    datadir = (datadir or default_datadir()).absolute()
    with _locked(datadir):
        datadir = datadir.resolve()
        current = status(datadir)
        if not current.running:
            stale = datadir / "postmaster.pid"
            if current.initialized and stale.exists():
                stale.unlink()
            return False
        _run([str(bindir() / "pg_ctl"), "-D", str(datadir), "-m", "fast", "-w", "-t", "60", "stop"],
             "stopping the local database", timeout=90)
        return True


def bootstrap_files() -> list[tuple[str, str]]:
    """(name, SQL) of the bootstrap files, in the order they apply."""
    folder = resources.files("ssot") / "sql"
    found = [(entry.name, entry.read_text()) for entry in folder.iterdir()
             if entry.name.startswith("local_") and entry.name.endswith(".sql")]
    return sorted(found)


def bootstrap(db: LocalDb) -> None:
    """Apply the idempotent bootstrap SQL (roles, extensions, Vault stand-in)."""
    try:
        with psycopg.connect(db.conninfo(), autocommit=True, connect_timeout=10,
                             application_name="ssot-localdb-bootstrap") as conn:
            for name, text in bootstrap_files():
                try:
                    with conn.transaction():
                        conn.execute(text.encode())
                except psycopg.Error as exc:
                    primary = exc.diag.message_primary or type(exc).__name__
                    raise LocalDbError(f"bootstrap step {name} failed: {primary}") from None
    except psycopg.OperationalError as exc:
        primary = exc.diag.message_primary or "connection failed"
        if "password" in str(exc):
            primary = "password authentication failed (is the password file the one initdb used?)"
        raise LocalDbError(f"cannot connect to the local database on port {db.port} to bootstrap it: "
                           f"{primary}") from None
