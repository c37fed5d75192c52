"""``rq cron jiuzhu.reminders.cron``: the sweep, every JIUZHU_REMINDER_SWEEP_SECONDS (default 300), and
the daily purge of stored API answers.

This module is a cron configuration file in rq's sense: importing it registers the job.
"""

import os

from rq import cron

from jiuzhu.reminders.jobs import QUEUE, purge_api_requests, sweep

cron.register(sweep, QUEUE, interval=int(os.environ.get("JIUZHU_REMINDER_SWEEP_SECONDS", "300")),
              name="jiuzhu-reminder-sweep")
# stored answers to API Idempotency-Keys, kept JIUZHU_API_IDEMPOTENCY_DAYS, purged once a day
cron.register(purge_api_requests, QUEUE, interval=86400, name="jiuzhu-api-idempotency-purge")
