"""What-ifs asked for in the console: one run per site, proposal and window while it waits,
done by the worker in the background, its result kept."""

from __future__ import annotations

import random
import threading
import time

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import WhatIfRun
from app.services.delivery import DeliveryWorker
from app.services.errors import Invalid, NotFound
from app.services.sales import request_whatif, run_next_whatif, whatif_run
from tests.sales.support import engage, sales_site, stricter


def runs() -> int:
    return db.session.scalar(select(func.count()).select_from(WhatIfRun))


def test_a_waiting_run_is_reused_not_doubled(app, clock):
    sales_site(clock())
    first = request_whatif("acme", stricter(15), 90, "ann@acme.example", clock())
    again = request_whatif("acme", stricter(15), 90, "bob@acme.example", clock())
    other_window = request_whatif("acme", stricter(15), 30, "ann@acme.example", clock())
    other_rule = request_whatif("acme", stricter(20), 90, "ann@acme.example", clock())
    assert again == first
    assert len({first, other_window, other_rule}) == 3
    assert runs() == 3
    assert whatif_run("acme", first).status == "pending"


def test_the_worker_runs_it_and_keeps_the_result(app, clock):
    sales_site(clock())
    engage(app.test_client(), "bo@b.example", 2)  # mql at 12 under 10; not under 15
    clock.advance(hours=1)
    run_id = request_whatif("acme", stricter(15), 7, "ann@acme.example", clock())
    assert run_next_whatif(clock()) == run_id
    assert run_next_whatif(clock()) is None  # nothing left
    done = whatif_run("acme", run_id)
    assert (done.status, done.finished_at, done.requested_by) == (
        "done",
        clock(),
        "ann@acme.example",
    )
    assert done.result == {
        "site": "acme",
        "start": "2026-02-23T10:00:00+00:00",
        "end": "2026-03-02T10:00:00+00:00",
        "replayed": 1,
        "weeks": [["2026-02-23", 0, 0], ["2026-03-02", 1, 0]],
        "current": {"handed_off": 1, "accepted": 0, "won": 0, "rejected": {}},
        "proposed": {"handed_off": 0, "accepted": 0, "won": 0, "rejected": {}},
        "entering": 0,
        "leaving": 1,
        "entering_sample": [],
        "leaving_sample": [[1, "bo@b.example"]],
    }
    # Done: asking again runs it again (the history may have grown).
    assert request_whatif("acme", stricter(15), 7, "ann@acme.example", clock()) != run_id


def test_a_failing_run_is_recorded_as_failed(app, clock, caplog):
    sales_site(clock())
    run_id = request_whatif("acme", {"stages": [{"when": {}}]}, 7, "ann@acme.example", clock())
    assert run_next_whatif(clock()) == run_id
    assert whatif_run("acme", run_id).status == "failed"
    assert f"what-if {run_id} of site acme failed" in caplog.text


def test_a_run_left_running_by_a_dead_worker_is_taken_again_once_stale(app, clock):
    sales_site(clock())
    run_id = request_whatif("acme", stricter(15), 7, "ann@acme.example", clock())
    db.session.get(WhatIfRun, run_id).status = "running"
    db.session.get(WhatIfRun, run_id).started_at = clock()
    db.session.commit()
    clock.advance(hours=1, minutes=59)
    assert run_next_whatif(clock()) is None
    clock.advance(minutes=2)
    assert run_next_whatif(clock()) == run_id
    assert whatif_run("acme", run_id).status == "done"


def test_bad_requests_are_refused_and_nothing_is_stored(app, clock):
    sales_site(clock())
    with pytest.raises(NotFound):
        request_whatif("nope", stricter(15), 7, "ann@acme.example", clock())
    for days in (0, 3661):
        with pytest.raises(Invalid) as refused:
            request_whatif("acme", stricter(15), days, "ann@acme.example", clock())
        assert refused.value.fields == {"days": ["Enter 1 to 3660."]}
    with pytest.raises(NotFound):
        whatif_run("acme", 999)
    assert runs() == 0


def test_the_worker_runs_what_ifs_in_a_thread_of_their_own(app, clock):
    sales_site(clock())
    run_id = request_whatif("acme", stricter(15), 7, "ann@acme.example", clock())
    worker = DeliveryWorker(app, name="whatif-test", rng=random.Random(1))
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            db.session.rollback()  # a fresh read: the worker's thread writes
            if whatif_run("acme", run_id).status == "done":
                break
            assert time.monotonic() < deadline, "the what-if was not run"
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(10)
        worker.close()
    assert not thread.is_alive()
    assert whatif_run("acme", run_id).finished_at == clock()
