"""The monitor process (`python -m app.worker monitor`, exactly one): every tick it reads the
pulse and evaluates the alert rules; every PULSE_SECONDS it keeps the pulse for LivePulse and
signals staff pages; every HEALTH_SECONDS it checks every component.

An opened alert is in the app (and signalled) once its tick commits; its other channels are
sent right after, from this process, so no worker needs to be alive for them.
"""

from __future__ import annotations

import logging
import time

from flask import current_app

from app.core.outbox import REDIS_ERRORS
from app.extensions import db
from app.models import HealthState
from app.realtime import notify
from app.services.ops import alerts, health, pulse

log = logging.getLogger(__name__)


class Monitor:
    def __init__(self) -> None:
        config = current_app.config
        self.pulse = pulse.Pulse()
        self.pulse_every = config["PULSE_SECONDS"]
        self.health_every = config["HEALTH_SECONDS"]
        self.last_pulse = self.last_health = self.last_purge = float("-inf")
        self.smtp_down: bool | None = None

    def tick(self) -> dict:
        now = time.monotonic()
        if now - self.last_health >= self.health_every:
            self.last_health = now
            results = health.run_round()
            self.smtp_down = any(
                r.component == "smtp" and r.state == HealthState.DOWN for r in results
            )
        values = self.pulse.read(smtp_down=self.smtp_down)
        for alert_id in alerts.evaluate(values):
            alerts.deliver(alert_id)
        if now - self.last_pulse >= self.pulse_every:
            self.last_pulse = now
            pulse.store(values)
            notify.to_admins("ops:pulse")
        if now - self.last_purge >= 3600:
            self.last_purge = now
            health.purge()
            pulse.purge()
        return values


def run() -> None:
    alerts.install_defaults()
    monitor = Monitor()
    tick_s = current_app.config["MONITOR_TICK_S"]
    while True:
        began = time.monotonic()
        try:
            monitor.tick()
        except REDIS_ERRORS as exc:
            log.warning("monitor: Redis is away (%s); health goes on", exc)
            db.session.rollback()
        except Exception:
            log.exception("monitor tick failed")
            db.session.rollback()
        finally:
            db.session.remove()
        time.sleep(max(0.0, tick_s - (time.monotonic() - began)))
