#!/usr/bin/env bash
# make run: a Redis of its own, an SMTP sink, migrations, demo data, then every process.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
export PORT=${PORT:-5000}
export PUBLIC_URL=${PUBLIC_URL:-http://127.0.0.1:$PORT}
export LOG_JSON=${LOG_JSON:-0}
RUN_DIR=$PWD/instance/run; mkdir -p "$RUN_DIR"
# every process counts its Prometheus metrics here; emptied at each start (stale pids' files)
export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-$RUN_DIR/metrics}
rm -rf "$PROMETHEUS_MULTIPROC_DIR"; mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
# a random key of this machine's own, made once (the app refuses to start without one)
if [ -z "${SECRET_KEY:-}" ] && [ ! -s instance/secret_key ]; then
  (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_hex(32))' > instance/secret_key)
fi
if [ -z "${REDIS_URL:-}" ]; then
  REDIS_PORT=${REDIS_PORT:-$(free_port)}
  start_redis "$RUN_DIR" "$REDIS_PORT"
  trap 'stop_redis "$RUN_DIR"' EXIT
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
fi
export MAIL_PORT=${MAIL_PORT:-$(free_port)} MAIL_SERVER=127.0.0.1
export MAIL_INBOUND_PORT=${MAIL_INBOUND_PORT:-$(free_port)}
# a demo bank account for transfers and payout files (set your own in production)
export PLATFORM_IBAN=${PLATFORM_IBAN:-FR7630006000011234567890189} PLATFORM_BIC=${PLATFORM_BIC:-AGRIFRPP}
# no CMI merchant account: the local gateway of devtools/ stands in (any card; one ending in
# 0002 is declined)
if [ -z "${CMI_CLIENT_ID:-}" ]; then
  export CMI_LOCAL_PORT=$(free_port) CMI_CLIENT_ID=600000001
  export CMI_STORE_KEY=demo_$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(8))')
  export CMI_GATEWAY_URL=http://127.0.0.1:$CMI_LOCAL_PORT/fim/est3Dgate
fi
# no Stripe keys: payments go to localstripe (scripts/localstripe.sh), test cards and IBANs work
if [ -z "${STRIPE_SECRET_KEY:-}" ]; then
  export LOCALSTRIPE_PORT=$(free_port)
  export STRIPE_SECRET_KEY=sk_test_localstripe STRIPE_PUBLISHABLE_KEY=pk_test_localstripe
  export STRIPE_WEBHOOK_SECRET=whsec_localstripe_$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(8))')
  export STRIPE_API_BASE=http://127.0.0.1:$LOCALSTRIPE_PORT
  export STRIPE_JS_URL=http://127.0.0.1:$LOCALSTRIPE_PORT/js.stripe.com/v3/
  PAYMENTS="Payments go to a local Stripe stand-in (localstripe): card 4242 4242 4242 4242, or IBAN FR14 2004 1010 0505 0001 3M02 606."
else
  PAYMENTS="Payments go to Stripe with the keys in the environment."
fi

.venv/bin/flask --app wsgi:app db upgrade
.venv/bin/flask --app wsgi:app seed demo

cat <<MSG

  FinancialTracker is starting on  http://127.0.0.1:$PORT
  Demo logins (password demo-password-2026):
    admin@demo-financialtracker.fr      administrator
    expert@demo-financialtracker.fr     approved expert
    client@demo-financialtracker.fr     client (Transports Martin SAS)
    apporteur@demo-financialtracker.fr  referrer
    sales@demo-financialtracker.fr      seller (the CRM: pipeline, leads, activities)
    support@demo-financialtracker.fr    support agent
  Emails go to a local SMTP sink (port $MAIL_PORT); admins read them under Emails.
  Replies to ticket emails: send them to smtp://127.0.0.1:$MAIL_INBOUND_PORT (their Reply-To).
  $PAYMENTS
  Stop with Ctrl-C.

MSG
exec .venv/bin/honcho start -f Procfile.dev
