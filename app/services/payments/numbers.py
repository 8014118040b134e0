"""Numbered series other than invoices: fee receipts (RC-2026-00001) and credit notes
(AV-2026-00001), each its own unbroken sequence per year, as French accounting requires."""

from app.extensions import db
from app.models import NumberSequence

RECEIPT = "RC"
CREDIT_NOTE = "AV"


def next_in(series: str, year: int) -> str:
    seq = db.session.scalar(
        db.select(NumberSequence)
        .where(NumberSequence.series == series, NumberSequence.year == year)
        .with_for_update()
    )
    if seq is None:
        seq = NumberSequence(series=series, year=year, last=0)
        db.session.add(seq)
    seq.last += 1
    db.session.flush()
    return f"{series}-{year}-{seq.last:05d}"
