"""Rendered HTML to the three formats a committee uses: HTML, PDF (print) and DOCX (edit).

PDF: WeasyPrint, after the glyph check (notices/glyphs.py). DOCX: docxtpl, from a Word template
built here with python-docx (A4, GB/T 9704 margins and office fonts); the document's blocks are
read from the `data-docx` marks of the rendered HTML, so one Jinja2 template is the single
source of every format's wording.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser

from notices import longlist
from notices.glyphs import check_glyphs
from notices.render import printable
from workflow.errors import DomainError

FORMATS = ("html", "pdf", "docx")
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def to_bytes(html: str, fmt: str, template: str | None = None, context: dict | None = None) -> bytes:
    """`html` in `fmt`. Given the template and its context, a long list's PDF comes from the
    long-list engine (notices/longlist.py: same page, ~10x less CPU) instead of WeasyPrint."""
    if fmt == "html":
        return html.encode("utf-8")
    if fmt == "pdf":
        return to_pdf(html, template, context)
    if fmt == "docx":
        return to_docx(html)
    raise DomainError("E_BAD_FORMAT", f"不支持的格式 {fmt!r}（可用：html、pdf、docx）", "format")


# -- PDF ------------------------------------------------------------------------------------
def to_pdf(html: str, template: str | None = None, context: dict | None = None) -> bytes:
    check_glyphs(html)
    if template and context is not None and longlist.handles(template, context):
        return longlist.render(template, html, context, weasy_pdf)
    return weasy_pdf(html)


def weasy_pdf(html: str) -> bytes:
    """HTML to PDF by WeasyPrint (the glyph check already done)."""
    try:
        # Deferred on purpose: WeasyPrint loads Pango and takes about a second; HTML and Word
        # output (and the CLI's start-up) do not need it.
        from weasyprint import HTML
    except OSError as error:  # Pango/HarfBuzz libraries missing on this machine
        raise DomainError(
            "E_PDF_UNAVAILABLE",
            f"无法生成 PDF：缺少系统库（{error}）；请安装 libpango-1.0-0 等依赖",
            "format",
        ) from None

    # WeasyPrint logs every unsupported CSS property at WARNING; the layout is ours and tested.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    return HTML(string=html).write_pdf()


# -- DOCX -----------------------------------------------------------------------------------
TOP_FIELDS = ("title", "number", "issuer", "date")  # the closing (特此公告。) stays in the body's order


@dataclass
class DocModel:
    fields: dict[str, str] = field(default_factory=dict)
    body: list[tuple] = field(default_factory=list)  # ("para"|"heading"|"pagebreak"|"table", …)
    attachments: list[tuple] = field(default_factory=list)


class _Blocks(HTMLParser):
    """Reads the `data-docx` marks: title, number, para, heading, table, closing, issuer, date,
    card (certificates: one per page)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.model = DocModel()
        self._capture: str | None = None
        self._depth = 0
        self._text: list[str] = []
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._in_card = 0
        self._cards = 0
        self._signed = False

    def _target(self) -> list[tuple]:
        return self.model.attachments if self._signed and not self._in_card else self.model.body

    def handle_starttag(self, tag, attrs):
        mark = dict(attrs).get("data-docx")
        if self._capture:
            if tag == "br":  # a void element: no end tag to balance (a two-line title)
                self._text.append("\n")
            else:
                self._depth += 1
            return
        if mark == "card":
            if self._cards:
                self.model.body.append(("pagebreak",))
            self._cards += 1
            self._in_card = 1
            return
        if self._in_card and tag in ("section",):
            self._in_card += 1
        if mark == "table":
            self._table = []
        elif self._table is not None and tag == "tr":
            self._table.append([])
        elif self._table is not None and tag in ("td", "th"):
            self._cell = []
        elif mark:
            self._capture, self._depth, self._text = mark, 1, []

    def handle_endtag(self, tag):
        if self._capture:
            self._depth -= 1
            if self._depth == 0:
                text = "".join(self._text).strip()
                kind = self._capture
                self._capture = None
                if kind == "draft":  # the 样稿 mark: the Word file's header (docx_template)
                    self.model.fields["draft"] = text
                elif kind in TOP_FIELDS and not self._in_card:
                    self.model.fields[kind] = text
                    if kind == "date":
                        self._signed = True
                else:
                    self._target().append(("para" if kind in TOP_FIELDS else kind, text, kind))
            return
        if self._table is not None and tag in ("td", "th") and self._cell is not None:
            self._table[-1].append("".join(self._cell).strip())
            self._cell = None
        elif self._table is not None and tag == "table":
            rows, self._table = self._table, None
            self._target().append(("table", rows))
        elif self._in_card and tag == "section":
            self._in_card -= 1

    def handle_data(self, data):
        if self._capture:
            self._text.append(data)
        elif self._cell is not None:
            self._cell.append(data)


def doc_model(html: str) -> DocModel:
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    return parser.model


BODY_FONT = "仿宋_GB2312"  # GB/T 9704-2012: body in 3号仿宋; Word offices have this font
TITLE_FONT = "方正小标宋简体"  # title in 2号小标宋
HEADING_FONT = "黑体"


def _east_asian(run_or_style, name: str) -> None:
    from docx.oxml.ns import qn

    element = run_or_style.element if hasattr(run_or_style, "element") else run_or_style._element
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)


def _page_field(paragraph) -> None:
    """A PAGE field: Word fills in each page's number."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run = paragraph.add_run()
    run.font.size = Pt(14)
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == "PAGE":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = " PAGE "
        else:
            element = OxmlElement("w:t")
            element.text = text
        run._r.append(element)


@cache
def docx_template() -> bytes:
    """The Word template (docxtpl tags), built with python-docx: no binary file in the repo."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt, RGBColor

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(16)
    _east_asian(normal, BODY_FONT)
    normal.paragraph_format.line_spacing = Pt(28.9)
    normal.paragraph_format.space_after = Pt(0)

    def tag(text: str) -> None:
        document.add_paragraph(text)

    # A preview's 样稿 mark at the head of every page; page numbers "— 1 —" at the foot
    # (GB/T 9704-2012 7.5), as the PDF has them.
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    mark = header.add_run("{{ draft }}")
    mark.font.size, mark.bold = Pt(36), True
    mark.font.color.rgb = RGBColor(0xE0, 0x99, 0x99)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("— ").font.size = Pt(14)
    _page_field(footer)
    footer.add_run(" —").font.size = Pt(14)

    tag("{%p if title %}")
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("{{ title }}")
    run.font.size, run.bold = Pt(22), True
    _east_asian(run, TITLE_FONT)
    tag("{%p endif %}")
    tag("{%p if number %}")
    number = document.add_paragraph("{{ number }}")
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    tag("{%p endif %}")
    tag("{{p body }}")
    tag("{%p if issuer %}")
    for text in ("{{ issuer }}", "{{ date }}"):
        paragraph = document.add_paragraph(text)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        paragraph.paragraph_format.right_indent = Pt(64)  # 右空四字
    tag("{%p endif %}")
    tag("{{p attachments }}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _fill(subdoc, blocks: list[tuple]) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Pt

    for block in blocks:
        kind = block[0]
        if kind == "pagebreak":
            subdoc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        elif kind == "table":
            rows = block[1]
            if not rows:
                continue
            width = max(len(r) for r in rows)
            table = subdoc.add_table(rows=0, cols=width)
            table.style = "Table Grid"
            for row in rows:
                cells = table.add_row().cells
                for cell, text in zip(cells, row, strict=False):
                    cell.text = text
        else:
            text, mark = block[1], block[2]
            paragraph = subdoc.add_paragraph()
            run = paragraph.add_run(text)
            if mark in ("title", "heading"):
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
                run.bold = True
                run.font.size = Pt(22 if mark == "title" else 16)
                _east_asian(run, TITLE_FONT if mark == "title" else HEADING_FONT)
            elif mark in ("issuer", "date", "number"):
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            else:
                paragraph.paragraph_format.first_line_indent = Pt(32)  # 首行缩进二字


def to_docx(html: str) -> bytes:
    from docxtpl import DocxTemplate

    model = doc_model(printable(html))  # a snapshot stored before the renderer stripped them
    template = DocxTemplate(io.BytesIO(docx_template()))
    body = template.new_subdoc()
    _fill(body, model.body)
    attachments = template.new_subdoc()
    if model.attachments:
        from docx.enum.text import WD_BREAK

        attachments.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        _fill(attachments, model.attachments)
    context = {key: model.fields.get(key, "") for key in (*TOP_FIELDS, "draft")}
    context.update(body=body, attachments=attachments)
    template.render(context, autoescape=True)
    out = io.BytesIO()
    template.save(out)
    return _fixed_zip(out.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same package with fixed entry times, so one notice always gives the same bytes
    (its SHA-256 can be checked again by re-rendering the stored snapshot)."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()
