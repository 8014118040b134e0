"""What an expert offers (domain.md §9): products held with a level, fee, capacity, availability.

Only what is set here makes an expert appear for a dossier (workflow.offerable_experts_query).
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from app.core import audit
from app.core.errors import NotAllowed, ValidationFailed
from app.core.numbers import parse_percent_bp
from app.extensions import db
from app.models import SECTORS, ExpertiseLevel, ExpertProduct, ExpertSector, Product, Role, User


def products() -> list[Product]:
    return list(
        db.session.scalars(db.select(Product).where(Product.active).order_by(Product.position))
    )


def current(user: User) -> dict:
    profile = user.expert_profile
    held = {p.product_id: p.level.value for p in profile.products if p.active}
    return {
        "levels": held,
        "fee_percent": f"{profile.fee_bp / 100:g}",
        "capacity": str(profile.capacity),
        "available": profile.available,
        "department": profile.department or "",
        "sectors": [s.sector for s in profile.sectors],
        "certifications": profile.certifications or "",
    }


def update(
    user: User,
    levels: dict[int, str],
    fee_percent: str,
    capacity: str,
    available: bool,
    department: str = "",
    sectors: list[str] | None = None,
    certifications: str = "",
):
    """Replace the expert's offer. Every field is checked before anything is saved.

    :raises ValidationFailed: per field (fee above the platform default, capacity out of range,
        an unknown product or level).
    """
    if user.role != Role.EXPERT or user.expert_profile is None:
        raise NotAllowed()
    errors = {}
    ceiling = int(current_app.config["FEE_CLIENT_DEFAULT_BP"] or 3000)
    try:
        fee_bp = parse_percent_bp(fee_percent)
    except ValueError:
        fee_bp = -1
    if not 0 < fee_bp <= ceiling:
        errors["fee_percent"] = _(
            "Enter a fee above 0 %% and at most %(max)s %%.", max=f"{ceiling / 100:g}"
        )
    cap = str(capacity).strip()
    if not cap.isdigit() or not 1 <= int(cap) <= 500:
        errors["capacity"] = _("Enter a number of dossiers between 1 and 500.")
    known = {p.id for p in products()}
    chosen = {}
    for product_id, level in levels.items():
        if product_id not in known or level not in ExpertiseLevel._value2member_map_:
            errors["products"] = _("Choose products from the list, each with a level.")
            break
        chosen[product_id] = ExpertiseLevel(level)
    department = (department or "").strip().upper()
    if department and not (len(department) in (2, 3) and department.isalnum()):
        errors["department"] = _("Enter a department number such as 69, 2A or 974.")
    sectors = sorted(set(sectors or []))
    if any(sector not in SECTORS for sector in sectors):
        errors["sectors"] = _("Choose sectors from the list.")
    certifications = (certifications or "").strip()
    if len(certifications) > 2000:
        errors["certifications"] = _("At most %(n)d characters.", n=2000)
    firm = user.expert_profile.firm
    if firm is not None and "fee_percent" not in errors:
        # the expert's fee may not undercut their firm's minimum for a product they hold
        floors = [firm.min_fee_bp(pid) for pid in chosen if firm.min_fee_bp(pid)]
        if floors and fee_bp < max(floors):
            errors["fee_percent"] = _(
                "Your firm asks at least %(min)s %% for the products you hold.",
                min=f"{max(floors) / 100:g}",
            )
    if errors:
        raise ValidationFailed(next(iter(errors.values())), **errors)
    profile = user.expert_profile
    profile.department = department or None
    profile.certifications = certifications or None
    known_sectors = {s.sector: s for s in profile.sectors}
    profile.sectors = [known_sectors.get(s) or ExpertSector(sector=s) for s in sectors]
    profile.fee_bp, profile.capacity, profile.available = fee_bp, int(cap), bool(available)
    existing = {p.product_id: p for p in profile.products}
    for product_id, row in existing.items():
        if product_id not in chosen:
            profile.products.remove(row)
    for product_id, level in chosen.items():
        if product_id in existing:
            existing[product_id].level, existing[product_id].active = level, True
        else:
            profile.products.append(ExpertProduct(product_id=product_id, level=level))
    audit.record(
        user, "expert.offer", "user", user.id, None, products=sorted(chosen), fee_bp=fee_bp
    )
    db.session.commit()
