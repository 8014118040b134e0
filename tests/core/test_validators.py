from app.core.validators import (
    normalize_email,
    normalize_siren,
    password_problem,
    siren_problem,
    with_luhn_key,
)


def test_known_sirens(app):
    with app.test_request_context():
        assert siren_problem("732829320") is None  # a real, valid SIREN
        assert siren_problem("552100554") is None  # another real one
        assert siren_problem("732829321") is not None


def test_siren_rules(app):
    with app.test_request_context():
        assert siren_problem("732 829 320") is None
        assert "9" in siren_problem("12345")
        assert "clé de contrôle" in siren_problem("732829321")


def test_generated_siren_passes(app):
    with app.test_request_context():
        for prefix in ("00000001", "12345678", "99999999"):
            siren = with_luhn_key(prefix)
            assert len(siren) == 9 and siren_problem(siren) is None


def test_password_rules_name_the_broken_rule(app):
    with app.test_request_context():
        assert "10" in password_problem("short1")
        assert "lettre et un chiffre" in password_problem("onlyletterslong")
        assert "courant" in password_problem("motdepasse123")
        assert "e-mail" in password_problem("jeanne-dupont-99", "jeanne-dupont@x.fr")
        assert password_problem("correct-horse-42", "someone@x.fr") is None


def test_normalizers():
    assert normalize_email("  Claire.Martin@Example.FR ") == "claire.martin@example.fr"
    assert normalize_siren("732 829-320") == "732829320"
