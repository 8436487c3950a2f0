"""Long lists to PDF without a layout engine (issue 15): the voter list's annex and the 选民证
cards drawn directly.

WeasyPrint lays out every table cell (about 1 ms each): a 3,333-voter list took ~14 s of CPU.
The annex is a plain grid whose geometry is known in advance (fixed column widths from
`render.voter_layout`, one line a cell, rows that never wrap), so here it is drawn straight into
PDF operators with pydyf (WeasyPrint's own PDF writer), the Noto CJK font subset by HarfBuzz
(uharfbuzz, retaining glyph ids so a glyph id is its CID). The notice's first part (the text,
the signature) is still WeasyPrint's; the two are joined with pypdf. The numbers below are
notice.css's (GB/T 9704-2012 page, table.list.compact), so both engines give the same page:
A4, margins 37/26/35/28 mm, 10.5 pt text on a 14 pt line, 1 pt × 3 pt padding, 0.6 pt rules
(1.4 pt between one voter and the next), the header row repeated on every page, page numbers
"— n —" in 14 pt at the outside edge, and the 样稿 mark of a preview. Certificates: two 108 mm
cards a page, the value columns sized as CSS's auto table layout sizes them; a card whose text
would wrap leaves the whole document to WeasyPrint. tests/test_longlist.py compares every word's
place with WeasyPrint's output (within 0.5 pt).
"""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass, field
from functools import cache

from notices.glyphs import FONT_FAMILY, _locate
from notices.render import age_on, doc_date, voter_layout

PT_PER_MM = 72 / 25.4
PAGE_W, PAGE_H = 210 * PT_PER_MM, 297 * PT_PER_MM
TOP, RIGHT, BOTTOM, LEFT = 37 * PT_PER_MM, 26 * PT_PER_MM, 35 * PT_PER_MM, 28 * PT_PER_MM
WIDTH = PAGE_W - LEFT - RIGHT  # 156 mm
BODY_LINE = 28.9  # html { line-height } (22 lines a page)

# table.list.compact
CELL_SIZE, CELL_LINE, CELL_PAD_V, CELL_PAD_H, RULE, GROUP_RULE = 10.5, 14.0, 1.0, 3.0, 0.6, 1.4
ROW = RULE + CELL_PAD_V + CELL_LINE + CELL_PAD_V  # rows share their rules (border-collapse)

ATTACHMENT_RE = re.compile(r'<section class="attachment">.*?</section>', re.S)
TEMPLATES = ("voter_list", "voter_certificate")


@dataclass
class Face:
    """One face of the notice font: glyph ids and advances by character, and its subset."""

    style: str
    font: object
    face: object
    upem: int
    ascent: float
    descent: float
    glyphs: dict[str, tuple[int, float]] = field(default_factory=dict)

    def glyph(self, char: str) -> tuple[int, float]:
        found = self.glyphs.get(char)
        if found is None:
            gid = self.font.get_nominal_glyph(ord(char)) or 0
            found = (gid, self.font.get_glyph_h_advance(gid) / self.upem)
            self.glyphs[char] = found
        return found

    def width(self, text: str) -> float:
        """In em."""
        return sum(self.glyph(c)[1] for c in text)

    def hex(self, text: str, used: dict[int, str]) -> str:
        out = []
        for char in text:
            gid = self.glyph(char)[0]
            used.setdefault(gid, char)
            out.append(f"{gid:04x}")
        return "".join(out)

    def subset(self, gids) -> bytes:
        import uharfbuzz as hb

        request = hb.SubsetInput()
        for gid in (0, *gids):
            request.glyph_set.add(gid)
        request.flags = hb.SubsetFlags.RETAIN_GIDS | hb.SubsetFlags.DESUBROUTINIZE | hb.SubsetFlags.NO_HINTING
        return hb.subset(self.face, request).blob.data


@cache
def _face_index(path: str) -> int:
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    from fontTools.ttLib import TTCollection

    fonts = TTCollection(path, lazy=True).fonts
    return next((i for i, f in enumerate(fonts) if FONT_FAMILY in str(f["name"].getDebugName(1))), 0)


@cache
def face(style: str) -> Face:
    import uharfbuzz as hb

    path = str(_locate(style))
    hb_face = hb.Face(hb.Blob.from_file_path(path), _face_index(path))
    font = hb.Font(hb_face)
    extents = font.get_font_extents("ltr")
    upem = hb_face.upem
    return Face(style, font, hb_face, upem, extents.ascender / upem, -extents.descender / upem)


def handles(template: str, context: dict) -> bool:
    return template in TEMPLATES and bool(context.get("data", {}).get("voters"))


class _Page:
    """One page's content stream, in top-down coordinates (CSS's) turned into PDF's."""

    def __init__(self) -> None:
        self.ops: list[str] = []
        self.fonts: set[str] = set()

    def rule(self, x1: float, y1: float, x2: float, y2: float, width: float) -> None:
        self.ops.append(f"{width:g} w {x1:.3f} {PAGE_H - y1:.3f} m {x2:.3f} {PAGE_H - y2:.3f} l S")

    def text(self, style: str, size: float, x: float, baseline: float, hexed: str) -> None:
        self.fonts.add(style)
        self.ops.append(
            f"BT /F{style[0]} {size:g} Tf 1 0 0 1 {x:.3f} {PAGE_H - baseline:.3f} Tm <{hexed}> Tj ET"
        )


class _Writer:
    def __init__(self) -> None:
        self.pages: list[_Page] = []
        self.used: dict[str, dict[int, str]] = {"regular": {}, "bold": {}}

    def put(self, page: _Page, style: str, size: float, x: float, baseline: float, text: str) -> None:
        page.text(style, size, x, baseline, face(style).hex(text, self.used[style]))

    def centred(
        self, page: _Page, style: str, size: float, left: float, width: float, baseline: float, text: str
    ):
        x = left + (width - face(style).width(text) * size) / 2
        self.put(page, style, size, x, baseline, text)

    def baseline(self, style: str, top: float, size: float, line: float) -> float:
        """CSS inline layout: half the leading above the font's ascent."""
        f = face(style)
        return top + (line - (f.ascent + f.descent) * size) / 2 + f.ascent * size

    def page_number(self, page: _Page, number: int) -> None:
        # @page @bottom-right / :left @bottom-left: "— n —", 14pt, 7 mm in from the text edge.
        text = f"— {number} —"
        width = face("regular").width(text) * 14
        x = PAGE_W - RIGHT - 7 * PT_PER_MM - width if number % 2 else LEFT + 7 * PT_PER_MM
        top = PAGE_H - BOTTOM + (BOTTOM - BODY_LINE) / 2
        self.put(page, "regular", 14, x, self.baseline("regular", top, 14, BODY_LINE), text)

    def draft(self, page: _Page) -> None:
        # .draft-mark: fixed at 100 mm into the page area, 110 pt bold, rgba(204, 0, 0, 0.16).
        baseline = self.baseline("bold", TOP + 100 * PT_PER_MM, 110, 110)
        page.ops.append("q /Draft gs 0.8 0 0 rg")
        self.centred(page, "bold", 110, LEFT, WIDTH, baseline, "样稿")
        page.ops.append("Q")

    def pdf(self) -> bytes:
        import pydyf

        document = pydyf.PDF()
        fonts = {}
        for style, used in self.used.items():
            if used:
                fonts[style] = self._font(document, style, used).reference
        states = {}
        for state, alpha in (("Draft", 0.16), ("Seal", 0.6)):
            states[state] = pydyf.Dictionary({"Type": "/ExtGState", "ca": alpha, "CA": alpha})
            document.add_object(states[state])
        for page in self.pages:
            content = pydyf.Stream(
                [zlib.compress("\n".join(page.ops).encode(), 6)], {"Filter": "/FlateDecode"}
            )
            document.add_object(content)
            resources = pydyf.Dictionary(
                {
                    "Font": pydyf.Dictionary({f"F{s[0]}": fonts[s] for s in sorted(page.fonts)}),
                    "ExtGState": pydyf.Dictionary({k: v.reference for k, v in states.items()}),
                }
            )
            document.add_page(
                pydyf.Dictionary(
                    {
                        "Type": "/Page",
                        "Parent": document.pages.reference,
                        "MediaBox": pydyf.Array([0, 0, round(PAGE_W, 6), round(PAGE_H, 6)]),
                        "Contents": content.reference,
                        "Resources": resources,
                    }
                )
            )
        out = io.BytesIO()
        document.write(out, compress=True)
        return out.getvalue()

    def _font(self, document, style: str, used: dict[int, str]):
        import pydyf

        f = face(style)
        name = f"/HJLIST{style[0].upper()}+NotoSerifCJKsc-{style.title()}"
        file = pydyf.Stream([f.subset(used)], {"Subtype": "/OpenType"}, compress=True)
        document.add_object(file)
        descriptor = pydyf.Dictionary(
            {
                "Type": "/FontDescriptor",
                "FontName": name,
                "Flags": 4 | (2**18 if style == "bold" else 0),  # symbolic; force bold
                "FontBBox": pydyf.Array([-1000, round(-f.descent * 1000), 2000, round(f.ascent * 1000)]),
                "ItalicAngle": 0,
                "Ascent": round(f.ascent * 1000),
                "Descent": round(-f.descent * 1000),
                "CapHeight": round(f.ascent * 1000),
                "StemV": 80 if style == "regular" else 160,
                "FontFile3": file.reference,
            }
        )
        document.add_object(descriptor)
        gids = sorted(used)
        widths = pydyf.Array()
        for gid in gids:
            widths.extend([gid, pydyf.Array([round(f.font.get_glyph_h_advance(gid) * 1000 / f.upem)])])
        cid_font = pydyf.Dictionary(
            {
                "Type": "/Font",
                "Subtype": "/CIDFontType0",
                "BaseFont": name,
                "CIDSystemInfo": pydyf.Dictionary(
                    {"Registry": pydyf.String("Adobe"), "Ordering": pydyf.String("Identity"), "Supplement": 0}
                ),
                "W": widths,
                "FontDescriptor": descriptor.reference,
            }
        )
        document.add_object(cid_font)
        lines = [
            "/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
            "/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
            "1 begincodespacerange <0000> <ffff> endcodespacerange",
        ]
        for start in range(0, len(gids), 100):
            chunk = gids[start : start + 100]
            lines.append(f"{len(chunk)} beginbfchar")
            lines.extend(f"<{gid:04x}> <{used[gid].encode('utf-16-be').hex()}>" for gid in chunk)
            lines.append("endbfchar")
        lines.append("endcmap CMapName currentdict /CMap defineresource pop end end")
        to_unicode = pydyf.Stream(["\n".join(lines).encode()], compress=True)
        document.add_object(to_unicode)
        font = pydyf.Dictionary(
            {
                "Type": "/Font",
                "Subtype": "/Type0",
                "BaseFont": name,
                "Encoding": "/Identity-H",
                "DescendantFonts": pydyf.Array([cid_font.reference]),
                "ToUnicode": to_unicode.reference,
            }
        )
        document.add_object(font)
        return font


def _clean(value) -> str:
    """A cell's text as HTML shows it: whitespace collapsed and trimmed."""
    return " ".join(str(value if value is not None else "").split())


def voter_rows(context: dict) -> tuple[dict, list[list[str]], list[str]]:
    """The annex's layout, its header and its rows of cells, as templates/voter_list.html has them."""
    birth = context.get("options", {}).get("birth", "age")
    anchor = context["election"]["anchor_date"]
    voters = context["data"]["voters"]
    layout = voter_layout(voters, birth, anchor)
    k = layout["per_row"]
    header = ["序号", "姓名", "性别", "出生日期" if birth == "date" else "年龄", "选民小组"] * k
    rows = []
    for first in range(0, len(voters), k):
        cells = []
        for n, v in enumerate(voters[first : first + k], start=first + 1):
            born = doc_date(v.get("birth_date")) if birth == "date" else age_on(v.get("birth_date"), anchor)
            cells += [
                str(n),
                _clean(v.get("name")),
                _clean(v.get("sex")),
                _clean(born),
                _clean(v.get("group") or ""),
            ]
        cells += [""] * (5 * k - len(cells))
        rows.append(cells)
    return layout, header, rows


def _annex(writer: _Writer, context: dict, first_number: int) -> None:
    layout, header, rows = voter_rows(context)
    draft = bool(context.get("doc", {}).get("draft"))
    k = layout["per_row"]
    # Collapsed borders: the table's box holds half of each outer rule, the columns share the rest.
    # table.multi (k > 1): a heavier rule before each voter's first column.
    rules = [GROUP_RULE if k > 1 and c % 5 == 0 and c < 5 * k else RULE for c in range(5 * k + 1)]
    inner = WIDTH - rules[0] / 2 - rules[-1] / 2
    widths = [inner * w / 100 for _ in range(k) for w in layout["widths"]]
    edges = [LEFT + rules[0] / 2]
    for w in widths:
        edges.append(edges[-1] + w)
    lows = RULE / 2
    limit = PAGE_H - BOTTOM
    index, number = 0, first_number
    while index < len(rows) or number == first_number:
        page = _Page()
        writer.pages.append(page)
        top = TOP
        if number == first_number:  # .attachment: the label, then the heading (h2, 18pt bold)
            writer.put(page, "bold", 16, LEFT, writer.baseline("bold", top, 16, BODY_LINE), "附件")
            heading_top = top + BODY_LINE + 6
            heading = f"{_clean(context['district']['name'])}选区选民名单"
            writer.centred(
                page, "bold", 18, LEFT, WIDTH, writer.baseline("bold", heading_top, 18, BODY_LINE), heading
            )
            top = heading_top + BODY_LINE + 10
        fit = max(1, int((limit - top - RULE) // ROW) - 1)  # rows under the header on this page
        chunk = rows[index : index + fit]
        index += len(chunk)
        lines = [header, *chunk]
        bottom = top + ROW * len(lines)
        for r in range(len(lines) + 1):
            y = top + ROW * r + lows
            page.rule(LEFT, y, edges[-1], y, RULE)
        for x, width in zip(edges, rules, strict=True):
            page.rule(x, top, x, bottom + RULE, width)
        for r, cells in enumerate(lines):
            style = "bold" if r == 0 else "regular"
            base = writer.baseline(style, top + ROW * r + RULE + CELL_PAD_V, CELL_SIZE, CELL_LINE)
            for c, text in enumerate(cells):
                if text:  # centred between the rules, each taking half its width from the cell
                    left, right = edges[c] + rules[c] / 2, edges[c + 1] - rules[c + 1] / 2
                    writer.centred(page, style, CELL_SIZE, left, right - left, base, text)
        if draft:
            writer.draft(page)
        writer.page_number(page, number)
        number += 1


def voter_list_pdf(html: str, context: dict, weasy_pdf) -> bytes:
    """The notice's text pages by WeasyPrint (`weasy_pdf`: HTML to PDF), its annex drawn here."""
    from pypdf import PdfReader, PdfWriter

    front = weasy_pdf(ATTACHMENT_RE.sub("", html, count=1))
    reader = PdfReader(io.BytesIO(front))
    writer = _Writer()
    _annex(writer, context, len(reader.pages) + 1)
    merged = PdfWriter(clone_from=reader)
    merged.append(PdfReader(io.BytesIO(writer.pdf())))
    out = io.BytesIO()
    merged.write(out)
    return out.getvalue()


# -- 选民证: two cards a page (templates/voter_certificate.html, notice.css `.card`) -----------
CARD_H, CARD_GAP, CARD_RULE = 108 * PT_PER_MM, 12 * PT_PER_MM, 1.2
CARD_PAD_V, CARD_PAD_H = 8 * PT_PER_MM, 10 * PT_PER_MM
CARD_W = WIDTH - 2 * (CARD_RULE + CARD_PAD_H)  # the card's content box: table.fields is 100 % of it
FIELD_SIZE, FIELD_LINE, FIELD_PAD = 15.0, 24.0, 0.75  # UA stylesheet: td, th { padding: 1px }
FIELD_ROW = FIELD_LINE + 2 * FIELD_PAD
LABEL_COL = 7 * FIELD_SIZE + 2 * FIELD_PAD  # th { width: 7em }
SEAL_R, SEAL_RULE = 15 * PT_PER_MM, 0.8


def certificate_cards(context: dict) -> list[dict] | None:
    """Each card's text and its two value columns' widths, or None when a card needs more than
    this simple table layout (a cell that would wrap): WeasyPrint then does the whole document."""
    doc, election, district = context["doc"], context["election"], context["district"]
    anchor, style = election["anchor_date"], doc.get("date_style", "arabic")
    regular = face("regular")
    district_text = f"{_clean(district['name'])}选区"
    day = doc_date(anchor, style)
    spare = CARD_W - 2 * LABEL_COL  # what the value columns share
    cards = []
    for index, v in enumerate(context["data"]["voters"], start=1):
        name, sex = _clean(v.get("name")), _clean(v.get("sex"))
        age, group = _clean(age_on(v.get("birth_date"), anchor)), _clean(v.get("group") or "")
        # CSS auto table layout: the value columns get their max-content widths, and the
        # space left over in proportion to them.
        first = max(regular.width(name), regular.width(age)) * FIELD_SIZE + 2 * FIELD_PAD
        second = max(regular.width(sex), regular.width(group)) * FIELD_SIZE + 2 * FIELD_PAD
        span = max(regular.width(district_text), regular.width(day)) * FIELD_SIZE + 2 * FIELD_PAD
        if first + second > spare or span > first + second + LABEL_COL:
            return None
        first += (spare - first - second) * first / (first + second)
        serial = f"编号：{_clean(district['code'])}-{index:04d}"
        cards.append(
            {"serial": serial, "first": first, "rows": [(name, sex), (age, group), (district_text,), (day,)]}
        )
    return cards


def _seal(page: _Page, cx: float, top: float) -> None:
    """.seal: a dashed circle, 30 mm, 0.8 pt #c00 at 60 % opacity (dashes about 3x the rule, a
    whole even number of them in each quarter, as WeasyPrint spaces a rounded border's dashes)."""
    r = SEAL_R - SEAL_RULE / 2
    cy = PAGE_H - (top + SEAL_R)
    quarter = 3.141592653589793 * r / 2
    dashes = max(2, round(quarter / (3 * SEAL_RULE)))
    dash = quarter / (dashes + dashes % 2)
    k = 0.5522847498 * r
    x = cx
    page.ops.append(
        f"q /Seal gs 0.8 0 0 RG {SEAL_RULE:g} w [{dash:.3f} {dash:.3f}] {dash / 2:.3f} d "
        f"{x + r:.3f} {cy:.3f} m "
        f"{x + r:.3f} {cy + k:.3f} {x + k:.3f} {cy + r:.3f} {x:.3f} {cy + r:.3f} c "
        f"{x - k:.3f} {cy + r:.3f} {x - r:.3f} {cy + k:.3f} {x - r:.3f} {cy:.3f} c "
        f"{x - r:.3f} {cy - k:.3f} {x - k:.3f} {cy - r:.3f} {x:.3f} {cy - r:.3f} c "
        f"{x + k:.3f} {cy - r:.3f} {x + r:.3f} {cy - k:.3f} {x + r:.3f} {cy:.3f} c S Q"
    )


def _card(writer: _Writer, page: _Page, top: float, card: dict, doc: dict) -> None:
    inset = CARD_RULE / 2
    page.ops.append(
        f"{CARD_RULE:g} w {LEFT + inset:.3f} {PAGE_H - top - CARD_H + inset:.3f} "
        f"{WIDTH - CARD_RULE:.3f} {CARD_H - CARD_RULE:.3f} re S"
    )
    left, y = LEFT + CARD_RULE + CARD_PAD_H, top + CARD_RULE + CARD_PAD_V
    # h1: 26 pt bold, letter-spacing 0.5em (after every letter, the last one too), centred.
    bold = face("bold")
    title = "选民证"
    total = sum(bold.glyph(c)[1] * 26 + 13 for c in title)
    x, base = left + (CARD_W - total) / 2, writer.baseline("bold", y, 26, 36)
    for char in title:
        writer.put(page, "bold", 26, x, base, char)
        x += bold.glyph(char)[1] * 26 + 13
    y += 36 + 4 * PT_PER_MM
    serial_x = left + CARD_W - face("regular").width(card["serial"]) * 12
    writer.put(page, "regular", 12, serial_x, writer.baseline("regular", y, 12, 16), card["serial"])
    y += 16 + 4 * PT_PER_MM
    labels = (("姓　　名", "性　　别"), ("年　　龄", "选民小组"), ("选　　区",), ("选 举 日",))
    columns = (left, left + LABEL_COL, left + LABEL_COL + card["first"], left + 2 * LABEL_COL + card["first"])
    for row, (names, values) in enumerate(zip(labels, card["rows"], strict=True)):
        base = writer.baseline("regular", y + row * FIELD_ROW + FIELD_PAD, FIELD_SIZE, FIELD_LINE)
        for c, text in enumerate(value for pair in zip(names, values, strict=True) for value in pair):
            if text:
                writer.put(page, "regular", FIELD_SIZE, columns[c] + FIELD_PAD, base, text)
    y += 4 * FIELD_ROW + 6 * PT_PER_MM
    # .signature: a shrink-to-fit block 2em from the right, its lines centred; the seal over it.
    issuer, day = (
        _clean(doc.get("issuer")),
        _clean(doc_date(doc.get("issued_on"), doc.get("date_style", "arabic"))),
    )
    regular = face("regular")
    width = max(regular.width(issuer), regular.width(day)) * 14
    right = left + CARD_W - 2 * 14
    for line, text in enumerate((issuer, day)):
        if text:
            writer.centred(
                page,
                "regular",
                14,
                right - width,
                width,
                writer.baseline("regular", y + line * 22, 14, 22),
                text,
            )
    _seal(page, right - width / 2, y - 4 * PT_PER_MM)


def certificates_pdf(html: str, context: dict, weasy_pdf) -> bytes:
    cards = certificate_cards(context)
    if cards is None:
        return weasy_pdf(html)
    writer = _Writer()
    draft = bool(context["doc"].get("draft"))
    for start in range(0, len(cards), 2):
        page = _Page()
        writer.pages.append(page)
        for offset, card in enumerate(cards[start : start + 2]):
            _card(writer, page, TOP + offset * (CARD_H + CARD_GAP), card, context["doc"])
        if draft:
            writer.draft(page)
        writer.page_number(page, len(writer.pages))
    return writer.pdf()


def render(template: str, html: str, context: dict, weasy_pdf) -> bytes:
    if template == "voter_list":
        return voter_list_pdf(html, context, weasy_pdf)
    if template == "voter_certificate":
        return certificates_pdf(html, context, weasy_pdf)
    raise ValueError(template)
