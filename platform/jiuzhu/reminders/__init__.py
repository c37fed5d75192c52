"""Reminders and escalations: an outbox in the database, swept by RQ workers.

The outbox (:class:`Reminder`) is the truth: one row per (subject, kind, offset, due date), created
and cancelled as steps open, close or change their deadlines (:mod:`.planner`). ``rq cron`` runs
:func:`.jobs.sweep` every few minutes; it enqueues one job per tenant, which takes the county's sweep
lock, reads a batch of due rows, marks them sent (only those still pending) and, in the same
transaction, writes the in-app notifications and the external deliveries (:mod:`.dispatch`). External channels (e-mail, an SMS
gateway's webhook) are then delivered with retries and back-off (:mod:`.channels`).
"""
