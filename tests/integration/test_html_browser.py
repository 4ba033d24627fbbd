"""The HTML report of a real run, opened in a real headless browser (Debian's chromium) over DevTools.

A real run: HumanEval, GSM8K and MMLU items (from ../shared/benchmarks) planted into Python's stdlib sources,
checked with the CLI, rendered with ``decontam report --format html``. The page is loaded from a file in
headless Chromium, driven over the DevTools protocol (``websocket-client``): no console error, no uncaught
exception, no network request; the chart, the evidence (original text, highlighted span, document id) and
the sortable/filterable table render; a screenshot is taken (kept when DECONTAM_SCREENSHOT_DIR is set).

Needs: apt ``chromium``; pip ``websocket-client``. Skipped, with the reason, when either is missing.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from _planted import build

from decontam.normalize import normalize

CHROMIUM = next((p for p in (os.environ.get("DECONTAM_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                             shutil.which("chromium-browser")) if p and os.path.exists(p)), None)
websocket = pytest.importorskip("websocket", reason="needs the websocket-client package: pip install websocket-client")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium: apt-get install chromium "
                                                         "(or set DECONTAM_CHROMIUM to the binary)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio", "--remote-debugging-port=0",
         "--window-size=1280,2000"]


class Browser:
    """One headless Chromium with one page, driven over the DevTools protocol; records console and network."""

    def __init__(self, profile: Path) -> None:
        self.proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start (no DevToolsActivePort)")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        while True:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            if pages or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30,
                                              suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            for ev in self.events[seen:]:
                if ev["method"] == method:
                    return ev
            seen = len(self.events)
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)
        raise TimeoutError(method)

    def open(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")
        self.eval("new Promise(r => setTimeout(r, 200))")  # let late errors arrive

    def eval(self, expression: str):
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise AssertionError(f"page script failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def problems(self) -> list[str]:
        """Console errors/warnings, uncaught exceptions, log errors (CSP violations...), as text."""
        out = []
        for ev in self.events:
            p = ev.get("params", {})
            if ev["method"] == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append(f"exception: {d.get('exception', {}).get('description', d.get('text'))}"[:300])
            elif ev["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                out.append(f"console.{p['type']}: " + json.dumps(p.get("args"))[:300])
            elif ev["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
                out.append("log: " + p["entry"].get("text", "")[:300])
        return out

    def requests(self) -> list[str]:
        return [ev["params"]["request"]["url"] for ev in self.events if ev["method"] == "Network.requestWillBeSent"]

    def screenshot(self, path: Path) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=1280, height=2000, deviceScaleFactor=1, mobile=False)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            if getattr(self, "ws", None) is not None:
                self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def real_run(tmp_path_factory, shared_benchmarks, run_cli):
    root = tmp_path_factory.mktemp("real-run")
    info = build(root, shared_benchmarks)
    b = info["benchmarks"]
    res = run_cli("check", *info["shards"], "-b", f"humaneval={b['humaneval']}", "-b", f"gsm8k={b['gsm8k']}",
                  "-b", f"mmlu={b['mmlu']}", "--report", root / "report.json", cwd=root)
    assert res.returncode == 0, res.stderr
    res = run_cli("report", root / "report.json", "--format", "html", "-o", root / "report.html")
    assert res.returncode == 0, res.stderr
    return root, info, json.loads((root / "report.json").read_text(encoding="utf-8"))


def test_the_detector_sees_console_errors_and_network_requests(browser, tmp_path):
    """Control: the checks below would see a broken page (so their passing means something)."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><img src="http://192.0.2.1/x.png">'
                   "<script>console.error('boom'); undefinedFunction();</script></body></html>")
    browser.open(bad.as_uri())
    problems = browser.problems()
    assert any("boom" in p for p in problems) and any("undefinedFunction" in p for p in problems), problems
    assert any(u.startswith("http://192.0.2.1") for u in browser.requests())


def test_html_report_renders_chart_evidence_and_table(browser, real_run, tmp_path):
    root, info, report = real_run
    page = root / "report.html"
    browser.open(page.as_uri())
    assert browser.problems() == []
    assert [u for u in browser.requests() if u != page.as_uri()] == []  # self-contained: nothing fetched
    assert browser.eval("document.body.dataset.ready") == "1"
    assert browser.eval("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling

    # the chart: one bar per benchmark, widths in proportion to the rates, visible
    bars = browser.eval("""[...document.querySelectorAll('#rate-chart rect.bar')].map(r => {
        const b = r.getBoundingClientRect(); return [r.dataset.benchmark, b.width, b.height, b.top]; })""")
    rates = {b["name"]: b["contamination_rate"] for b in report["benchmarks"]}
    assert [b[0] for b in bars] == list(rates)
    assert all(w > 1 and h > 10 and 0 < top < 2000 for _, w, h, top in bars)
    widths = {name: w for name, w, _, _ in bars}
    assert widths["humaneval"] / widths["mmlu"] == pytest.approx(rates["humaneval"] / rates["mmlu"], rel=0.02)

    # the evidence: one card per contaminated item, highlighted original text that normalizes to contain the
    # matched probe, and the document id
    cards = browser.eval("""[...document.querySelectorAll('.evidence')].map(c => ({
        id: c.id, text: c.innerText,
        doc_ids: [...c.querySelectorAll('.doc-id')].map(e => e.textContent),
        marks: [...c.querySelectorAll('.doc mark')].map(m => m.textContent),
        qmarks: [...c.querySelectorAll('.q mark')].map(m => m.textContent),
        visible: [...c.querySelectorAll('.doc mark')].map(m => { const b = m.getBoundingClientRect();
                   const box = m.closest('.doc').getBoundingClientRect();
                   return b.height > 0 && b.top >= box.top - 1 && b.top < box.bottom; })}))""")
    expected = sum(b["n_contaminated"] for b in report["benchmarks"])
    assert len(cards) == expected == len(info["humaneval"]) + len(info["gsm8k"]) + len(info["mmlu"])
    for bench in report["benchmarks"]:
        for item in bench["items"]:
            if not item["contaminated"]:
                continue
            card = next(c for c in cards if f"item {item['id']}" in c["text"] and bench["name"] in c["id"])
            m = item["matches"][0]
            assert card["doc_ids"][0] == str(m["doc_id"])
            assert all(card["visible"]), "the highlighted span must be scrolled into view"
            assert m["probe"] in normalize(card["marks"][0])  # the highlighted original text holds the probe
            assert m["probe"] in normalize(card["qmarks"][0])
    mmlu_card = next(c for c in cards if "mmlu" in c["id"])
    assert mmlu_card["doc_ids"] == [str(info["mmlu_row"])]  # a document without id: named by its row

    # the table: every item; filter and sort work
    n_items = sum(b["n_items"] for b in report["benchmarks"])
    assert browser.eval("document.querySelectorAll('#items tbody tr').length") == n_items
    browser.eval("""(() => { const c = document.getElementById('filter-contaminated'); c.checked = true;
                    c.dispatchEvent(new Event('change')); })()""")
    assert browser.eval("document.querySelectorAll('#items tbody tr').length") == expected
    browser.eval("""(() => { const c = document.getElementById('filter-contaminated'); c.checked = false;
                    c.dispatchEvent(new Event('change'));
                    const s = document.getElementById('filter-text'); s.value = 'humaneval/1';
                    s.dispatchEvent(new Event('input')); })()""")
    ids = browser.eval("[...document.querySelectorAll('#items tbody tr td:nth-child(2)')].map(t => t.textContent)")
    assert ids and all(i.lower().startswith("humaneval/1") for i in ids)
    browser.eval("""(() => { const s = document.getElementById('filter-text'); s.value = '';
                    s.dispatchEvent(new Event('input'));
                    const th = document.querySelector('#items th[data-key=documents]'); th.click(); th.click(); })()""")
    docs = browser.eval("[...document.querySelectorAll('#items tbody tr td:nth-child(4)')].map(t => +t.textContent)")
    assert docs == sorted(docs, reverse=True) and docs[0] >= 1
    assert browser.problems() == []

    # the screenshot (look at it: DECONTAM_SCREENSHOT_DIR=/some/dir keeps a copy)
    browser.eval("window.scrollTo(0, 0)")
    shot = tmp_path / "report.png"
    browser.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    keep = os.environ.get("DECONTAM_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report-html.png")


def test_hostile_document_text_is_shown_as_text(browser, tmp_path, run_cli):
    """Training documents are arbitrary text: markup in them must be displayed, never run."""
    q = "Write a function that returns the sum of two integers given as arguments, please."
    (tmp_path / "b.jsonl").write_text(json.dumps({"id": "x</script><b>1", "question": q}) + "\n")
    evil = f"<script>console.error('injected')</script><img src=x onerror=\"console.error('img')\"> {q} </textarea>"
    (tmp_path / "c.jsonl").write_text(json.dumps({"id": "<i>doc</i>", "text": evil}) + "\n")
    res = run_cli("check", tmp_path / "c.jsonl", "-b", f"toy={tmp_path / 'b.jsonl'}", "--question-field", "question",
                  "--item-id-field", "id", "--report", tmp_path / "r.json")
    assert res.returncode == 0, res.stderr
    assert run_cli("report", tmp_path / "r.json", "-o", tmp_path / "r.html").returncode == 0
    browser.open((tmp_path / "r.html").as_uri())
    assert browser.problems() == []
    assert browser.eval("document.querySelector('.doc').textContent").count("<script>console.error") == 1
    assert browser.eval("document.querySelector('.doc-id').textContent") == "<i>doc</i>"
    assert browser.eval("document.querySelectorAll('.doc img, .doc script, .doc i').length") == 0
