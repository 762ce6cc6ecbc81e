"""A job queue written the way job-queue libraries (RQ, Sidekiq-style workers) write theirs,
run against respserver and against redis-server alike: producers LPUSH ready jobs and ZADD
delayed ones, workers BLMOVE a job into their own processing list and LREM it when done, a
reaper moves due jobs from the sorted set to the queue (ZREM decides who moves one). With
several worker threads, every job must run exactly once, and nothing may be left behind."""

from __future__ import annotations

import threading
import time

import pytest
import redis

JOBS = 300
DELAYED = 100  # of them: scheduled a little in the future, through the sorted set
WORKERS = 4
PRODUCERS = 2
DEADLINE = 60.0  # seconds the whole run may take (a bound, not a measurement)


def _producer(port: int, first: int, step: int) -> None:
    r = redis.Redis(port=port)
    now = time.time()
    for n in range(first, JOBS, step):
        if n < DELAYED:
            r.zadd("queue:delayed", {f"job:{n}": now + 0.05 + (n % 10) / 100})
        else:
            r.lpush("queue:ready", f"job:{n}")
    r.close()


def _reaper(port: int, stop: threading.Event) -> None:
    r = redis.Redis(port=port)
    while not stop.is_set():
        due = r.zrangebyscore("queue:delayed", "-inf", time.time(), start=0, num=20)
        for job in due:
            if r.zrem("queue:delayed", job) == 1:  # this reaper won it: enqueue once
                r.lpush("queue:ready", job)
        if not due:
            time.sleep(0.005)
    r.close()


def _worker(port: int, name: str, ran: list[tuple[str, bytes]], stop: threading.Event) -> None:
    r = redis.Redis(port=port)
    processing = f"queue:processing:{name}"
    while not stop.is_set():
        job = r.blmove("queue:ready", processing, 0.1, "RIGHT", "LEFT")
        if job is None:
            continue
        ran.append((name, job))  # "run" it
        r.incr(f"runs:{job.decode()}")
        assert r.lrem(processing, 1, job) == 1
    r.close()


@pytest.mark.parametrize("server", ["respserver", "redis-server"])
def test_every_job_runs_exactly_once(server, resp_port, redis_port):
    port = resp_port if server == "respserver" else redis_port
    admin = redis.Redis(port=port)
    admin.flushall()
    ran: list[tuple[str, bytes]] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=_worker, args=(port, f"w{i}", ran, stop)) for i in range(WORKERS)
    ]
    threads += [threading.Thread(target=_reaper, args=(port, stop)) for _ in range(2)]
    producers = [
        threading.Thread(target=_producer, args=(port, i, PRODUCERS)) for i in range(PRODUCERS)
    ]
    for thread in threads + producers:
        thread.start()
    deadline = time.monotonic() + DEADLINE
    try:
        while len(ran) < JOBS and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        for thread in threads + producers:
            thread.join(timeout=10)
    jobs = sorted(job for _, job in ran)
    assert jobs == sorted(f"job:{n}".encode() for n in range(JOBS))  # none lost, none twice
    assert len({name for name, _ in ran}) > 1  # the work was shared
    assert all(admin.get(f"runs:job:{n}") == b"1" for n in range(JOBS))
    assert admin.exists("queue:ready", "queue:delayed") == 0
    assert admin.keys("queue:processing:*") == []
    admin.close()
