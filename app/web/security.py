"""Security wiring of the web layer: the login loader, view decorators, safe redirects and the
HTTP security headers. The rules themselves are in app/security.py (the policy module)."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, abort, flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.extensions import login, talisman
from app.models import Role, User
from app.services.accounts import sessions
from app.web import hx


def safe_redirect_target(target: str | None) -> str | None:
    """A same-site path to redirect to, or None (no open redirect through `next`)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # a line break would split the Location header; a backslash reads as "//" to browsers
    if any(ch < " " or ch in "\x7f\\" for ch in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


# -- view decorators -----------------------------------------------------------------------------


def role_required(*roles: Role) -> Callable:
    """Pages reserved to roles: 403 for the other roles (they are pages, not objects)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = role_required(Role.ADMIN)


# -- wiring --------------------------------------------------------------------------------------

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_policy(config) -> dict:
    """Our CSP, opened to Stripe.js (its script, its card frame, its API) when payments are on:
    the card number is typed into Stripe's own frame and goes to Stripe, never to us."""
    policy = dict(CSP)
    if config.get("STRIPE_SECRET_KEY"):
        js, api = _origin(config["STRIPE_JS_URL"]), _origin(config["STRIPE_API_BASE"])
        policy["script-src"] = f"'self' {js}"
        policy["frame-src"] = f"{js} https://hooks.stripe.com"
        policy["connect-src"] = f"'self' {api}" if api == js else f"'self' {js} {api}"
    if config.get("CMI_CLIENT_ID"):
        # the pay button posts a signed form to CMI's own page
        policy["form-action"] = f"'self' {_origin(config['CMI_GATEWAY_URL'])}"
    return policy


def init_app(app: Flask) -> None:

    login.login_view = "auth.login"
    login.login_message = _l("Please log in to see this page.")
    login.login_message_category = "info"
    login.refresh_view = "auth.login"

    @login.user_loader
    def load_user(cookie_id: str) -> User | None:
        return sessions.load(cookie_id)  # None once that browser's session was ended

    @login.unauthorized_handler
    def unauthorized():
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if hx.is_htmx():
            # a polling fragment after the session ended: send the whole page to the login form
            resp = app.response_class(status=401)
            resp.headers["HX-Redirect"] = target
            return resp
        flash(str(login.login_message), "info")
        return redirect(target)

    remember_cookie = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")

    @app.after_request
    def _no_store_when_signed_in(resp):
        """A signed-in page (or file) is nobody else's: no shared cache or back button on a
        shared computer may keep it. Read from the cookies, so no page loads a user for it."""
        signed_in = "_user_id" in session or remember_cookie in request.cookies
        if signed_in and request.endpoint != "static":
            resp.headers["Cache-Control"] = "no-store"
            resp.headers.add("Vary", "Cookie")
        return resp

    secure = app.config["SESSION_COOKIE_SECURE"]
    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=secure,
        session_cookie_secure=secure,
        session_cookie_http_only=True,
        content_security_policy=content_policy(app.config),
        referrer_policy="same-origin",
        frame_options="DENY",
    )
