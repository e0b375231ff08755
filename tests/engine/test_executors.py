"""The local pool: long-lived processes, lazy jobs, a crashing job costs only itself."""

import os

from autograder.engine.executors import LocalPool, threads_per_process


def square_or_die(job: dict) -> dict:
    if job["n"] == 3:
        os._exit(9)  # a hostile model crashing the trusted process
    return {"n": job["n"], "square": job["n"] ** 2, "pid": os.getpid()}


def test_pool_survives_a_crashing_job_and_reuses_processes():
    pool = LocalPool(2)
    taken = []

    def jobs():
        for n in range(8):
            taken.append(n)
            yield {"n": n}

    try:
        results = {job["n"]: r for job, r in pool.run(square_or_die, jobs())}
    finally:
        pool.close()
    assert sorted(results) == list(range(8)) and sorted(taken) == list(range(8))
    assert isinstance(results[3], Exception)
    for n in set(range(8)) - {3}:
        assert results[n]["square"] == n * n
    pids = {r["pid"] for n, r in results.items() if n != 3}
    assert len(pids) < 7  # processes grade several jobs each


def test_threads_share_the_cores():
    cores = os.cpu_count() or 1
    assert threads_per_process(1) == cores
    assert threads_per_process(cores) == 1
    assert threads_per_process(4 * cores) == 1
