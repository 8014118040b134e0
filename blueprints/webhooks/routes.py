"""Payment providers' webhooks: verify, store, queue, answer. The work happens in a job."""

import logging

from flask import request

from app.services.payments import cmi, events
from app.services.payments import stripe_gateway as gateway
from blueprints.webhooks import bp

log = logging.getLogger(__name__)


@bp.post("/stripe")
def stripe():
    raw = request.get_data(cache=False)  # the signature covers these exact bytes
    signature = request.headers.get("Stripe-Signature")
    try:
        event = gateway.verify(raw, signature)
        outcome = events.take_in(gateway.PROVIDER, event, raw, gateway.signed_at(signature))
    except (ValueError, events.Rejected) as exc:
        log.warning("stripe webhook refused: %s", exc)
        return {"error": "refused"}, 400
    return {"received": outcome}, 200


@bp.post("/cmi", endpoint="cmi")
def cmi_callback():
    """CMI's server-to-server result: answered in plain text, as its gateway expects."""
    answer = cmi.callback(request.form.to_dict())
    return answer, 200, {"Content-Type": "text/plain; charset=utf-8"}
