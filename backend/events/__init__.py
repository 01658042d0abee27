"""Events out of a board (issue 17): the change feed (Server-Sent Events) and webhooks.

In the order an event travels:

```
changes.py   pure: which elements a batch of Yjs changes created, updated, deleted
feed.py      BoardFeed: one board's batching window and shadow document (off the sync path)
hub.py       EventHub: seq numbers, the bounded backlog for resumes, waiting readers
hub_redis.py RedisEventHub: the same through Redis Streams, for several processes
sse.py       GET /api/boards/<id>/events and GET /api/events (text/event-stream)
webhooks/    per-board and server hooks: store, address checks, signed ordered delivery
service.py   EventsService: picks the hub, gives rooms their feed, routes (wired in app.py)
event_metrics.py  the Prometheus counters of all of the above
```
"""
