"""The simulator in Debian's Chromium: the questionnaire with JavaScript on (one question at a
time) and off (one form), the results, and each export downloaded and read back."""

import io
import re

import openpyxl
import pytest
from docx import Document
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.simulator.test_simulator_engine import GOLDEN


def _answer(page, code: str, value) -> None:
    """Answer one question as a person would: type a number, tick or pick the options."""
    field = page.locator(f"#q-{code}-field")
    if isinstance(value, list):
        for option in value:
            field.get_by_label(option, exact=True).check()
    elif page.locator(f"#q-{code}").count():
        page.fill(f"#q-{code}", str(value))
    else:
        field.get_by_label(value, exact=True).check()


NAMES = {"PDF": "Document PDF", "Excel": "Classeur Excel", "Word": "Document Word"}


def _download(page, run_jobs, label: str) -> bytes:
    page.get_by_role("button", name=label, exact=True).click()
    # JavaScript on: a progress bar in the results page, which polls until the file is ready;
    # off: the export's own page, which reloads itself
    expect(page.locator("li.export", has_text=NAMES[label]).locator("progress")).to_be_visible()
    run_jobs(("exports",))
    item = page.locator("li.export", has_text=NAMES[label])
    link = item.get_by_role("link", name=re.compile("Télécharger"))
    expect(link).to_be_visible(timeout=10_000)
    with page.expect_download() as info:
        link.click()
    return open(info.value.path(), "rb").read()


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_simulator_results_and_exports(live_server, run_jobs, browser, js):
    context = browser.new_context(java_script_enabled=js, locale="fr-FR", accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server}/simulator")
    if js:
        step = page.locator('#simulator input[name="question"]')
        done = page.locator("#total-amount")
        expect(step).to_have_count(1)  # htmx swapped the full form for the first step
        for _ in range(20):
            step.or_(done).first.wait_for(state="attached")
            if done.count():
                break
            code = step.get_attribute("value")
            _answer(page, code, GOLDEN[code])
            page.get_by_role("button", name="Suivant").click()
            # wait for the swap: the next question, or the results page after the last one
            expect(
                page.locator(f'#simulator input[name="question"][value="{code}"]')
            ).to_have_count(0)
    else:
        for code, value in GOLDEN.items():
            _answer(page, code, value)
        page.get_by_role("button", name="Voir mes résultats").click()
    expect(page.locator("#total-amount")).to_contain_text(re.compile(r"190\s300"))
    expect(page.locator("#product-TICPE")).to_contain_text(re.compile(r"19\s200"))

    results_url = page.url
    pdf = _download(page, run_jobs, "PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert re.search(r"190\s300", text)

    page.goto(results_url)
    book = openpyxl.load_workbook(io.BytesIO(_download(page, run_jobs, "Excel")))
    assert {r[0]: r[1] for r in book.worksheets[0].iter_rows(values_only=True) if r[0]}[
        "Total"
    ] == 190300

    page.goto(results_url)
    doc = Document(io.BytesIO(_download(page, run_jobs, "Word")))
    cells = " ".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert re.search(r"190\s300", cells)
    context.close()
