"""Tests of the teacher report (autograder/report.py) and of the bundled examples.

The report is built from fixture records written by :func:`make_fixture`,
shaped like the engine's outputs (docs/architecture.md): a perfect student, a
missing final ReLU, a timeout with a tamper flag, an invalid notebook, a
student with no notebook, a student on the roster who submitted nothing, and a
student whose id and messages carry HTML/JavaScript.
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

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "build" / "test-artifacts"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)

MALICIOUS = "<script>alert('pwned')</script>"
EVIL_ID = "eve<b>"  # file names may hold HTML metacharacters

QMAX = {"q1": 7.0, "q2": 6.0, "q3": 4.0}  # q4 is graded by hand: not in the records
CHECKS = {  # check id -> (title, points, visibility)
    "q1.shape": ("La sortie a la forme de l'entrée", 1, "public"),
    "q1.order": ("Les couches sont dans l'ordre de l'article", 1, "public"),
    "q1.kwargs": ("Les kwargs atteignent les deux convolutions", 1, "public"),
    "q1.shortcut": ("Le raccourci part de l'entrée du bloc", 2, "hidden"),
    "q1.final_relu": ("Une ReLU suit l'addition", 2, "hidden"),
    "q2.output": ("La sortie est une distribution de probabilités", 2, "public"),
    "q2.blocks": ("Deux blocs résiduels", 2, "hidden"),
    "q2.accuracy": ("Précision après entraînement du correcteur", 2, "hidden"),
    "q3.output": ("La sortie est une distribution de probabilités", 1, "public"),
    "q3.no_shortcut": ("Aucune connexion résiduelle", 3, "hidden"),
}


def _check(cid, passed, message=None):
    title, points, vis = CHECKS[cid]
    return {"id": cid, "question": cid.split(".")[0], "title": title,
            "points": float(points) if passed else 0.0, "max_points": float(points),
            "passed": passed, "visibility": vis,
            "message": message or ("Vérification réussie." if passed else
                                   f"attendu : {title.lower()}, reçu : autre chose."),
            "hint": "" if passed else "Relisez l'énoncé de la question.",
            "message_en": None}


def _question(qid, failed=(), status="ok", seconds=3.0, messages=None):
    messages = messages or {}
    checks = [_check(cid, status == "ok" and cid not in failed, messages.get(cid))
              for cid in CHECKS if cid.startswith(qid + ".")]
    return {"score": sum(c["points"] for c in checks), "max_score": QMAX[qid],
            "status": status, "seconds": seconds, "checks": checks}


def _graded(sid, failed=(), statuses=None, tamper=(), messages=None):
    statuses = statuses or {}
    questions = {q: _question(q, failed, statuses.get(q, "ok"),
                              seconds=30.0 if statuses.get(q) == "timeout" else 2.0 + len(sid) % 3,
                              messages=messages)
                 for q in QMAX}
    total = sum(q["score"] for q in questions.values())
    max_total = sum(QMAX.values())
    return {"id": sid, "source": f"subs/{sid}", "notebook": f"subs/{sid}/resnet_a_la_main.ipynb",
            "notebook_sha256": "0" * 64, "status": "graded", "message": "",
            "questions": questions, "total": total, "max_total": max_total,
            "percent": round(100 * total / max_total, 2), "tamper": list(tamper),
            "seconds": sum(q["seconds"] for q in questions.values()) + 1.5,
            "grader_version": "0.1.0"}


def _ungraded(sid, status, message):
    return {"id": sid, "source": f"subs/{sid}", "notebook": None, "notebook_sha256": None,
            "status": status, "message": message, "questions": {}, "total": 0.0,
            "max_total": sum(QMAX.values()), "percent": 0.0, "tamper": [],
            "seconds": 0.0 if status == "missing" else 0.2, "grader_version": "0.1.0"}


def fixture_records() -> list[dict]:
    """Realistic engine records covering every status the report must show."""
    return [
        _graded("alice"),
        _graded("bob", failed=("q1.final_relu", "q2.accuracy")),
        _graded("chloe", failed=("q1.final_relu",), statuses={"q2": "timeout"},
                tamper=["tests/q1.py differs from the template", "results.json added"]),
        _graded("dan", failed=("q1.shortcut", "q1.final_relu", "q3.no_shortcut"),
                messages={"q1.shortcut": "attendu : Add(entrée, BN), reçu : Add(conv, BN) "
                                         "dans /tmp/grading/dan/resnet_a_la_main.ipynb (dan)"}),
        _graded(EVIL_ID, failed=("q3.output",), messages={"q3.output": MALICIOUS},
                tamper=['<img src=x onerror="alert(1)">']),
        _ungraded("farid", "invalid-notebook",
                  "Le fichier resnet_a_la_main.ipynb n'est pas un notebook JSON valide."),
        _ungraded("gaelle", "no-notebook", "Aucun notebook dans le dépôt."),
        _ungraded("hugo", "missing", "Aucune soumission reçue (présent dans la liste d'appel)."),
    ]


def make_fixture(out_dir: Path, records=None) -> list[dict]:
    """Write submissions/*.json, feedback/*.md and run.json like the engine does."""
    records = fixture_records() if records is None else records
    (out_dir / "submissions").mkdir(parents=True, exist_ok=True)
    (out_dir / "feedback").mkdir(exist_ok=True)
    for rec in records:
        (out_dir / "submissions" / f"{rec['id']}.json").write_text(json.dumps(rec, ensure_ascii=False),
                                                                   encoding="utf-8")
        (out_dir / "feedback" / f"{rec['id']}.md").write_text(f"# Retour pour {rec['id']}\n", encoding="utf-8")
    run = {"grader_version": "0.1.0",
           "versions": {"python": "3.11.2", "keras": "3.15.1", "tensorflow": "2.21.0"},
           "thresholds": {"q2.accuracy": 0.80}, "seeds": {"probe": 20240, "training": 0},
           "timeout": 120, "memory_gb": 3.0, "jobs": 2,
           "started": "2026-11-28T16:00:00+00:00", "finished": "2026-11-28T16:05:00+00:00"}
    (out_dir / "run.json").write_text(json.dumps(run), encoding="utf-8")
    return records


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
        w, h = _png_size(base64.b64decode(img["src"][len(prefix):]))
        assert w > 200 and h > 100


def test_no_network_resources(graded_dir):
    _, _, text = graded_dir
    parsed = _parse(text)
    assert not parsed.scripts_src
    for tag, key, url in parsed.urls:
        ok = url.startswith("data:image/png;base64,") or url.startswith("#") or \
            (url.startswith("feedback/") and url.endswith(".md")) or \
            url in ("gradebook.csv", "grades.csv", "feedback/", "results/")
        assert ok, (tag, key, url[:80])
    assert not re.search(r"https?://|//cdn|@import|url\(", text, re.IGNORECASE)
    assert "Content-Security-Policy" in text and "default-src 'none'" in text


def test_untrusted_text_is_escaped(graded_dir):
    _, _, text = graded_dir
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in text  # the mistake example
    assert '<img src=x onerror' not in text and "&lt;img src=x onerror=" in text  # tamper reason
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
    assert list(rows[0]) == ["student_id", "total", "percent", "status"]
    assert sorted(r["student_id"] for r in rows) == sorted(r["id"] for r in records)
    by_id = {r["student_id"]: r for r in rows}
    assert by_id["hugo"] == {"student_id": "hugo", "total": "0.00", "percent": "0.00", "status": "missing"}
    assert float(by_id["alice"]["total"]) == sum(QMAX.values())
    bob = next(r for r in records if r["id"] == "bob")
    assert float(by_id["bob"]["percent"]) == pytest.approx(bob["percent"], abs=0.01)


def test_statistics_from_records(graded_dir):
    out, records, _ = graded_dir
    stats = report.summarise(report.load_records(out))
    assert stats["n"] == 8 and stats["graded"] == 5
    checks = {c["id"]: c for c in stats["checks"]}
    # q1.final_relu fails for bob, chloe, dan; passes for alice and eve.
    assert (checks["q1.final_relu"]["passed"], checks["q1.final_relu"]["n"]) == (2, 5)
    # chloe's q2 timed out: her q2 checks count as failed.
    assert checks["q2.blocks"]["passed"] == 4
    mistakes = stats["mistakes"]
    assert mistakes[0]["id"] == "q1.final_relu" and mistakes[0]["count"] == 3
    assert any(m["id"].startswith("q2 · délai dépassé") and m["count"] == 1 for m in mistakes)
    shortcut = next(m for m in mistakes if m["id"] == "q1.shortcut")
    assert not re.search(r"\bdan\b", shortcut["example"]) and "/tmp/grading" not in shortcut["example"]
    assert "reçu : Add(conv, BN) dans …/" in shortcut["example"]
    assert "«étudiant·e»" in shortcut["example"] and "…/resnet_a_la_main.ipynb" in shortcut["example"]
    q1 = next(q for q in stats["questions"] if q["id"] == "q1")
    q1_scores = [r["questions"]["q1"]["score"] / 7.0 for r in records if r["status"] == "graded"]
    assert q1["rate"] == pytest.approx(sum(q1_scores) / len(q1_scores))


def test_manual_question_has_no_rate():
    recs = [report._normalise(_graded("alice"), "alice"), report._normalise(_graded("bob", ("q1.shape",)), "bob")]
    for r in recs:
        r["questions"]["q4"] = {"score": 0.0, "max_score": 3.0, "status": "manual", "seconds": 0.0, "checks": []}
    recs[1]["questions"]["q3"]["status"] = "not-graded"
    recs[1]["questions"]["q3"]["checks"] = []
    recs[1]["questions"]["q3"]["score"] = 0.0
    stats = report.summarise(recs)
    rates = {q["id"]: q["rate"] for q in stats["questions"]}
    assert rates["q4"] is None  # "corrigée à la main", not 0 %
    assert rates["q3"] == pytest.approx(0.5)
    assert rates["q1"] == pytest.approx((1 + 6 / 7) / 2)
    assert [m["id"] for m in stats["mistakes"]] == ["q1.shape", "q3 · non corrigée"]


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


def test_cli_main(tmp_path, capsys):
    out = tmp_path / "out"
    make_fixture(out, fixture_records()[:3])
    assert report.main([str(out)]) == 0
    assert (out / "report.html").is_file()
    assert report.main([str(tmp_path / "nowhere")]) == 2


# ----------------------------------------------------------- headless Chromium

def _chromium(args, user_dir, timeout=90):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
           f"--user-data-dir={user_dir}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def _render_check(dom: str) -> dict:
    m = re.search(r'<div id="render-check"([^>]*)>', dom)
    assert m, "self-check element missing from the DOM"
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))
    return {k: html.unescape(v) for k, v in attrs.items()}


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package `chromium`, installed by .ci/run)")
def test_report_renders_in_headless_chromium(tmp_path):
    out = tmp_path / "out"
    records = make_fixture(out)
    page = report.write_report(out)
    url = page.resolve().as_uri()
    res = _chromium(["--virtual-time-budget=5000", "--dump-dom", url], tmp_path / "ud1")
    assert res.returncode == 0, res.stderr[-2000:]
    check = _render_check(res.stdout)
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
    res = _chromium(["--hide-scrollbars", "--window-size=1280,2000", f"--screenshot={shot}", url],
                    tmp_path / "ud2")
    assert res.returncode == 0, res.stderr[-2000:]
    w, h = _png_size(shot.read_bytes())
    assert (w, h) == (1280, 2000)
    shutil.copy(page, ARTIFACTS / "report.html")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package `chromium`, installed by .ci/run)")
def test_table_sorts_in_headless_chromium(tmp_path):
    out = tmp_path / "out"
    records = make_fixture(out)
    page = report.write_report(out)
    # Click the "%" header twice (descending), then record the row order in the DOM.
    probe = ('<script>window.addEventListener("load", function () {'
             'var th = document.querySelectorAll("#students th")[2]; th.click(); th.click();'
             'var ids = Array.prototype.map.call(document.querySelectorAll("#students tbody tr"),'
             ' function (r) { return r.cells[0].textContent; });'
             'document.body.setAttribute("data-order", JSON.stringify(ids)); });</script></body>')
    sorted_page = out / "sorted.html"
    sorted_page.write_text(page.read_text(encoding="utf-8").replace("</body>", probe), encoding="utf-8")
    res = _chromium(["--virtual-time-budget=5000", "--dump-dom", sorted_page.resolve().as_uri()],
                    tmp_path / "ud")
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

EXAMPLES = ROOT / "examples"
NB = "resnet_a_la_main.ipynb"
TEMPLATE = ROOT / "student_template" / "resnet_a_la_main.ipynb"


def _load_make_examples():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_examples", ROOT / "scripts" / "make_examples.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _code(nb_path):
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


@pytest.mark.skipif(not TEMPLATE.exists(), reason="student_template/ not generated yet (make assign)")
def test_examples_are_up_to_date_with_the_template(tmp_path):
    mod = _load_make_examples()
    mod.build_examples(TEMPLATE, tmp_path)
    built = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    shipped = sorted(p.relative_to(EXAMPLES) for p in EXAMPLES.rglob("*") if p.is_file())
    assert built == shipped, "examples/ is stale: run `.venv/bin/python scripts/make_examples.py`"
    for rel in built:
        assert (tmp_path / rel).read_bytes() == (EXAMPLES / rel).read_bytes(), \
            f"examples/{rel} is stale: run `.venv/bin/python scripts/make_examples.py`"


@pytest.mark.skipif(not TEMPLATE.exists(), reason="student_template/ not generated yet (make assign)")
def test_examples_carry_their_mistake():
    mod = _load_make_examples()
    names = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())
    assert names == sorted(mod.VARIANTS)
    ns = {}
    for name in names:
        cells = "\n\n".join(_code(EXAMPLES / name / "resnet_a_la_main.ipynb"))
        ns[name] = cells
        if name == "erreur-de-syntaxe":
            with pytest.raises(SyntaxError):
                compile(cells, name, "exec")
        else:
            compile(cells, name, "exec")  # every other example is valid Python
    template = "\n\n".join(_code(TEMPLATE))
    assert ns["modele-vierge"] == template
    assert ns["relu-dans-conv"].count('activation="relu"') == ns["reference"].count('activation="relu"') + 1
    assert ns["logits-sans-softmax"].count('activation="softmax"') == \
        ns["reference"].count('activation="softmax"') - 2
    assert "Add()([y, x])" in ns["mauvais-raccourci"]
    assert (EXAMPLES / "logits-sans-softmax" / "tests" / "q2.py").is_file()
    for name in names:
        if name != "modele-vierge":
            assert ns[name] != template and (name == "reference" or ns[name] != ns["reference"])


def test_stage_examples_rebuilds_full_repositories(tmp_path):
    tpl = tmp_path / "tpl"
    (tpl / "tests").mkdir(parents=True)
    (tpl / "tests" / "q1.py").write_text("pristine")
    (tpl / "README.md").write_text("readme")
    (tpl / NB).write_text("template notebook")
    (tpl / "__pycache__").mkdir()
    ex = tmp_path / "examples"
    (ex / "alice").mkdir(parents=True)
    (ex / "alice" / NB).write_text("alice notebook")
    (ex / "bob" / "tests").mkdir(parents=True)
    (ex / "bob" / NB).write_text("bob notebook")
    (ex / "bob" / "tests" / "q1.py").write_text("planted")
    (ex / "README.md").write_text("not a submission")
    (ex / "carol.ipynb").write_text("bare notebook")
    staging = tmp_path / "staging"
    (staging / "stale").mkdir(parents=True)
    subs = report.stage_examples(ex, tpl, staging)
    assert [p.name for p in subs] == ["alice", "bob", "carol.ipynb"]
    assert not (staging / "stale").exists()
    assert (staging / "alice" / NB).read_text() == "alice notebook"
    assert (staging / "alice" / "tests" / "q1.py").read_text() == "pristine"
    assert (staging / "bob" / "tests" / "q1.py").read_text() == "planted"
    assert (staging / "bob" / "README.md").read_text() == "readme"
    assert not (staging / "alice" / "__pycache__").exists()
    assert subs[2] == ex / "carol.ipynb"
    # Without a template, the examples are graded as they are.
    assert report.stage_examples(ex, tmp_path / "none", staging)[0] == ex / "alice"


def test_run_demo_grades_staged_examples_and_reports(tmp_path, monkeypatch, capsys):
    """run_demo with the engine replaced by a stub that writes fixture records."""
    calls = []

    def fake_engine(cmd, cwd=None):
        calls.append(cmd)
        out = Path(cmd[cmd.index("--out") + 1])
        subs = cmd[4:cmd.index("--out")]
        make_fixture(out, [_graded(Path(s).name) for s in subs])
        return subprocess.CompletedProcess(cmd, 0)

    ex = tmp_path / "examples"
    for name in ("alice", "bob"):
        (ex / name).mkdir(parents=True)
        (ex / name / NB).write_text("{}")
    (tmp_path / "student_template").mkdir()
    (tmp_path / "student_template" / "README.md").write_text("modèle")
    monkeypatch.setattr(report, "ROOT", tmp_path)  # staging goes to tmp_path/build/demo-repos
    monkeypatch.setattr(report.subprocess, "run", fake_engine)
    path = report.run_demo(ex, tmp_path / "out")
    assert calls and calls[0][1:4] == ["-m", "autograder", "grade"] and "--no-report" in calls[0]
    assert [Path(c).parent for c in calls[0][4:6]] == [tmp_path / "build" / "demo-repos"] * 2
    assert (tmp_path / "build" / "demo-repos" / "bob" / "README.md").is_file()
    assert path == tmp_path / "out" / "report.html" and path.is_file()
    printed = capsys.readouterr().out
    assert f"Rapport : {path}" in printed and "alice" in printed and "bob" in printed

    # An engine that fails without writing anything makes the demo fail.
    monkeypatch.setattr(report.subprocess, "run", lambda cmd, cwd=None: subprocess.CompletedProcess(cmd, 3))
    with pytest.raises(SystemExit) as exc:
        report.run_demo(ex, tmp_path / "empty")
    assert exc.value.code == 3


@pytest.mark.skipif(not TEMPLATE.exists(), reason="student_template/ not generated yet (make assign)")
def test_demo_repositories_flag_only_the_planted_test(tmp_path):
    delivery = pytest.importorskip("autograder.delivery")
    subs = report.stage_examples(EXAMPLES, TEMPLATE.parent, tmp_path)
    flags = {p.name: delivery.tamper_report(p, TEMPLATE.parent) for p in subs}
    assert flags["reference"] == [] and flags["modele-vierge"] == []
    assert len(flags["logits-sans-softmax"]) == 1 and "tests/q2.py" in flags["logits-sans-softmax"][0]


@pytest.mark.skipif(not TEMPLATE.exists(), reason="student_template/ not generated yet (make assign)")
def test_reference_example_builds_the_reference_models():
    """The reference example's functions, executed here, match solutions/ (layer types, params)."""
    keras = pytest.importorskip("keras")
    from solutions import resnet_a_la_main as sol

    mod = _load_make_examples()
    ns = {"keras": keras}
    for src in _code(EXAMPLES / "reference" / "resnet_a_la_main.ipynb"):
        if any(f"def {f}(" in src for f in mod.FUNCTIONS):
            exec(compile(src, "reference", "exec"), ns)
    for name in ("build_resnet", "build_cnn"):
        mine, theirs = ns[name](), getattr(sol, name)()
        assert [type(la).__name__ for la in mine.layers] == [type(la).__name__ for la in theirs.layers]
        assert mine.count_params() == theirs.count_params()
