"""Presence: relay only real changes, current states for newcomers, removal on disconnect."""

from __future__ import annotations

import pytest
from pycrdt import Doc

from backend.awareness import Presence
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
async def test_stale_presence_expires_and_its_removal_is_broadcast(sb_server, yclient):
    server = await sb_server(awareness_timeout_s=1)
    alice = await yclient(server, "presence_expire")
    bob = await yclient(server, "presence_expire")
    await alice.set_presence(1001, 1, {"name": "Alice"})
    await bob.wait_for(lambda: 1001 in bob.present(), what="alice present")
    await bob.wait_for(lambda: 1001 not in bob.present(), timeout_s=5, what="expiry")


def test_presence_maps_ids_to_the_peer_that_brought_them():
    presence = Presence(Doc(), timeout_s=30)
    assert presence.client_ids == []  # the server shows no presence of its own
    frame = b"\x01" + bytes([7]) + b"\x01" + b'\x07{"a":1}'
    assert presence.apply(frame, peer="p1") == [7]
    assert presence.apply(frame, peer="p2") == []  # same clock from another peer: an echo
    assert presence.remove_peer("p2") == []  # p2 did not bring 7
    assert presence.remove_peer("p1") == [7]
    assert presence.client_ids == []


def test_non_ascii_presence_round_trips():
    presence = Presence(Doc(), timeout_s=30)
    state = '{"name":"Zoë 🎨"}'.encode()
    frame = b"\x01\x07\x01" + bytes([len(state)]) + state
    assert presence.apply(frame, peer="p1") == [7]
    encoded = presence.encode([7])
    other = Presence(Doc(), timeout_s=30)
    assert other.apply(encoded, peer="x") == [7]


def test_malformed_presence_changes_nothing():
    presence = Presence(Doc(), timeout_s=30)
    good = b'\x07{"a":1}'
    frame = b"\x02" + b"\x07\x01" + good + b"\x08\x01" + b"\x03{{{"
    with pytest.raises(CloseConnection):
        presence.apply(frame, peer="p1")
    assert presence.client_ids == []
