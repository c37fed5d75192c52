"""``rq cron jiuzhu.reminders.cron``: the sweep, every JIUZHU_REMINDER_SWEEP_SECONDS (default 300).

This module is a cron configuration file in rq's sense: importing it registers the job.
"""

import os

from rq import cron

from jiuzhu.reminders.jobs import QUEUE, sweep

cron.register(sweep, QUEUE, interval=int(os.environ.get("JIUZHU_REMINDER_SWEEP_SECONDS", "300")),
              name="jiuzhu-reminder-sweep")
