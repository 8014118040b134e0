"""Password resets and client sign-up, at the service level."""

from datetime import timedelta

import pytest

from app.core.errors import ValidationFailed
from app.extensions import db
from app.models import PasswordResetToken, User, utcnow
from app.services import accounts
from tests.factories import make_user


def test_reset_token_single_use_and_expiry(app, smtp):
    uid = make_user(app, email="reset@example.fr")
    with app.test_request_context():
        accounts.request_password_reset("RESET@example.fr")
        email_row = db.session.scalars(db.select(PasswordResetToken)).one()
        assert email_row.user_id == uid
        from app.models import Email

        link = db.session.scalars(db.select(Email).where(Email.template == "password_reset")).one()
        token = link.body_text.split("/password/reset/")[1].split()[0]
        accounts.reset_password(token, "new-password-2026")
        with pytest.raises(ValidationFailed, match="déjà été utilisé"):
            accounts.reset_password(token, "another-pass-2026")
        # a second, expired link
        accounts.request_password_reset("reset@example.fr")
        row = db.session.scalars(
            db.select(PasswordResetToken).where(PasswordResetToken.used_at.is_(None))
        ).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        mail = db.session.scalars(
            db.select(Email).where(Email.template == "password_reset").order_by(Email.id.desc())
        ).first()
        token2 = mail.body_text.split("/password/reset/")[1].split()[0]
        with pytest.raises(ValidationFailed, match="expiré"):
            accounts.reset_password(token2, "another-pass-2026")
        with pytest.raises(ValidationFailed, match="pas valide"):
            accounts.reset_password(token2[:-3] + "abc", "another-pass-2026")
        assert accounts.purge_expired_reset_tokens() == 2


def test_unknown_email_reset_is_silent(app):
    with app.test_request_context():
        accounts.request_password_reset("nobody@example.fr")
        assert db.session.scalar(db.select(db.func.count(PasswordResetToken.id))) == 0


def test_register_client_validates_everything(app):
    make_user(app, email="taken@example.fr")
    with app.test_request_context():
        with pytest.raises(ValidationFailed) as exc:
            accounts.register_client(
                email="Taken@Example.fr",
                password="x",
                first_name="A",
                last_name="B",
                company_name="C",
                siren="123",
                sector="Piraterie",
            )
        assert set(exc.value.fields) == {"siren", "sector", "password"}
        with pytest.raises(ValidationFailed) as exc:
            accounts.register_client(
                email="Taken@Example.fr",
                password="x",
                first_name="A",
                last_name="B",
                company_name="C",
                siren="732829320",
                sector="Autre secteur",
            )
        assert set(exc.value.fields) == {"password"}  # never "this email is taken"
        taken = accounts.register_client(
            email="Taken@Example.fr",
            password="a-strong-pass-2026",
            first_name="A",
            last_name="B",
            company_name="C",
            siren="732829320",
            sector="Autre secteur",
        )
        assert taken is None
        assert db.session.scalar(db.select(db.func.count(User.id))) == 1
