"""Dossier documents (docs/domain.md §5): checklists, uploads checked by content, versions, reviews,
and a log of every view and download.

A checklist entry may hold several files (twelve fuel invoices); a rejected file is answered by
a replacement, a new version that supersedes it. Kbis and RIB are company documents: uploaded
once, they serve every dossier of the client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

import filetype
from flask import current_app, g, has_request_context
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from app.core import storage
from app.core.errors import InvalidTransition, NotFound, ValidationFailed
from app.extensions import db
from app.models import (
    Document,
    DocumentAccess,
    DocumentRequest,
    DocumentStatus,
    DocumentStep,
    Dossier,
    DossierEvent,
    DossierStatus,
    User,
    utcnow,
)
from app.realtime import notify
from app.security import (
    can_review_document,
    can_upload_to,
    can_view_document,
    can_view_dossier,
    is_uploader_of,
    require,
)
from app.services import firms, sla

# content sniffed from the bytes, never from the name or the browser's claim
ACCEPTED = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
COMPANY_LABELS = ("Extrait Kbis de moins de 3 mois", "RIB de l'entreprise")
MAX_FILES = 5
# domain.md §5: the largest file per kind of document, in MB (by a word of its checklist label);
# anything else gets UPLOAD_MAX_MB
SIZE_LIMITS_MB = (
    ("rib", 5),
    ("taxe foncière", 5),
    ("kbis", 10),
    ("cartes grises", 10),
    ("carte grise", 10),
    ("relevés de cotisations", 15),
    ("dsn", 20),
    ("factures de carburant", 20),
    ("bulletins de paie", 30),
    ("factures d'électricité", 30),
    ("factures de travaux", 50),
)


def size_limit_mb(label: str) -> int:
    """The limit for a checklist entry, never above the platform's UPLOAD_MAX_MB."""
    ceiling = current_app.config["UPLOAD_MAX_MB"]
    lowered = label.lower()
    for word, mb in SIZE_LIMITS_MB:
        if word in lowered:
            return min(mb, ceiling)
    return ceiling


@dataclass
class ChecklistItem:
    label: str
    required: bool = True
    request_item_id: int | None = None
    documents: list[Document] = field(default_factory=list)

    @property
    def provided(self) -> bool:
        """At least one current file, and none of them rejected (a rejection needs a new one)."""
        return bool(self.documents) and not self.rejected

    @property
    def rejected(self) -> list[Document]:
        return [d for d in self.documents if d.status == DocumentStatus.REJECTED]


@dataclass
class UploadResult:
    saved: list[Document] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # file name -> why


def display_name(raw: str | None) -> str:
    """The last path component, printable characters only: for display, never for a path."""
    name = PurePosixPath((raw or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable()).strip(" .")
    return name[:200] or "document"


def download_name(original: str | None, content_type: str) -> str:
    """What a download is saved as: the uploaded name's stem with the extension of what the
    file really is (a PDF uploaded as `facture.exe` is saved as `facture.pdf`)."""
    name = display_name(original)
    suffix = ACCEPTED.get(content_type)
    if suffix is None:
        return name
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem or 'document'}.{suffix}"


def _current(query):
    return query.where(Document.superseded_at.is_(None)).order_by(Document.id)


def _all_current(dossier: Dossier) -> list[Document]:
    """Every newest version the dossier sees (its own and the client's company documents),
    read once per request: a dossier page and its guards ask for them several times."""
    cache = g.setdefault("current_documents", {}) if has_request_context() else {}
    if dossier.id not in cache:
        query = db.select(Document).where(
            db.or_(
                Document.dossier_id == dossier.id,
                db.and_(Document.client_id == dossier.client_id, Document.dossier_id.is_(None)),
            )
        )
        cache[dossier.id] = list(db.session.scalars(_current(query)))
    return cache[dossier.id]


def _forget(dossier: Dossier) -> None:
    if has_request_context():
        g.get("current_documents", {}).pop(dossier.id, None)
        g.get("latest_requests", {}).pop(dossier.id, None)


def current_documents(dossier: Dossier, step: DocumentStep | None = None) -> list[Document]:
    """The dossier's newest versions, its client's company documents included."""
    return [d for d in _all_current(dossier) if step is None or d.step == step]


def latest_request(dossier: Dossier) -> DocumentRequest | None:
    cache = g.setdefault("latest_requests", {}) if has_request_context() else {}
    if dossier.id not in cache:
        cache[dossier.id] = db.session.scalar(
            db.select(DocumentRequest)
            .where(DocumentRequest.dossier_id == dossier.id)
            .options(db.selectinload(DocumentRequest.items))
            .order_by(DocumentRequest.id.desc())
            .limit(1)
        )
    return cache[dossier.id]


def checklist(dossier: Dossier, step: DocumentStep) -> list[ChecklistItem]:
    docs = current_documents(dossier, step if step != DocumentStep.ELIGIBILITY else None)
    if step == DocumentStep.ELIGIBILITY:
        labels = dossier.product.documents.get("eligibility", [])
        items = [ChecklistItem(label) for label in labels]
        by_label = {item.label: item for item in items}
        for doc in docs:
            item = by_label.get(doc.label)
            if item is not None and doc.step == DocumentStep.ELIGIBILITY:
                item.documents.append(doc)
        return items
    if step == DocumentStep.COMPLEMENTARY:
        request = latest_request(dossier)
        if request is None:
            return []
        items = [ChecklistItem(i.label, i.required, i.id) for i in request.items]
        by_id = {item.request_item_id: item for item in items}
        for doc in docs:
            if doc.request_item_id in by_id:
                by_id[doc.request_item_id].documents.append(doc)
        return items
    return [ChecklistItem(doc.label, False, None, [doc]) for doc in docs]


def missing(items: list[ChecklistItem]) -> list[ChecklistItem]:
    return [item for item in items if item.required and not item.provided]


# -- upload --------------------------------------------------------------------------------------


def _check_can_upload(dossier: Dossier, actor: User, step: DocumentStep) -> None:
    if not is_uploader_of(actor, dossier, step):
        raise InvalidTransition(_("Only the person in charge of this step can add files to it."))
    if not can_upload_to(actor, dossier, step):
        raise InvalidTransition(
            _("Files for this step cannot be added now: the dossier has moved on.")
        )


def sniff(file: FileStorage, accepted: dict | None = None) -> tuple[str, bytes] | str:
    """(suffix, first bytes) if the file's content is of an accepted type, else the message
    saying why not. The name and the browser's claimed type are never trusted."""
    accepted = accepted or ACCEPTED
    head = file.stream.read(8192)
    if not head:
        return _("The file is empty.")
    kind = filetype.guess(head)
    if kind is None or kind.mime not in accepted:
        if accepted is ACCEPTED:
            return _("Only PDF, JPEG and PNG files are accepted; this file is not one of them.")
        return _("Only PDF files are accepted; this file is not one.")
    return accepted[kind.mime], head


def store_attachments(area: str, files: list, max_files: int) -> list[dict]:
    """Files attached to a message or a ticket reply: every one checked (type by content,
    size) before any is stored, so a refused file leaves nothing behind. Returns the rows'
    values (`storage_key`, `original_name`, `content_type`, `size_bytes`).

    :raises ValidationFailed: too many files, a refused type or a file too large (`files`)."""
    files = [f for f in files if f and f.filename]
    if len(files) > max_files:
        message = _("At most %(n)d files at a time.", n=max_files)
        raise ValidationFailed(message, files=message)
    checked = []
    for file in files:
        result = sniff(file)
        if isinstance(result, str):
            message = _(
                "%(name)s was not added: %(why)s", name=display_name(file.filename), why=result
            )
            raise ValidationFailed(message, files=message)
        checked.append((file, *result))
    max_bytes = current_app.config["UPLOAD_MAX_MB"] * 2**20
    stored = []
    try:
        for file, suffix, head in checked:
            key, size = storage.save_stream(area, head, file.stream, suffix, max_bytes)
            stored.append(
                {
                    "storage_key": key,
                    "original_name": display_name(file.filename),
                    "content_type": next(m for m, s in ACCEPTED.items() if s == suffix),
                    "size_bytes": size,
                }
            )
    except storage.TooLarge:
        for row in stored:
            storage.delete(row["storage_key"])
        message = _("The file is larger than %(n)d MB.", n=current_app.config["UPLOAD_MAX_MB"])
        raise ValidationFailed(message, files=message) from None
    return stored


def upload(
    dossier_id: int,
    actor: User,
    step: DocumentStep,
    label: str,
    files: list[FileStorage],
    request_item_id: int | None = None,
    replaces_id: int | None = None,
) -> UploadResult:
    """Store each acceptable file as a new document of the checklist entry `label`.

    A refused file does not stop the others: each gets its own message in `refused`.
    :raises NotFound: a dossier (or document to replace) the actor may not see.
    :raises InvalidTransition: not this actor's step, or the step is closed.
    :raises ValidationFailed: no file at all, too many, or an unknown checklist entry.
    """
    dossier = db.session.get(Dossier, dossier_id)
    require(
        dossier is not None and can_view_dossier(actor, dossier, firms.sight_for(actor, dossier))
    )
    _check_can_upload(dossier, actor, step)
    files = [f for f in files if f and f.filename]
    if not files:
        raise ValidationFailed(_("Choose at least one file."), files=_("Choose at least one file."))
    if len(files) > MAX_FILES:
        message = _("At most %(n)d files at a time.", n=MAX_FILES)
        raise ValidationFailed(message, files=message)
    parent = None
    if replaces_id is not None:
        parent = db.session.get(Document, replaces_id)
        require(parent is not None and _may_see(actor, parent))
        if parent.superseded_at is not None or parent.step != step:
            raise InvalidTransition(_("This file has already been replaced."))
        label, request_item_id = parent.label, parent.request_item_id
        files = files[:1]
    if step in (DocumentStep.ELIGIBILITY, DocumentStep.COMPLEMENTARY):
        items = checklist(dossier, step)
        if request_item_id is not None:
            item = next((i for i in items if i.request_item_id == request_item_id), None)
        else:
            item = next((i for i in items if i.label == label), None)
        if item is None:
            message = _("Choose which document of the list this file is.")
            raise ValidationFailed(message, label=message)
        label, request_item_id = item.label, item.request_item_id
    elif not label.strip():
        message = _("Describe the file in a few words.")
        raise ValidationFailed(message, label=message)
    company = step == DocumentStep.ELIGIBILITY and label in COMPANY_LABELS
    limit_mb = size_limit_mb(label)
    max_bytes = limit_mb * 1024 * 1024
    result = UploadResult()
    now = utcnow()
    for file in files:
        name = display_name(file.filename)
        checked = sniff(file)
        if isinstance(checked, str):
            result.refused[name] = checked
            continue
        suffix, head = checked
        try:
            key, size = storage.save_stream("documents", head, file.stream, suffix, max_bytes)
        except storage.TooLarge:
            result.refused[name] = _("The file is larger than %(n)d MB.", n=limit_mb)
            continue
        doc = Document(
            client_id=dossier.client_id,
            dossier_id=None if company else dossier.id,
            step=step,
            label=label.strip()[:200],
            request_item_id=request_item_id,
            storage_key=key,
            original_name=name,
            content_type=next(m for m, s in ACCEPTED.items() if s == suffix),
            size_bytes=size,
            uploaded_by_id=actor.id,
        )
        if parent is not None:
            parent.superseded_at = now
            doc.parent_id, doc.version = parent.id, parent.version + 1
        db.session.add(doc)
        result.saved.append(doc)
    if result.saved:
        _forget(dossier)
        db.session.flush()
        db.session.add(
            DossierEvent(
                dossier_id=dossier.id,
                actor_id=actor.id,
                action="documents_uploaded" if parent is None else "document_replaced",
                note=", ".join(d.original_name for d in result.saved),
                data={"label": label, "documents": [d.id for d in result.saved]},
            )
        )
        sla.on_activity(dossier, actor)  # a first move by the one waited for answers them
        _signal(dossier)
        db.session.commit()
    return result


def review(document_id: int, actor: User, approve: bool, reason: str = "") -> Document:
    """An admin reviews step-1 files while validation is pending; the expert reviews step 3.

    :raises ValidationFailed: a rejection without a reason.
    """
    doc = db.session.get(Document, document_id)
    require(doc is not None and _may_see(actor, doc))
    dossier = _dossier_for_review(doc, actor)
    reason = (reason or "").strip()
    if not approve and not reason:
        message = _("Tell the client why this file is refused.")
        raise ValidationFailed(message, reason=message)
    if doc.superseded_at is not None:
        raise InvalidTransition(_("This file has been replaced meanwhile; review the new one."))
    _forget(dossier)
    doc.status = DocumentStatus.VALIDATED if approve else DocumentStatus.REJECTED
    doc.reviewed_by_id, doc.reviewed_at = actor.id, utcnow()
    doc.rejection_reason = None if approve else reason
    db.session.add(
        DossierEvent(
            dossier_id=dossier.id,
            actor_id=actor.id,
            action="document_validated" if approve else "document_rejected",
            note=reason or None,
            data={"document": doc.id, "label": doc.label, "name": doc.original_name},
        )
    )
    sla.on_activity(dossier, actor)
    _signal(dossier)
    db.session.commit()
    return doc


def _dossier_for_review(doc: Document, actor: User) -> Dossier:
    if doc.dossier_id is not None:
        dossier = db.session.get(Dossier, doc.dossier_id)
    else:  # a company document is reviewed from one of the client's dossiers awaiting review
        dossier = db.session.scalar(
            db.select(Dossier)
            .where(
                Dossier.client_id == doc.client_id,
                Dossier.status == DossierStatus.PENDING_ADMIN_VALIDATION,
            )
            .limit(1)
        )
    if dossier is None or not can_review_document(actor, doc, dossier):
        raise InvalidTransition(_("This file cannot be reviewed at this stage of the dossier."))
    return dossier


def open_document(document_id: int, viewer: User, action: str = "download") -> Document:
    """An authorised read; every one is logged (the client sees when their expert looked)."""
    doc = db.session.get(Document, document_id)
    require(doc is not None and _may_see(viewer, doc))
    db.session.add(DocumentAccess(document_id=doc.id, user_id=viewer.id, action=action))
    db.session.commit()
    return doc


def last_views(documents: list[Document], user_id: int | None) -> dict[int, object]:
    """document id -> when `user_id` (say, the expert) last opened it."""
    if not documents or user_id is None:
        return {}
    rows = db.session.execute(
        db.select(DocumentAccess.document_id, db.func.max(DocumentAccess.created_at))
        .where(
            DocumentAccess.document_id.in_([d.id for d in documents]),
            DocumentAccess.user_id == user_id,
        )
        .group_by(DocumentAccess.document_id)
    ).all()
    return dict(rows)


def _may_see(viewer: User, doc: Document) -> bool:
    """The document policy, given what it needs: the file's dossier, or for a company file the
    experts of the client's dossiers (assigned or asked)."""
    if doc.dossier_id is not None:
        return can_view_document(viewer, doc, dossier=db.session.get(Dossier, doc.dossier_id))
    if viewer.is_admin or doc.client_id == viewer.id:
        return can_view_document(viewer, doc)
    experts = db.session.scalars(
        db.select(Dossier.expert_id)
        .where(Dossier.client_id == doc.client_id, Dossier.expert_id == viewer.id)
        .union(
            db.select(Dossier.pending_expert_id).where(
                Dossier.client_id == doc.client_id, Dossier.pending_expert_id == viewer.id
            )
        )
        .limit(1)
    )
    return can_view_document(viewer, doc, client_expert_ids=frozenset(experts))


def get_for(document_id: int, viewer: User) -> Document:
    doc = db.session.get(Document, document_id)
    if doc is None or not _may_see(viewer, doc):
        raise NotFound()
    return doc


def _signal(dossier: Dossier) -> None:
    for user_id in {dossier.client_id, dossier.expert_id, dossier.pending_expert_id} - {None}:
        notify.to_user(user_id, "dossier:changed", dossier_id=dossier.id)
    notify.to_admins("dossier:changed", dossier_id=dossier.id)
