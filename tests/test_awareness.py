"""Presence: relay only real changes, current states for newcomers, removal on disconnect."""

from __future__ import annotations

import time

import pytest
from pycrdt import write_var_uint

from backend.awareness import MAX_CLOCK_STEP, MAX_FIRST_CLOCK, Presence, PresenceLimits
from backend.errors import CloseConnection
from tests.yclient import awareness_entries


def awareness_frames(client) -> list[bytes]:
    return [f for f in client.frames if f[0] == 1]


@pytest.mark.gen_test(timeout=30)
async def test_new_connection_receives_current_presence_at_once(sb_server, yclient):
    server = await sb_server()
    alice = await yclient(server, "presence_join")
    await alice.set_presence(1001, 1, {"user": {"name": "Alice"}, "cursor": [1, 2]})
    await alice.wait_for(lambda: 1001 in alice.present(), what="echo of own presence")
    bob = await yclient(server, "presence_join")
    assert bob.present() == {1001: {"user": {"name": "Alice"}, "cursor": [1, 2]}}


@pytest.mark.gen_test(timeout=30)
async def test_only_presence_with_a_newer_clock_is_relayed(sb_server, yclient):
    server = await sb_server()
    alice = await yclient(server, "presence_clock")
    bob = await yclient(server, "presence_clock")
    await alice.set_presence(1001, 3, {"cursor": [0, 0]})
    await bob.wait_for(lambda: bob.awareness.get(1001, (0,))[0] == 3, what="clock 3")
    relayed = len(awareness_frames(bob))
    # Echoes (same clock, as the stock client re-sends what it receives) and stale clocks die.
    await bob.set_presence(1001, 3, {"cursor": [0, 0]})
    await alice.set_presence(1001, 2, {"cursor": [9, 9]})
    await alice.set_presence(1001, 4, {"cursor": [5, 5]})
    await bob.wait_for(lambda: bob.awareness[1001][0] == 4, what="clock 4")
    # Markers sent after everything else, from both connections, arrive after anything the
    # echo and the stale clock could have caused.
    await alice.set_presence(2001, 1, {"marker": "a"})
    await bob.set_presence(2002, 1, {"marker": "b"})
    await bob.wait_for(lambda: {2001, 2002} <= set(bob.present()), what="both markers")
    relayed_1001 = [(clock, state) for frame in awareness_frames(bob)[relayed:]
                    for client_id, clock, state in awareness_entries(frame) if client_id == 1001]
    assert relayed_1001 == [(4, {"cursor": [5, 5]})]  # only the newer clock, once
    assert bob.present()[1001] == {"cursor": [5, 5]}


@pytest.mark.gen_test(timeout=30)
async def test_disconnect_broadcasts_removal_at_once(sb_server, yclient):
    server = await sb_server(awareness_timeout_s=3600)
    alice = await yclient(server, "presence_leave")
    bob = await yclient(server, "presence_leave")
    await alice.set_presence(1001, 1, {"name": "Alice"})
    await bob.wait_for(lambda: 1001 in bob.present(), what="alice present")
    alice.close()
    # With a one-hour presence timeout, only the disconnect itself can remove alice.
    await bob.wait_for(lambda: 1001 not in bob.present(), timeout_s=10, what="alice removed")
    clock, state = bob.awareness[1001]
    assert state is None and clock == 2


@pytest.mark.gen_test(timeout=30)
async def test_reconnecting_client_with_its_old_clock_is_shown_again(sb_server, yclient):
    server = await sb_server()
    alice = await yclient(server, "presence_return")
    bob = await yclient(server, "presence_return")
    await alice.set_presence(1001, 5, {"name": "Alice"})
    await bob.wait_for(lambda: 1001 in bob.present(), what="alice present")
    alice.close()
    await bob.wait_for(lambda: 1001 not in bob.present(), what="alice removed")
    again = await yclient(server, "presence_return")
    await again.set_presence(1001, 5, {"name": "Alice"})  # the stock client keeps its clock
    await bob.wait_for(lambda: 1001 in bob.present(), what="alice shown again")
    assert bob.awareness[1001][0] == 7  # removal took clock 6; the return is stamped 7


@pytest.mark.gen_test(timeout=30)
async def test_a_late_echo_of_a_departed_client_does_not_bring_it_back(sb_server, yclient):
    server = await sb_server()
    alice = await yclient(server, "presence_late_echo")
    bob = await yclient(server, "presence_late_echo")
    carol = await yclient(server, "presence_late_echo")
    await alice.set_presence(1001, 3, {"name": "Alice"})
    await bob.wait_for(lambda: 1001 in bob.present(), what="alice present")
    alice.close()
    await bob.wait_for(lambda: 1001 not in bob.present(), what="alice removed")
    # Carol shows nothing yet (its own state is still held by its old connection, say); what
    # it echoes of what it received before alice left arrives now.
    await carol.send(b"\x01" + _length_prefixed(entries_payload(
        [(1001, 3, b'{"name":"Alice"}'), (1003, 4, b"null")])))
    await carol.set_presence(1001, 3, {"name": "Alice"})
    await carol.set_presence(1004, 1, {"marker": True})  # carol's own, after the echoes
    await bob.wait_for(lambda: 1004 in bob.present(), what="carol's marker")
    assert 1001 not in bob.present()


def _length_prefixed(payload: bytes) -> bytes:
    return write_var_uint(len(payload)) + payload


@pytest.mark.gen_test(timeout=30)
async def test_stale_presence_expires_and_its_removal_is_broadcast(sb_server, yclient):
    server = await sb_server(awareness_timeout_s=1)
    alice = await yclient(server, "presence_expire")
    bob = await yclient(server, "presence_expire")
    await alice.set_presence(1001, 1, {"name": "Alice"})
    await bob.wait_for(lambda: 1001 in bob.present(), what="alice present")
    await bob.wait_for(lambda: 1001 not in bob.present(), timeout_s=5, what="expiry")


def test_presence_maps_ids_to_the_peer_that_brought_them():
    presence = Presence(timeout_s=30)
    assert presence.client_ids == []  # the server shows no presence of its own
    frame = b"\x01" + bytes([7]) + b"\x01" + b'\x07{"a":1}'
    assert presence.apply(frame, peer="p1").changed == [7]
    assert presence.apply(frame, peer="p2").changed == []  # another peer's id: an echo
    assert presence.remove_peer("p2") == []  # p2 did not bring 7
    assert presence.remove_peer("p1") == [7]
    assert presence.client_ids == []


def test_non_ascii_presence_round_trips():
    presence = Presence(timeout_s=30)
    state = '{"name":"Zoë 🎨"}'.encode()
    frame = b"\x01\x07\x01" + bytes([len(state)]) + state
    assert presence.apply(frame, peer="p1").changed == [7]
    encoded = presence.encode([7])
    other = Presence(timeout_s=30)
    assert other.apply(encoded, peer="x").changed == [7]
    assert other.encode([7]) == encoded


def test_malformed_presence_changes_nothing():
    presence = Presence(timeout_s=30)
    good = b'\x07{"a":1}'
    frame = b"\x02" + b"\x07\x01" + good + b"\x08\x01" + b"\x03{{{"
    with pytest.raises(CloseConnection):
        presence.apply(frame, peer="p1")
    assert presence.client_ids == []


def entries_payload(entries: list[tuple[int, int, bytes]]) -> bytes:
    parts = [write_var_uint(len(entries))]
    for client_id, clock, state in entries:
        parts += [write_var_uint(client_id), write_var_uint(clock), write_var_uint(len(state)),
                  state]
    return b"".join(parts)


def test_an_update_listing_more_entries_than_a_board_holds_is_refused_unread():
    presence = Presence(timeout_s=30, limits=PresenceLimits(max_ids_per_board=10))
    exactly = entries_payload([(i, 1, b"{}") for i in range(20)])
    assert len(presence.apply(exactly, peer="p1").changed) == 4  # the per-peer cap
    # The count alone decides: the entries after it are never read.
    with pytest.raises(CloseConnection, match="21 entries"):
        presence.apply(write_var_uint(21) + b"\xff", peer="p2")


def test_each_peer_introduces_a_few_ids_and_a_board_holds_a_bounded_number():
    presence = Presence(timeout_s=30, limits=PresenceLimits(max_ids_per_peer=2,
                                                            max_ids_per_board=3))
    first = presence.apply(entries_payload([(1, 1, b"{}"), (2, 1, b"{}"), (3, 1, b"{}")]), "p1")
    assert first.changed == [1, 2] and "connection already shows 2" in first.dropped[0]
    second = presence.apply(entries_payload([(4, 1, b"{}"), (5, 1, b"{}")]), "p2")
    assert second.changed == [4] and "board already shows 3" in second.dropped[0]
    assert presence.remove_peer("p1") == [1, 2]
    assert presence.apply(entries_payload([(5, 1, b"{}")]), "p2").changed == [5]


def test_state_size_is_capped_per_id_and_per_board():
    presence = Presence(timeout_s=30, limits=PresenceLimits(max_state_bytes=100,
                                                            max_board_bytes=150))
    big = b'{"a":"' + b"x" * 200 + b'"}'
    assert "is over 100" in presence.apply(entries_payload([(1, 1, big)]), "p1").dropped[0]
    eighty = b'{"a":"' + b"x" * 72 + b'"}'
    assert presence.apply(entries_payload([(1, 1, eighty)]), "p1").changed == [1]
    refused = presence.apply(entries_payload([(2, 1, eighty)]), "p2")
    assert refused.changed == [] and "would pass 150 bytes" in refused.dropped[0]
    assert presence.state_bytes == 80


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_numbers_browsers_cannot_parse_are_refused(number):
    presence = Presence(timeout_s=30)
    with pytest.raises(CloseConnection, match="JSON"):
        presence.apply(entries_payload([(1, 1, b'{"x":' + number + b"}")]), "p1")
    assert presence.client_ids == []


def test_only_the_peer_that_brought_an_id_may_change_it():
    presence = Presence(timeout_s=30)
    presence.apply(entries_payload([(7, 1, b'{"name":"Alice"}')]), "alice")
    assert presence.apply(entries_payload([(7, 9, b'{"name":"Eve"}'), (7, 9, b"null")]),
                          "eve").changed == []
    assert presence.encode([7]) == entries_payload([(7, 1, b'{"name":"Alice"}')])


def test_clocks_advance_by_a_bounded_step():
    presence = Presence(timeout_s=30)
    presence.apply(entries_payload([(7, 2 ** 53 - 1, b"{}")]), "p1")
    assert presence.encode([7]) == entries_payload([(7, MAX_FIRST_CLOCK, b"{}")])
    presence.apply(entries_payload([(8, 5, b"{}")]), "p1")
    presence.apply(entries_payload([(8, 2 ** 53 - 1, b'{"a":1}')]), "p1")
    assert presence.encode([8]) == entries_payload([(8, 5 + MAX_CLOCK_STEP, b'{"a":1}')])


def test_removed_ids_are_forgotten_after_twice_the_timeout_and_never_pile_up():
    presence = Presence(timeout_s=30, limits=PresenceLimits(max_ids_per_peer=4,
                                                            max_ids_per_board=8))
    for peer in range(10):
        ids = [(peer * 10 + i, 1, b"{}") for i in range(4)]
        presence.apply(entries_payload(ids), peer)
        presence.remove_peer(peer)
    assert presence.client_ids == [] and presence.removed_ids == 8
    # Removing or echoing ids nobody shows keeps nothing.
    presence.apply(entries_payload([(500 + i, 3, b"null") for i in range(16)]), "p")
    assert presence.removed_ids == 8
    presence.expire(now_ms=time.time() * 1000 + 60_000)
    assert presence.removed_ids == 0


def test_a_state_its_owner_stopped_renewing_may_be_taken_over():
    # The client whose old connection the server has not seen close yet, back on a new one.
    presence = Presence(timeout_s=30)
    presence.apply(entries_payload([(7, 1, b'{"at":"old"}')]), "old connection")
    assert presence.apply(entries_payload([(7, 2, b'{"at":"new"}')]), "new").changed == []
    later = time.time() * 1000 + 20_000
    assert presence.apply(entries_payload([(7, 3, b'{"at":"new"}')]), "new",
                          now_ms=later).changed == [7]
    assert presence.remove_peer("old connection") == []
    assert presence.remove_peer("new") == [7]


def test_entries_past_the_peer_budget_are_dropped_without_being_decoded():
    presence = Presence(timeout_s=30)
    # States after the fourth new id are not even JSON: they are never read.
    entries = [(i, 1, b"{}" if i < 4 else b"{{{") for i in range(1000)]
    applied = presence.apply(entries_payload(entries), "p1")
    assert applied.changed == [0, 1, 2, 3] and len(applied.dropped) == 996
    # One entry per id counts (the last), however often a frame repeats it.
    repeated = [(0, clock, b'{"n":%d}' % clock) for clock in range(2, 1000)]
    assert presence.apply(entries_payload(repeated), "p1").changed == [0]
    assert presence.encode([0]) == entries_payload([(0, 999, b'{"n":999}')])


def test_a_tab_relaying_its_sibling_tabs_hands_their_ids_over_and_logs_nothing():
    # y-websocket sends every awareness change it applies to the server, also what it learns
    # from the browser's other tabs over BroadcastChannel, often before their own connection
    # said anything. Its own state it sends alone, in the first presence frame.
    presence = Presence(timeout_s=30)
    assert presence.apply(entries_payload([(1, 1, b'{"tab":1}')]), "tab 1").changed == [1]
    for sibling in range(2, 8):  # six siblings open while tab 1 is connected
        relayed = presence.apply(entries_payload([(sibling, 1, b'{"tab":%d}' % sibling)]),
                                 "tab 1")
        assert relayed.dropped == []  # past the cap: dropped, but without a word
    assert sorted(presence.ids_of("tab 1")) == [1, 2, 3, 4]
    for sibling in range(2, 8):  # each sibling's own connection greets with its own state
        greeting = presence.apply(entries_payload([(sibling, 1, b'{"tab":%d}' % sibling)]),
                                  f"tab {sibling}")
        assert greeting.changed == [sibling] and greeting.dropped == []
        assert presence.owner_of(sibling) == f"tab {sibling}"
    assert presence.ids_of("tab 1") == [1]
    assert presence.remove_peer("tab 1") == [1]  # its siblings stay
    assert sorted(presence.client_ids) == [2, 3, 4, 5, 6, 7]


def test_only_a_lone_first_entry_takes_a_relayed_id_and_never_a_connections_own():
    presence = Presence(timeout_s=30)
    presence.apply(entries_payload([(1, 1, b"{}")]), "tab")
    presence.apply(entries_payload([(2, 3, b"{}")]), "tab")  # relayed
    # Not a greeting: a first frame of two entries, a later frame, an older clock, a removal.
    assert presence.apply(entries_payload([(2, 3, b"{}"), (9, 1, b"{}")]), "a").changed == [9]
    assert presence.apply(entries_payload([(2, 4, b"{}")]), "a").changed == []
    assert presence.apply(entries_payload([(2, 2, b"{}")]), "b").changed == []
    assert presence.apply(entries_payload([(2, 3, b"null")]), "c").changed == []
    # A connection's own (first) id is never handed over, whatever the clock.
    assert presence.apply(entries_payload([(1, 50, b'{"x":1}')]), "d").changed == []
    assert presence.owner_of(1) == "tab" and presence.owner_of(2) == "tab"
    assert presence.apply(entries_payload([(2, 3, b"{}")]), "e").changed == [2]
    assert presence.owner_of(2) == "e"
    # Once handed over it is e's own: nobody greets it away again.
    assert presence.apply(entries_payload([(2, 9, b"{}")]), "f").changed == []


def test_a_tab_shows_at_most_the_capped_ids_however_many_it_lists():
    presence = Presence(timeout_s=30)
    presence.apply(entries_payload([(1, 1, b"{}")]), "tab")
    flood = presence.apply(entries_payload([(i, 1, b"{}") for i in range(100, 1100)]), "tab")
    assert len(flood.changed) == 3 and flood.dropped == []
    assert len(presence.ids_of("tab")) == 4 and len(presence.client_ids) == 4


def test_an_echo_of_a_removed_state_does_not_come_back_from_a_connection_showing_nothing():
    presence = Presence(timeout_s=30)
    presence.apply(entries_payload([(7, 3, b'{"name":"Alice"}')]), "alice")
    presence.apply(entries_payload([(8, 1, b'{"name":"Bob"}')]), "bob")
    presence.remove_peer("alice")  # removed at clock 4
    # A connection whose own state is not shown (yet) echoes what it had received.
    echo = entries_payload([(7, 3, b'{"name":"Alice"}'), (8, 1, b'{"name":"Bob"}')])
    assert presence.apply(echo, "carol").changed == []
    assert presence.apply(entries_payload([(7, 3, b'{"name":"Alice"}')]), "carol").changed == []
    assert presence.client_ids == [8] and presence.ids_of("carol") == []


def test_echoes_queued_behind_an_expiry_do_not_become_the_echoing_connections_ids():
    # A loaded server processes renewals late and expires a board's states in one sweep; the
    # echoes each client sent before that arrive afterwards, from connections showing nothing.
    presence = Presence(timeout_s=30)
    for client_id in (1, 2, 3):
        presence.apply(entries_payload([(client_id, 1, b"{}")]), f"peer {client_id}")
    assert sorted(presence.expire(now_ms=time.time() * 1000 + 31_000)) == [1, 2, 3]
    for client_id in (1, 2, 3):
        others = [(other, 1, b"{}") for other in (1, 2, 3) if other != client_id]
        applied = presence.apply(entries_payload(others), f"peer {client_id}")
        assert applied.changed == [] and applied.dropped == []
    # Each client's own state, re-sent after it saw its removal (clock 2 + 1), comes back.
    assert presence.apply(entries_payload([(1, 3, b"{}")]), "peer 1").changed == [1]
    assert presence.client_ids == [1] and presence.ids_of("peer 1") == [1]
