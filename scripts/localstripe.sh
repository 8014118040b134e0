#!/usr/bin/env bash
# make run without Stripe keys: localstripe (a local Stripe-compatible server) stands in, and its
# webhooks are sent to our endpoint, so a newcomer can subscribe and pay in the demo.
# With real keys in the environment this process has nothing to do.
set -euo pipefail
if [ -z "${LOCALSTRIPE_PORT:-}" ]; then exec sleep infinity; fi
.venv/bin/localstripe --port "$LOCALSTRIPE_PORT" --from-scratch &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT TERM INT
.venv/bin/python - <<'PY'
import os, time, urllib.parse, urllib.request
data = urllib.parse.urlencode(
    {"url": os.environ["PUBLIC_URL"] + "/webhooks/stripe", "secret": os.environ["STRIPE_WEBHOOK_SECRET"]}
).encode()
for _ in range(100):
    try:
        urllib.request.urlopen(os.environ["STRIPE_API_BASE"] + "/_config/webhooks/dev", data=data)
        break
    except OSError:
        time.sleep(0.2)
PY
wait $pid
