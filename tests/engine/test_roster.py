"""Rosters (GitHub Classroom export, Classroom 50 roster.csv, plain list) and submission ids.

A roster's ids must match the ids discovery gives the cloned repositories, or
every student appears twice in grades.csv: graded under the repository's id,
and "missing" under the roster's. Discovery gives the same id whether the class
folder or a glob of its repositories is on the command line.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from autograder import engine
from autograder.engine import discover

GITHUB_CLASSROOM = (
    '"identifier","github_username","github_id","name"\n'
    '"alice.martin@univ.fr","alice-m","1001","Alice Martin"\n'
    '"bob.durand@univ.fr","BobD","1002","Bob Durand"\n'
    '"zoe.absente@univ.fr","","","Zoé Absente"\n'
)
CLASSROOM50 = (
    "username,first_name,last_name,email,section,github_id,role\n"
    "alice-m,Alice,Martin,alice.martin@univ.fr,A,1001,student\n"
    "bobd,Bob,Durand,bob.durand@univ.fr,A,1002,student\n"
    "prof-x,Paul,Prof,paul@univ.fr,,9,teacher\n"
    ",Zoé,Absente,zoe.absente@univ.fr,B,,\n"
)
PLAIN = "alice-m\nBobD\n\nzoe-absente\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    "name, text, expected",
    [
        ("github_classroom.csv", GITHUB_CLASSROOM, ["alice-m", "BobD", "zoe.absente"]),
        ("classroom50.csv", CLASSROOM50, ["alice-m", "bobd", "zoe.absente"]),
        ("logins.txt", PLAIN, ["alice-m", "BobD", "zoe-absente"]),
        ("excel.csv", "\ufeffgithub_username;name\nalice-m;Alice\n'=bob;Bob\n", ["alice-m", "bob"]),
        ("other.csv", "nom,groupe\nalice,A\n", ["alice"]),
    ],
)
def test_roster_formats(tmp_path, name, text, expected):
    assert engine.read_roster(_write(tmp_path, name, text)) == expected


def test_github_classroom_export_is_not_keyed_on_the_identifier(tmp_path):
    ids = engine.read_roster(_write(tmp_path, "r.csv", GITHUB_CLASSROOM))
    assert not any("univ" in i for i in ids[:2])  # the e-mails of linked students are not ids


def _repo(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / ".git").mkdir()
    (path / "README.md").write_text("sans notebook\n", encoding="utf-8")  # status no-notebook
    return path


@pytest.fixture
def classroom_clone(tmp_path):
    """`gh classroom clone student-repos` layout (GitHub Classroom)."""
    cls = tmp_path / "resnet-a-la-main-submissions"
    for login in ("alice-m", "BobD"):
        _repo(cls / f"resnet-a-la-main-{login}")
    return cls


@pytest.fixture
def c50_download(tmp_path):
    """`gh teacher download ORG ml-2026 resnet-a-la-main` layout (Classroom 50)."""
    cls = tmp_path / "ml-2026-resnet-a-la-main_submissions_2026_12_18_T_23_59_00"
    for login in ("alice-m", "bobd"):
        _repo(cls / f"ml-2026-resnet-a-la-main-{login}")
    (cls / "scores.csv").write_text("username,score\n", encoding="utf-8")
    return cls


@pytest.mark.parametrize(
    "layout, expected",
    [
        ("classroom_clone", ["BobD", "alice-m"]),
        ("c50_download", ["alice-m", "bobd"]),
    ],
)
def test_same_ids_for_a_folder_and_a_glob(layout, expected, request, tmp_path):
    cls = request.getfixturevalue(layout)
    by_folder = sorted(s.id for s in discover([cls], tmp_path / "w1"))
    by_glob = sorted(s.id for s in discover(sorted(cls.iterdir()), tmp_path / "w2"))
    assert by_folder == by_glob == sorted(expected)


def test_an_ordinary_parent_strips_nothing(tmp_path):
    _repo(tmp_path / "cours" / "resnet-a-la-main-alice")
    (sub,) = discover([tmp_path / "cours" / "resnet-a-la-main-alice"], tmp_path / "w")
    assert sub.id == "resnet-a-la-main-alice"


def _grades(out: Path) -> list[dict]:
    rows = csv.DictReader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8")))
    return [r for r in rows if r["file"] != "points-per-question"]  # otter's header row


@pytest.mark.parametrize(
    "layout, roster",
    [
        ("classroom_clone", GITHUB_CLASSROOM),
        ("c50_download", CLASSROOM50),
    ],
)
@pytest.mark.parametrize("as_glob", [False, True])
def test_no_phantom_rows(layout, roster, as_glob, request, tmp_path):
    """One row per student: the two who submitted, and only the real absentee as missing."""
    cls = request.getfixturevalue(layout)
    paths = sorted(cls.iterdir()) if as_glob else [cls]
    out = tmp_path / "out"
    engine.run(
        paths,
        out,
        jobs=1,
        roster=_write(tmp_path, "roster.csv", roster),
        progress=False,
        report=False,
    )
    records = {
        p.stem: json.loads(p.read_text(encoding="utf-8"))
        for p in (out / "submissions").glob("*.json")
    }
    assert sorted(records, key=str.lower) == sorted(
        ["alice-m", "BobD" if layout == "classroom_clone" else "bobd", "zoe.absente"], key=str.lower
    )
    statuses = {k: r["status"] for k, r in records.items()}
    assert [k for k, v in statuses.items() if v == "missing"] == ["zoe.absente"]
    assert len(_grades(out)) == 3


def test_a_roster_keyed_on_emails_would_show_phantoms(tmp_path, classroom_clone):
    """The failing variant: the old behaviour (first column = e-mail) doubles every student."""
    emails = "identifier,name\nalice.martin@univ.fr,Alice\nbob.durand@univ.fr,Bob\n"
    out = tmp_path / "out"
    engine.run(
        [classroom_clone],
        out,
        jobs=1,
        roster=_write(tmp_path, "r.csv", emails),
        progress=False,
        report=False,
    )
    assert len(_grades(out)) == 4  # 2 graded + 2 "missing": what the header detection avoids


@pytest.mark.parametrize(
    "content,header",
    [
        ("id,name\nalice,A\nbob,B\n\nalice,A\n", "id"),
        ("login;nom\nalice;A\nbob;B\n", "first column"),
    ],
)
def test_read_roster(tmp_path, content, header):
    p = tmp_path / "roster.csv"
    p.write_text(content, encoding="utf-8")
    assert engine.read_roster(p) == ["alice", "bob"]


def test_read_roster_id_column_not_first(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_text("name,id\nAlice,alice\nBob,bob\n", encoding="utf-8")
    assert engine.read_roster(p) == ["alice", "bob"]
