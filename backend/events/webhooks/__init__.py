"""Webhooks: the change feed's events as signed POSTs, one at a time per hook, in order.

```
address_policy.py  which addresses a hook may reach (checked at creation and at connect time)
signature.py       the Syncboard-Signature header (HMAC-SHA256 over timestamp and body)
hook_store.py      the webhooks and webhook_deliveries tables
delivery.py        HookWorker: one hook's queue, retries with backoff, pause
dispatcher.py      WebhookDispatcher: reads the all-boards feed, hands events to hooks
handlers.py        POST/GET /api/boards/<id>/webhooks, .../<hid>, .../<hid>/deliveries
```
"""
