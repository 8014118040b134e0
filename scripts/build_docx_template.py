"""Build templates/documents/simulation.docx, the docxtpl template of the Word report.

The template is committed; run this only to change its layout:
    .venv/bin/python scripts/build_docx_template.py
Headings come from the context (`labels`), so one template serves every language.
"""

from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

OUT = Path(__file__).resolve().parent.parent / "templates" / "documents" / "simulation.docx"


def table(doc, headers: list[str], cells: list[str], loop: str):
    """A table whose middle row repeats with docxtpl's `{%tr %}` tags in rows of their own."""
    t = doc.add_table(rows=4, cols=len(headers))
    t.style = "Light Grid Accent 1"
    for i, h in enumerate(headers):
        t.cell(0, i).text = h
    t.cell(1, 0).text = "{%tr for " + loop + " %}"
    for i, c in enumerate(cells):
        t.cell(2, i).text = c
    t.cell(3, 0).text = "{%tr endfor %}"
    return t


def main() -> None:
    doc = Document()
    doc.styles["Normal"].font.name = "Liberation Sans"
    doc.styles["Normal"].font.size = Pt(10)
    doc.add_heading("{{ title }}", level=0)
    p = doc.add_paragraph("{{ labels.generated }} {{ generated }}")
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT

    doc.add_heading("{{ labels.company }}", level=1)
    table(doc, ["", ""], ["{{ c.label }}", "{{ c.value }}"], "c in company")

    doc.add_heading("{{ labels.answers }}", level=1)
    table(
        doc,
        ["{{ labels.question }}", "{{ labels.answer }}"],
        ["{{ a.question }}", "{{ a.answer }}"],
        "a in answers",
    )

    doc.add_heading("{{ labels.products }}", level=1)
    t = table(
        doc,
        ["{{ labels.product }}", "{{ labels.amount }}", "{{ labels.method }}"],
        ["{{ p.name }}", "{{ p.amount }}", "{{ p.method }}"],
        "p in products",
    )
    total = t.add_row()
    total.cells[0].text = "{{ labels.total }}"
    total.cells[1].text = "{{ total }}"
    for cell in total.cells[:2]:
        for run in cell.paragraphs[0].runs:
            run.bold = True

    doc.add_paragraph("{%p if others %}")
    doc.add_heading("{{ labels.others }}", level=1)
    table(
        doc,
        ["{{ labels.product }}", "{{ labels.reason }}"],
        ["{{ o.name }}", "{{ o.reason }}"],
        "o in others",
    )
    doc.add_paragraph("{%p endif %}")

    doc.add_heading("{{ labels.method }}", level=1)
    doc.add_paragraph("{{ method }}")
    disclaimer = doc.add_paragraph("{{ disclaimer }}")
    disclaimer.runs[0].italic = True
    OUT.parent.mkdir(parents=True, exist_ok=True)
    doc.save(OUT)
    print(OUT)


if __name__ == "__main__":
    main()
