"""Atomic writes, JSON and hashes (autograder.public.fsutil)."""

from __future__ import annotations

import hashlib

import pytest

from autograder.public.fsutil import atomic_write_json, atomic_write_text, read_json, sha256_file


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "grades.csv"
    atomic_write_text(target, "old\n")

    class Boom:
        def __str__(self):
            raise RuntimeError("boom")

    with pytest.raises(TypeError):
        atomic_write_text(target, Boom())
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]


def test_json_round_trip_and_hash(tmp_path):
    path = atomic_write_json(tmp_path / "sub" / "r.json", {"é": [1, 2.5]})
    assert path.read_text(encoding="utf-8") == '{\n  "é": [\n    1,\n    2.5\n  ]\n}\n'
    assert atomic_write_json(path, {"a": 1}, indent=None).read_text() == '{"a": 1}\n'
    assert read_json(path) == {"a": 1}
    assert read_json(tmp_path / "absent.json") is None
    (tmp_path / "bad.json").write_text("{")
    assert read_json(tmp_path / "bad.json") is None
    assert sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()
