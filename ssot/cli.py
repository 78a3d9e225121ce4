"""`ssot`: the command line.

  ssot db start|stop|status         the local Supabase database (throwaway PostgreSQL 15 + pg_cron)
  ssot show [--stack local]         the platform a stack declares, as a table of resources
  ssot preview --stack NAME         the Pulumi program evaluated offline, checked against the doctrine
  ssot scan [PATH]                  the repository's files checked against the doctrine
  ssot audit --stack NAME           the live platform: drift from the stack and doctrine violations
  ssot audit --serve                the audit worker: runs and stores the audits the platform's pg_cron job requests
  ... --store                       (scan, preview, audit) record the run in audit.* (database: $SSOT_STORE_DSN)

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 bad usage or config, 3 incomplete.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn

from ssot import __version__
from ssot.errors import SsotError
from ssot.findings import Severity
from ssot.outguard import withhold
from ssot.shape import describe

EXIT_USAGE = 2
EXIT_INCOMPLETE = 3

_ARG_VALUE = (
    (re.compile(r"(invalid choice: )(.+?)( \(choose from .*)\Z", re.DOTALL), 2),
    (re.compile(r"(invalid \w+ value: )(.+)()\Z", re.DOTALL), 2),
    (re.compile(r"(unrecognized arguments: )(.+)()\Z", re.DOTALL), 2),
)


def _value_free(message: str) -> str:
    """argparse's message with the offending argument described by shape, not quoted: arguments
    often come from CI variables, and a secret given to the wrong option must not reach the log."""
    for rx, group in _ARG_VALUE:
        m = rx.search(message)
        if m:
            raw = m.group(group)
            try:
                value = ast.literal_eval(raw)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                value = raw
            return message[:m.start()] + m.group(1) + describe(value) + m.group(3)
    return message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        super().error(_value_free(message))


def _severity(text: str) -> Severity:
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected {exc}") from None


def _report_options(p: argparse.ArgumentParser) -> None:
    from ssot.reporters import FORMATS

    p.add_argument("--format", choices=sorted(FORMATS), default="text", help="report format (default: text)")
    p.add_argument("--output", type=Path, help="write the report here instead of standard output")
    p.add_argument("--also", action="append", default=[], metavar="FORMAT=PATH",
                   help="also write the report in another format (repeatable), e.g. sarif=ssot.sarif")
    p.add_argument("--fail-on", type=_severity, default=Severity.HIGH, metavar="SEVERITY",
                   help="exit 1 when a finding is at or above this severity: info, low, medium, high, critical "
                        "(default: high)")
    p.add_argument("--suppressions", type=Path,
                   help="suppressions file (default: .ssot/suppressions.yaml under the project, if present)")
    p.add_argument("--no-inline-ignores", action="store_true",
                   help="do not honour `ssot: ignore[...]` comments in the scanned files (on a pull request: a "
                        "change must not excuse itself)")
    p.add_argument("--baseline", type=Path, help="only findings not in this baseline count")
    p.add_argument("--write-baseline", type=Path, help="record the current findings as the baseline and exit 0")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p.add_argument("--store", action="store_true",
                   help="record the run and its findings in the audit schema of the database named by the "
                        "environment variable SSOT_STORE_DSN")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ssot", description=__doc__.split("\n\n")[0] if __doc__ else None,
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=(
                                         "Exit codes: 0 clean, 1 findings at or above --fail-on, "
                                         "2 bad usage or config, 3 incomplete."))
    parser.add_argument("--version", action="version", version=f"ssot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="the local Supabase database")
    db.add_argument("action", choices=("start", "stop", "status", "auditor"),
                    help="auditor: set up the audit's least-privilege access (audits/postgres/auditor.sql)")
    db.add_argument("--role", default="ssot_auditor", help="auditor: the auditor role (default: ssot_auditor)")
    db.add_argument("--datadir", type=Path, help="cluster directory (default: .pgdata in the project)")
    db.add_argument("--port", type=int, help="TCP port (default: $SSOT_LOCAL_DB_PORT or 54329)")

    show = sub.add_parser("show", help="the platform a stack declares, as a table of resources")
    show.add_argument("--stack", default="local")
    show.add_argument("--root", type=Path, default=Path("."), help="the Pulumi project (default: .)")

    pv = sub.add_parser("preview", help="evaluate the Pulumi program offline and check it against the doctrine")
    pv.add_argument("--stack", default="local")
    pv.add_argument("--root", type=Path, default=Path("."), help="the Pulumi project (default: .)")
    _report_options(pv)

    sc = sub.add_parser("scan", help="check the repository's files against the doctrine")
    sc.add_argument("path", nargs="?", type=Path, default=Path("."))
    sc.add_argument("--no-checkov", action="store_true", help="run only ssot's own scanners")
    sc.add_argument("--checkov-secrets", action="store_true",
                    help="also run checkov's secrets framework (slow; ssot's detectors cover it)")
    sc.add_argument("--changed-since", metavar="REF",
                    help="scan only files changed since this git ref, e.g. origin/main")
    sc.add_argument("--with-preview", action="store_true",
                    help="with --changed-since: when a stack file or the program changed, also run the preview "
                         "of every stack (this executes the repository's Pulumi program, in a child process "
                         "that gets none of ssot's environment)")
    sc.add_argument("--history", action="store_true",
                    help="scan every blob in the repository's git history once, and report where each secret "
                         "was introduced and whether HEAD still holds it")
    sc.add_argument("--since", metavar="REF", help="with --history: only commits not reachable from REF")
    sc.add_argument("--ignore-file", type=Path, metavar="PATH",
                    help="ignore globs to use instead of the tree's .ssotignore (on a pull request: the base "
                         "branch's, so that a change cannot exempt its own files)")
    _report_options(sc)

    au = sub.add_parser("audit", help="read the live platform and check drift and the doctrine")
    au.add_argument("--stack", help="the stack to audit (required, except with --serve)")
    au.add_argument("--root", type=Path, default=Path("."), help="the Pulumi project (default: .)")
    au.add_argument("--state", type=Path, help="the declared side from a `pulumi stack export` file instead of the "
                                               "program")
    au.add_argument("--datadir", type=Path, help="the local database's directory, as `ssot db` takes it")
    au.add_argument("--local-db", action="store_true",
                    help="audit the local database (`ssot db start`) instead of the one the stack declares")
    au.add_argument("--source", action="append", metavar="NAME",
                    help="read only this live source (repeatable; the others are reported as skipped)")
    _report_options(au)
    au.add_argument("--serve", action="store_true",
                    help="be the audit worker: run and store the audits the platform's pg_cron job requests "
                         "(audit.requests, LISTEN/NOTIFY; database from SSOT_STORE_DSN)")
    au.add_argument("--once", action="store_true", help="with --serve: run what is pending, then exit")
    au.add_argument("--poll", type=float, default=30.0, metavar="SECONDS",
                    help="with --serve: also look for requests this often, in case a notification was missed "
                         "(default: 30)")
    return parser


def _cmd_db(args: argparse.Namespace) -> int:
    from ssot import localdb

    if args.action == "start":
        db = localdb.start(args.datadir, args.port)
        print(f"local database running: postgresql://{db.user}@{db.host}:{db.port}/{db.dbname} "
              f"(pid {db.pid}, data in {db.datadir}; password in {db.password_file})")
    elif args.action == "stop":
        stopped = localdb.stop(args.datadir)
        print("local database stopped" if stopped else "local database was not running")
    elif args.action == "auditor":
        from ssot.auditor_setup import setup_local

        role = setup_local(args.datadir, args.role)
        print(f"auditor access set up for role {role} (audits/postgres/auditor.sql and the Vault fingerprint "
              "function)")
    else:
        st = localdb.status(args.datadir)
        if st.running:
            print(f"running on 127.0.0.1:{st.port} (pid {st.pid}, data in {st.datadir})")
        else:
            print(f"{'stopped' if st.initialized else 'not initialised'} (data in {st.datadir})")
            return 3 if st.initialized else 0
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from ssot.show import render_platform

    print(withhold(render_platform(args.root.resolve(), args.stack)))
    return 0


def _write(text: str, path: Path | None) -> None:
    text = withhold(text)
    if path is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SsotError(f"{path}: cannot write the report ({exc.strerror})") from None


def _report(command: str, args: argparse.Namespace, result: Any, root: Path) -> int:
    from ssot import suppressions
    from ssot.reporters import Report, render
    from ssot.reporters.sarif import information_uri_from_env
    from ssot.rules import all_rules

    extra: list[tuple[str, Path]] = []
    for spec in args.also:
        fmt, sep, target = spec.partition("=")
        if not sep or not target:
            raise SsotError(f"--also: expected FORMAT=PATH, e.g. sarif=ssot.sarif; got {describe(spec)}")
        extra.append((fmt, Path(target)))
    active, suppressed, warnings = suppressions.apply(
        result.findings, suppressions_file=args.suppressions, baseline_file=args.baseline, root=root,
        today=date.today(), inline=not args.no_inline_ignores)
    if args.write_baseline:
        count = suppressions.write_baseline([*active, *suppressed], args.write_baseline)
        print(f"baseline of {count} findings written to {args.write_baseline}", file=sys.stderr)
        return 0
    report = Report(command=command, target=result.target, findings=active, suppressed=suppressed,
                    fail_on=args.fail_on, incomplete=list(result.inventory.incomplete), rules=all_rules(),
                    default_artifact=result.default_artifact, root=str(root),
                    warnings=[*warnings, *getattr(result, "notes", [])],
                    information_uri=information_uri_from_env(dict(os.environ)),
                    audit=getattr(result, "audit", None))
    store_error = None
    if getattr(args, "store", False):
        from ssot.store.run import declared_agent_roles, sources_for, store_report

        try:
            stored = store_report(
                report, command=command, root=root, started_at=getattr(args, "started_at", None) or datetime.now(UTC),
                stack=getattr(args, "stack", None),
                sources_read=sources_for(command, args, result),
                declared_agent_roles=declared_agent_roles(root, getattr(args, "stack", None)))
            report.history = stored.history
            print(stored.describe(), file=sys.stderr)
        except SsotError as exc:
            if exc.exit_code != 3:
                raise
            store_error = exc
    color = args.color == "always" or (args.color == "auto" and args.output is None and sys.stdout.isatty()
                                       and "NO_COLOR" not in os.environ)
    _write(render(report, args.format, color=color and args.format == "text"), args.output)
    for fmt, target in extra:
        _write(render(report, fmt), target)
    for w in warnings:
        print(withhold(f"warning: {w}"), file=sys.stderr)
    if store_error is not None:
        # The report was written, but not where agents read it: not knowing is not passing.
        print(withhold(f"ssot {command}: incomplete: {store_error}"), file=sys.stderr)
        return EXIT_INCOMPLETE
    return report.exit_code


def _cmd_preview(args: argparse.Namespace) -> int:
    from ssot.pipeline import preview

    root = args.root.resolve()
    return _report("preview", args, preview(root, args.stack), root)


def _cmd_scan(args: argparse.Namespace) -> int:
    from ssot.errors import ConfigError
    from ssot.pipeline import scan, scan_history

    root = args.path.resolve()
    if args.since and not args.history:
        raise ConfigError.single("--since", "", "--history (it limits the history scan)")
    if args.with_preview and not args.changed_since:
        raise ConfigError.single("--with-preview", "", "--changed-since REF (a full scan never runs the program)")
    if args.history:
        result = scan_history(root, since=args.since)
    else:
        result = scan(root, use_checkov=not args.no_checkov, checkov_secrets=args.checkov_secrets,
                      changed_since=args.changed_since, with_preview=args.with_preview,
                      ignore_file=args.ignore_file.resolve() if args.ignore_file else None)
    return _report("scan", args, result, root)


def _serve(args: argparse.Namespace) -> int:
    from ssot.store.worker import child_runner, serve

    passed = ["--local-db"] if args.local_db else []
    if args.datadir:
        passed += ["--datadir", str(args.datadir.resolve())]
    handled = serve(args.root.resolve(), once=args.once, poll_seconds=max(args.poll, 0.5),
                    runner=child_runner(passed))
    print(f"audit worker: {handled} request{'' if handled == 1 else 's'} handled", file=sys.stderr)
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    from ssot.pipeline import audit
    from ssot.progress import source_progress

    if args.serve:
        return _serve(args)
    if not args.stack:
        raise SsotError("--stack NAME is required (or --serve, to run the audits the platform requests)")
    root = args.root.resolve()
    with source_progress(enabled=sys.stdout.isatty() and sys.stderr.isatty()) as progress:
        result = audit(root, args.stack, state=args.state, datadir=args.datadir, local_db=args.local_db,
                       progress=progress, only=args.source)
    return _report("audit", args, result, root)


COMMANDS = {"db": _cmd_db, "audit": _cmd_audit, "show": _cmd_show, "preview": _cmd_preview, "scan": _cmd_scan}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.started_at = datetime.now(UTC)
    try:
        return COMMANDS[args.command](args)
    except SsotError as exc:
        print(withhold(f"ssot {args.command}: {exc}"), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        # Stopped before it finished: the result is unknown, which is "incomplete" (never a pass),
        # within the documented exit codes rather than the shell's 130.
        print(f"ssot {args.command}: interrupted: the run is incomplete", file=sys.stderr)
        return EXIT_INCOMPLETE
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        import pulumi

        if isinstance(exc, pulumi.RunError):
            print(withhold(f"ssot {args.command}: {exc}"), file=sys.stderr)
            return EXIT_USAGE
        if os.environ.get("SSOT_DEBUG") == "1":
            raise
        # Only genuine bugs reach here: every input path raises an SsotError (2: bad usage or config;
        # 3: a source not read) naming the file. The run did not finish, so its result is unknown:
        # 3, "incomplete", which can never be mistaken for a pass and stays within the documented
        # exit codes (0-3). An unexpected error's text may quote data it was handling (a connection
        # string, a value): only its type is shown unless the user asks for the traceback.
        print(f"ssot {args.command}: internal error ({type(exc).__name__}): the run is incomplete; rerun with "
              "SSOT_DEBUG=1 for the traceback", file=sys.stderr)
        return EXIT_INCOMPLETE


if __name__ == "__main__":
    sys.exit(main())
