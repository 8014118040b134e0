"""The catalogue: its seed (docs/domain.md §2) and the admin's edits, both validated.

The seed is French because the data is: product names, questions and options are what the
administration and the clients read. `seed()` only inserts what is missing, so it never undoes
an admin's edit.
"""

import uuid

from flask import g, has_request_context
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.core import outbox
from app.core.db import after_commit
from app.core.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import EligibilityRule, Product, ProductKind, Question, QuestionKind, User
from app.models.user import SECTORS
from app.services import audit, formulas, rules
from app.tasks import redis

YES_NO = ["Oui", "Non"]
VEHICLE_TYPES = [
    "Camions de plus de 7,5 tonnes",
    "Camions de 3,5 à 7,5 tonnes",
    "Engins de chantier",
    "Tracteurs agricoles",
    "Véhicules légers",
]
UNPAID = list(formulas.UNPAID_BRACKETS)
# legacy bracket labels, mapped to the midpoints of docs/domain.md §2
TURNOVER_BRACKETS = {
    "Moins de 100 000€": 50000,
    "100 000€ - 500 000€": 300000,
    "500 000€ - 1 000 000€": 750000,
    "1 000 000€ - 5 000 000€": 2500000,
    "Plus de 5 000 000€": 7000000,
}
HEADCOUNT_BRACKETS = {"Aucun": 0, "1 à 5": 3, "6 à 20": 13, "21 à 50": 35, "Plus de 50": 75}


def _leaf(code: str, operator: str, value) -> dict:
    return {"question": code, "operator": operator, "value": value}


def _all(*rules_: dict) -> dict:
    return {"operator": "AND", "rules": list(rules_)}


def _any(*rules_: dict) -> dict:
    return {"operator": "OR", "rules": list(rules_)}


# docs/domain.md §2: code, section, text, kind, options, unit, max, step, condition
QUESTIONS = [
    (
        "GENERAL_001",
        "general",
        "Quel est votre secteur d'activité ?",
        "single",
        list(SECTORS),
        "",
        None,
        None,
        None,
    ),
    (
        "GENERAL_002",
        "general",
        "Quel est votre chiffre d'affaires annuel ?",
        "number",
        [],
        "€",
        100_000_000_000,
        None,
        None,
    ),
    (
        "GENERAL_003",
        "general",
        "Combien de salariés employez-vous ?",
        "number",
        [],
        "",
        1_000_000,
        1,
        None,
    ),
    (
        "GENERAL_004",
        "general",
        "Êtes-vous propriétaire de vos locaux professionnels ?",
        "single",
        YES_NO,
        "",
        None,
        None,
        None,
    ),
    (
        "FONCIER_001",
        "foncier",
        "Quel est le montant annuel de votre taxe foncière ?",
        "number",
        [],
        "€",
        100_000_000,
        None,
        _leaf("GENERAL_004", "equals", "Oui"),
    ),
    (
        "RECOUVR_001",
        "recouvrement",
        "Avez-vous des factures impayées ?",
        "single",
        UNPAID,
        "",
        None,
        None,
        None,
    ),
    (
        "ENERGIE_ELEC_FACTURES",
        "energie",
        "Recevez-vous des factures d'électricité ?",
        "single",
        YES_NO,
        "",
        None,
        None,
        None,
    ),
    (
        "ENERGIE_ELEC_MONTANT",
        "energie",
        "Combien payez-vous chaque mois à votre fournisseur d'électricité ?",
        "number",
        [],
        "€ / mois",
        10_000_000,
        50,
        _leaf("ENERGIE_ELEC_FACTURES", "equals", "Oui"),
    ),
    (
        "ENERGIE_GAZ_FACTURES",
        "energie",
        "Recevez-vous des factures de gaz ?",
        "single",
        YES_NO,
        "",
        None,
        None,
        None,
    ),
    (
        "ENERGIE_GAZ_MONTANT",
        "energie",
        "Combien payez-vous chaque mois à votre fournisseur de gaz ?",
        "number",
        [],
        "€ / mois",
        10_000_000,
        50,
        _leaf("ENERGIE_GAZ_FACTURES", "equals", "Oui"),
    ),
    (
        "TICPE_001",
        "ticpe",
        "Possédez-vous des véhicules professionnels ?",
        "single",
        YES_NO,
        "",
        None,
        None,
        None,
    ),
    (
        "TICPE_003",
        "ticpe",
        "Quels types de véhicules ?",
        "multiple",
        VEHICLE_TYPES,
        "",
        None,
        None,
        _leaf("TICPE_001", "equals", "Oui"),
    ),
    (
        "TICPE_002",
        "ticpe",
        "Combien de litres de carburant consommez-vous par mois ?",
        "number",
        [],
        "L / mois",
        10_000_000,
        None,
        _leaf("TICPE_001", "equals", "Oui"),
    ),
    (
        "DFS_001",
        "dfs",
        "Combien de chauffeurs salariés employez-vous ?",
        "number",
        [],
        "",
        1_000_000,
        1,
        _leaf("GENERAL_001", "equals", "Transport et Logistique"),
    ),
]
QUESTION_HELP = {
    "GENERAL_002": "Un montant exact, par exemple 1 250 000.",
    "GENERAL_003": "Le nombre exact de salariés, 0 si vous n'en avez pas.",
    "TICPE_002": "Tous véhicules confondus, une moyenne suffit.",
}

_TICPE_SECTORS = [
    "Transport et Logistique",
    "BTP et Construction",
    "Agriculture et Agroalimentaire",
]
KBIS = "Extrait Kbis de moins de 3 mois"
RIB = "RIB de l'entreprise"

# docs/domain.md §2, §5
PRODUCTS = [
    {
        "code": "TICPE",
        "name": "Remboursement TICPE",
        "category": "Optimisation Énergétique",
        "kind": ProductKind.FINANCIAL,
        "sectors": _TICPE_SECTORS,
        "description": "Remboursement partiel de l'accise sur le gazole des poids lourds.",
        "formula_code": "ticpe_quick",
        "display_note": "Remboursement TICPE : 0,20 € par litre consommé (estimation simplifiée).",
        "duration": (3, 4),
        "documents": [
            KBIS,
            "Cartes grises de tous les véhicules professionnels",
            "Factures de carburant des 12 derniers mois",
            RIB,
        ],
        "rule": _all(
            _leaf("TICPE_001", "equals", "Oui"),
            _any(*(_leaf("GENERAL_001", "equals", s) for s in _TICPE_SECTORS)),
            _any(
                _leaf("TICPE_003", "includes", "Camions de plus de 7,5 tonnes"),
                _leaf("TICPE_003", "includes", "Engins de chantier"),
                _leaf("TICPE_003", "includes", "Tracteurs agricoles"),
            ),
            _leaf("TICPE_002", "greater_than", 0),
        ),
    },
    {
        "code": "URSSAF",
        "name": "Optimisation URSSAF",
        "category": "Optimisation Sociale",
        "kind": ProductKind.FINANCIAL,
        "description": "Audit et réduction des cotisations sociales patronales.",
        "formula_code": "urssaf",
        "display_note": "Réduction de 10 % de la masse salariale estimée.",
        "duration": (2, 3),
        "documents": [
            KBIS,
            "Bulletins de paie des 12 derniers mois",
            "DSN des 12 derniers mois",
            "Relevés de cotisations URSSAF",
            RIB,
        ],
        "rule": _leaf("GENERAL_003", "greater_than", 0),
    },
    {
        "code": "DFS",
        "name": "Déduction Forfaitaire Spécifique",
        "category": "Optimisation Sociale",
        "kind": ProductKind.FINANCIAL,
        "sectors": ["Transport et Logistique"],
        "description": "Déduction forfaitaire pour frais professionnels des chauffeurs.",
        "formula_code": "dfs",
        "display_note": "150 € par chauffeur et par mois (1 800 € par an).",
        "duration": (1, 2),
        "documents": [
            KBIS,
            "Bulletins de paie des salariés concernés",
            "Contrats de travail",
            "Justificatif du secteur d'activité",
            RIB,
        ],
        "rule": _all(
            _leaf("GENERAL_001", "equals", "Transport et Logistique"),
            _leaf("DFS_001", "greater_than", 0),
        ),
    },
    {
        "code": "FONCIER",
        "name": "Taxe foncière",
        "category": "Optimisation Fiscale",
        "kind": ProductKind.FINANCIAL,
        "description": "Révision et contestation de la taxe foncière des locaux professionnels.",
        "formula_code": "foncier",
        "display_note": "Récupérable jusqu'à 6 ans en arrière.",
        "duration": (2, 4),
        "documents": [
            "Avis de taxe foncière",
            "Titre de propriété",
            "Formulaire 2044",
            "Factures de travaux",
        ],
        "rule": _all(
            _leaf("GENERAL_004", "equals", "Oui"), _leaf("FONCIER_001", "greater_than", 0)
        ),
    },
    {
        "code": "MSA",
        "name": "Optimisation MSA",
        "category": "Optimisation Sociale",
        "kind": ProductKind.FINANCIAL,
        "sectors": ["Agriculture et Agroalimentaire"],
        "description": "Optimisation des cotisations de la Mutualité Sociale Agricole.",
        "formula_code": "msa",
        "display_note": "6,5 % du chiffre d'affaires annuel.",
        "duration": (2, 3),
        "documents": [
            KBIS,
            "Relevés de cotisations MSA des 12 derniers mois",
            "Déclarations de revenus agricoles (2042-C-PRO)",
            "Justificatif d'activité agricole",
            RIB,
        ],
        "rule": _all(
            _leaf("GENERAL_001", "equals", "Agriculture et Agroalimentaire"),
            _leaf("GENERAL_002", "greater_than", 0),
        ),
    },
    {
        "code": "RECOUVREMENT",
        "name": "Recouvrement d'impayés",
        "category": "Services Juridiques et Recouvrement",
        "kind": ProductKind.FINANCIAL,
        "description": "Recouvrement de créances par un avocat spécialisé.",
        "formula_code": "recouvrement",
        "display_note": "Montant typique du niveau d'impayés déclaré.",
        "duration": (1, 6),
        "documents": [KBIS, "Factures impayées", "Relances et échanges avec le débiteur", RIB],
        "rule": _leaf("RECOUVR_001", "not_equals", "Non"),
    },
    {
        "code": "ELEC",
        "name": "Optimisation fournisseur électricité",
        "category": "Optimisation Énergétique",
        "kind": ProductKind.FINANCIAL,
        "description": "Mise en concurrence et renégociation du contrat d'électricité.",
        "formula_code": "electricity_supplier",
        "display_note": "Économie estimée de 20 % sur la facture annuelle.",
        "duration": (1, 2),
        "documents": ["Dernière facture d'électricité"],
        "rule": _all(
            _leaf("ENERGIE_ELEC_FACTURES", "equals", "Oui"),
            _leaf("ENERGIE_ELEC_MONTANT", "greater_than", 0),
        ),
    },
    {
        "code": "GAZ",
        "name": "Optimisation fournisseur gaz",
        "category": "Optimisation Énergétique",
        "kind": ProductKind.FINANCIAL,
        "description": "Mise en concurrence et renégociation du contrat de gaz naturel.",
        "formula_code": "gas_supplier",
        "display_note": "Économie estimée de 20 % sur la facture annuelle.",
        "duration": (1, 2),
        "documents": ["Dernière facture de gaz"],
        "rule": _all(
            _leaf("ENERGIE_GAZ_FACTURES", "equals", "Oui"),
            _leaf("ENERGIE_GAZ_MONTANT", "greater_than", 0),
        ),
    },
    {
        "code": "CHRONO",
        "name": "Chronotachygraphes digitaux",
        "category": "Logiciels et Outils Numériques",
        "kind": ProductKind.QUALITATIVE,
        "sectors": _TICPE_SECTORS,
        "description": "Chronotachygraphes digitaux pour les véhicules de plus de 7,5 tonnes.",
        "formula_code": "qualitative",
        "display_note": "Facilite aussi le dossier TICPE.",
        "benefits": [
            "10 à 15 h de gestion administrative économisées par mois",
            "Données de conduite fiables à 100 % et traçables",
            "Conformité réglementaire",
            "Sécurité juridique",
            "Moins de pertes de données",
            "Moins de litiges lors des contrôles routiers",
        ],
        "duration": (1, 2),
        "documents": ["Carte grise d'un véhicule de plus de 7,5 tonnes"],
        "rule": _leaf("TICPE_003", "includes", "Camions de plus de 7,5 tonnes"),
    },
    {
        "code": "SOLID",
        "name": "Logiciel Solid",
        "category": "Logiciels et Outils Numériques",
        "kind": ProductKind.QUALITATIVE,
        "sectors": _TICPE_SECTORS,
        "description": "Suivi de l'activité des chauffeurs, archivage légal et pré-paie.",
        "formula_code": "qualitative",
        "display_note": "Prix sur demande.",
        "benefits": [
            "Validé par l'inspection du travail",
            "Gain de temps administratif important",
            "Conformité réglementaire",
            "Suivi en temps réel des obligations légales",
            "Sécurité juridique",
            "Génération automatique des documents obligatoires",
        ],
        "duration": (1, 2),
        "documents": ["Un bulletin de paie récent (3 derniers mois)"],
        "rule": _leaf("GENERAL_001", "equals", "Transport et Logistique"),
    },
    {
        "code": "TVA",
        "name": "Remboursement de TVA internationale",
        "category": "Optimisation Fiscale",
        "kind": ProductKind.FINANCIAL,
        "active": False,
        "description": "Remboursement et administration de la TVA à l'international.",
        "formula_code": "unavailable",
        "display_note": "Désactivé : le simulateur ne demande pas le volume d'export.",
        "duration": (3, 6),
        "documents": [KBIS, RIB],
        "rule": _leaf("GENERAL_002", "greater_than", 100000),
    },
    {
        "code": "CEE",
        "name": "Certificats d'Économies d'Énergie",
        "category": "Optimisation Énergétique",
        "kind": ProductKind.FINANCIAL,
        "active": False,
        "description": "Financement de travaux d'efficacité énergétique.",
        "formula_code": "unavailable",
        "display_note": "Désactivé : une vraie formule doit être écrite avant toute réactivation.",
        "duration": (3, 5),
        "documents": [KBIS, "Factures d'électricité des 12 derniers mois"],
        "rule": _any(
            _leaf("ENERGIE_ELEC_FACTURES", "equals", "Oui"),
            _leaf("ENERGIE_GAZ_FACTURES", "equals", "Oui"),
        ),
    },
]


def seed() -> dict[str, int]:
    """Insert the missing questions, products and rules; idempotent, never overwrites."""
    added = {"questions": 0, "products": 0}
    have = set(db.session.scalars(db.select(Question.code)))
    for position, (code, section, text, kind, options, unit, max_value, step, cond) in enumerate(
        QUESTIONS, start=1
    ):
        if code in have:
            continue
        brackets = {"GENERAL_002": TURNOVER_BRACKETS, "GENERAL_003": HEADCOUNT_BRACKETS}
        db.session.add(
            Question(
                code=code,
                position=position * 10,
                section=section,
                text=text,
                help=QUESTION_HELP.get(code, ""),
                kind=QuestionKind(kind),
                options=options,
                brackets=brackets.get(code, {}),
                unit=unit,
                max_value=max_value,
                step=step,
                condition=cond,
            )
        )
        added["questions"] += 1
    have = set(db.session.scalars(db.select(Product.code)))
    for position, spec in enumerate(PRODUCTS, start=1):
        if spec["code"] in have:
            continue
        formula = formulas.latest(spec["formula_code"])
        duration = spec.get("duration", (None, None))
        product = Product(
            code=spec["code"],
            name=spec["name"],
            category=spec["category"],
            kind=spec["kind"],
            sectors=spec.get("sectors", []),
            active=spec.get("active", True),
            position=position * 10,
            description=spec["description"],
            formula_code=formula.code,
            formula_version=formula.version,
            constants={name: default for name, (default, _label) in formula.constants.items()},
            display_note=spec["display_note"],
            benefits=spec.get("benefits", []),
            duration_min_months=duration[0],
            duration_max_months=duration[1],
            documents={"eligibility": spec["documents"]},
        )
        product.rule = EligibilityRule(condition=spec["rule"])
        db.session.add(product)
        added["products"] += 1
    bump_version()
    db.session.commit()
    return added


# -- reads ---------------------------------------------------------------------------------------
#
# The catalogue is read on every simulator step and API call but changes a few times a year, so
# each process keeps a snapshot: plain detached objects loaded in a session of their own (no
# request's commit can expire them). A random version in Redis, replaced by every edit, tells
# the processes to reload; it is read once per request.

VERSION_KEY = "catalogue:version"
# (version, questions, products), replaced in one assignment so threads never see a mix
_snapshot: tuple = (None, [], [])


def _read_version() -> bytes:
    r = redis()
    version = r.get(VERSION_KEY)
    if version is None:  # first process up (or Redis flushed): any fresh value will do
        r.set(VERSION_KEY, uuid.uuid4().hex, nx=True)
        version = r.get(VERSION_KEY)
    return version


# what a process reads while Redis is away: it keeps its snapshot, and reloads it once Redis
# gives a version again (an edit made meanwhile is then seen everywhere)
OFFLINE = b"redis-unavailable"


def _version_or_offline() -> bytes:
    try:
        return _read_version()
    except outbox.REDIS_ERRORS:
        return OFFLINE


def _current_version() -> bytes:
    if not has_request_context():  # jobs and scripts: always ask
        return _version_or_offline()
    if "catalogue_version" not in g:
        g.catalogue_version = _version_or_offline()
    return g.catalogue_version


@outbox.replays("catalogue_version")
def _new_version(_payload: dict) -> None:
    redis().set(VERSION_KEY, uuid.uuid4().hex)


def bump_version() -> None:
    """After an edit commits, every process reloads its snapshot on its next request (if Redis
    is away, once it is back)."""

    def bump() -> None:
        try:
            _new_version({})
        except outbox.REDIS_ERRORS as exc:
            outbox.record("catalogue_version", {}, exc)

    after_commit(bump)


def _loaded() -> tuple:
    global _snapshot
    version = _current_version()
    if version == OFFLINE and _snapshot[0] is not None:
        _snapshot = (OFFLINE, *_snapshot[1:])  # kept; reloaded when a real version returns
    if _snapshot[0] != version:
        with Session(db.engine, expire_on_commit=False) as session:
            questions_ = list(session.scalars(db.select(Question).order_by(Question.position)))
            products_ = list(
                session.scalars(
                    db.select(Product)
                    .options(db.selectinload(Product.rule))
                    .order_by(Product.position)
                )
            )
        _snapshot = (version, questions_, products_)
    return _snapshot


def questions() -> list[Question]:
    return list(_loaded()[1])


def questions_by_code() -> dict[str, Question]:
    return {q.code: q for q in questions()}


def products(active_only: bool = False) -> list[Product]:
    return [p for p in _loaded()[2] if p.active or not active_only]


# -- admin edits ---------------------------------------------------------------------------------


def get_product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound()
    return product


def get_question(question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None:
        raise NotFound()
    return question


def _condition_problems(rule, by_code: dict[str, Question]) -> list[str]:
    return [] if rule is None else rules.problems(rule, by_code)


def references_problems(by_code: dict[str, Question]) -> list[str]:
    """Every product rule and question condition checked against a (changed) question set, so
    removing an option or a question that a rule still uses is refused, not silently broken."""
    found = []
    for product in products():
        if product.rule is None:
            continue
        for problem in rules.problems(product.rule.condition, by_code):
            found.append(_("Rule of %(p)s: %(problem)s", p=product.code, problem=problem))
    for question in by_code.values():
        for problem in _condition_problems(question.condition, by_code):
            found.append(_("Condition of %(q)s: %(problem)s", q=question.code, problem=problem))
    return found


def update_product(product: Product, changes: dict, actor: User, ip: str | None) -> Product:
    """Apply an admin's edit (already parsed by the form): every problem reported per field,
    nothing saved unless all of it is sound."""
    errors: dict[str, str] = {}
    formula = formulas.FORMULAS.get((product.formula_code, changes["formula_version"]))
    if formula is None:
        errors["formula_version"] = _("This formula has no such version.")
    if changes["active"] and product.formula_code == "unavailable":
        errors["active"] = _(
            "This product has no formula yet: the simulator cannot estimate it, so it stays "
            "inactive."
        )
    low, high = changes["duration_min_months"], changes["duration_max_months"]
    if low is not None and high is not None and low > high:
        errors["duration_max_months"] = _("The longest duration cannot be below the shortest.")
    unknown_sectors = [s for s in changes["sectors"] if s not in SECTORS]
    if unknown_sectors:
        errors["sectors"] = _("Unknown sector: %(s)s.", s=", ".join(unknown_sectors))
    if formula is not None:
        missing = [n for n in formula.constants if n not in changes["constants"]]
        if missing:
            errors["constants"] = _("Every constant needs a value: %(n)s.", n=", ".join(missing))
    rule = changes["rule"]
    problems = rules.problems(rule, questions_by_code()) if rule is not None else []
    if problems:
        errors["rule"] = " ".join(problems)
    if errors:
        raise ValidationFailed(_("Some fields need your attention."), **errors)
    before = {"active": product.active, "constants": dict(product.constants)}
    for name in (
        "name",
        "category",
        "description",
        "display_note",
        "benefits",
        "sectors",
        "active",
        "formula_version",
        "duration_min_months",
        "duration_max_months",
    ):
        setattr(product, name, changes[name])
    product.constants = {n: changes["constants"][n] for n in formula.constants}
    product.documents = {**product.documents, "eligibility": changes["documents"]}
    if rule is None:
        product.rule = None
    elif product.rule is None:
        product.rule = EligibilityRule(condition=rule)
    else:
        product.rule.condition = rule
    audit.record(
        actor,
        "product.updated",
        "product",
        product.id,
        ip,
        code=product.code,
        before=before,
        after={"active": product.active, "constants": product.constants},
    )
    bump_version()
    db.session.commit()
    return product


def update_question(question: Question, changes: dict, actor: User, ip: str | None) -> Question:
    errors: dict[str, str] = {}
    kind = question.kind
    options = changes["options"]
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        if len(options) < 2:
            errors["options"] = _("A choice question needs at least two options.")
        elif len(set(options)) != len(options):
            errors["options"] = _("Each option must appear once.")
    elif options:
        errors["options"] = _("A number question has no options.")
    condition = changes["condition"]
    earlier = {q.code: q for q in questions() if q.position < question.position}
    if condition is not None:
        problems = rules.problems(condition, earlier)
        if problems:
            errors["condition"] = (
                " ".join(problems)
                + " "
                + _("A condition may only use questions asked before this one.")
            )
    if not errors and kind != QuestionKind.NUMBER:
        # the new options must still satisfy every rule and condition that names them
        draft = Question(code=question.code, kind=kind, options=options, position=question.position)
        by_code = {q.code: (draft if q.id == question.id else q) for q in questions()}
        broken = references_problems(by_code)
        if broken:
            errors["options"] = " ".join(broken)
    if errors:
        raise ValidationFailed(_("Some fields need your attention."), **errors)
    question.text = changes["text"]
    question.help = changes["help"]
    question.options = options
    question.required = changes["required"]
    question.condition = condition
    audit.record(actor, "question.updated", "question", question.id, ip, code=question.code)
    bump_version()
    db.session.commit()
    return question
