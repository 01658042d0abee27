"""Bounded shutdown stages (backend/shutdown.py): a stage that overruns is named, its stuck
tasks are shown, and the server goes on; a stage that finishes or fails is as if unbounded."""

from __future__ import annotations

import asyncio
import logging

import pytest

from backend.shutdown import bounded_stage


async def _stuck_forever(started: asyncio.Event) -> None:
    started.set()
    await asyncio.Event().wait()


@pytest.mark.gen_test
async def test_an_overrunning_stage_is_named_with_its_stuck_task_and_left_behind(caplog):
    started = asyncio.Event()
    stuck = asyncio.create_task(_stuck_forever(started))
    await started.wait()
    loop = asyncio.get_running_loop()
    begun = loop.time()
    with caplog.at_level(logging.ERROR, logger="backend.shutdown"):
        assert await bounded_stage("the test stage", asyncio.Event().wait(), 0.2) is False
    assert 0.2 <= loop.time() - begun < 5
    message = caplog.records[-1].getMessage()
    assert "the test stage did not finish within 0.2 s" in message
    assert "_stuck_forever" in message  # the stack says what is waiting
    assert not stuck.done()  # nothing was cancelled
    stuck.cancel()


@pytest.mark.gen_test
async def test_a_finished_stage_returns_true_and_a_failing_one_raises():
    async def quick() -> None:
        await asyncio.sleep(0)

    async def broken() -> None:
        raise RuntimeError("stage failed")

    assert await bounded_stage("quick", quick(), 1) is True
    with pytest.raises(RuntimeError, match="stage failed"):
        await bounded_stage("broken", broken(), 1)
