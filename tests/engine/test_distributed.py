"""Grading on a real Dask cluster: a scheduler and two workers on 127.0.0.1.

The same small class is graded by the local pool and through ``--scheduler``;
every output a student or a teacher reads must be identical. A worker killed
in the middle of a run must cost no submission.
"""

from __future__ import annotations

import csv
import filecmp
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tests.faults import NOTEBOOK, make_notebook, reference_functions

pytestmark = pytest.mark.slow  # end to end: see pyproject.toml's markers

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = "120"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    return env


def _start_worker(address: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_worker",
            address,
            "--nworkers",
            "1",
            "--nthreads",
            "1",
            "--host",
            "127.0.0.1",
            "--no-dashboard",
            "--no-nanny",
        ],
        cwd=ROOT,
        env=_env(),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    logs = tmp_path_factory.mktemp("dask-logs")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
            ],
            cwd=ROOT,
            env=_env(),
            stdout=(logs / "scheduler.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ]
    procs += [_start_worker(address, logs / f"worker{i}.log") for i in range(2)]
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(2, timeout=120)
    yield {"address": address, "procs": procs, "logs": logs}
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    cls = tmp_path_factory.mktemp("classe")
    ref = reference_functions()
    cases = {
        "alice": make_notebook(ref),
        "bob": make_notebook({}),
        "chloe": make_notebook({**ref, "build_cnn": None}),
    }
    for sid, nb in cases.items():
        (cls / sid).mkdir()
        nbformat.write(nb, cls / sid / NOTEBOOK)
    return cls


def _grade(*args) -> None:
    cmd = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        *map(str, args),
        "--no-progress",
        "--timeout",
        TIMEOUT,
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-3000:]


def _same_tree(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b)
    diffs = cmp.left_only + cmp.right_only + cmp.diff_files
    for sub in cmp.common_dirs:
        diffs += [f"{sub}/{d}" for d in _same_tree(a / sub, b / sub)]
    return diffs


def test_dask_run_writes_the_same_outputs_as_a_local_run(cluster, small_class, tmp_path):
    local, dask = tmp_path / "local", tmp_path / "dask"
    _grade(small_class, "--out", local, "--jobs", "2", "--no-report")
    _grade(small_class, "--out", dask, "--scheduler", cluster["address"], "--no-report")
    assert (local / "grades.csv").read_text() == (dask / "grades.csv").read_text()
    for folder in ("results", "feedback"):
        assert sorted(p.name for p in (local / folder).iterdir()) == sorted(
            p.name for p in (dask / folder).iterdir()
        )
        assert _same_tree(local / folder, dask / folder) == []
    run = json.loads((dask / "run.json").read_text())
    assert run["parameters"]["scheduler"] == cluster["address"]
    assert sorted(run["graded"]) == ["alice", "bob", "chloe"]
    rows = {r["file"]: r for r in csv.DictReader((dask / "grades.csv").open())}
    assert rows["alice"]["total_points_earned"] != rows["bob"]["total_points_earned"]
    # an unchanged class is resumed, not regraded, on the cluster too
    _grade(small_class, "--out", dask, "--scheduler", cluster["address"], "--no-report")
    again = json.loads((dask / "run.json").read_text())
    assert again["graded"] == [] and sorted(again["reused"]) == ["alice", "bob", "chloe"]


def test_a_worker_killed_mid_run_costs_no_submission(cluster, small_class, tmp_path):
    cls = tmp_path / "classe"
    shutil.copytree(small_class, cls)
    for i in range(3):  # more work than two workers take at once
        shutil.copytree(small_class / "alice", cls / f"alice{i}")
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(cls),
        "--out",
        str(out),
        "--scheduler",
        cluster["address"],
        "--no-progress",
        "--no-report",
        "--timeout",
        TIMEOUT,
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    victim = cluster["procs"][1]
    time.sleep(20)  # the tasks are running on both workers
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    _, err = proc.communicate(timeout=3600)
    assert proc.returncode == 0, err[-3000:]
    records = {p.stem: json.loads(p.read_text()) for p in (out / "submissions").glob("*.json")}
    assert set(records) == {p.name for p in cls.iterdir()}
    errors = [sid for sid, r in records.items() if r["status"] == "error"]
    if errors:  # allowed once, then the next run regrades them
        _grade(cls, "--out", out, "--scheduler", cluster["address"], "--no-report")
        records = {p.stem: json.loads(p.read_text()) for p in (out / "submissions").glob("*.json")}
    assert all(r["status"] == "graded" for r in records.values())
    assert all(records[f"alice{i}"]["total"] == records["alice"]["total"] for i in range(3))
