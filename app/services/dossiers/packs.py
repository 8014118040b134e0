"""A dossier's pack: its summary, simulation, timeline, documents list, audit and invoices as
one Word and one PDF document, built by the exports worker with its progress shown live, then
offered for download and announced by email. What it lists is what its requester may see."""

from __future__ import annotations

import io
from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import i18n
from app.core import storage
from app.core.db import after_commit
from app.core.errors import NotFound
from app.core.jobs import enqueue
from app.extensions import db
from app.models import (
    Document,
    Dossier,
    DossierEvent,
    DossierPack,
    Invoice,
    RunStatus,
    User,
    utcnow,
)
from app.realtime import notify
from app.security import can_build_pack, can_view_document, can_view_invoice, require
from app.services import dossiers
from app.services.notifications import emails
from app.services.workflow.labels import event_label

JOB = "app.services.dossiers.jobs.build_pack"
MIME = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
INVOICE_STATUS = {
    "open": _l("To pay"),
    "paid": _l("Paid"),
    "void": _l("Cancelled"),
    "uncollectible": _l("Uncollectible"),
}


def request_pack(viewer: User, dossier_id: int) -> tuple[DossierPack, bool]:
    """Queue a pack (True), or return the one still being built for this person (False)."""
    dossier = dossiers.get(dossier_id, viewer)
    require(can_build_pack(viewer, dossier))
    pending = db.session.scalar(
        db.select(DossierPack).where(
            DossierPack.dossier_id == dossier.id,
            DossierPack.requester_id == viewer.id,
            DossierPack.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]),
        )
    )
    if pending is not None:
        return pending, False
    pack = DossierPack(dossier_id=dossier.id, requester_id=viewer.id, locale=viewer.locale)
    db.session.add(pack)
    db.session.flush()
    pack_id = pack.id
    after_commit(lambda: enqueue("exports", JOB, pack_id, job_id=f"pack-{pack_id}"))
    db.session.commit()
    return pack, True


def get(viewer: User, pack_id: int) -> DossierPack:
    pack = db.session.get(DossierPack, pack_id)
    require(pack is not None and pack.requester_id == viewer.id)
    dossiers.get(pack.dossier_id, viewer)  # and they may still see the dossier
    return pack


def file_of(viewer: User, pack_id: int, fmt: str) -> tuple[DossierPack, str]:
    pack = get(viewer, pack_id)
    key = {"docx": pack.docx_key, "pdf": pack.pdf_key}.get(fmt)
    if pack.status != RunStatus.DONE or key is None:
        raise NotFound()
    return pack, key


def filename(pack: DossierPack, fmt: str) -> str:
    return f"dossier-{pack.dossier_id}-{pack.created_at:%Y%m%d}.{fmt}"


def _step(pack: DossierPack, percent: int, status: RunStatus | None = None) -> None:
    pack.progress = percent
    if status is not None:
        pack.status = status
    notify.to_user(pack.requester_id, "pack:changed", pack_id=pack.id)
    db.session.commit()


def context(dossier: Dossier, viewer: User) -> dict:
    """What the pack says, in the requester's words and as far as they may see."""
    product = dossier.product.name
    summary = [
        (_("Dossier"), f"#{dossier.id}"),
        (_("Product"), product),
        (_("Status"), i18n.status_label(dossier.status)),
        (_("Company"), dossier.client.client_profile.company_name),
        (_("Expert"), dossier.expert.full_name if dossier.expert else "—"),
        (_("Opened on"), i18n.dateformat(dossier.created_at)),
        (_("Estimated"), i18n.euros((dossier.estimated_cents or 0) / 100)),
    ]
    if dossier.final_cents is not None:
        summary.append((_("Audited amount"), i18n.euros(dossier.final_cents / 100)))
    if dossier.obtained_cents is not None:
        summary.append((_("Obtained"), i18n.euros(dossier.obtained_cents / 100)))
    simulation = []
    if dossier.simulation is not None:
        for r in dossier.simulation.results or ():
            amount = r.get("estimated_amount")
            simulation.append(
                (
                    r.get("name", r.get("code")),
                    _("Eligible") if r.get("eligible") else _("Not eligible"),
                    i18n.euros(amount) if amount is not None else "—",
                )
            )
    events = db.session.scalars(
        db.select(DossierEvent)
        .where(DossierEvent.dossier_id == dossier.id)
        .order_by(DossierEvent.created_at, DossierEvent.id)
    ).all()
    timeline = [
        (i18n.datetimeformat(e.created_at, "short"), event_label(e.action), e.note or "")
        for e in events
    ]
    docs = db.session.scalars(
        db.select(Document)
        .where(Document.dossier_id == dossier.id, Document.superseded_at.is_(None))
        .order_by(Document.step, Document.id)
    ).all()
    documents = [
        (d.label, d.original_name, i18n.status_label(d.status), i18n.dateformat(d.created_at))
        for d in docs
        if can_view_document(viewer, d, dossier)
    ]
    audit = []
    if dossier.audit_report:
        audit.append((_("Report"), dossier.audit_report))
    if dossier.client_fee_bp is not None:
        audit.append((_("Client fee"), f"{dossier.client_fee_bp / 100:g} %"))
    invoices = [
        (
            i.number,
            i18n.dateformat(i.issued_on),
            i18n.euros(i.client_fee_cents / 100),
            i18n.euros(i.total_cents / 100),
            str(INVOICE_STATUS[i.client_status.value]),
        )
        for i in db.session.scalars(db.select(Invoice).where(Invoice.dossier_id == dossier.id))
        if can_view_invoice(viewer, i)
    ]
    return {
        "title": _("Dossier #%(n)s: %(product)s", n=dossier.id, product=product),
        "generated": i18n.datetimeformat(utcnow(), "short"),
        "summary": summary,
        "simulation": simulation,
        "timeline": timeline,
        "documents": documents,
        "audit": audit,
        "invoices": invoices,
        "labels": {
            "summary": _("Summary"),
            "simulation": _("Simulation"),
            "timeline": _("Timeline"),
            "documents": _("Documents"),
            "audit": _("Audit"),
            "invoices": _("Invoices"),
            "none": _("Nothing yet."),
            "generated": _("Generated on"),
            "product": _("Product"),
            "result": _("Result"),
            "amount": _("Amount"),
            "when": _("When"),
            "what": _("What"),
            "note": _("Note"),
            "document": _("Document"),
            "file": _("File"),
            "state": _("State"),
            "date": _("Date"),
            "number": _("Invoice no."),
            "fee": _("Fee"),
            "total": _("Total"),
        },
    }


def docx(ctx: dict) -> bytes:
    from docx import Document as Docx

    doc = Docx()
    doc.add_heading(ctx["title"], 0)
    doc.add_paragraph(f"{ctx['labels']['generated']} {ctx['generated']}")
    sections = [
        ("summary", None, ctx["summary"]),
        ("simulation", ("product", "result", "amount"), ctx["simulation"]),
        ("timeline", ("when", "what", "note"), ctx["timeline"]),
        ("documents", ("document", "file", "state", "date"), ctx["documents"]),
        ("audit", None, ctx["audit"]),
        ("invoices", ("number", "date", "fee", "total", "state"), ctx["invoices"]),
    ]
    labels = ctx["labels"]
    for key, header, rows in sections:
        doc.add_heading(labels[key], 1)
        if not rows:
            doc.add_paragraph(labels["none"])
            continue
        width = len(rows[0])
        table = doc.add_table(rows=0, cols=width)
        table.style = "Table Grid"
        if header:
            cells = table.add_row().cells
            for cell, name in zip(cells, header, strict=True):
                cell.text = labels[name]
        for row in rows:
            cells = table.add_row().cells
            for cell, value in zip(cells, row, strict=True):
                cell.text = str(value)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def pdf(ctx: dict) -> bytes:
    from weasyprint import HTML

    html = render_template("documents/dossier_pack.html", **ctx)
    return HTML(string=html, base_url=str(current_app.root_path)).write_pdf()


def build(pack_id: int) -> str:
    """The job: idempotent (a finished pack is left alone; a retried one starts over)."""
    pack = db.session.get(DossierPack, pack_id)
    if pack is None or pack.finished:
        return "skipped"
    requester = db.session.get(User, pack.requester_id)
    _step(pack, 10, RunStatus.RUNNING)
    try:
        with force_locale(pack.locale):
            dossier = dossiers.get(pack.dossier_id, requester)
            ctx = context(dossier, requester)
            _step(pack, 30)
            word = docx(ctx)
            _step(pack, 60)
            printed = pdf(ctx)
    except Exception as exc:
        current_app.logger.exception("dossier pack %s failed", pack_id)
        db.session.rollback()
        pack = db.session.get(DossierPack, pack_id)
        pack.error, pack.finished_at = type(exc).__name__, utcnow()
        _step(pack, 100, RunStatus.FAILED)
        return "failed"
    pack.docx_key = storage.save("packs", word, "docx")
    pack.pdf_key = storage.save("packs", printed, "pdf")
    pack.finished_at = utcnow()
    link = emails.external_url("dossiers.pack", pack_id=pack.id)
    emails.queue_email(requester, "pack_ready", pack=pack, link=link)
    _step(pack, 100, RunStatus.DONE)
    return "done"


STALLED_AFTER = timedelta(minutes=15)  # a pack takes seconds; a killed worker leaves it running


def fail_stalled(batch: int = 200) -> int:
    """Packs a killed worker left unfinished are marked failed (cron sweep), so their page stops
    polling and offers to build them again."""
    stalled = db.session.scalars(
        db.select(DossierPack)
        .where(
            DossierPack.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]),
            DossierPack.created_at <= utcnow() - STALLED_AFTER,
        )
        .limit(batch)
    ).all()
    for pack in stalled:
        pack.error, pack.finished_at = "stalled", utcnow()
        _step(pack, 100, RunStatus.FAILED)
    return len(stalled)
