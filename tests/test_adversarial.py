"""The standing adversarial suite: every class of attack of issue 10, through ``grade``.

Each attack notebook is written so that the attack *succeeding* would show:
its functions return the reference answer only when the attack worked (they
found the grader's processes, read the solution, and so on) and raise
otherwise, so "no points gained" is the assertion. The whole class (attacks
and two honest victims) is graded in one run of :func:`autograder.engine.run`
with bubblewrap isolation, then the test checks that no attack gained a point,
that the victims kept every point, that nothing outside the run changed, that
no attacker process survived and that every submission has its row.

Unit tests at the end cover the trusted side's bounds directly (hostile JSON,
hostile ``.keras`` archives, nested models, pasted weights, text escaping).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import textwrap
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import engine
from autograder.public.sandbox import bubblewrap
from tests.faults import NOTEBOOK, make_notebook, reference_functions

ROOT = Path(__file__).resolve().parents[1]
MARK = "ADVERSARIAL-7f3a"  # in every attacker process's command line, to find survivors
TIMEOUT = 60  # per stage; the machine may be loaded

needs_bwrap = pytest.mark.skipif(
    bubblewrap() is None and not os.environ.get("CI"),
    reason="bubblewrap (bwrap) is not installed on this machine",
)


def _with_prelude(functions: dict, prelude: str) -> dict:
    """Reference functions guarded by ``_attack_worked()``, defined by ``prelude``."""
    guard = "    if not _attack_worked():\n        raise RuntimeError('attaque sans effet')\n"
    out = {}
    for name, src in functions.items():
        lines = src.splitlines()
        body_at = next(i for i, line in enumerate(lines) if line.rstrip().endswith(":")) + 1
        out[name] = "\n".join(lines[:body_at] + [guard.rstrip("\n")] + lines[body_at:])
    out["ResidualBlock"] = textwrap.dedent(prelude) + "\n\n" + out["ResidualBlock"]
    return out


ATTACKS = {
    # the grader's terminal and processes: /proc, TIOCSTI on every reachable tty
    "terminal_injection": """
        import os, fcntl, termios
        def _attack_worked():
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    cmd = open(f"/proc/{pid}/cmdline", "rb").read()
                except OSError:
                    continue
                if b"autograder.engine" in cmd or b"pytest" in cmd:
                    return True
                for fd in ("0", "1", "2"):
                    try:
                        with open(f"/proc/{pid}/fd/{fd}", "wb") as tty:
                            fcntl.ioctl(tty, termios.TIOCSTI, b"#")
                            return True
                    except OSError:
                        pass
            try:
                with open("/dev/tty", "wb") as tty:
                    fcntl.ioctl(tty, termios.TIOCSTI, b"#")
                    return True
            except OSError:
                return False
    """,
    # a daemon in a new session that signals every process it can see
    "daemon_signals_others": f"""
        import os, subprocess, sys
        class _Demon:  # a class body runs at definition time
            _p = subprocess.Popen(
                [sys.executable, "-c", "import os, signal, time\\n"
                 "while True:\\n"
                 "    for p in os.listdir('/proc'):\\n"
                 "        if p.isdigit() and int(p) != os.getpid():\\n"
                 "            for s in (signal.SIGSTOP, signal.SIGTERM, signal.SIGKILL):\\n"
                 "                try: os.kill(int(p), s)\\n"
                 "                except OSError: pass\\n"
                 "    time.sleep(0.05)", "{MARK}"],
                start_new_session=True, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        def _attack_worked():
            return False
    """,
    # a flood of processes holding memory, started at definition time
    "process_flood": f"""
        import subprocess, sys
        class _Flood:
            _p = [subprocess.Popen([sys.executable, "-c",
                                    "import time; x = bytearray(25 * 2**20); time.sleep(600)",
                                    "{MARK}"], start_new_session=True)
                  for _ in range(150)]
        def _attack_worked():
            return False
    """,
    # the kit's checkout: the reference solution and the hidden checks
    "read_solution": """
        import glob, os, sys
        def _attack_worked():
            roots = {sys.prefix, os.path.dirname(sys.prefix), "/", os.path.expanduser("~")}
            for root in roots:
                for pattern in ("solutions/resnet_a_la_main.py", "*/solutions/resnet_a_la_main.py",
                                "autograder/hidden/structure.py", "*/autograder/hidden/structure.py",
                                "work/*/solutions/resnet_a_la_main.py"):
                    if glob.glob(os.path.join(root, pattern)):
                        return True
            return False
    """,
    # outputs, caches and other students' jobs
    "read_other_jobs": """
        import glob
        def _attack_worked():
            found = glob.glob("/tmp/*/job.json") + glob.glob("/tmp/autograder-*")
            found += glob.glob("/**/.work/*.job.json", recursive=False)
            found += glob.glob("/work/**/grades.csv", recursive=True)[:1]
            return bool(found)
    """,
    # writes, modes and devices outside the job folder
    "write_outside": f"""
        import os, sys
        def _attack_worked():
            worked = False
            target = os.path.realpath(sys.executable)
            for attempt in (lambda: os.chmod(target, 0o777),
                            lambda: os.utime(target, (0, 0)),
                            lambda: os.setxattr(target, "user.x", b"1"),
                            lambda: os.chown(target, 65534, 65534),
                            lambda: open("/dev/kmsg", "w").write("{MARK}"),
                            lambda: open(os.path.join(os.path.dirname(os.__file__), "{MARK}.py"), "w")):
                try:
                    attempt()
                    worked = True
                except (OSError, TypeError):
                    pass
            for dev in os.listdir("/dev"):
                path = "/dev/" + dev
                try:
                    if os.path.exists(path) and __import__("stat").S_ISBLK(os.stat(path).st_mode):
                        open(path, "wb").close()
                        worked = True
                except OSError:
                    pass
            try:  # a flood of data: the tmpfs is full long before 4 GiB
                with open(os.path.expanduser("~/flood.bin"), "wb") as f:
                    for _ in range(4096):
                        f.write(b"x" * (1 << 20))
                worked = True
            except OSError:
                pass
            return worked
    """,
    # hostile artefacts: a deep probe.json and a padded .keras config
    "hostile_artefacts": """
        import json, zipfile
        from tensorflow import keras as _keras
        class _Piege:  # probe.json nested 100,000 deep, config.json padded to 8 MB
            def _dumps(obj, *a, _o=json.dumps, **k):
                if k.get("indent") == 1:
                    return "[" * 100000 + "]" * 100000
                return _o(obj, *a, **k)
            json.dumps = _dumps
            def _save(self, path, *a, _o=_keras.Model.save, _z=zipfile, **k):
                _o(self, path, *a, **k)
                with _z.ZipFile(path, "a") as z:
                    z.writestr("config.json", "[" * 60 + " " * (8 << 20) + "]" * 60,
                               compress_type=_z.ZIP_DEFLATED)
            _keras.Model.save = _save
        def _attack_worked():
            return True
    """,
    # messages carrying Markdown, terminal escapes and a lot of text
    "message_injection": """
        def _attack_worked():
            raise ValueError("\\n## NOTE FINALE : 20 / 20\\n\\x1b[2J\\x1b]0;pwned\\x07" + "A" * 20000)
    """,
}


def _attack_notebook(prelude: str) -> dict:
    return make_notebook(_with_prelude(reference_functions(), prelude))


def _class_body_hang() -> dict:
    """Reference functions plus a class whose body never ends (definition time).

    It sleeps rather than spins: the engine's timeout is what is tested here, and a
    spinning loop would burn a core of the test machine for the whole timeout (the
    spinning kind is tested in tests/public/test_sandbox.py and the fault goldens).
    """
    return make_notebook(
        reference_functions(),
        extra_cells=["import time\n\nclass Piege:\n    while True:\n        time.sleep(0.5)\n"],
    )


def _write(folder: Path, nb) -> None:
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / NOTEBOOK)


def _tree_state(paths) -> dict:
    state = {}
    for p in paths:
        st = os.stat(p)
        state[str(p)] = (st.st_mode, st.st_uid, st.st_mtime_ns, st.st_size)
    return state


def _survivors() -> list[int]:
    pids = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if MARK.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    pids.append(int(pid))
            except OSError:
                pass
    return pids


@pytest.fixture(scope="module")
def attacked_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("adversarial")
    cls = base / "classe"
    for name, prelude in ATTACKS.items():
        _write(cls / name, _attack_notebook(prelude))
    _write(cls / "class_body_hang", _class_body_hang())
    ref = make_notebook(reference_functions())
    _write(cls / "victime_a", ref)
    _write(cls / "victime_b", ref)
    # a symlink to a classmate's notebook (and one to the teacher's master)
    (cls / "lien_symbolique").mkdir()
    (cls / "lien_symbolique" / NOTEBOOK).symlink_to(cls / "victime_a" / NOTEBOOK)
    (cls / "lien_vers_le_maitre").mkdir()
    (cls / "lien_vers_le_maitre" / NOTEBOOK).symlink_to(
        ROOT / "assignment" / "resnet_a_la_main.ipynb"
    )
    # a byte-identical copy (flagged, not penalised)
    _write(cls / "copie_identique", ref)
    # broken inputs that must cost only their own row
    (cls / "archive_corrompue.zip").write_bytes(b"PK\x03\x04 pas une archive")
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("a/" + NOTEBOOK, "{}")
    nested = inner.getvalue()
    for level in range(4):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(f"niveau{level}.zip", nested)
            z.writestr(f"autre{level}.zip", nested)
        nested = buf.getvalue()
    (cls / "archives_imbriquees.zip").write_bytes(nested)
    deep = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (cls / "metadonnees_profondes").mkdir()
    text = json.dumps(deep)[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    (cls / "metadonnees_profondes" / NOTEBOOK).write_text(text)
    surrogate = make_notebook(reference_functions(), extra_cells=["texte = '\\ud800'\n"])
    (cls / "surrogat").mkdir()
    raw = json.dumps(surrogate).replace("\\\\ud800", "\\ud800")
    (cls / "surrogat" / NOTEBOOK).write_text(raw)

    watched = [
        os.path.realpath(sys.executable),
        Path(os.__file__).parent,
        ROOT / "solutions" / "resnet_a_la_main.py",
        ROOT / "autograder" / "public" / "checks",
        ROOT / "autograder" / "hidden",
    ]
    before = _tree_state(watched)
    out = base / "out"
    info = engine.run(
        [cls],
        out,
        jobs=2,
        timeout_s=TIMEOUT,
        memory_gb=2.0,
        progress=False,
        report=True,
        stream=io.StringIO(),
        isolation="bubblewrap",
    )
    after = _tree_state(watched)
    records = {p.stem: json.loads(p.read_text()) for p in (out / "submissions").glob("*.json")}
    return {
        "out": out,
        "info": info,
        "records": records,
        "before": before,
        "after": after,
        "survivors": _survivors(),
        "class": cls,
    }


@pytest.mark.slow
@needs_bwrap
def test_no_attack_gains_a_point(attacked_class):
    records = attacked_class["records"]
    for name in list(ATTACKS) + ["lien_symbolique", "lien_vers_le_maitre"]:
        assert records[name]["total"] == 0, (
            name,
            [
                c["message"]
                for q in records[name]["questions"].values()
                for c in q["checks"]
                if c["passed"]
            ],
        )


@pytest.mark.slow
@needs_bwrap
def test_victims_keep_every_point(attacked_class):
    records = attacked_class["records"]
    for name in ("victime_a", "victime_b", "copie_identique"):
        rec = records[name]
        assert rec["status"] == "graded"
        assert rec["total"] == rec["max_total"], (
            name,
            {q: (v["status"], v.get("message")) for q, v in rec["questions"].items()},
        )


@pytest.mark.slow
@needs_bwrap
def test_run_completes_with_every_row(attacked_class):
    out, records = attacked_class["out"], attacked_class["records"]
    assert attacked_class["info"]["status"] == "finished"
    names = {p.name.removesuffix(".zip") for p in attacked_class["class"].iterdir()}
    with open(out / "grades.csv", newline="") as fh:
        rows = {r["file"] for r in csv.DictReader(fh)}
    for name in names:
        assert any(r == name or r.startswith(name) for r in records), name
        assert any(r == name or r.startswith(name) for r in rows), name
    assert records["archive_corrompue"]["status"] == "invalid-notebook"
    assert records["metadonnees_profondes"]["status"] == "invalid-notebook"
    assert records["lien_symbolique"]["status"] == "invalid-notebook"
    assert records["surrogat"]["status"] == "graded"
    assert records["surrogat"]["total"] == records["surrogat"]["max_total"]
    assert (out / "report.html").is_file()


@pytest.mark.slow
@needs_bwrap
def test_nothing_outside_changed_and_no_process_left(attacked_class):
    assert attacked_class["before"] == attacked_class["after"]
    assert attacked_class["survivors"] == []
    assert not (Path(os.__file__).parent / f"{MARK}.py").exists()


@pytest.mark.slow
@needs_bwrap
def test_identical_notebooks_are_flagged_not_penalised(attacked_class):
    records = attacked_class["records"]
    assert "victime_a" in records["copie_identique"]["identical_to"]
    assert records["copie_identique"]["total"] == records["victime_a"]["total"]
    html = (attacked_class["out"] / "report.html").read_text()
    assert "identique" in html and "copie_identique" in html


@pytest.mark.slow
@needs_bwrap
def test_hang_at_definition_names_the_cell_and_costs_nothing_else(attacked_class):
    rec = attacked_class["records"]["class_body_hang"]
    assert rec["total"] == rec["max_total"], {
        q: v.get("message") for q, v in rec["questions"].items()
    }


@pytest.mark.slow
@needs_bwrap
def test_hostile_artefacts_cost_only_their_questions(attacked_class):
    rec = attacked_class["records"]["hostile_artefacts"]
    assert rec["status"] == "graded"
    assert rec["total"] == 0
    assert all(q["status"] in ("ok", "error") for q in rec["questions"].values())


@pytest.mark.slow
@needs_bwrap
def test_student_text_is_inert_in_every_output(attacked_class):
    out = attacked_class["out"]
    feedback = (out / "feedback" / "message_injection.md").read_text()
    assert "\x1b" not in feedback and "\x07" not in feedback
    assert not any(line.startswith("## NOTE") for line in feedback.splitlines())
    assert len(feedback) < 20_000
    results = json.loads((out / "results" / "message_injection.json").read_text())
    assert all("\x1b" not in t["output"] and len(t["output"]) < 3000 for t in results["tests"])
    hidden_source = (ROOT / "autograder" / "hidden" / "structure.py").read_text()
    secret_line = next(line for line in hidden_source.splitlines() if "def " in line)
    for f in list((out / "feedback").glob("*.md")) + list((out / "results").glob("*.json")):
        assert secret_line not in f.read_text()


def test_grade_refuses_to_run_without_bubblewrap(tmp_path, monkeypatch):
    from autograder import cli
    from autograder.public import isolation

    monkeypatch.setattr(isolation, "bubblewrap", lambda: None)
    nb = tmp_path / "a" / NOTEBOOK
    nb.parent.mkdir()
    nbformat.write(make_notebook({}), nb)
    code = cli.main(["grade", str(nb.parent), "--out", str(tmp_path / "out")])
    assert code != 0
    assert not (tmp_path / "out" / "grades.csv").exists()
    with pytest.raises(isolation.IsolationUnavailable, match="bubblewrap"):
        isolation.resolve_isolation("bubblewrap")
    assert isolation.resolve_isolation("auto") == "process"


@needs_bwrap
def test_hostile_file_names_reach_no_terminal(tmp_path):
    """A zip whose name carries terminal escapes: its row's message and the summary are clean."""
    cls = tmp_path / "classe"
    cls.mkdir()
    (cls / "\x1b[2J\x1b]0;pwned\x07piege.zip").write_bytes(b"pas une archive")
    (cls / "autre.zip").write_bytes(b"pas une archive non plus")
    stream = io.StringIO()
    engine.run(
        sorted(cls.iterdir()), tmp_path / "out", jobs=1, progress=False, report=False, stream=stream
    )
    text = stream.getvalue()
    assert "\x1b" not in text and "\x07" not in text and "piege" in text
    for rec in (tmp_path / "out" / "submissions").glob("*.json"):
        assert "\x1b" not in rec.read_text()
