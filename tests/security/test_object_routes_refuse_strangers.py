"""The route × role × foreign-object matrix: on the demo data (plus a firm with a member and an
open invitation), a signed-in stranger of each role gets 404 from every route that names an
object by id, whatever the method, and an admin-only page answers 403 to them."""

import re

import pytest

from app.extensions import db
from app.models import (
    Activity,
    ApprovalStatus,
    Document,
    Dossier,
    DossierPack,
    Email,
    Export,
    FirmInvitation,
    FirmMember,
    Invoice,
    Lead,
    MessageAttachment,
    Notification,
    Payment,
    PayoutBatch,
    ReportRun,
    Review,
    Role,
    SavedReport,
    Thread,
    User,
)
from app.services import firms
from app.services.analytics import schedules
from app.services.dossiers import packs
from tests.factories import csrf_token, login, make_user

# which table an URL's id names
IDS = {
    "dossier_id": Dossier,
    "document_id": Document,
    "invoice_id": Invoice,
    "thread_id": Thread,
    "notification_id": Notification,
    "invitation_id": FirmInvitation,
    "member_id": FirmMember,
    "export_id": Export,
    "attachment_id": MessageAttachment,
    "review_id": Review,
    "email_id": Email,
    "payment_id": Payment,
    "batch_id": PayoutBatch,
    "lead_id": Lead,
    "activity_id": Activity,
    "client_id": User,
    "report_id": SavedReport,
    "run_id": ReportRun,
    "pack_id": DossierPack,
}
# public by design: an approved expert's marketplace profile
PUBLIC = {"marketplace.show"}
MISSING = 987_654
# admin-only pages outside the admin blueprint (a role page: 403, not an object answer)
ADMIN_ONLY = {"dossiers.issue_invoice"}
# the sales team's pages: every other role gets 403 whatever the id (docs/domain.md A11)
STAFF_PREFIXES = ("admin.", "crm.")


@pytest.fixture
def world(app):
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    with app.test_request_context():
        owner = db.session.scalar(db.select(User).where(User.email.like("expert2@%")))
        member = db.session.scalar(db.select(User).where(User.email.like("expert3@%")))
        invited = db.session.scalar(db.select(User).where(User.email.like("expert@demo%")))
        firms.create(owner, "Cabinet Démo")
        invitation = firms.invite(owner, member.email, "manager")
        firms.accept(member, invitation.id)
        firms.invite(owner, invited.email, "expert")
        # an admin's scheduled report with a run, and a client's dossier pack
        admin = db.session.scalar(db.select(User).where(User.role == Role.ADMIN))
        report = schedules.save(
            admin,
            {
                "name": "Chaque lundi",
                "view": "sla",
                "frequency": "weekly",
                "weekday": 0,
                "month_day": None,
                "hour": 7,
                "tz": "Europe/Paris",
                "recipients": ["boss@example.fr"],
                "format": "xlsx",
                "filters": {},
            },
        )
        schedules.send_now(admin, report.id)
        dossier = db.session.scalar(db.select(Dossier).order_by(Dossier.id))
        packs.request_pack(db.session.get(User, dossier.client_id), dossier.id)
        ids = {
            name: list(db.session.scalars(db.select(model.id).order_by(model.id).limit(4)))
            for name, model in IDS.items()
        }
    for name in ("dossier_id", "document_id", "invoice_id", "thread_id", "invitation_id"):
        assert ids[name], name  # the objects the matrix is about are there
    # the demo has no export, attachment or review yet: a missing row must answer the same
    return {name: found or [MISSING] for name, found in ids.items()}


def _routes(app):
    for rule in app.url_map.iter_rules():
        names = [a for a in rule.arguments if a in IDS or a == "user_id"]
        if names and rule.endpoint not in PUBLIC:
            yield rule


def _url(rule, name, value) -> str:
    values = {a: "x" for a in rule.arguments}
    values[name] = value
    if "action" in rule.arguments:
        values["action"] = "cancel"
    if "kind" in rule.arguments:
        values["kind"] = "experts"
    if "status" in rule.arguments:
        values["status"] = "void"
    path = rule.rule
    for arg, v in values.items():
        path = re.sub(rf"<(?:\w+(?:\([^)]*\))?:)?{arg}>", str(v), path)
    return path


@pytest.mark.parametrize("role", [Role.CLIENT, Role.EXPERT, Role.REFERRER, Role.SUPPORT])
def test_a_stranger_of_every_role_gets_404_from_every_object_route(app, client, world, role):
    make_user(
        app,
        role,
        email="stranger@example.fr",
        approval_status=ApprovalStatus.APPROVED,
    )
    login(client, "stranger@example.fr")
    token = csrf_token(client)
    with app.app_context():
        user_ids = list(db.session.scalars(db.select(User.id).where(User.role != Role.ADMIN)))
    leaks = []
    for rule in _routes(app):
        name = next(a for a in rule.arguments if a in IDS or a == "user_id")
        for value in world.get(name, user_ids[:4]):
            url = _url(rule, name, value)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                if method == "GET":
                    resp = client.get(url)
                else:
                    resp = client.post(url, data={"csrf_token": token, "reason": "x"})
                admin = rule.endpoint.startswith(STAFF_PREFIXES) or rule.endpoint in ADMIN_ONLY
                expected = 403 if admin else 404
                if resp.status_code != expected:
                    leaks.append((method, url, resp.status_code))
    assert leaks == [], "\n".join(map(str, leaks))
