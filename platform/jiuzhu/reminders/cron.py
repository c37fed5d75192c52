"""``rq cron jiuzhu.reminders.cron``: the sweep, every JIUZHU_REMINDER_SWEEP_SECONDS (default 300), and
the daily purge of stored API answers, on this instance's queue.

This module is a cron configuration file in rq's sense: importing it registers the jobs. It reads
the same environment as the web and the workers, so the jobs land on the same instance's queue with
the same stamp; ``flask --app wsgi reminders cron`` registers the same jobs from its app.
"""

import os

from rq import cron

from jiuzhu.config import load_config
from jiuzhu.instance import identity_from_config
from jiuzhu.reminders.jobs import register_cron_jobs

_config = load_config()
register_cron_jobs(cron.register, identity_from_config(_config),
                   int(os.environ.get("JIUZHU_REMINDER_SWEEP_SECONDS") or _config["JIUZHU_REMINDER_SWEEP_SECONDS"]))
