"""Per-address creation rates: boards and uploads (issue 18.14)."""

from __future__ import annotations

import json
import urllib.request

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from backend.address_limits import MAX_TRACKED, AddressRate, address_key
from tests.export_helpers import CYAN_PNG
from tests.hostile_http import HealthWatch, bystander_syncs


def test_ipv6_addresses_share_a_bucket_per_64_and_ipv4_stays_whole():
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert address_key("203.0.113.7") != address_key("203.0.113.8")


def test_address_rate_spends_the_burst_then_tells_how_long_to_wait():
    rate = AddressRate(per_min=60, burst=3)  # one per second
    assert [rate.spend("10.0.0.1", 1, now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert rate.spend("10.0.0.1", 1, now=0.0) == pytest.approx(1.0)
    assert rate.spend("10.0.0.1", 1, now=0.5) == pytest.approx(0.5)  # a refusal spends nothing
    assert rate.spend("10.0.0.1", 1, now=1.0) == 0.0
    assert rate.spend("10.0.0.2", 1, now=1.0) == 0.0  # another address has its own


def test_address_rate_table_stays_bounded_and_forgets_full_buckets_first():
    rate = AddressRate(per_min=60, burst=2)
    rate.spend("10.0.0.1", 2, now=0.0)  # in debt: remembered
    for i in range(MAX_TRACKED + 10):
        rate.spend(f"198.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", 0, now=0.0)
    assert len(rate._buckets) <= MAX_TRACKED
    assert rate.spend("10.0.0.1", 1, now=0.0) > 0


async def _post(url: str, body: bytes = b"", source: str = "127.0.0.1", **headers) -> tuple:
    request = HTTPRequest(url, method="POST", body=body, network_interface=source,
                          headers={"Content-Type": "application/octet-stream", **headers})
    try:
        response = await AsyncHTTPClient().fetch(request)
    except HTTPClientError as exc:
        response = exc.response
    return response.code, response.headers


@pytest.mark.gen_test(timeout=90)
async def test_one_address_cannot_create_boards_or_upload_without_bound(server_process):
    server = server_process(create_boards_per_min=1, create_boards_burst=5,
                            upload_bytes_per_min=65536, upload_burst_bytes=4 * 65536,
                            admin_token="admin", auth="token")
    base = server.base_url
    with HealthWatch(server.port) as watch:
        codes = [(await _post(f"{base}/api/boards", source="127.0.0.2"))[0]
                 for _ in range(200)]
        assert codes[:5] == [201] * 5 and set(codes[5:]) == {429}
        code, headers = await _post(f"{base}/api/boards", source="127.0.0.2")
        assert code == 429 and int(headers["Retry-After"]) >= 1
        code, _ = await _post(f"{base}/api/boards", source="127.0.0.2",
                              Authorization="Bearer admin")
        assert code == 201  # the admin token is exempt
        await bystander_syncs(server.ws_url, base)  # 127.0.0.1 has its own budget
        # Uploads: each counts at least 64 KiB; four fit the burst, the fifth waits.
        request = urllib.request.Request(base + "/api/boards", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            links = json.loads(response.read())
        url = f"{base}/api/boards/{links['id']}/files"
        codes = [(await _post(url, CYAN_PNG + bytes([i]), source="127.0.0.2",
                              Authorization=f"Bearer {links['editToken']}"))[0]
                 for i in range(6)]
        assert codes == [201] * 4 + [429] * 2
    watch.assert_healthy()
