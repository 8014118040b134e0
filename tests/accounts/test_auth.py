import re

from app.extensions import db
from app.models import ClientProfile, Email, Role, User
from tests.factories import HX, PASSWORD, VALID_SIREN, csrf_token, get_user, login, make_user, post

SIGNUP = {
    "first_name": "Claire",
    "last_name": "Martin",
    "email": "Claire@Transports-Martin.fr",
    "phone": "06 12 34 56 78",
    "password": "camions-2026-lyon",
    "confirm": "camions-2026-lyon",
    "company_name": "Transports Martin",
    "siren": "732 829 320",
    "sector": "Transport et Logistique",
    "employees": "42",
    "turnover": "6 800 000",
    "accept": "y",
}


def _emailed_path(smtp, to: str, pattern: str) -> str:
    [message] = [m for m in smtp.to(to) if re.search(pattern, smtp.body(m))]
    return re.search(r"http://\S+(" + pattern + r"\S+)", smtp.body(message)).group(1)


def test_client_signup_no_js_then_verify_by_emailed_link(app, client, run_jobs, smtp):
    resp = post(client, "/register", SIGNUP)
    assert resp.status_code == 303 and resp.headers["Location"] == "/register/sent"
    page = client.get("/register/sent").get_data(as_text=True)
    assert "Consultez votre messagerie" in page and "Claire@Transports-Martin.fr" in page
    assert client.get("/dashboard").status_code == 302  # not logged in until the link
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == "claire@transports-martin.fr"))
        assert user.role == Role.CLIENT and user.email_verified_at is None
        assert (
            user.client_profile.turnover == 6_800_000 and user.client_profile.siren == VALID_SIREN
        )
    run_jobs()
    [message] = smtp.to("claire@transports-martin.fr")
    assert message["Subject"] == "Confirmez votre adresse e-mail"
    path = re.search(r"http://[^/]+(/verify/\S+)", smtp.body(message)).group(1)
    resp = client.get(path)
    assert resp.status_code == 303 and resp.headers["Location"] == "/dashboard"
    with app.app_context():
        assert db.session.scalar(db.select(User)).email_verified_at is not None
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Merci, votre adresse e-mail est confirmée." in page and "Transports Martin" in page
    # the link opens the account once; used again, it only confirms
    stranger = app.test_client()
    resp = stranger.get(path)
    assert resp.status_code == 303 and resp.headers["Location"] == "/login"


def test_signup_with_htmx_headers_also_redirects(client):
    resp = post(client, "/register", SIGNUP, htmx=True, headers={"HX-Boosted": "true"})
    assert resp.status_code == 303


def test_signup_errors_keep_values_never_password(app, client):
    make_user(app, email="claire@transports-martin.fr")
    bad = dict(SIGNUP, siren="732829321", sector="Piraterie", password="court", confirm="court")
    resp = post(client, "/register", bad)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "clé de contrôle" in page
    assert "Choisissez un secteur" in page or "Not a valid choice" in page or "choix" in page
    assert 'value="Transports Martin"' in page and 'value="6 800 000"' in page
    assert "court" not in page.replace("courant", "")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ClientProfile.id))) == 1


def test_weak_password_names_the_rule(client):
    resp = post(client, "/register", dict(SIGNUP, password="abcdefghijk", confirm="abcdefghijk"))
    assert resp.status_code == 422
    assert "au moins une lettre et un chiffre" in resp.get_data(as_text=True)


def test_negative_number_refused(client):
    resp = post(client, "/register", dict(SIGNUP, employees="-3"))
    assert resp.status_code == 422 and "positif ou nul" in resp.get_data(as_text=True)


def test_expert_and_referrer_applications_notify_admins(app, client, run_jobs, smtp):
    admin = make_user(app, role=Role.ADMIN, email="boss@example.fr")
    make_user(app, role=Role.ADMIN, email="quiet-boss@example.fr")
    quiet = app.test_client()
    login(quiet, "quiet-boss@example.fr")  # keeps applications in the app, not by email
    assert post(quiet, "/account/notifications", {"on": ["account:in_app"]}).status_code == 303
    resp = post(
        client,
        "/apply/expert",
        {
            "first_name": "Nadia",
            "last_name": "Benali",
            "email": "nadia@audit.fr",
            "password": "urssaf-expert-9",
            "confirm": "urssaf-expert-9",
            "accept": "y",
            "firm_name": "Audit Social Sud",
            "years_experience": "9",
        },
    )
    assert resp.status_code == 303 and resp.headers["Location"] == "/register/sent"
    assert "Merci pour votre candidature" in client.get("/register/sent").get_data(as_text=True)
    other = app.test_client()
    resp = post(
        other,
        "/apply/referrer",
        {
            "first_name": "Hugo",
            "last_name": "Petit",
            "email": "hugo@courtage.fr",
            "password": "apporteur-2026",
            "confirm": "apporteur-2026",
            "accept": "y",
            "company_type": "agence",
            "sponsor_code": "AFF000000",
        },
    )
    assert resp.status_code == 422 and "code parrain" in resp.get_data(as_text=True)
    resp = post(
        other,
        "/apply/referrer",
        {
            "first_name": "Hugo",
            "last_name": "Petit",
            "email": "hugo@courtage.fr",
            "password": "apporteur-2026",
            "confirm": "apporteur-2026",
            "accept": "y",
            "company_type": "agence",
        },
    )
    assert resp.status_code == 303
    run_jobs()
    assert [m["Subject"] for m in smtp.to("nadia@audit.fr")] == [
        "Confirmez votre adresse e-mail",
        "Nous avons bien reçu votre candidature",
    ]
    to_review = smtp.to("boss@example.fr")
    assert [m["Subject"] for m in to_review] == ["Une nouvelle candidature attend validation"] * 2
    bodies = " ".join(smtp.body(m) for m in to_review)
    assert "Nadia Benali <nadia@audit.fr>" in bodies and "hugo@courtage.fr" in bodies
    assert "/admin/approvals" in bodies
    assert smtp.to("quiet-boss@example.fr") == []
    boss = app.test_client()
    login(boss, "boss@example.fr")
    page = boss.get("/notifications/").get_data(as_text=True)
    assert "Nouvelle candidature d&#39;expert" in page and "nadia@audit.fr" in page
    assert "Nouvelle candidature d&#39;apporteur" in page
    assert get_user(app, admin).id == admin


def test_login_logout_remember_and_wrong_password(app, client):
    make_user(app, email="paul@example.fr")
    resp = post(client, "/login", {"email": "paul@example.fr", "password": "nope-nope-1"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "E-mail ou mot de passe incorrect" in page
    assert 'value="paul@example.fr"' in page and "nope-nope-1" not in page
    resp = post(
        client,
        "/login?next=/account/profile",
        {"email": "PAUL@example.fr", "password": PASSWORD, "remember": "y"},
    )
    assert resp.status_code == 303 and resp.headers["Location"] == "/account/profile"
    assert "remember_token=" in " ".join(resp.headers.getlist("Set-Cookie"))
    resp = post(client, "/logout")
    assert resp.status_code == 303
    assert client.get("/dashboard").status_code == 302


def test_open_redirect_refused(app, client):
    make_user(app, email="paul@example.fr")
    resp = post(
        client, "/login?next=//evil.example/x", {"email": "paul@example.fr", "password": PASSWORD}
    )
    assert resp.headers["Location"] == "/dashboard"


def test_csrf_is_enforced(app, client):
    make_user(app, email="paul@example.fr")
    resp = post(client, "/login", {"email": "paul@example.fr", "password": PASSWORD}, csrf=False)
    assert resp.status_code == 400 and "session a expiré" in resp.get_data(as_text=True)
    resp = client.post(
        "/login",
        data={"email": "paul@example.fr", "password": PASSWORD},
        headers={**HX, "X-CSRFToken": "forged"},
    )
    assert resp.status_code == 400
    token = csrf_token(client)
    resp = client.post(
        "/login",
        data={"email": "paul@example.fr", "password": PASSWORD},
        headers={**HX, "X-CSRFToken": token},
    )
    assert resp.status_code == 303


def test_slowed_login_keeps_the_email_and_says_how_long(app, client):
    for _ in range(app.config["LOGIN_FREE_ATTEMPTS"]):
        resp = post(client, "/login", {"email": "x@example.fr", "password": "wrong-pass-1"})
        assert resp.status_code == 422
    resp = post(client, "/login", {"email": "x@example.fr", "password": "wrong-pass-1"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "15"
    assert "Trop de tentatives" in page and "15\xa0secondes" in page
    assert 'value="x@example.fr"' in page and "wrong-pass-1" not in page


def test_password_reset_flow(app, client, run_jobs, smtp):
    make_user(app, email="lea@example.fr")
    resp = post(client, "/password/forgot", {"email": "lea@example.fr"})
    assert resp.status_code == 200 and "lea@example.fr" in resp.get_data(as_text=True)
    resp = post(client, "/password/forgot", {"email": "ghost@example.fr"})
    assert resp.status_code == 200  # same answer: no account enumeration
    run_jobs()
    [message] = smtp.to("lea@example.fr")
    path = re.search(r"/password/reset/\S+", smtp.body(message)).group(0)
    assert client.get(path).status_code == 200
    resp = post(client, path, {"password": "short", "confirm": "short"})
    assert resp.status_code == 422 and "10 caractères" in resp.get_data(as_text=True)
    resp = post(client, path, {"password": "nouveau-mdp-77", "confirm": "nouveau-mdp-77"})
    assert resp.status_code == 303
    resp = client.get(path)
    assert resp.status_code == 422 and "déjà été utilisé" in resp.get_data(as_text=True)
    login(client, "lea@example.fr", "nouveau-mdp-77")


def test_change_password_logs_out_other_sessions(app):
    make_user(app, email="marc@example.fr")
    phone, laptop = app.test_client(), app.test_client()
    login(phone, "marc@example.fr")
    login(laptop, "marc@example.fr")
    resp = post(
        laptop,
        "/account/password",
        {"current_password": "wrong-one-11", "new_password": "x", "confirm": "x"},
    )
    assert resp.status_code == 422 and "mot de passe actuel" in resp.get_data(as_text=True)
    resp = post(
        laptop,
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "brand-new-pass-7",
            "confirm": "brand-new-pass-7",
        },
    )
    assert resp.status_code == 303
    assert laptop.get("/dashboard").status_code == 200
    assert phone.get("/dashboard").status_code == 302


def test_profile_edit_keeps_values_on_error(app, client):
    make_user(app, email="karim@example.fr")
    login(client, "karim@example.fr")
    form = {
        "first_name": "Karim",
        "last_name": "Haddad",
        "phone": "",
        "locale": "fr",
        "timezone": "Europe/Paris",
        "company_name": "Boulangerie Haddad",
        "siren": "123456789",
        "sector": "Commerce et Distribution",
        "employees": "9",
        "turnover": "640 000",
        "address": "",
        "postal_code": "13001",
        "city": "Marseille",
    }
    resp = post(client, "/account/profile", form)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "clé de contrôle" in page
    assert 'value="Boulangerie Haddad"' in page and 'value="640 000"' in page
    resp = post(client, "/account/profile", dict(form, siren=VALID_SIREN, locale="en"))
    assert resp.status_code == 303
    page = client.get("/account/profile").get_data(as_text=True)
    assert "Your profile is saved." in page and 'lang="en"' in page
    with app.app_context():
        profile = db.session.scalar(db.select(ClientProfile))
        assert profile.turnover == 640_000 and profile.city == "Marseille"


def test_emails_rendered_in_recipient_language(app, client, run_jobs, smtp):
    client.post("/locale", data={"locale": "en", "csrf_token": csrf_token(client)})
    post(client, "/register", dict(SIGNUP, email="en@example.fr"))
    run_jobs()
    [message] = smtp.to("en@example.fr")
    assert message["Subject"] == "Confirm your email address"
    with app.app_context():
        assert db.session.scalar(db.select(Email.locale)) == "en"


def test_a_referrer_sends_a_cv_that_only_admins_read(app, client):
    import io

    from app.models import AuditLog, ReferrerProfile

    make_user(app, Role.ADMIN, email="cvboss@example.fr")
    fields = {
        "first_name": "Léa",
        "last_name": "Roux",
        "email": "lea@courtage.fr",
        "password": "apporteur-2026",
        "confirm": "apporteur-2026",
        "accept": "y",
        "company_type": "independant",
        "company_name": "Roux Conseil",
    }
    exe = b"MZ\x90\x00" + b"\x00" * 300
    resp = post(
        client,
        "/apply/referrer",
        {**fields, "cv": (io.BytesIO(exe), "cv.pdf")},
        content_type="multipart/form-data",
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "PDF" in html and 'value="Roux Conseil"' in html
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    resp = post(
        client,
        "/apply/referrer",
        {**fields, "cv": (io.BytesIO(pdf), "../../Léa Roux CV.pdf")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303
    with app.app_context():
        profile = db.session.scalar(db.select(ReferrerProfile))
        user_id, name = profile.user_id, profile.cv_name
    assert name == "Léa Roux CV.pdf"
    login(client, "lea@courtage.fr", "apporteur-2026")
    assert client.get(f"/admin/applications/{user_id}/cv").status_code == 403
    boss = app.test_client()
    login(boss, "cvboss@example.fr")
    assert f"/admin/applications/{user_id}/cv" in boss.get("/admin/approvals").get_data(
        as_text=True
    )
    resp = boss.get(f"/admin/applications/{user_id}/cv")
    assert resp.status_code == 200 and resp.data == pdf
    with app.app_context():
        assert db.session.scalar(
            db.select(AuditLog.id).where(AuditLog.action == "apporteur.read_cv")
        )
    assert boss.get(f"/admin/applications/{user_id + 99}/cv").status_code == 404
