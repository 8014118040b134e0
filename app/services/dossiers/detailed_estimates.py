"""The detailed TICPE questionnaire on a dossier: pre-filled from the simulation, computed by
the pure engine in `ticpe.py`, stored as a history next to the quick estimate."""

from app.core.errors import NotFound
from app.extensions import db
from app.models import DetailedEstimate, Dossier, User
from app.security import can_view_dossier, require
from app.services import catalogue, firms
from app.services.simulator import ticpe

SECTOR_ACTIVITY = {
    "Transport et Logistique": "trm",
    "BTP et Construction": "btp",
    "Agriculture et Agroalimentaire": "agri",
}
VEHICLE_TYPE = {  # simulator answer (TICPE_003) -> engine vehicle type
    "Camions de plus de 7,5 tonnes": "heavy",
    "Camions de 3,5 à 7,5 tonnes": "medium",
    "Engins de chantier": "machinery",
    "Tracteurs agricoles": "tractor",
    "Véhicules légers": "light",
}


def get_ticpe_dossier(dossier_id: int, viewer: User) -> Dossier:

    dossier = db.session.get(Dossier, dossier_id)
    if dossier is None or dossier.product.code != "TICPE":
        raise NotFound()
    require(can_view_dossier(viewer, dossier, firms.sight_for(viewer, dossier)))
    return dossier


def latest(dossier: Dossier) -> DetailedEstimate | None:
    return db.session.scalar(
        db.select(DetailedEstimate)
        .where(DetailedEstimate.dossier_id == dossier.id)
        .order_by(DetailedEstimate.id.desc())
        .limit(1)
    )


def prefill(dossier: Dossier) -> dict:
    """Starting values: the last detailed run, else what the simulation and profile say."""
    last = latest(dossier)
    if last is not None:
        return dict(last.inputs)
    answers = dossier.simulation.answers if dossier.simulation else {}
    profile = dossier.client.client_profile if dossier.client else None
    sector = answers.get("GENERAL_001") or (profile.sector if profile else "")
    turnover = answers.get("GENERAL_002")
    if isinstance(turnover, str):
        turnover = catalogue.TURNOVER_BRACKETS.get(turnover)
    monthly = answers.get("TICPE_002")
    return {
        "activity": SECTOR_ACTIVITY.get(sector, "other"),
        "vehicle_types": [
            VEHICLE_TYPE[v] for v in answers.get("TICPE_003", []) if v in VEHICLE_TYPE
        ],
        "litres_per_year": round(monthly * 12) if isinstance(monthly, int | float) else None,
        "turnover": turnover if turnover is not None else (profile.turnover if profile else None),
    }


def run(dossier: Dossier, inputs: ticpe.TicpeInputs, author: User) -> DetailedEstimate:
    result = ticpe.estimate(inputs)
    row = DetailedEstimate(
        dossier_id=dossier.id,
        author_id=author.id,
        version=result.version,
        inputs={
            **inputs.__dict__,
            "vehicle_types": list(inputs.vehicle_types),
            "fuels": list(inputs.fuels),
        },
        result=result.as_dict(),
        amount_cents=int(result.amount * 100),
    )
    db.session.add(row)
    db.session.commit()
    return row
