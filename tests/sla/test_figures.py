"""The marketplace's punctuality figures come from the clocks, from five measured steps on."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.core import clock
from app.extensions import db
from app.models import ApprovalStatus, ClockStatus, Party, Role, SlaClock, SlaMetric, User
from app.services import sla
from tests.factories import make_user
from tests.factories.models import gen_dossier

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2027, 3, 1, 9, tzinfo=PARIS)


def _clock(dossier, expert_id, metric, worked_minutes, late=False, days_ago=10, code="x"):
    ended = NOW - timedelta(days=days_ago)
    return SlaClock(
        dossier_id=dossier.id,
        code=f"{code}{worked_minutes}{days_ago}{int(late)}",
        metric=metric,
        party=Party.EXPERT,
        responsible_id=expert_id,
        budget_minutes=240,
        warn_before_minutes=60,
        started_at=ended - timedelta(hours=3),
        due_at=ended,
        warn_at=ended,
        status=ClockStatus.SATISFIED,
        ended_at=ended,
        satisfied_at=ended,
        breached_at=ended - timedelta(minutes=5) if late else None,
        worked_seconds=worked_minutes * 60,
    )


def test_figures_from_the_clocks_on_the_marketplace(app, client):
    expert_id = make_user(
        app, Role.EXPERT, email="expert@example.fr", approval_status=ApprovalStatus.APPROVED
    )
    with app.test_request_context():
        d = gen_dossier(db.session)
        for minutes in (30, 60, 90, 120):
            db.session.add(_clock(d, expert_id, SlaMetric.FIRST_RESPONSE, minutes))
        db.session.add(_clock(d, expert_id, SlaMetric.REACH_STEP, 500, late=True))
        db.session.add(_clock(d, expert_id, SlaMetric.REACH_STEP, 20, days_ago=120))  # too old
        db.session.commit()
        with clock.frozen(NOW):
            assert sla.figures.recompute() == 1
        (fig,) = sla.figures.for_experts([expert_id]).values()
        assert (fig.measured, fig.on_time, fig.first_response_median_minutes) == (5, 4, 75)
        assert fig.on_time_percent == 80
    page = client.get(f"/experts/{expert_id}").get_data(as_text=True)
    assert "80 % des étapes dans les délais" in page
    listing = client.get("/experts/").get_data(as_text=True)
    assert "80 % des étapes dans les délais" in listing


def test_nothing_is_shown_under_five_measured_steps(app, client):
    expert_id = make_user(
        app, Role.EXPERT, email="expert@example.fr", approval_status=ApprovalStatus.APPROVED
    )
    with app.test_request_context():
        d = gen_dossier(db.session)
        for minutes in (30, 60, 90, 120):
            db.session.add(_clock(d, expert_id, SlaMetric.FIRST_RESPONSE, minutes))
        db.session.commit()
        with clock.frozen(NOW):
            sla.figures.recompute()
        assert sla.figures.for_experts([expert_id]) == {}
        assert db.session.get(User, expert_id)
    assert "étapes dans les délais" not in client.get(f"/experts/{expert_id}").get_data(
        as_text=True
    )
