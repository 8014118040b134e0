"""A local CMI 3D Pay Hosting gateway, written from CMI's published protocol (hash version 3),
so a newcomer can pay in dirhams in the demo and the tests drive the real exchange.

It checks the merchant's signed form, shows a card page, and for a card it approves (anything
but a number ending in 0002, which is declined) or a cancel, signs the result with the same store
key, calls the merchant's callback server to server, and sends the browser back to the ok or
fail URL with the signed fields (a button: no JavaScript needed).

    python -m devtools.cmi_gateway --port 8430 --store-key KEY
"""

import argparse
import base64
import hashlib
import html
import secrets
import urllib.parse
import urllib.request

from flask import Flask, abort, request

app = Flask(__name__)
PENDING: dict[str, dict] = {}
CALLS: list[tuple[dict, str]] = []  # (fields sent, merchant's answer), newest last


def _hash(fields: dict, key: str) -> str:
    # the protocol as CMI publishes it, written here on its own so it checks the merchant's
    def esc(v):
        return str(v).replace("\\", "\\\\").replace("|", "\\|")

    names = sorted((n for n in fields if n.lower() not in ("hash", "encoding")), key=str.lower)
    plain = "|".join(esc(fields[n]) for n in names) + "|" + esc(key)
    return base64.b64encode(hashlib.sha512(plain.encode()).digest()).decode()


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f"<body><main><h1>{title}</h1>{body}</main></body></html>"
    )


def _hidden(fields: dict) -> str:
    return "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(str(v))}">'
        for k, v in fields.items()
    )


@app.post("/fim/est3Dgate")
def gate():
    fields = request.form.to_dict()
    if fields.get("hash") != _hash(fields, app.config["STORE_KEY"]):
        abort(400, "Hash invalide")
    token = secrets.token_hex(8)
    PENDING[token] = fields
    return _page(
        "Paiement sécurisé CMI",
        f"<p>{html.escape(fields.get('amount', ''))} MAD · commerçant "
        f"{html.escape(fields.get('clientid', ''))} · "
        f"commande {html.escape(fields.get('oid', ''))}</p>"
        f'<form method="post" action="/fim/pay"><input type="hidden" name="token" value="{token}">'
        '<p><label for="pan">Numéro de carte</label> '
        '<input id="pan" name="pan" inputmode="numeric"></p>'
        '<p><button name="do" value="pay">Payer</button> '
        '<button name="do" value="cancel">Annuler</button></p></form>',
    )


@app.post("/fim/pay")
def pay():
    fields = PENDING.pop(request.form.get("token", ""), None)
    if fields is None:
        abort(404)
    approved = request.form.get("do") == "pay" and not request.form.get("pan", "").endswith("0002")
    result = {k: v for k, v in fields.items() if k not in ("hash",)}
    result.update(
        ProcReturnCode="00" if approved else ("99" if request.form.get("do") == "cancel" else "05"),
        Response="Approved" if approved else "Declined",
        TransId=secrets.token_hex(6),
        AuthCode=f"{secrets.randbelow(10**6):06d}" if approved else "",
        mdStatus="1",
        ErrMsg="" if approved else "Transaction refusée",
    )
    result["HASH"] = _hash(result, app.config["STORE_KEY"])
    body = urllib.parse.urlencode(result).encode()
    try:
        answer = (
            urllib.request.urlopen(fields["callbackUrl"], data=body, timeout=10).read().decode()
        )
    except OSError as exc:
        answer = f"unreachable: {exc}"
    CALLS.append((result, answer))
    back = (
        fields["okUrl"] if approved and answer.startswith("ACTION=POSTAUTH") else fields["failUrl"]
    )
    return _page(
        "Paiement accepté" if approved else "Paiement refusé",
        f'<form method="post" action="{html.escape(back)}">{_hidden(result)}'
        "<button>Retour au site du commerçant</button></form>",
    )


@app.get("/_calls")
def calls():
    """What the gateway sent to merchant callbacks and heard back (for tests)."""
    return {"calls": [{"fields": f, "answer": a} for f, a in CALLS]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8430)
    parser.add_argument("--store-key", required=True)
    args = parser.parse_args()
    app.config["STORE_KEY"] = args.store_key
    app.run("127.0.0.1", args.port, threaded=True)


if __name__ == "__main__":
    main()
