"""Payments measurements for `make bench` (issue 26 targets), on the scale dataset:

- the Stripe webhook endpoint, one user at a time (wrk -c1) over freshly signed, distinct
  events (a repeated one would be a replay, refused): what Stripe waits on, verification and
  storage only, beside the bare hello;
- a burst of 1 000 `payment_intent.succeeded` events for 1 000 pending fee payments, posted as
  fast as one client can, then applied by the one bench worker: the time until the last is
  processed, and that none is lost or applied twice (1 000 payments settled, 1 000 receipt
  numbers, 1 000 ledger-side invoice updates);
- the billing page of a client with a live plan and 50 payments, one user at a time, with the
  server's CPU per request as a ratio to hello.
"""

import json
import os
import secrets
import subprocess
import tempfile
import time
from pathlib import Path

import requests
import stripe

from bench import platform_app
from bench.dossiers import _http_as, settle
from bench.simulator import lua_request

SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
BURST = int(os.environ.get("BENCH_PAYMENT_EVENTS", "1000"))


def _signed(event: dict) -> tuple[str, str]:
    body = json.dumps(event, separators=(",", ":"))
    return body, stripe.WebhookSignature.generate_signature_header(body, SECRET)


def _event(type_: str, obj: dict) -> dict:
    return {
        "id": "evt_" + secrets.token_hex(12),
        "object": "event",
        "type": type_,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def _webhook_script(n: int) -> str:
    """wrk Lua cycling over `n` distinct signed deliveries (Lua long strings: no escaping)."""
    rows = []
    for _ in range(n):
        body, header = _signed(_event("customer.updated", {"id": "cus_" + secrets.token_hex(6)}))
        rows.append(f"{{[==[{header}]==], [==[{body}]==]}}")
    return (
        "local entries = {" + ",\n".join(rows) + "}\n"
        "local counter = 0\n"
        "function request()\n"
        f"  local e = entries[counter % {n} + 1]\n"
        "  counter = counter + 1\n"
        "  return wrk.format('POST', '/webhooks/stripe', {['Stripe-Signature'] = e[1], "
        "['Content-Type'] = 'application/json'}, e[2])\n"
        "end\n"
    )


def _prepare(count: int) -> tuple[list[int], int]:
    """`count` issued invoices on scale dossiers, each with a pending client-fee payment (as
    `pay_online` leaves it), and a client with a live Pro plan and 50 payments."""
    from datetime import timedelta

    from app.extensions import db
    from app.models import (
        Cycle,
        Dossier,
        Invoice,
        Payment,
        PaymentKind,
        PaymentStatus,
        Subscription,
        SubscriptionStatus,
        utcnow,
    )
    from app.services import plans
    from app.services.dossiers.invoices import waterfall

    app = platform_app()
    with app.app_context():
        taken = db.select(Invoice.dossier_id)
        dossiers = db.session.execute(
            db.select(Dossier.id, Dossier.client_id, Dossier.expert_id)
            .where(Dossier.expert_id.is_not(None), Dossier.id.not_in(taken))
            .limit(count)
        ).all()
        w = waterfall(1_500_000, 3000, 3000, 0)
        today = utcnow().date()
        year_tag = secrets.randbelow(90_000) + 10_000  # numbers unique across bench runs
        invoices = [
            Invoice(
                number=f"BN-{year_tag}-{i:05d}",
                dossier_id=d.id,
                client_id=d.client_id,
                expert_id=d.expert_id,
                obtained_cents=w.obtained_cents,
                client_fee_bp=3000,
                platform_fee_bp=3000,
                referrer_share_bp=0,
                client_fee_cents=w.client_fee_cents,
                platform_fee_cents=w.platform_fee_cents,
                vat_cents=w.vat_cents,
                total_cents=w.total_cents,
                referrer_cents=0,
                issued_on=today,
                due_on=today + timedelta(days=30),
            )
            for i, d in enumerate(dossiers)
        ]
        db.session.add_all(invoices)
        db.session.flush()
        payments = [
            Payment(
                payer_id=inv.client_id,
                kind=PaymentKind.CLIENT_FEE,
                invoice_id=inv.id,
                provider="stripe",
                method="card",
                amount_cents=inv.client_fee_cents,
            )
            for inv in invoices
        ]
        db.session.add_all(payments)
        # the billing page's client: a live plan and a history of 50 payments
        client_id = dossiers[0].client_id
        pro = plans.by_code("pro")
        sub = Subscription(
            client_id=client_id,
            plan_id=pro.id,
            cycle=Cycle.MONTH,
            params={},
            price_cents=4900,
            success_fee_bp=pro.success_fee_bp,
            status=SubscriptionStatus.ACTIVE,
            started_at=utcnow(),
            current_period_end=utcnow() + timedelta(days=20),
            provider="stripe",
            provider_ref="sub_bench_" + secrets.token_hex(6),
        )
        db.session.add(sub)
        db.session.flush()
        db.session.add_all(
            Payment(
                payer_id=client_id,
                kind=PaymentKind.SUBSCRIPTION,
                subscription_id=sub.id,
                provider="stripe",
                provider_ref=f"in_bench_{secrets.token_hex(8)}",
                status=PaymentStatus.SUCCEEDED,
                amount_cents=5880,
                number=f"BS-{year_tag}-{i:05d}",
                paid_at=utcnow(),
            )
            for i in range(50)
        )
        db.session.commit()
        return [p.id for p in payments], client_id


def _burst(app_url: str, payment_ids: list[int]) -> dict:
    from app.extensions import db
    from app.models import EventStatus, Payment, PaymentStatus, ProviderEvent

    deliveries = []
    for pid in payment_ids:
        intent = {
            "id": "pi_" + secrets.token_hex(10),
            "object": "payment_intent",
            "amount": 450_000,
            "currency": "eur",
            "status": "succeeded",
            "metadata": {"ft_payment": str(pid)},
        }
        deliveries.append(_signed(_event("payment_intent.succeeded", intent)))
    http = requests.Session()
    started = time.perf_counter()
    answers = [
        http.post(
            f"{app_url}/webhooks/stripe",
            data=body.encode(),
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        ).status_code
        for body, header in deliveries
    ]
    posted = time.perf_counter() - started
    # Stripe delivers some events twice: 100 of them again, signed anew, must change nothing
    for body, _header in deliveries[:100]:
        http.post(
            f"{app_url}/webhooks/stripe",
            data=body.encode(),
            headers={
                "Stripe-Signature": stripe.WebhookSignature.generate_signature_header(
                    body, SECRET, timestamp=int(time.time()) + 1
                ),
                "Content-Type": "application/json",
            },
        )
    app = platform_app()
    ids = payment_ids
    with app.app_context():
        while True:
            done = db.session.scalar(
                db.select(db.func.count(ProviderEvent.id)).where(
                    ProviderEvent.type == "payment_intent.succeeded",
                    ProviderEvent.status == EventStatus.PROCESSED,
                )
            )
            db.session.rollback()
            if done >= len(ids) or time.perf_counter() - started > 600:
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        settled = db.session.scalar(
            db.select(db.func.count(Payment.id)).where(
                Payment.id.in_(ids), Payment.status == PaymentStatus.SUCCEEDED
            )
        )
        numbers = db.session.scalar(
            db.select(db.func.count(db.distinct(Payment.number))).where(Payment.id.in_(ids))
        )
    return {
        "accepted": answers.count(200),
        "posted_s": posted,
        "processed": done,
        "settled": settled,
        "numbers": numbers,
        "elapsed_s": elapsed,
    }


def requests_bench(app_url: str, hello_url: str, wrk_script) -> dict:
    assert SECRET, "bench.sh sets STRIPE_WEBHOOK_SECRET"
    payment_ids, client_id = _prepare(BURST)
    _, _, cookie = _http_as(app_url, client_id)
    page = requests.get(f"{app_url}/billing", headers={"Cookie": cookie})
    assert page.status_code == 200 and 'id="billing"' in page.text, page.status_code
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["wrk", "-t1", "-c2", "-d2s", f"{app_url}/billing", "-H", f"Cookie: {cookie}"],
            capture_output=True,
        )
        hello = wrk_script(f"{hello_url}/", lua_request("GET", {}, None), Path(tmp), users=1)
        billing = wrk_script(
            f"{app_url}/billing", lua_request("GET", {"Cookie": cookie}, None), Path(tmp), users=1
        )
        results["billing page (client, 50 payments)"] = (billing, hello)
        hello = wrk_script(f"{hello_url}/", lua_request("GET", {}, None), Path(tmp), users=1)
        hook = wrk_script(app_url, _webhook_script(20_000), Path(tmp), users=1)
        results["Stripe webhook endpoint"] = (hook, hello)
    print("\n## Payments: one user at a time (wrk -t1 -c1), scale dataset, hello in the same run")
    for name, (r, h) in results.items():
        print(
            f"{name:36} p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
            f"CPU {r['cpu_ms']:5.2f} ms/req = {r['cpu_ms'] / h['cpu_ms']:5.1f}x hello "
            f"({h['cpu_ms']:4.2f} ms)"
        )
    settle("the webhook run")  # its thousands of queued events, before the burst is timed
    burst = _burst(app_url, payment_ids)
    print(
        f"burst of {len(payment_ids)} payment events (+100 redelivered): "
        f"{burst['accepted']} accepted in {burst['posted_s']:.1f} s, {burst['processed']} "
        f"processed by one worker in {burst['elapsed_s']:.1f} s from the first post; "
        f"{burst['settled']} payments settled, {burst['numbers']} receipt numbers"
    )
    results["burst"] = burst
    return results
