"""Discovery (autograder.engine.discovery): paths, repositories, class folders, zips, ids."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from autograder.engine.discovery import (
    NOTEBOOK_NAME,
    DiscoveryError,
    discover,
    sanitize_id,
)

ROOT = Path(__file__).resolve().parents[2]


def write_notebook(path: Path, source: str = "def f():\n    return 1\n") -> Path:
    """Write a minimal valid notebook with one code cell."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": source,
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def _by_id(subs):
    return {s.id: s for s in subs}


def test_discover_single_notebook_and_repo(tmp_path):
    a = write_notebook(tmp_path / "alice.ipynb")
    repo = tmp_path / "bob-repo"
    write_notebook(repo / NOTEBOOK_NAME)
    write_notebook(repo / ".ipynb_checkpoints" / "resnet_a_la_main-checkpoint.ipynb")
    write_notebook(repo / "tests" / "scratch.ipynb")
    subs = discover([a, repo], tmp_path / "w")
    assert [s.id for s in subs] == ["alice", "bob-repo"]
    assert subs[0].notebook == a and subs[0].status is None
    assert subs[1].notebook == repo / NOTEBOOK_NAME and subs[1].root == repo


def test_discover_notebook_named_like_assignment_takes_folder_name(tmp_path):
    nb = write_notebook(tmp_path / "Élodie Martin" / NOTEBOOK_NAME)
    (sub,) = discover([nb], tmp_path / "w")
    assert sub.id == "Elodie-Martin"


def test_discover_only_notebook_any_name(tmp_path):
    repo = tmp_path / "carol"
    write_notebook(repo / "mon_tp.ipynb")
    (sub,) = discover([repo], tmp_path / "w")
    assert sub.status is None and sub.notebook.name == "mon_tp.ipynb"


def test_discover_several_notebooks_none_named(tmp_path):
    repo = tmp_path / "dave"
    (repo / ".git").mkdir(parents=True)
    write_notebook(repo / "a.ipynb")
    write_notebook(repo / "b.ipynb")
    (sub,) = discover([repo], tmp_path / "w")
    assert sub.status == "no-notebook"
    assert "Plusieurs notebooks" in sub.message and NOTEBOOK_NAME in sub.message


def test_discover_empty_dir_is_a_record_not_an_error(tmp_path):
    empty = tmp_path / "eve"
    empty.mkdir()
    (sub,) = discover([empty], tmp_path / "w")
    assert sub.id == "eve" and sub.status == "no-notebook" and sub.notebook is None
    assert "Aucun notebook" in sub.message


def test_discover_class_folder_of_repos_and_notebooks(tmp_path):
    cls = tmp_path / "classe"
    write_notebook(cls / "alice" / NOTEBOOK_NAME)
    write_notebook(cls / "bob" / "sub" / NOTEBOOK_NAME)
    (cls / "empty").mkdir(parents=True)
    write_notebook(cls / "zoe.ipynb")
    (cls / "notes.txt").write_text("x")
    subs = _by_id(discover([cls], tmp_path / "w"))
    assert set(subs) == {"alice", "bob", "empty", "zoe"}
    assert subs["bob"].notebook == cls / "bob" / "sub" / NOTEBOOK_NAME
    assert subs["empty"].status == "no-notebook"


def test_discover_folder_of_loose_notebooks(tmp_path):
    cls = tmp_path / "export"
    write_notebook(cls / "alice_tp.ipynb")
    write_notebook(cls / "bob_tp.ipynb")
    subs = discover([cls], tmp_path / "w")
    assert [s.id for s in subs] == ["alice_tp", "bob_tp"]
    assert all(s.status is None for s in subs)


def test_discover_gh_classroom_layout_strips_slug(tmp_path):
    root = tmp_path / "student-repos" / "resnet-submissions"
    write_notebook(root / "resnet-alice" / NOTEBOOK_NAME)
    (root / "resnet-bob" / ".git").mkdir(parents=True)
    write_notebook(root / "resnet-bob" / NOTEBOOK_NAME)
    subs = discover([tmp_path / "student-repos"], tmp_path / "w")
    assert sorted(s.id for s in subs) == ["alice", "bob"]


def test_discover_zip_of_class_and_unique_ids(tmp_path):
    src = tmp_path / "src"
    write_notebook(src / "alice" / NOTEBOOK_NAME)
    write_notebook(src / "bob" / NOTEBOOK_NAME)
    zpath = tmp_path / "classe.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in src.rglob("*.ipynb"):
            zf.write(f, Path("classe") / f.relative_to(src))
        zf.writestr("../evil.ipynb", "{}")  # zip-slip: ignored
    other = write_notebook(tmp_path / "more" / "alice" / NOTEBOOK_NAME)
    subs = discover([zpath, other], tmp_path / "w")
    assert sorted(s.id for s in subs) == ["alice", "alice-2", "bob"]
    assert not (tmp_path / "evil.ipynb").exists()
    assert all(s.notebook.is_file() for s in subs)


def test_discover_zip_of_one_repo_uses_zip_name(tmp_path):
    zpath = tmp_path / "gaston.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr(f"repo/{NOTEBOOK_NAME}", (write_notebook(tmp_path / "x.ipynb")).read_text())
        zf.writestr("repo/README.md", "hi")
    (sub,) = discover([zpath], tmp_path / "w")
    assert sub.status is None and sub.notebook.name == NOTEBOOK_NAME
    assert sub.id in ("repo", "gaston")


def test_discover_missing_path_raises(tmp_path):
    with pytest.raises(DiscoveryError, match="introuvable"):
        discover([tmp_path / "nope"], tmp_path / "w")


def test_sanitize_id():
    assert sanitize_id("Zoé D'Arc (TP 2)") == "Zoe-D-Arc-TP-2"
    assert sanitize_id("../..") == "submission"


def test_discover_never_takes_the_output_folder(tmp_path):
    cls = tmp_path / "classe"
    write_notebook(cls / "alice" / NOTEBOOK_NAME)
    write_notebook(cls / "bob" / NOTEBOOK_NAME)
    write_notebook(cls / "out" / "stale" / "x.ipynb")
    assert {s.id for s in discover([cls], tmp_path / "w")} == {"alice", "bob", "out"}
    assert {s.id for s in discover([cls], tmp_path / "w", exclude=[cls / "out"])} == {
        "alice",
        "bob",
    }


def test_examples_glob_is_discoverable(tmp_path):
    """``grade examples/* --out out`` (make demo): every example found, README ignored."""
    examples = sorted((ROOT / "examples").glob("*"))
    if not examples:
        pytest.skip("examples/ not built yet")
    warnings = []
    subs = discover(examples, tmp_path / "w", warn=warnings.append)
    dirs = [p for p in examples if p.is_dir()]
    assert len(subs) == len(dirs) + sum(1 for p in examples if p.suffix == ".ipynb")
    assert all(s.notebook is not None and s.status is None for s in subs)
    assert len({s.id for s in subs}) == len(subs)
    assert all("ignoré" in w for w in warnings)
