"""The single background worker: thread, delivery, errors, cancellation, shutdown."""

from __future__ import annotations

import threading
import time

import pytest
from ui_helpers import assert_idle

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.ui.tasks import TaskManager


@pytest.fixture
def tasks(tmp_path, qapp):
    manager = TaskManager(Settings(library_dir=tmp_path / "lib"))
    yield manager
    manager.shutdown()


def test_op_runs_on_worker_and_result_arrives_on_gui_thread(qtbot, tasks):
    gui = threading.get_ident()
    seen: dict = {}

    def op(ctx):
        ctx.progress(1, 2, "half")
        return threading.get_ident()

    with qtbot.waitSignal(tasks.busy_changed, timeout=5000, check_params_cb=lambda b: not b):
        tasks.run(
            op,
            success=lambda v: seen.update(worker=v, success_thread=threading.get_ident()),
            progress=lambda d, t, m: seen.update(
                progress=(d, t, m), p_thread=threading.get_ident()
            ),
        )
    assert seen["worker"] != gui
    assert seen["success_thread"] == gui and seen["p_thread"] == gui
    assert seen["progress"] == (1, 2, "half")
    assert tasks.pending() == 0


def test_jobs_run_one_at_a_time_in_order(qtbot, tasks):
    order: list[int] = []
    running = threading.Event()
    overlap = []

    def op(i):
        def run(ctx):
            overlap.append(running.is_set())
            running.set()
            time.sleep(0.02)
            running.clear()
            return i

        return run

    for i in range(5):
        tasks.run(op(i), success=order.append)
    qtbot.waitUntil(lambda: not tasks.is_busy(), timeout=5000)
    assert order == [0, 1, 2, 3, 4]
    assert not any(overlap)
    assert tasks.pool.maxThreadCount() == 1


def test_error_goes_to_failure_callback_or_failed_signal(qtbot, tasks):
    errors = []

    def boom(ctx):
        raise AssistantError("That file is not a PDF.")

    tasks.run(boom, failure=errors.append)
    with qtbot.waitSignal(tasks.failed, timeout=5000) as blocker:
        tasks.run(lambda ctx: 1 / 0, label="Dividing")
    qtbot.waitUntil(lambda: not tasks.is_busy(), timeout=5000)
    assert [str(e) for e in errors] == ["That file is not a PDF."]
    failure = blocker.args[0]
    assert failure.label == "Dividing" and isinstance(failure.error, ZeroDivisionError)


def test_cancel_skips_queued_jobs_and_stops_running_one(qtbot, tasks):
    started = threading.Event()
    results = []
    finished = []

    def long(ctx):
        started.set()
        while not ctx.cancel.is_set():  # cooperative, like Library.add between files
            time.sleep(0.01)
        return "stopped"

    tasks.run(long, success=results.append, finished=lambda: finished.append("long"))
    tasks.run(lambda ctx: "never", success=results.append, finished=lambda: finished.append("q"))
    assert started.wait(5)
    tasks.cancel_all()
    qtbot.waitUntil(lambda: not tasks.is_busy(), timeout=5000)
    assert results == ["stopped"]
    assert finished == ["long", "q"]  # the skipped job still reports that it is over


def test_guard_detects_work_left_running(qtbot, tasks):
    release = threading.Event()
    tasks.run(lambda ctx: release.wait(5))
    qtbot.waitUntil(lambda: tasks.pool.activeThreadCount() == 1, timeout=5000)
    with pytest.raises(AssertionError, match="background work left running"):
        assert_idle([tasks])
    release.set()
    qtbot.waitUntil(lambda: not tasks.is_busy(), timeout=5000)
    assert_idle([tasks])


def test_shutdown_cancels_waits_and_refuses_new_jobs(qtbot, tasks):
    started = threading.Event()

    def long(ctx):
        started.set()
        ctx.cancel.wait(10)

    tasks.run(long)
    assert started.wait(5)
    t0 = time.monotonic()
    assert tasks.shutdown(timeout_ms=5000)
    assert time.monotonic() - t0 < 2
    assert tasks.pool.activeThreadCount() == 0
    assert tasks.run(lambda ctx: 1) is None


def test_assistant_is_built_on_the_worker_and_reused(qtbot, tasks):
    seen = []
    for _ in range(2):
        tasks.run(lambda ctx: (id(ctx.assistant), threading.get_ident()), success=seen.append)
    qtbot.waitUntil(lambda: not tasks.is_busy(), timeout=5000)
    assert seen[0] == seen[1]  # same assistant, same thread (SQLite connections stay valid)


def test_a_short_job_that_waited_long_enough_runs_between_the_steps_of_a_long_one(qtbot, tasks):
    events: list[str] = []  # appended on the worker only, so in the order things ran
    release = threading.Event()

    def long(ctx):
        events.append("long starts")
        release.wait(5)  # the short jobs below are queued meanwhile
        for step in range(3):
            events.append(f"step {step}")
            time.sleep(0.05)
            events.append(f"due: {ctx.has_waiting()}")
            ctx.run_waiting()  # a step boundary, like Library.add between files
        events.append("long done")

    def short(name):
        return lambda ctx: events.append(name)

    finished: list[str] = []
    tasks.run(long, label="Importing")
    qtbot.waitUntil(lambda: events == ["long starts"], timeout=5000)
    tasks.run(short("question"), finished=lambda: finished.append("question"),
              interleave_after=0.0)
    tasks.run(short("patient"), interleave_after=60.0)
    tasks.run(short("plain"))
    release.set()
    qtbot.waitUntil(lambda: not tasks.is_busy(), timeout=5000)
    # The question ran after the first step, and once only; the others waited their turn.
    assert events == ["long starts", "step 0", "due: True", "question", "step 1", "due: False",
                      "step 2", "due: False", "long done", "patient", "plain"]
    assert finished == ["question"]


def test_a_cancelled_short_job_is_not_run_between_steps(qtbot, tasks):
    ran: list[str] = []
    release = threading.Event()

    def long(ctx):
        release.wait(5)
        ctx.run_waiting()
        return "long"

    tasks.run(long, success=ran.append)
    job = tasks.run(lambda ctx: "question", success=ran.append, interleave_after=0.0)
    job.cancel()
    release.set()
    qtbot.waitUntil(lambda: not tasks.is_busy(), timeout=5000)
    assert ran == ["long"]
