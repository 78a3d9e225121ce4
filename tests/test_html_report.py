"""The HTML report: self-contained, escaped, and proven in a real headless Chromium.

The browser loads the file from disk with name resolution disabled and a local HTTP sink that hostile
strings point at; the page must make no request at all (DevTools `Network.requestWillBeSent`), log no
console error or CSP violation, run none of the planted scripts, draw its charts, and filter.
"""

from __future__ import annotations

import http.server
import struct
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser import open_page

from ssot.findings import Finding, Severity
from ssot.inventory import Location, Phase
from ssot.reporters import Report, html, render
from ssot.rules import all_rules

CANARY = "Canary-Html-Private-5d1e"


@pytest.fixture
def sink() -> Iterator[tuple[int, list[str]]]:
    """An HTTP server on loopback that records every request: it must receive nothing."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()


def f(rule: str, subject: str, severity: Severity = Severity.HIGH, *, path: str | None = None,
      explain: str = "seen", propose: str = "fix it", **meta: object) -> Finding:
    return Finding(rule_id=rule, title=f"{rule} title", severity=severity, clause="§4", explain=explain,
                   propose=propose, location=Location(path=path or f"{subject}.py", line=3), subject=subject,
                   phase=Phase.STATIC, metadata=dict(meta))


def hostile_report(port: int) -> Report:
    leak = f"http://127.0.0.1:{port}/leak"
    findings = [
        f("hardcoded_secret", "a", path="<script>window.__pwned=1</script>.py",
          explain=f'"><img src="{leak}" onerror="window.__pwned=2"><script>window.__pwned=3</script>',
          propose=f"</pre><iframe src=\"{leak}\"></iframe>\n<style>@import url({leak});</style>", _raw=CANARY),
        f("odoo_cron", "b", Severity.CRITICAL, explain="ir.cron in addon", propose="move to pg_cron"),
        f("scheduler_placement", "c", Severity.LOW, explain=f"<a href=\"{leak}\">x</a>'; window.__pwned=4; '"),
        f("drift", "d", Severity.HIGH, drift="missing", kind="schema", explain="declared, not live"),
        f("drift", "e", Severity.MEDIUM, drift="changed", kind="cron_job"),
        f("drift", "g", Severity.MEDIUM, drift="<b onmouseover=alert(1)>unmanaged</b>"),
    ]
    history = [{"started_at": f"2026-11-2{i}T10:00:00+00:00", "complete": i != 2, "verdict": "fail",
                "critical": i % 2, "high": i, "medium": 2, "low": 1, "info": 0} for i in range(5)]
    return Report(command="audit", target=f"<img src=\"{leak}\">", findings=findings, rules=all_rules(),
                  incomplete=[f"odoo: <script>window.__pwned=5</script> {leak}"], history=history,
                  warnings=[f"<img src={leak}>"])


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_html_is_self_contained_and_escaped(sink: tuple[int, list[str]]) -> None:
    port, _ = sink
    text = render(hostile_report(port), "html")
    assert text.startswith("<!DOCTYPE html>")
    parser = _Tags()
    parser.feed(text)
    names = [t for t, _ in parser.tags]
    assert names.count("script") == 1 and names.count("style") == 1  # ours; every planted one is text
    assert not {"img", "iframe", "a", "link", "object", "embed"} & set(names)
    for tag, attrs in parser.tags:
        assert not {"src", "href", "srcset", "action"} & set(attrs), tag  # nothing to fetch or follow
        assert not [a for a in attrs if a.startswith("on")], tag  # no event handlers
    assert CANARY not in text
    csp = next(a["content"] for t, a in parser.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert csp is not None and csp.startswith("default-src 'none';")
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'sha256-" in script_src and "unsafe-inline" not in script_src


def test_html_groups_drift_by_the_kind_the_findings_carry() -> None:
    report = hostile_report(1)
    text = html.render(report)
    chart = text[text.index('<figure id="drift">'):]
    chart = chart[:chart.index("</figure>")]
    for kind in ("missing", "changed", "&lt;b onmouseover=alert(1)&gt;unmanaged&lt;/b&gt;"):
        assert kind in chart
    assert "No drift" not in text
    clean_audit = Report(command="audit", target="t", findings=[f("odoo_cron", "b")])
    assert 'id="drift"' in html.render(clean_audit) and "No drift" in html.render(clean_audit)
    assert 'id="drift"' not in html.render(Report(command="scan", target="t", findings=[f("odoo_cron", "b")]))
    objects = text[text.index('<figure id="drift-objects">'):]
    assert "schema" in objects[:objects.index("</figure>")] and "cron_job" in objects[:objects.index("</figure>")]
    partial = Report(command="audit", target="t", incomplete=["odoo: down"])
    assert "not a pass" in html.render(partial)


def test_html_shows_what_the_live_sources_read() -> None:
    report = Report(command="audit", target="t", audit={
        "sources": [{"source": "postgres", "title": "Supabase Postgres", "status": "read", "read": {"cron.job": 3},
                     "gaps": []},
                    {"source": "odoo", "title": "<i>Odoo</i>", "status": "incomplete", "read": {},
                     "gaps": [{"object": "ir.cron", "reason": "access denied", "permission": None}]}],
        "drift": {"declared": 10, "in_sync": 8, "missing": 1, "changed": 1, "unmanaged": 2, "coverage": 83.3,
                  "not_compared": ["aws_secret"]}})
    text = html.render(report)
    assert "cron.job: 3" in text and "ir.cron: access denied" in text and "&lt;i&gt;Odoo&lt;/i&gt;" in text
    assert "83.3%" in text and "aws_secret" in text


def test_html_trend_needs_a_store() -> None:
    report = hostile_report(1)
    assert 'id="trend"' in html.render(report)
    report.history = []
    assert 'id="trend"' not in html.render(report)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def test_html_in_a_real_browser(tmp_path: Path, sink: tuple[int, list[str]]) -> None:
    port, hits = sink
    page_file = tmp_path / "report.html"
    page_file.write_text(render(hostile_report(port), "html"), encoding="utf-8")
    with open_page(page_file) as page:
        shot = page.screenshot(tmp_path / "report.png")
        assert page.evaluate("typeof window.__pwned") == "undefined"  # no planted script ran
        assert page.evaluate("document.scripts.length") == 1
        assert page.evaluate("document.querySelectorAll('img, iframe, a[href]').length") == 0
        assert page.evaluate("document.querySelectorAll('svg rect').length") >= 5 + 3 + 3  # severity, rule, drift
        assert page.evaluate("document.querySelectorAll('#trend polyline').length") == 5
        visible = "Array.from(document.querySelectorAll('article.finding')).filter(a => !a.hidden).length"
        assert page.evaluate(visible) == 6
        page.evaluate("var q = document.getElementById('q'); q.value = 'ir.cron';"
                      "q.dispatchEvent(new Event('input'))")
        assert page.evaluate(visible) == 1
        assert page.evaluate("document.getElementById('shown').textContent") == "1"
        page.evaluate("q.value = ''; q.dispatchEvent(new Event('input')); var r = document.getElementById('rule');"
                      "r.value = 'drift'; r.dispatchEvent(new Event('change'))")
        assert page.evaluate(visible) == 3
        page.evaluate("document.querySelector('input[name=sev][value=medium]').click()")
        assert page.evaluate(visible) == 1
        page.settle()
        assert page.errors() == []
        assert page.requests == [page_file.resolve().as_uri()]  # the file itself, nothing else
    assert hits == []
    width, height = _png_size(shot)
    assert width >= 1000 and height >= 600
    assert len(shot) > 20_000  # a rendered page, not a blank one


def test_html_draws_a_bounded_number_of_findings() -> None:
    many = [f("hardcoded_secret", f"s{i}") for i in range(html.MAX_FINDINGS + 5)] + [f("odoo_cron", "o")]
    text = html.render(Report(command="scan", target="t", findings=many, rules=all_rules()))
    assert text.count('<article class="finding"') == html.MAX_FINDINGS
    assert "5 more findings of this rule not drawn" in text and "1 more finding of this rule not drawn" in text
    assert f"high<b>{len(many)}</b>" in text  # the counts cover them all
