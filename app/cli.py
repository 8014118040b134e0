"""Command-line entry points: `flask seed catalogue|demo|scale` and `flask push keygen`. The
data builders live in `app.seeds`."""

from datetime import UTC, datetime

import click
from flask import Flask
from flask.cli import AppGroup

from app.core import clock
from app.core.jobs import public_context
from app.models import PARIS
from app.seeds import demo, scale
from app.services import catalogue, plans, sla
from app.services.notifications import push

seed = AppGroup("seed", help="Create demo or benchmark data (idempotent).")


@seed.command("catalogue")
def seed_catalogue() -> None:
    """The products, questions and rules of docs/domain.md §2 (inserts what is missing only)."""
    added = catalogue.seed()
    click.echo(f"catalogue: {added['products']} products, {added['questions']} questions added")
    added = sla.install_defaults()
    click.echo("sla: " + ", ".join(f"{n} {kind}" for kind, n in added.items()) + " added")
    click.echo(f"plans: {plans.install_defaults()} added")


@seed.command("demo")
def seed_demo() -> None:
    """Small realistic dataset with the documented demo logins."""
    created = demo.build()
    click.echo(f"demo dossiers: {created} created")
    from app.services.analytics import facts

    # a database from before the analytics (or bulk-loaded) gets its facts; same figures otherwise
    click.echo(f"analytics facts: {facts.rebuild()} cells")
    click.echo(f"demo data ready: logins *@{demo.DEMO_DOMAIN}, password {demo.DEMO_PASSWORD}")


@seed.command("scale")
@click.option("--clients", default=100_000, show_default=True)
@click.option("--experts", default=10_000, show_default=True)
@click.option("--referrers", default=1_000, show_default=True)
@click.option("--dossiers", default=500_000, show_default=True)
@click.option("--messages", default=5_000_000, show_default=True)
@click.option("--chunk", default=5_000, show_default=True)
@click.option("--leads", default=200_000, show_default=True)
@click.option("--activities", default=1_000_000, show_default=True)
@click.option("--tickets", default=300_000, show_default=True)
def seed_scale(
    clients: int,
    experts: int,
    referrers: int,
    dossiers: int,
    messages: int,
    chunk: int,
    leads: int,
    activities: int,
    tickets: int,
) -> None:
    """Large dataset for `make bench`, by bulk inserts; re-running tops it up."""
    scale.build(clients, experts, referrers, dossiers, messages, chunk, leads, activities, tickets)
    click.echo("scale data ready")


sla_cli = AppGroup("sla", help="SLA clocks, escalations and reminders.")


@sla_cli.command("sweep")
@click.option(
    "--at",
    "at",
    default=None,
    help="Run as if at this instant (ISO 8601, Paris time unless an offset is given).",
)
def sla_sweep(at: str | None) -> None:
    """Run clocks, escalations and reminders as if at --at (default now); prints what it did.
    Running it again at the same instant does nothing."""
    when = clock.now()
    if at:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter("use an ISO 8601 instant, e.g. 2027-01-15T09:00") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=PARIS)
        when = when.astimezone(UTC)
    with clock.frozen(when), public_context():
        click.echo(sla.run(when).line())


push_cli = AppGroup("push", help="Web Push (VAPID) keys.")


@push_cli.command("keygen")
def push_keygen() -> None:
    """Print a new VAPID key pair to put in the environment (VAPID_PRIVATE_KEY/PUBLIC_KEY)."""
    private, public = push.generate_keys()
    click.echo(f"VAPID_PRIVATE_KEY={private}")
    click.echo(f"VAPID_PUBLIC_KEY={public}")


support_cli = AppGroup("support", help="Support tickets.")


@support_cli.command("mail-in")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=None, type=int, help="default: MAIL_INBOUND_PORT")
def support_mail_in(host: str, port: int | None) -> None:
    """Take replies to ticket emails over SMTP (each lands on its ticket) until stopped."""
    import threading

    from aiosmtpd.controller import Controller
    from flask import current_app

    from app.services.support.mailin import Handler

    app = current_app._get_current_object()
    port = port or app.config["MAIL_INBOUND_PORT"]
    controller = Controller(Handler(app), hostname=host, port=port)
    controller.start()
    click.echo(
        f"ticket replies by email: smtp://{host}:{port} for @{app.config['MAIL_INBOUND_DOMAIN']}"
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


analytics = AppGroup("analytics", help="The admin analytics' per-day facts.")


@analytics.command("rebuild")
def analytics_rebuild() -> None:
    """Recompute every fact and dossier count from the raw rows (safe at any time)."""
    from app.services.analytics import facts

    click.echo(f"analytics facts: {facts.rebuild()} cells")


ops = AppGroup("ops", help="Backups and restore (README: Operations).")


@ops.command("backup")
@click.option("--no-verify", is_flag=True, help="Skip the restore into a scratch database.")
def ops_backup(no_verify: bool) -> None:
    """Back up the database and the stored files into BACKUP_DIR, verify, rotate."""
    from app.services.ops import backups

    folder = backups.create()
    click.echo(f"backup: {folder}")
    if not no_verify:
        data = backups.verify(folder)
        click.echo(f"verified: {sum(data['counts'].values())} rows, {data['files']} files")
    for name in backups.rotate():
        click.echo(f"rotated out: {name}")


@ops.command("backups")
def ops_list() -> None:
    """The backups kept, newest first."""
    from app.services.ops import backups

    for folder in backups.all_backups():
        data = backups.manifest(folder)
        size = sum(data["bytes"].values()) / 1024 / 1024
        state = f"verified {data['verified_at'][:19]}" if data["verified_at"] else "not verified"
        click.echo(f"{folder.name}  {data['dialect']}  {size:.1f} MB  {state}")


@ops.command("verify")
@click.argument("name", default="latest")
def ops_verify(name: str) -> None:
    """Restore a backup into a scratch database and compare it with its manifest."""
    from app.services.ops import backups

    data = backups.verify(backups.find(name))
    click.echo(f"verified: {sum(data['counts'].values())} rows, {data['files']} files")


@ops.command("restore")
@click.argument("name", default="latest")
@click.option("--yes", is_flag=True, help="Do not ask: this database is replaced.")
def ops_restore(name: str, yes: bool) -> None:
    """Replace this machine's database and stored files with a backup (default: the latest)."""
    import time

    from app.services.ops import backups

    folder = backups.find(name)
    if not yes:
        click.confirm(f"Replace the database and the stored files with {folder.name}?", abort=True)
    began = time.monotonic()
    done = backups.restore(folder)
    click.echo(
        f"restored {folder.name}: {done['tables']} tables, {done['rows']} rows, "
        f"{done['files']} files in {time.monotonic() - began:.1f} s"
    )


def init_app(app: Flask) -> None:
    app.cli.add_command(ops)
    app.cli.add_command(seed)
    app.cli.add_command(support_cli)
    app.cli.add_command(push_cli)
    app.cli.add_command(sla_cli)
    app.cli.add_command(analytics)
