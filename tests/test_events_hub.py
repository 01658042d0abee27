"""Backlog (backend/events/hub.py) without a server: trimming by count, bytes and age, the
floor, and what a resume gets."""

from __future__ import annotations

from backend.events.hub import Backlog, Event, event_json, now_ms


def event(seq: int, size: int = 10, at_ms: int | None = None) -> Event:
    return Event(seq, "b", "elements.changed", "x" * size, now_ms() if at_ms is None else at_ms)


def test_a_resume_is_exact_from_the_floor_up_and_resets_below_or_beyond():
    base = now_ms()  # seqs are milliseconds: older than the retention counts as dropped
    backlog = Backlog(max_events=3, max_age_s=600, floor=base)
    for n in (1, 2, 3, 4):
        backlog.append(event(base + n))
    assert backlog.floor == base + 1  # it was dropped: a resume after base could miss it
    assert backlog.after(base) is None
    assert [e.seq - base for e in backlog.after(base + 1)] == [2, 3, 4]
    assert backlog.after(base + 4) == []
    assert backlog.after(base + 5) is None  # an id this backlog never issued


def test_bytes_and_age_bound_the_backlog_too():
    base = now_ms()
    by_bytes = Backlog(max_events=100, max_age_s=600, floor=base, max_bytes=25)
    for n in (1, 2, 3):
        by_bytes.append(event(base + n, size=10))
    assert by_bytes.floor == base + 1
    assert [e.seq - base for e in by_bytes.after(base + 1)] == [2, 3]
    by_age = Backlog(max_events=100, max_age_s=1, floor=base)
    by_age.append(event(base + 1, at_ms=base - 5000))  # kept 5 s ago: past the retention
    by_age.append(event(base + 2))
    assert by_age.after(base) is None and [e.seq - base for e in by_age.after(base + 1)] == [2]


def test_seqs_only_grow_and_a_skip_resets_older_readers():
    backlog = Backlog(max_events=10, max_age_s=600, floor=now_ms())
    first = backlog.next_seq(now_ms())
    backlog.append(event(first))
    assert backlog.next_seq(first - 1000) == first + 1  # a clock that went back
    backlog.skip()
    assert backlog.after(first) is None  # changes went unreported after it
    assert backlog.after(backlog.head) == []  # a new reader starts here


def test_event_json_puts_seq_and_time_in_front():
    assert event_json(7, 1500, '{"board": "b", "type": "t"}') == \
        '{"seq": 7, "time": 1.500, "board": "b", "type": "t"}'


def test_a_reader_reset_to_the_head_after_a_raised_floor_resumes_exactly():
    # hub_redis raises every floor to head + 1 when Redis goes away; a reader reset to the
    # head must then read on, not be sent below the floor (and reset) again and again.
    backlog = Backlog(max_events=10, max_age_s=600, floor=now_ms())
    first = backlog.next_seq(now_ms())
    backlog.append(event(first))
    backlog.raise_floor(backlog.head + 1)
    assert backlog.after(first, live=True) is None  # events after it may be lost: reset
    assert backlog.after(backlog.head, live=True) == []  # where the reset sends it
    later = backlog.next_seq(now_ms())
    assert later > backlog.head
    backlog.append(event(later))
    assert [e.seq for e in backlog.after(first + 1, live=True)] == [later]
