"""Defect: the app ran with the default SECRET_KEY without a word, so anyone could sign a
session cookie. Outside tests it now refuses to start without a real key."""

import pytest

from app.factory import create_app


@pytest.mark.parametrize(
    "key", [None, "", "dev-only-change-me", "change-me-to-a-long-random-string", "short"]
)
def test_the_app_refuses_to_start_without_a_real_key(key):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(SECRET_KEY=key)


def test_a_real_key_starts_and_tests_get_a_random_one():
    assert create_app(SECRET_KEY="k" * 40).config["SECRET_KEY"] == "k" * 40
    first = create_app(TESTING=True, SECRET_KEY=None).config["SECRET_KEY"]
    assert (
        len(first) >= 32 and first != create_app(TESTING=True, SECRET_KEY=None).config["SECRET_KEY"]
    )
