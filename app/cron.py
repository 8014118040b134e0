"""What the cron process enqueues (`python -m app.worker cron`, exactly one instance); workers
run the jobs, which live in their feature's `jobs.py`.

Cron fields are read in the process's local time: the Procfile sets TZ=Europe/Paris.
"""

from rq import cron

from app.core.jobs import flush_outbox
from app.services.accounts.jobs import purge_reset_tokens, remind_unverified_emails
from app.services.analytics.jobs import purge_report_runs, rebuild_facts, run_due_reports
from app.services.crm.jobs import remind_overdue_tasks
from app.services.dossiers.jobs import fail_stalled_packs
from app.services.messaging.jobs import email_unread_messages, send_message_digests
from app.services.ops.jobs import nightly_backup, purge_data_exports
from app.services.payments.jobs import run_dunning
from app.services.simulator.jobs import (
    fail_stalled_exports,
    purge_expired_exports,
    purge_visitor_simulations,
)
from app.services.sla.jobs import (
    recompute_expert_figures,
    send_daily_reminders,
    send_morning_report,
    sweep_clocks,
)
from app.services.support.jobs import close_resolved_tickets, sweep_ticket_clocks
from app.services.workflow.jobs import (
    announce_missed_transitions,
    expire_expert_acceptances,
    recount_expert_loads,
)

cron.register(purge_reset_tokens, "default", cron="7 * * * *", job_timeout=120)
cron.register(remind_unverified_emails, "default", cron="*/15 * * * *", job_timeout=120)
cron.register(purge_visitor_simulations, "default", cron="*/10 * * * *", job_timeout=300)
cron.register(purge_expired_exports, "default", cron="5-59/10 * * * *", job_timeout=300)
cron.register(fail_stalled_exports, "default", cron="* * * * *", job_timeout=120)
cron.register(fail_stalled_packs, "default", cron="*/5 * * * *", job_timeout=120)
cron.register(expire_expert_acceptances, "default", cron="*/5 * * * *", job_timeout=300)
cron.register(announce_missed_transitions, "default", cron="* * * * *", job_timeout=300)
cron.register(recount_expert_loads, "default", cron="17 3 * * *", job_timeout=900)
# SLA clocks come due by the minute (peers.md §6.2: hour-level targets need it)
cron.register(sweep_clocks, "default", cron="* * * * *", job_timeout=300)
cron.register(sweep_ticket_clocks, "default", cron="* * * * *", job_timeout=300)
cron.register(close_resolved_tickets, "default", cron="13 4 * * *", job_timeout=600)
cron.register(send_daily_reminders, "default", cron="0 9 * * *", job_timeout=1800)
# a seller's overdue tasks are chased once, with the other daily reminders
cron.register(remind_overdue_tasks, "default", cron="5 9 * * *", job_timeout=600)
cron.register(send_morning_report, "default", cron="0 7 * * *", job_timeout=600)
cron.register(recompute_expert_figures, "default", cron="41 3 * * *", job_timeout=1800)
# scheduled reports come due at an hour of their owner's zone: checked by the minute
cron.register(run_due_reports, "default", cron="* * * * *", job_timeout=120)
cron.register(purge_report_runs, "default", cron="29 4 * * *", job_timeout=600)
# the facts are kept by events; the nightly rebuild mends what a bulk change went around
cron.register(rebuild_facts, "exports", cron="53 3 * * *", job_timeout=3600)
# the database and the stored files, verified by a restore into a scratch database
cron.register(nightly_backup, "exports", cron="47 2 * * *", job_timeout=3600)
cron.register(purge_data_exports, "default", cron="37 4 * * *", job_timeout=600)
# failed renewals are tried again on A9's schedule; hourly is precise enough for days
cron.register(run_dunning, "default", cron="23 * * * *", job_timeout=900)
cron.register(email_unread_messages, "default", cron="* * * * *", job_timeout=120)
cron.register(send_message_digests, "default", cron="2 * * * *", job_timeout=600)
# every 20 s, and at once when the cron process (re)connects: what waited for Redis goes out
# within half a minute of its return
cron.register(flush_outbox, "high", interval=20, job_timeout=120)
