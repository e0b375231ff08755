"""Tests of the teacher report's page and gradebook (autograder/report/html.py, plots.py).

The report is built from fixture records (tests/report/fixtures.py) shaped like
the engine's outputs.
"""

from __future__ import annotations

import base64
import csv
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from autograder import report
from autograder.cli import main as cli_main
from tests.report.fixtures import QMAX, fixture_records, graded_record, make_fixture

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "test-artifacts"
CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)


class _Parser(html.parser.HTMLParser):
    """Collects the student rows, plot images and every src/href of a page."""

    def __init__(self):
        super().__init__()
        self.rows, self.imgs, self.urls, self.scripts_src = [], [], [], []
        self._in_students = self._row = None
        self._cell = 0
        self._cell_text = ""
        self._table_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href", "action", "poster", "data"):
            if key in a and tag != "div":
                self.urls.append((tag, key, a[key]))
        if tag == "img":
            self.imgs.append(a)
        if tag == "script" and "src" in a:
            self.scripts_src.append(a["src"])
        if tag == "table" and a.get("id") == "students":
            self._in_students = True
        if self._in_students and tag == "tr" and a.get("class") == "student":
            self._row = {"status": a.get("data-status"), "cells": []}
        if self._row is not None and tag == "td":
            self._cell_text = ""

    def handle_endtag(self, tag):
        if self._row is not None and tag == "td":
            self._row["cells"].append(self._cell_text.strip())
        if self._row is not None and tag == "tr":
            self.rows.append(self._row)
            self._row = None
        if tag == "table":
            self._in_students = False

    def handle_data(self, data):
        if self._row is not None:
            self._cell_text += data


def _parse(text):
    p = _Parser()
    p.feed(text)
    return p


def _png_size(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def graded_dir(tmp_path):
    out = tmp_path / "out"
    records = make_fixture(out)
    path = report.write_report(out)
    return out, records, path.read_text(encoding="utf-8")


def test_every_submission_has_one_row_with_its_status(graded_dir):
    out, records, text = graded_dir
    rows = _parse(text).rows
    assert len(rows) == len(records)
    assert sorted(r["cells"][0] for r in rows) == sorted(r["id"] for r in records)
    by_id = {r["cells"][0]: r for r in rows}
    for rec in records:
        assert by_id[rec["id"]]["status"] == rec["status"]
    assert by_id["hugo"]["cells"][3].startswith("non rendu")
    assert by_id["chloe"]["cells"][-3].startswith("⚠ 2")  # tamper column
    assert by_id["alice"]["cells"][-3] == "—"
    assert 'href="gradebook.csv"' in text and 'href="grades.csv"' not in text  # only existing files


def test_plots_are_embedded_pngs(graded_dir):
    _, _, text = graded_dir
    plots = [img for img in _parse(text).imgs if "plot" in (img.get("class") or "")]
    assert [img["id"] for img in plots] == list(report.PLOT_IDS)
    for img in plots:
        assert img["alt"].strip()
        prefix = "data:image/png;base64,"
        assert img["src"].startswith(prefix)
        w, h = _png_size(base64.b64decode(img["src"][len(prefix) :]))
        assert w > 200 and h > 100


def test_no_network_resources(graded_dir):
    _, _, text = graded_dir
    parsed = _parse(text)
    assert not parsed.scripts_src
    for tag, key, url in parsed.urls:
        ok = (
            url.startswith("data:image/png;base64,")
            or url.startswith("#")
            or (url.startswith("feedback/") and url.endswith(".md"))
            or url in ("gradebook.csv", "grades.csv", "feedback/", "results/")
        )
        assert ok, (tag, key, url[:80])
    assert not re.search(r"https?://|//cdn|@import|url\(", text, re.IGNORECASE)
    assert "Content-Security-Policy" in text and "default-src 'none'" in text


def test_untrusted_text_is_escaped(graded_dir):
    _, _, text = graded_dir
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in text  # the mistake example
    assert "<img src=x onerror" not in text and "&lt;img src=x onerror=" in text  # tamper reason
    assert "<b>" not in text and "eve&lt;b&gt;" in text  # student id
    # The feedback link of that student is URL-encoded, not raw HTML.
    assert 'href="feedback/eve%3Cb%3E.md"' in text


def test_feedback_links_only_when_the_file_exists(tmp_path):
    out = tmp_path / "out"
    make_fixture(out)
    (out / "feedback" / "bob.md").unlink()
    text = report.write_report(out).read_text(encoding="utf-8")
    assert 'href="feedback/alice.md"' in text
    assert 'href="feedback/bob.md"' not in text


def test_gradebook_has_every_student(graded_dir):
    out, records, _ = graded_dir
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["student_id", "total", "percent", "status", "statut"]
    assert sorted(r["student_id"] for r in rows) == sorted(r["id"] for r in records)
    by_id = {r["student_id"]: r for r in rows}
    assert by_id["hugo"] == {
        "student_id": "hugo",
        "total": "0.00",
        "percent": "0.00",
        "status": "missing",
        "statut": "non rendu",
    }
    assert float(by_id["alice"]["total"]) == sum(QMAX.values())
    bob = next(r for r in records if r["id"] == "bob")
    assert float(by_id["bob"]["percent"]) == pytest.approx(bob["percent"], abs=0.01)


def test_unreadable_record_still_listed(tmp_path):
    out = tmp_path / "out"
    make_fixture(out, fixture_records()[:2])
    (out / "submissions" / "zoe.json").write_text("{ truncated", encoding="utf-8")
    (out / "run.json").unlink()
    text = report.write_report(out).read_text(encoding="utf-8")
    rows = {r["cells"][0]: r for r in _parse(text).rows}
    assert set(rows) == {"alice", "bob", "zoe"}
    assert rows["zoe"]["status"] == "unreadable-record"
    assert "Pas de fichier" in text  # no run.json


def test_empty_directory_renders(tmp_path):
    (tmp_path / "submissions").mkdir()
    text = report.write_report(tmp_path).read_text(encoding="utf-8")
    assert len(_parse(text).rows) == 0
    assert text.count('class="plot"') == len(report.PLOT_IDS)


def test_writes_are_atomic(tmp_path, monkeypatch):
    out = tmp_path / "out"
    make_fixture(out)
    first = report.write_report(out).read_text(encoding="utf-8")
    csv_before = (out / "gradebook.csv").read_text(encoding="utf-8")

    def boom(*args, **kwargs):
        raise RuntimeError("interrupted")

    # An interruption while writing leaves the previous files whole, and no temp file.
    monkeypatch.setattr(os, "fsync", boom)
    (out / "submissions" / "alice.json").unlink()
    with pytest.raises(RuntimeError):
        report.write_report(out)
    assert (out / "report.html").read_text(encoding="utf-8") == first
    assert (out / "gradebook.csv").read_text(encoding="utf-8") == csv_before
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_teacher_cli_writes_the_report(tmp_path, capsys):
    out = tmp_path / "out"
    make_fixture(out, fixture_records()[:3])
    assert cli_main(["report", str(out)]) == 0
    assert (out / "report.html").is_file()
    assert f"Rapport : {out / 'report.html'}" in capsys.readouterr().out
    assert cli_main(["report", str(tmp_path / "nowhere")]) == 2


# ----------------------------------------------------------- headless Chromium


def _chromium(args, user_dir, timeout=90):
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={user_dir}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def _rendercheck_record(dom: str) -> dict:
    m = re.search(r'<div id="render-check"([^>]*)>', dom)
    assert m, "self-check element missing from the DOM"
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))
    return {k: html.unescape(v) for k, v in attrs.items()}


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium not installed (Debian package `chromium`, installed by .ci/run)",
)
def test_report_renders_in_headless_chromium(tmp_path):
    out = tmp_path / "out"
    records = make_fixture(out)
    page = report.write_report(out)
    url = page.resolve().as_uri()
    res = _chromium(["--virtual-time-budget=5000", "--dump-dom", url], tmp_path / "ud1")
    assert res.returncode == 0, res.stderr[-2000:]
    check = _rendercheck_record(res.stdout)
    assert check.get("data-ready") == "1"
    assert json.loads(check["data-errors"]) == []
    console = [line for line in res.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    assert int(check["data-rows"]) == len(records)
    assert int(check["data-plots"]) == len(report.PLOT_IDS)
    assert check["data-plots-rendered"].split() == list(report.PLOT_IDS)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    res = _chromium(
        ["--hide-scrollbars", "--window-size=1280,2000", f"--screenshot={shot}", url],
        tmp_path / "ud2",
    )
    assert res.returncode == 0, res.stderr[-2000:]
    w, h = _png_size(shot.read_bytes())
    assert (w, h) == (1280, 2000)
    shutil.copy(page, ARTIFACTS / "report.html")


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium not installed (Debian package `chromium`, installed by .ci/run)",
)
def test_table_sorts_in_headless_chromium(tmp_path):
    out = tmp_path / "out"
    records = make_fixture(out)
    page = report.write_report(out)
    # Click the "%" header twice (descending), then record the row order in the DOM.
    probe = (
        '<script>window.addEventListener("load", function () {'
        'var th = document.querySelectorAll("#students th")[2]; th.click(); th.click();'
        'var ids = Array.prototype.map.call(document.querySelectorAll("#students tbody tr"),'
        " function (r) { return r.cells[0].textContent; });"
        'document.body.setAttribute("data-order", JSON.stringify(ids)); });</script></body>'
    )
    sorted_page = out / "sorted.html"
    sorted_page.write_text(
        page.read_text(encoding="utf-8").replace("</body>", probe), encoding="utf-8"
    )
    res = _chromium(
        ["--virtual-time-budget=5000", "--dump-dom", sorted_page.resolve().as_uri()],
        tmp_path / "ud",
    )
    assert res.returncode == 0, res.stderr[-2000:]
    m = re.search(r'<body[^>]*data-order="([^"]*)"', res.stdout)
    assert m, "sorting probe did not run"
    order = json.loads(html.unescape(m.group(1)))
    expected = [r["id"] for r in sorted(records, key=lambda r: -r["percent"])]
    assert [order.index(i) for i in order] == list(range(len(order)))
    percents = {r["id"]: r["percent"] for r in records}
    assert [percents[i] for i in order] == sorted(percents.values(), reverse=True)
    assert order[0] == expected[0] == "alice"


# ------------------------------------------------------------------- examples


def test_report_is_french_with_neutral_tamper_wording(graded_dir):
    """No English headings, no "fraude": "fichier protégé modifié" (issue 13)."""
    _, _, text = graded_dir
    assert "fraude" not in text and "alerte" not in text.lower()
    assert "2 copies avec un fichier protégé modifié" in text  # chloe and eve
    for english in ("(summary)", "(plots)", "(most frequent mistakes)", "(students)", "(checks)"):
        assert english not in text


def test_mistakes_show_code_as_code_and_leave_stubs_out(tmp_path):
    """Backticks become <code>; a NotImplementedError stub is counted apart (issue 13)."""
    stub = (
        "attendu : une fonction `build_cnn` implémentée, reçu : NotImplementedError "
        "(la fonction n'est pas encore implémentée)."
    )
    records = [
        graded_record(
            "alice",
            failed=("q1.shape",),
            messages={"q1.shape": "attendu : `ResidualBlock(x)` de forme (28, 28, 32)"},
        ),
        graded_record(
            "bob",
            failed=("q3.output", "q3.no_shortcut"),
            messages={"q3.output": stub, "q3.no_shortcut": stub},
        ),
    ]
    out = tmp_path / "out"
    make_fixture(out, records)
    text = report.write_report(out).read_text(encoding="utf-8")
    table = text[text.index('id="mistakes-table"') : text.index("</table>", text.index("mistakes"))]
    assert "<code>ResidualBlock(x)</code>" in table and "`" not in table
    assert "q3.output" not in table and "NotImplementedError" not in table
    assert "q3 : 1 copie." in text
