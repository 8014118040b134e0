"""Signing up with an address tells nothing about whether it already has an account.

Before: the form came back with "An account already exists with this email address", and a new
account was logged in at once, so the two answers differed in status, page and cookies."""

import io
import pathlib
import re

import pytest

from app.extensions import db
from app.models import ClientProfile, ExpertProfile, Notification, ReferrerProfile, Role, User
from tests.factories import PASSWORD, login, make_user, post

COMMON = {
    "first_name": "Ève",
    "last_name": "Durand",
    "phone": "",
    "password": "another-strong-77",
    "confirm": "another-strong-77",
    "accept": "y",
}
FORMS = {
    "/register": {
        **COMMON,
        "company_name": "Durand Transports",
        "siren": "732 829 320",
        "sector": "Transport et Logistique",
    },
    "/apply/expert": {**COMMON, "firm_name": "Cabinet Durand", "years_experience": "4"},
    "/apply/referrer": {**COMMON, "company_type": "agence"},
}


def answer(app, path, email, **extra):
    client = app.test_client()
    resp = post(client, path, {**FORMS[path], "email": email}, **extra)
    follow = client.get(resp.headers.get("Location", "/"))
    cookies = sorted(c.split("=", 1)[0] for c in resp.headers.getlist("Set-Cookie") if "=" in c)
    page = follow.get_data(as_text=True).replace(email, "EMAIL")
    page = re.sub(r'value="[^"]{40,}"|"X-CSRFToken": "[^"]+"', "TOKEN", page)  # per-session
    return resp.status_code, resp.headers.get("Location"), cookies, follow.status_code, page, client


@pytest.mark.parametrize("path", list(FORMS))
def test_the_same_answer_whether_or_not_the_address_is_taken(app, run_jobs, smtp, path):
    make_user(app, role=Role.CLIENT, email="taken@example.fr", first_name="Tania")
    make_user(app, role=Role.ADMIN, email="boss@example.fr")
    *taken, taken_client = answer(app, path, "taken@example.fr")
    *fresh, fresh_client = answer(app, path, "fresh@example.fr")
    assert taken == fresh
    assert taken[:2] == [303, "/register/sent"]
    # neither browser is logged in: only the emailed link opens an account
    for client in (taken_client, fresh_client):
        assert client.get("/dashboard").status_code == 302
    run_jobs()
    # the owner of the taken address hears about it, and their account is unchanged
    [warning] = smtp.to("taken@example.fr")
    assert "essayé de créer un compte" in smtp.body(warning)
    assert "/password/forgot" in smtp.body(warning) and "verify" not in smtp.body(warning)
    assert any("/verify/" in smtp.body(m) for m in smtp.to("fresh@example.fr"))
    with app.app_context():
        owner = db.session.scalar(db.select(User).where(User.email == "taken@example.fr"))
        assert owner.first_name == "Tania" and owner.role == Role.CLIENT
        assert owner.expert_profile is None and owner.referrer_profile is None
        assert db.session.scalar(db.select(db.func.count(ClientProfile.id))) == 1 + (
            path == "/register"
        )
        assert db.session.scalar(db.select(db.func.count(ExpertProfile.id))) == (
            path == "/apply/expert"
        )
        assert db.session.scalar(db.select(db.func.count(ReferrerProfile.id))) == (
            path == "/apply/referrer"
        )
        # admins hear of the real application only
        bodies = db.session.scalars(db.select(Notification.body)).all()
        assert not any("taken@example.fr" in (b or "") for b in bodies)
    login(app.test_client(), "taken@example.fr", PASSWORD)  # their password still works


def test_the_warning_is_sent_once_an_hour_at_most(app, run_jobs, smtp):
    make_user(app, email="taken@example.fr")
    for _ in range(3):
        assert answer(app, "/register", "taken@example.fr")[0] == 303
    run_jobs()
    assert len(smtp.to("taken@example.fr")) == 1


def test_a_cv_sent_with_a_taken_address_is_not_kept(app):
    make_user(app, role=Role.EXPERT, email="taken@example.fr")
    cvs = pathlib.Path(app.config["STORAGE_DIR"], "cvs")
    before = set(cvs.rglob("*")) if cvs.exists() else set()
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    resp = post(
        app.test_client(),
        "/apply/referrer",
        {
            **FORMS["/apply/referrer"],
            "email": "taken@example.fr",
            "cv": (io.BytesIO(pdf), "cv.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303 and resp.headers["Location"] == "/register/sent"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ReferrerProfile.id))) == 0
    assert (set(cvs.rglob("*")) if cvs.exists() else set()) == before
