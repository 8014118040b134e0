"""A report as a file: an Excel workbook (a sheet per table, each with a native bar chart of
its charted column, and a first sheet saying what was filtered) or a PDF printed from the
page's own template. The numbers stay numbers in Excel: euros, shares and minutes are
formatted cells, not text."""

from __future__ import annotations

import io
import re

from flask import render_template
from flask_babel import gettext as _

from app.config import ROOT
from app.services.analytics import reports
from app.services.analytics.reports import Report

MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def filename(report: Report, fmt: str) -> str:
    f = report.filters
    return f"{report.view}-{f.start.isoformat()}-{f.end.isoformat()}.{fmt}"


def filter_labels(report) -> list[tuple[str, str]]:
    """What was filtered, in words (the workbook's first sheet, the PDF's subtitle)."""
    f = report.filters
    out = [(_("Period"), f"{f.start.isoformat()} → {f.end.isoformat()}")]
    if f.product_id:
        out.append(
            (_("Product"), reports.products([f.product_id]).get(f.product_id, f"#{f.product_id}"))
        )
    if f.expert_id:
        out.append((_("Expert"), reports.people([f.expert_id]).get(f.expert_id, f"#{f.expert_id}")))
    if f.firm_id:
        out.append((_("Firm"), reports.firms([f.firm_id]).get(f.firm_id, f"#{f.firm_id}")))
    if f.region:
        out.append((_("Département"), f.region))
    return out


def _sheet_name(title: str, taken: set) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", title)[:28].strip() or "Sheet"
    base, i = name, 2
    while name in taken:
        name, i = f"{base[:25]} {i}", i + 1
    taken.add(name)
    return name


def xlsx(report: Report, filter_labels: list[tuple[str, str]]) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    bold = book.add_format({"bold": True})
    formats = {
        "money": book.add_format({"num_format": "#,##0.00 €"}),
        "pct": book.add_format({"num_format": "0.0 %"}),
        "minutes": book.add_format({"num_format": "#,##0"}),
        "days": book.add_format({"num_format": "#,##0.0"}),
        "rating": book.add_format({"num_format": "0.0"}),
        "int": book.add_format({"num_format": "#,##0"}),
    }
    taken: set = set()
    about = book.add_worksheet(_sheet_name(_("Filters"), taken))
    about.set_column(0, 1, 32)
    about.write_string(0, 0, report.title, bold)
    for r, (label, value) in enumerate(filter_labels, start=2):
        about.write_string(r, 0, label, bold)
        about.write_string(r, 1, value)
    for table in report.tables:
        ws = book.add_worksheet(_sheet_name(table.title, taken))
        ws.set_column(0, 0, 32)
        ws.set_column(1, len(table.columns) - 1, 18)
        ws.write_row(0, 0, [c.label for c in table.columns], bold)
        for r, row in enumerate(table.rows, start=1):
            for c, (column, value) in enumerate(zip(table.columns, row, strict=True)):
                if value is None:
                    ws.write_blank(r, c, None)
                elif column.kind == "text":
                    ws.write_string(r, c, str(value))
                else:
                    number = value / 100 if column.kind == "money" else value
                    ws.write_number(r, c, number, formats.get(column.kind))
        if table.more:
            ws.write_string(len(table.rows) + 2, 0, _("%(n)s more not shown", n=table.more))
        if table.chart is not None and table.rows:
            chart = book.add_chart({"type": "bar"})
            n = len(table.rows)
            chart.add_series(
                {
                    "name": table.columns[table.chart].label,
                    "categories": [ws.get_name(), 1, 0, n, 0],
                    "values": [ws.get_name(), 1, table.chart, n, table.chart],
                }
            )
            chart.set_title({"name": table.title})
            chart.set_legend({"none": True})
            chart.set_y_axis({"reverse": True})  # first row on top, as in the table
            ws.insert_chart(1, len(table.columns) + 1, chart)
    book.close()
    return out.getvalue()


def pdf(report: Report, filter_labels: list[tuple[str, str]]) -> bytes:
    from weasyprint import HTML

    html = render_template("analytics/report_pdf.html", report=report, filter_labels=filter_labels)
    return HTML(string=html, base_url=str(ROOT)).write_pdf()


BUILDERS = {"xlsx": xlsx, "pdf": pdf}
