"""Accounts: sign-up and applications (`registration`), email verification (`verification`),
passwords and logging in (`passwords`), the profile (`profile`), signed-in browsers
(`sessions`), failed-login throttling (`login_throttle`), referral links (`referrals`).
What the rest of the platform calls is re-exported here."""

from app.services.accounts.passwords import (
    authenticate,
    change_password,
    check_reset_token,
    hash_password,
    purge_expired_reset_tokens,
    request_password_reset,
    reset_password,
)
from app.services.accounts.profile import PROFILE_FIELDS, USER_FIELDS, update_profile
from app.services.accounts.registration import (
    CV_MAX_BYTES,
    apply_expert,
    apply_referrer,
    open_cv,
    register_client,
)
from app.services.accounts.verification import (
    resend_verification,
    send_verification,
    verification_token,
    verify_email,
)

__all__ = [
    "CV_MAX_BYTES",
    "PROFILE_FIELDS",
    "USER_FIELDS",
    "apply_expert",
    "apply_referrer",
    "authenticate",
    "change_password",
    "check_reset_token",
    "hash_password",
    "open_cv",
    "purge_expired_reset_tokens",
    "register_client",
    "request_password_reset",
    "resend_verification",
    "reset_password",
    "send_verification",
    "update_profile",
    "verification_token",
    "verify_email",
]
