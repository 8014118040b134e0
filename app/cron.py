"""`rq cron app.cron`: exactly one instance; it only enqueues, workers run the sweeps.

Cron fields are read in the process's local time: the Procfile sets TZ=Europe/Paris.
"""

from rq import cron

from app.tasks.sweeps import purge_reset_tokens, remind_unverified_emails

cron.register(purge_reset_tokens, "default", cron="7 * * * *", job_timeout=120)
cron.register(remind_unverified_emails, "default", cron="*/15 * * * *", job_timeout=120)
