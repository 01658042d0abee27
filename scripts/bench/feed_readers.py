"""FeedReaders: one change-feed (Server-Sent Events) reader per board, in threads, for
``run.py --feed-readers``: what the feed costs the server while someone follows every board.

Each reader retries every 100 ms until its board exists (boards are created by their first
client), then reads the stream to its end and counts events (``event:`` lines other than
``ready``). Threads are daemons: they end with the benchmark process (the server closes the
streams when it stops).
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request


class FeedReaders:
    """Readers of ``GET /api/boards/<id>/events`` for every board in ``board_ids``."""

    def __init__(self, base_url: str, board_ids: list[str]) -> None:
        self.urls = [f"{base_url}/api/boards/{board_id}/events" for board_id in board_ids]
        self.events = 0
        self.connected = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def start(self) -> None:
        for url in self.urls:
            threading.Thread(target=self._read, args=(url,), daemon=True).start()

    def stop(self) -> dict[str, int]:
        """Stop counting; the figures for the run's record."""
        self._stop.set()
        return {"feed_readers": self.connected, "feed_events": self.events}

    def _read(self, url: str) -> None:
        while not self._stop.is_set():
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    with self._lock:
                        self.connected += 1
                    for line in response:
                        if self._stop.is_set():
                            return
                        if line.startswith(b"event:") and b"ready" not in line:
                            with self._lock:
                                self.events += 1
                    return
            except urllib.error.HTTPError as exc:
                if exc.code != 404:
                    return
                time.sleep(0.1)
            except OSError:
                return


def feed_batch_samples(base_url: str) -> dict[str, float]:
    """The server's own account of the feed's work (``syncboard_event_batch_seconds``: time
    spent turning batches into events) and events published, from ``/metrics``."""
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=10) as response:
        text = response.read().decode()
    out = {"event_batch_s": 0.0, "event_batches": 0.0, "events_published": 0.0}
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name.startswith("syncboard_event_batch_seconds_sum"):
            out["event_batch_s"] += float(value)
        elif name.startswith("syncboard_event_batch_seconds_count"):
            out["event_batches"] += float(value)
        elif name.startswith("syncboard_events_published_total"):
            out["events_published"] += float(value)
    return out
