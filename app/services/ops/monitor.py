"""The monitor process (`python -m app.worker monitor`, exactly one): every tick it reads the
pulse and evaluates the alert rules; every PULSE_SECONDS it keeps the pulse for LivePulse and
signals staff pages; every HEALTH_SECONDS it checks every component.

An opened alert is in the app (and signalled) once its tick commits; its other channels are
sent right after, from this process, so no worker needs to be alive for them.

In the process, the slow work (a health round, whose checks may each wait HEALTH_TIMEOUT_S, and
the sending to email, Slack and SMS) runs on a thread of its own: a component timing out never
holds back the next reading of the rules. A rule's duration is measured between tick starts,
which are at least a tick apart, so a condition that holds opens its alert at the first tick
after its duration, within one tick of it.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor

from flask import current_app

from app.core.outbox import REDIS_ERRORS
from app.extensions import db
from app.models import HealthState, utcnow
from app.realtime import notify
from app.services.ops import alerts, health, pulse

log = logging.getLogger(__name__)


class Monitor:
    def __init__(self, background: bool = False) -> None:
        """`background`: the slow work on a thread (the process); without, all of a tick is
        done when it returns (the tests)."""
        config = current_app.config
        self.pulse = pulse.Pulse()
        self.pulse_every = config["PULSE_SECONDS"]
        self.health_every = config["HEALTH_SECONDS"]
        self.last_pulse = self.last_health = self.last_purge = float("-inf")
        self.smtp_down: bool | None = None
        self.side = ThreadPoolExecutor(1, "monitor-side") if background else None
        self.health_round: Future | None = None

    def _aside(self, work, *args) -> Future | None:
        if self.side is None:
            work(*args)
            return None
        app = current_app._get_current_object()

        def run():
            with app.app_context():
                try:
                    work(*args)
                except Exception:
                    log.exception("monitor: %s failed", work.__name__)
                    db.session.rollback()
                finally:
                    db.session.remove()

        return self.side.submit(run)

    def _check_health(self) -> None:
        results = health.run_round()
        self.smtp_down = any(r.component == "smtp" and r.state == HealthState.DOWN for r in results)

    def tick(self) -> dict:
        now, at = time.monotonic(), utcnow()
        running = self.health_round is not None and not self.health_round.done()
        if now - self.last_health >= self.health_every and not running:
            self.last_health = now
            self.health_round = self._aside(self._check_health)
        values = self.pulse.read(smtp_down=self.smtp_down)
        for alert_id in alerts.evaluate(values, now=at):
            self._aside(alerts.deliver, alert_id)
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
    monitor = Monitor(background=True)
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
