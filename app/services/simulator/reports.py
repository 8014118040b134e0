"""Simulation reports as Excel, Word and PDF. One context feeds the three formats, so the Word
document and the PDF say the same thing; the exports job calls these in the reader's locale."""

import io
from datetime import datetime

import xlsxwriter
from docxtpl import DocxTemplate
from flask import render_template
from flask_babel import format_date
from flask_babel import gettext as _

from app.config import ROOT
from app.i18n import euros, number_input
from app.models import PARIS, Simulation, User
from app.services import catalogue
from app.services.simulator import formulas

DOCX_TEMPLATE = ROOT / "templates" / "documents" / "simulation.docx"


def _answer_text(value) -> str:
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, int | float):
        return number_input(value)
    return str(value)


def _company(sim: Simulation, owner: User | None) -> list[tuple[str, str]]:
    profile = owner.client_profile if owner is not None else None
    if profile is not None:
        rows = [
            (_("Company"), profile.company_name),
            (_("SIREN"), profile.siren),
            (_("Sector"), profile.sector),
        ]
        if profile.city:
            rows.append((_("City"), profile.city))
        return rows
    answers = sim.answers
    return [
        (_("Company"), _("Visitor (no account yet)")),
        (_("Sector"), _answer_text(answers.get("GENERAL_001", "—"))),
    ]


def context(sim: Simulation, owner: User | None, now: datetime) -> dict:
    """Everything a report says, already formatted for its reader (`owner`: the simulation's
    account, whose company facts head the report; None for a visitor)."""
    questions = catalogue.questions_by_code()
    answers = [
        {"question": questions[code].text, "answer": _answer_text(value)}
        for code, value in sorted(
            sim.answers.items(),
            key=lambda kv: questions[kv[0]].position if kv[0] in questions else 99,
        )
        if code in questions
    ]
    products, others, calculations = [], [], []
    for r in sim.results or []:
        if not r["eligible"]:
            others.append({"name": r["name"], "reason": r["reason"] or ""})
            continue
        details = r["details"]
        amount = r["estimated_amount"]
        products.append(
            {
                "code": r["code"],
                "name": r["name"],
                "value": amount,
                "amount": euros(amount) if amount is not None else _("Benefits, no amount"),
                "method": _(str(details.get("words", ""))),
            }
        )
        for group in ("inputs", "constants", "intermediate"):
            for name, value in details[group].items():
                calculations.append(
                    {
                        "product": r["name"],
                        "formula": f"{details['formula']} v{details['version']}",
                        "kind": group,
                        "name": formulas.label(details["formula"], details["version"], name),
                        "value": value,
                    }
                )
    total = (sim.total_cents or 0) / 100
    return {
        "title": _("Your FinancialTracker estimate"),
        "generated": format_date(now.astimezone(PARIS), "long"),
        "company": [{"label": k, "value": v} for k, v in _company(sim, owner)],
        "answers": answers,
        "products": products,
        "others": others,
        "calculations": calculations,
        "total": euros(total),
        "total_value": total,
        "labels": {
            "company": _("Company"),
            "answers": _("Your answers"),
            "question": _("Question"),
            "answer": _("Answer"),
            "products": _("Products that apply"),
            "product": _("Product"),
            "amount": _("Estimated annual gain"),
            "method": _("How we computed this"),
            "total": _("Total"),
            "others": _("Products that do not apply"),
            "reason": _("Why"),
            "generated": _("Generated on"),
            "calculation": _("Calculation details"),
            "formula": _("Formula"),
            "kind": _("Kind"),
            "name": _("Name"),
            "value": _("Value"),
        },
        "kinds": {
            "inputs": _("Input"),
            "constants": _("Constant"),
            "intermediate": _("Intermediate value"),
        },
        "method": _(
            "Each amount applies the formula shown to your answers, with the constants in force "
            "for that product; ranges you chose are taken at their midpoint."
        ),
        "disclaimer": _(
            "These are estimates from your answers, not a commitment. An expert confirms the "
            "real amount during the audit of your documents."
        ),
    }


# a cell a spreadsheet would run as a formula (or DDE command) when it is opened
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _as_text(quoted):
    """A write handler for strings: text that looks like a formula (a company called
    `=HYPERLINK(…)`) is stored as text with Excel's quote prefix, shown as typed, never run."""

    def write(sheet, row, col, text, fmt=None):
        if text.startswith(FORMULA_STARTS):
            return sheet.write_string(row, col, text, fmt or quoted)
        return None  # the ordinary write

    return write


def xlsx(ctx: dict) -> bytes:
    out = io.BytesIO()
    # every str is a string cell: nothing a user typed is ever read as a formula
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    quoted = book.add_format({"quote_prefix": True})
    bold = book.add_format({"bold": True})
    title = book.add_format({"bold": True, "font_size": 14})
    money = book.add_format({"num_format": "#,##0 €"})
    money_bold = book.add_format({"num_format": "#,##0 €", "bold": True})
    labels = ctx["labels"]

    summary = book.add_worksheet(labels["products"][:31])
    summary.add_write_handler(str, _as_text(quoted))
    summary.set_column(0, 0, 42)
    summary.set_column(1, 1, 20)
    summary.write(0, 0, ctx["title"], title)
    summary.write(1, 0, f"{labels['generated']} {ctx['generated']}")
    row = 3
    for fact in ctx["company"]:
        summary.write(row, 0, fact["label"], bold)
        summary.write(row, 1, fact["value"])
        row += 1
    row += 1
    summary.write(row, 0, labels["product"], bold)
    summary.write(row, 1, labels["amount"], bold)
    first = row + 1
    for p in ctx["products"]:
        row += 1
        summary.write(row, 0, p["name"])
        if p["value"] is not None:
            summary.write_number(row, 1, p["value"], money)
        else:
            summary.write(row, 1, p["amount"])
    row += 1
    summary.write(row, 0, labels["total"], bold)
    summary.write_number(row, 1, ctx["total_value"], money_bold)
    financial = [p for p in ctx["products"] if p["value"] is not None]
    if financial:
        chart = book.add_chart({"type": "bar"})
        name = summary.get_name()
        chart.add_series(
            {
                "name": labels["amount"],
                "categories": [name, first, 0, first + len(financial) - 1, 0],
                "values": [name, first, 1, first + len(financial) - 1, 1],
            }
        )
        chart.set_title({"name": labels["amount"]})
        chart.set_legend({"none": True})
        summary.insert_chart(3, 3, chart, {"x_scale": 1.3, "y_scale": 1.2})
    summary.write(row + 2, 0, ctx["method"])
    summary.write(row + 3, 0, ctx["disclaimer"])

    sheet = book.add_worksheet(labels["answers"][:31])
    sheet.add_write_handler(str, _as_text(quoted))
    sheet.set_column(0, 0, 60)
    sheet.set_column(1, 1, 40)
    sheet.write_row(0, 0, [labels["question"], labels["answer"]], bold)
    for i, a in enumerate(ctx["answers"], start=1):
        sheet.write_row(i, 0, [a["question"], a["answer"]])

    calc = book.add_worksheet(labels["calculation"][:31])
    calc.add_write_handler(str, _as_text(quoted))
    calc.set_column(0, 0, 30)
    calc.set_column(1, 2, 18)
    calc.set_column(3, 3, 40)
    calc.set_column(4, 4, 16)
    calc.write_row(
        0,
        0,
        [labels["product"], labels["formula"], labels["kind"], labels["name"], labels["value"]],
        bold,
    )
    for i, c in enumerate(ctx["calculations"], start=1):
        calc.write_row(i, 0, [c["product"], c["formula"], ctx["kinds"][c["kind"]], c["name"]])
        value = c["value"]
        if isinstance(value, int | float) and not isinstance(value, bool):
            calc.write_number(i, 4, value)
        else:
            calc.write(i, 4, "" if value is None else str(value))
    book.close()
    return out.getvalue()


def docx(ctx: dict) -> bytes:
    doc = DocxTemplate(str(DOCX_TEMPLATE))
    doc.render(ctx, autoescape=True)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def pdf(ctx: dict) -> bytes:
    from weasyprint import HTML  # heavy import, only in the exports worker

    html = render_template("documents/simulation.html", **ctx)
    return HTML(string=html, base_url=str(ROOT)).write_pdf()


BUILDERS = {"xlsx": xlsx, "docx": docx, "pdf": pdf}
MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
