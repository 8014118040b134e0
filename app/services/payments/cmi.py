"""CMI 3D Pay Hosting (A9): invoices paid by card in dirhams on CMI's own page.

We post a form signed with the store key (hash version 3) to CMI's gateway; the client types
their card there; CMI calls our callback server to server with the result, signed the same way,
and we answer as it expects (`ACTION=POSTAUTH` to capture an approved payment, `APPROVED` to
acknowledge a refusal, `FAILURE` when the signature or the amount is wrong); then it sends the
browser back to our ok or fail page. The callback is the source of truth, stored raw like
every provider event, and applied once."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import gettext as _

from app.core.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import (
    EventStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    ProviderEvent,
    User,
    utcnow,
)
from app.services.payments import events, fees

PROVIDER = "cmi"
MAD = "504"  # ISO 4217 numeric code CMI expects


def configured() -> bool:
    config = current_app.config
    return bool(config["CMI_CLIENT_ID"] and config["CMI_STORE_KEY"])


def _escape(value) -> str:
    # CMI's sample: backslashes first, then pipes
    return str(value).replace("\\", "\\\\").replace("|", "\\|")


def hash_v3(fields: dict, store_key: str) -> str:
    """Hash version 3: every field but `hash` and `encoding`, sorted by name case-insensitively,
    values escaped and joined with `|`, the store key last; SHA-512, base64."""
    names = sorted((n for n in fields if n.lower() not in ("hash", "encoding")), key=str.lower)
    plain = "|".join(_escape(fields[n]) for n in names) + "|" + _escape(store_key)
    return base64.b64encode(hashlib.sha512(plain.encode("utf-8")).digest()).decode("ascii")


def in_dirhams(euro_cents: int) -> int:
    rate = Decimal(current_app.config["CMI_MAD_PER_EUR"])
    return int((Decimal(euro_cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def start(invoice: Invoice, payer: User, urls: dict[str, str]) -> tuple[str, dict]:
    """The signed form that sends `payer` to CMI to pay what their side of `invoice` owes, and
    the pending payment it is for (written first: the callback always finds it)."""
    party = fees.party_of(invoice, payer)
    if not configured():
        raise ValidationFailed(_("Payment in dirhams is not configured."))
    if fees.status_of(invoice, party) != InvoiceStatus.OPEN or invoice.due_from(party) <= 0:
        raise Conflict(_("This invoice is not open for payment any more."))
    due = invoice.due_from(party)
    payment = Payment(
        payer_id=payer.id,
        kind=fees.KIND[party],
        invoice_id=invoice.id,
        provider=PROVIDER,
        method="card",
        currency="MAD",
        amount_cents=in_dirhams(due),
        invoice_cents=due,
    )
    db.session.add(payment)
    db.session.commit()
    config = current_app.config
    fields = {
        "clientid": config["CMI_CLIENT_ID"],
        "oid": f"FT{payment.id}",
        "amount": f"{payment.amount_cents / 100:.2f}",
        "currency": MAD,
        "TranType": "PreAuth",
        "storetype": "3D_PAY_HOSTING",
        "hashAlgorithm": "ver3",
        "rnd": secrets.token_hex(10),
        "lang": "fr" if payer.locale == "fr" else "en",
        "okUrl": urls["ok"],
        "failUrl": urls["fail"],
        "callbackUrl": urls["callback"],
        "shopurl": urls["shop"],
        "email": payer.email,
        "BillToName": payer.full_name,
        "encoding": "UTF-8",
    }
    fields["hash"] = hash_v3(fields, config["CMI_STORE_KEY"])
    return config["CMI_GATEWAY_URL"], fields


def _payment_of(fields: dict) -> Payment | None:
    oid = str(fields.get("oid") or "")
    if not oid.startswith("FT") or not oid[2:].isdigit():
        return None
    payment = db.session.get(Payment, int(oid[2:]))
    return payment if payment is not None and payment.provider == PROVIDER else None


def signed(fields: dict) -> bool:
    expected = hash_v3(fields, current_app.config["CMI_STORE_KEY"])
    given = str(fields.get("HASH") or fields.get("hash") or "")
    return secrets.compare_digest(expected, given)


def callback(fields: dict) -> str:
    """CMI's server-to-server call: the answer it expects, after applying the result once."""
    if not configured() or not signed(fields):
        return "FAILURE"
    payment = _payment_of(fields)
    if payment is None:
        return "FAILURE"
    approved = fields.get("ProcReturnCode") == "00"
    event_id = f"{fields.get('oid')}:{fields.get('TransId') or fields.get('ProcReturnCode')}"
    row = _store(event_id, fields, approved)
    if row is None:  # the same call again: answered as the first time
        return "ACTION=POSTAUTH" if payment.status == PaymentStatus.SUCCEEDED else "APPROVED"
    if str(fields.get("amount")) != f"{payment.amount_cents / 100:.2f}" or (
        str(fields.get("currency")) != MAD
    ):
        row.status, row.error = EventStatus.REFUSED, "amount or currency differs"
        row.processed_at = utcnow()
        events.flag(row, EventStatus.REFUSED)
        db.session.commit()
        return "FAILURE"
    claimed = db.session.execute(
        db.update(Payment)
        .where(Payment.id == payment.id, Payment.status == PaymentStatus.PENDING)
        .values(
            status=PaymentStatus.SUCCEEDED if approved else PaymentStatus.FAILED,
            provider_ref=str(fields.get("TransId") or "")[:255] or None,
            failure=None if approved else str(fields.get("ErrMsg") or "")[:255] or None,
        )
    ).rowcount
    if claimed and approved:
        db.session.refresh(payment)
        fees.settle(payment)
    row.status, row.processed_at = EventStatus.PROCESSED, utcnow()
    db.session.commit()
    return "ACTION=POSTAUTH" if approved else "APPROVED"


def _store(event_id: str, fields: dict, approved: bool) -> ProviderEvent | None:
    """The call kept as received; None if this very call was taken already."""
    new_id = events.store(
        dict(
            provider=PROVIDER,
            event_id=event_id[:255],
            type="callback.approved" if approved else "callback.declined",
            payload=json.dumps(fields, sort_keys=True),
            object_ref=str(fields.get("oid") or "")[:255],
            received_at=utcnow(),
        )
    )
    return db.session.get(ProviderEvent, new_id) if new_id else None


def returned(fields: dict) -> Payment:
    """The payment a browser coming back from CMI is about (its fields are signed too)."""
    payment = _payment_of(fields) if configured() and signed(fields) else None
    if payment is None:
        raise NotFound()
    return payment
