"""The evidence pack: a case as one printable PDF, for an authority that wants a signed complaint
(Poland, Slovakia, Italy, Bulgaria) or for a person who prefers paper.

What it holds, in the case's language: the complaint to the authority where one is written
(with a signature block where the authority wants it signed), else the objection; the case's
timeline; then as annexes the objection, the reminder to Meta and Meta's answer.

Rules:
- Layout only. Every sentence comes from the letters (``Renderer.letter``) and from the pack's
  own wording (``templates/letters/<lang>/evidence.j2`` through ``Renderer.document_labels``).
- What a person typed (own words inside the letters, Meta's answer as they pasted it) is drawn
  as text: fpdf2 is given no markup (``markdown`` stays off), the page-count alias is off (it
  would replace "{nb}" in their text), and nothing they wrote reaches Jinja as a template.
- The font ships with the package, never from the machine: slim containers and CI have no
  system fonts, and the PDF core fonts are Latin-1 only (no „“, –, € beside ä; no Greek or
  Cyrillic). Noto Sans (SIL OFL) comes from PyPI (``fontpkg-noto-sans``): it covers every Latin
  alphabet of the EU, Greek and Cyrillic. DejaVu, the other usual choice, is on PyPI only inside
  matplotlib. Noto Sans ships as a variable font; fpdf2 could instance it per document
  (``add_font(variations=...)``), but that takes seconds per style, so it is instanced once per
  process with fontTools (fpdf2's own font library): cut down to the scripts the bot writes,
  as static regular and bold TTFs in a private temporary folder. fpdf2 then embeds only the
  glyphs a pack uses (a pack is some tens of kB).
- Arabic (the bot writes it; a person may type it anywhere) needs its own font and text
  shaping: Noto Sans Arabic (``fontpkg-noto-sans-arabic``) is the fallback font for every
  character Noto Sans lacks, made only when a pack has Arabic script in it, and then fpdf2
  shapes the text with HarfBuzz (``uharfbuzz``) and lays out each paragraph in its own
  direction (the Unicode bidirectional algorithm); a pack in Arabic is set right-aligned.
- The pack is in the language of its main document, as sent: the complaint in the
  authority's language (``complaint_language``, as the chat sends it), else the objection in
  the language it was written in; the annexes are the texts as they were sent to Meta.
- The first pack in a process takes a few seconds (the fonts); later ones milliseconds. The
  shell calls this off the event loop.
"""

from __future__ import annotations

import atexit
import io
import logging
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time
from fontTools.subset import Options, Subsetter  # type: ignore[import-untyped]
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fontTools.varLib import instancer  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from bot.renderer import Renderer
from conversations import (
    RIGHT_TO_LEFT,
    Case,
    babel_locale,
    complaint_language,
    letter_language,
    writes_complaint,
)

FONT, ARABIC_FONT = "NotoSans", "NotoSansArabic"
#: Each font's variable file in its ``fontpkg-*`` package; the static instances made from it:
#: (fpdf2 style, weight).
FONT_FILES = {
    FONT: ("fontpkg_noto_sans", "files/NotoSans[wdth,wght].ttf"),
    ARABIC_FONT: ("fontpkg_noto_sans_arabic", "files/NotoSansArabic[wdth,wght].ttf"),
}
FONT_STYLES = (("", 400), ("B", 700))
#: The Unicode blocks kept in the static fonts: every Latin alphabet (EU languages included),
#: Greek, Cyrillic, combining accents, and the punctuation, currency, letterlike, arrow and
#: math signs that letters use („“ – € § № → ≤). Keeping fewer glyphs makes instancing quick.
FONT_BLOCKS = (
    (0x0020, 0x036F),  # Basic Latin to Latin Extended-B, IPA, modifiers, combining marks
    (0x0370, 0x052F),  # Greek and Coptic, Cyrillic and its supplement
    (0x1C80, 0x1C8F),  # Cyrillic Extended-C
    (0x1E00, 0x1FFF),  # Latin Extended Additional, Greek Extended
    (0x2000, 0x22FF),  # punctuation, super- and subscripts, currency, letterlike, arrows, math
    (0x2460, 0x24FF),  # enclosed alphanumerics
    (0x25A0, 0x25FF),  # geometric shapes (☐-like boxes)
    (0x2C60, 0x2C7F),  # Latin Extended-C
    (0x2DE0, 0x2E7F),  # Cyrillic Extended-A, supplemental punctuation
    (0xA640, 0xA69F),  # Cyrillic Extended-B
    (0xA720, 0xA7FF),  # Latin Extended-D
    (0xFB00, 0xFB06),  # Latin ligatures
    (0xFFFD, 0xFFFD),  # the replacement character
)
#: Arabic script: the letters, its supplements and presentation forms, and the joiners.
ARABIC_BLOCKS = (
    (0x0600, 0x06FF),  # Arabic
    (0x0750, 0x077F),  # Arabic Supplement
    (0x08A0, 0x08FF),  # Arabic Extended-A
    (0x200C, 0x200F),  # zero-width (non-)joiner, direction marks
    (0xFB50, 0xFDFF),  # Arabic Presentation Forms-A
    (0xFE70, 0xFEFF),  # Arabic Presentation Forms-B
)
BLOCKS = {FONT: FONT_BLOCKS, ARABIC_FONT: ARABIC_BLOCKS}
ARABIC_SCRIPT = re.compile(
    "[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in ARABIC_BLOCKS if low != 0x200C) + "]"
)

#: Layout, in millimetres and points.
LINE = 5.2
BODY_SIZE = 10.5
HEADING_SIZE = 13
SMALL_SIZE = 8.5
INDENT = 8.0
BULLET = 4.0
DATE_COLUMN = 55.0
GREY = 95

_fonts_lock = threading.Lock()
_font_files: dict[str, dict[str, Path]] = {}  # family -> fpdf2 style -> file


class _NoMissingGlyphs(logging.Filter):
    """fpdf2 logs the characters its font lacks: those may be a person's own words (an emoji),
    and personal data stays out of the logs. They are drawn as empty boxes all the same."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Font %s is missing the following glyphs")


logging.getLogger("fpdf.output").addFilter(_NoMissingGlyphs())


def evidence_pack(case: Case, renderer: Renderer, now: datetime) -> tuple[str, bytes]:
    """(file name, PDF) of the case's evidence pack. The case needs its letter (a country)."""
    if case.country is None or case.language is None:
        raise ValueError("an evidence pack needs a case with a country and a language")
    content = _content(case, renderer)
    # Two passes: the first counts the pages for the footer's "page 2/5" (fpdf2's own alias for
    # the page count is off: it would rewrite "{nb}" in what the person typed).
    counted = _layout(content, now, pages=None)
    _close(counted)
    pdf = _layout(content, now, pages=counted.pages_count)
    try:
        return f"evidence-pack-{content.language}.pdf", bytes(pdf.output())
    finally:
        _close(pdf)


def _close(pdf: FPDF) -> None:
    """Close the font files fpdf2 reads lazily (it leaves that to the garbage collector)."""
    for font in pdf.fonts.values():
        ttfont = getattr(font, "ttfont", None)
        if ttfont is not None:
            ttfont.close()


# -- what goes in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Annex:
    heading: str
    lines: tuple[str, ...]  # a letter's text, or the saved answer's
    letter: bool  # a letter (laid out as one), else Meta's answer (drawn verbatim)
    note: str = ""  # a sentence above the text (when the answer was saved)


@dataclass(frozen=True)
class _Content:
    language: str
    labels: dict[str, str]
    main: str  # the complaint, or the objection where no complaint is written
    signature: bool
    timeline: tuple[tuple[str, str], ...]  # (date, event)
    annexes: tuple[_Annex, ...]


def _content(case: Case, renderer: Renderer) -> _Content:
    assert case.country is not None and case.language is not None
    knowledge = renderer.knowledge
    complaint = case.escalated_at is not None and writes_complaint(case, knowledge)
    regulator = knowledge.regulator_for(case.country, case.region)
    kind = knowledge.jurisdiction_for(case.country, case.region).kind
    zone = _zone(case.timezone)
    keys = [
        *(["objection"] if complaint else []),
        *(["followup"] if case.escalated_at is not None else []),
        *(["proof"] if case.proof is not None else []),
    ]
    # the main document as it is sent: the complaint in the authority's language
    language = complaint_language(case, knowledge) if complaint else letter_language(case)
    written = case.model_copy(update={"language": language}) if complaint else case
    saved = _when(case.proof.received_at, zone, language) if case.proof else None
    labels = renderer.document_labels(
        "evidence",
        language,
        complaint=complaint,
        objection=kind == "objection",
        annexes=keys,
        timezone=zone.key,
        proof_saved=saved,
    )
    main = renderer.letter(written, "complaint" if complaint else "objection").full_text
    annexes = [_annex(case, renderer, key, labels) for key in keys]
    return _Content(
        language=language,
        labels=labels,
        main=main,
        signature=complaint and regulator is not None and regulator.signed_complaint,
        timeline=_timeline(case, labels, zone, language),
        annexes=tuple(annexes),
    )


def _annex(case: Case, renderer: Renderer, key: str, labels: dict[str, str]) -> _Annex:
    heading = labels[f"annex.{key}"]
    if key != "proof":
        text = renderer.letter(case, "objection" if key == "objection" else "followup").full_text
        # an annex is the copy that was sent: the notes for the person stay out of it
        _, letter = _notes(text, labels["note_prefixes"])
        return _Annex(heading=heading, lines=letter, letter=True)
    assert case.proof is not None
    if case.proof.text:
        lines = _lines(case.proof.text)
        return _Annex(heading=heading, lines=lines, letter=False, note=labels["proof.saved"])
    return _Annex(heading=heading, lines=(), letter=False, note=labels["proof.file"])


def _timeline(
    case: Case, labels: dict[str, str], zone: ZoneInfo, language: str
) -> tuple[tuple[str, str], ...]:
    """The case's dated milestones, oldest first: each ``timeline.<field>_at`` label names a
    field of the case (read defensively: a field the case does not have is left out)."""
    moments: list[tuple[datetime, str]] = []
    for key, event in labels.items():
        field = key.removeprefix("timeline.")
        if field == key or not field.endswith("_at"):
            continue
        if field == "proof_received_at":
            moment = case.proof.received_at if case.proof else None
        else:
            moment = getattr(case, field, None)
        if isinstance(moment, datetime):
            moments.append((moment, event))
    moments.sort(key=lambda pair: pair[0])
    return tuple((_when(moment, zone, language), event) for moment, event in moments)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _when(moment: datetime, zone: ZoneInfo, language: str) -> str:
    """A moment in the person's time zone: "November 26, 2026, 10:00 AM" / "26. November 2026,
    10:00"."""
    local = moment.astimezone(zone)
    cldr = babel_locale(language)
    day = format_date(local.date(), format="long", locale=cldr)
    return f"{day}, {format_time(local, format='short', locale=cldr)}"


def _lines(text: str) -> tuple[str, ...]:
    """A text as lines to draw: line ends unified, tabs as spaces, nothing else changed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return tuple(text.rstrip("\n").split("\n"))


def _notes(text: str, prefixes: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the lines for the person above a letter, the letter): a letter opens with notes for the
    person ("Note: …", "Before sending: …") that are not part of what is sent."""
    lines = _lines(text)
    starts = tuple(p for p in prefixes.split("|") if p)
    count = 0
    while count < len(lines) and lines[count].startswith(starts):
        count += 1
    rest = lines[count:]
    while rest and not rest[0].strip():
        rest = rest[1:]
    return lines[:count], rest


# -- layout ---------------------------------------------------------------------------------


class _Pdf(FPDF):
    def __init__(self, page_label: str, pages: int | None, *, rtl: bool) -> None:
        super().__init__(format="A4")
        self.page_label = page_label
        self.total_pages = pages
        self.rtl = rtl  # a right-to-left document: set right-aligned, indents from the right
        self.align = "R" if rtl else "L"

    def footer(self) -> None:
        if self.total_pages is None:  # the counting pass
            return
        self.set_y(-12)
        self.set_font(FONT, size=SMALL_SIZE)
        self.set_text_color(GREY)
        self.cell(0, 5, f"{self.page_label} {self.page_no()}/{self.total_pages}", align="C")
        self.set_text_color(0)


def _layout(content: _Content, now: datetime, *, pages: int | None) -> FPDF:
    labels = content.labels
    pdf = _Pdf(labels["page"], pages, rtl=content.language in RIGHT_TO_LEFT)
    pdf.alias_nb_pages("")
    pdf.set_margins(left=22, top=20, right=20)
    pdf.set_auto_page_break(auto=True, margin=18)
    for style, path in _fonts(FONT).items():
        pdf.add_font(FONT, style=style, fname=path)
    if pdf.rtl or _has_arabic(content):
        for style, path in _fonts(ARABIC_FONT).items():
            pdf.add_font(ARABIC_FONT, style=style, fname=path)
        pdf.set_fallback_fonts([ARABIC_FONT])
        pdf.set_text_shaping(use_shaping_engine=True)
    pdf.set_title(f"{labels['title']}: {labels['subject']}")
    pdf.set_lang(content.language)
    pdf.set_creator("optout-bot")
    pdf.set_creation_date(now)

    pdf.add_page()
    notes, letter = _notes(content.main, labels["note_prefixes"])
    if notes:
        _notes_box(pdf, labels["notes"], notes)
    _letter(pdf, letter)
    if content.signature:
        _signature(pdf, labels)

    pdf.add_page()
    _heading(pdf, labels["timeline"])
    _timeline_table(pdf, labels, content.timeline)

    for annex in content.annexes:
        pdf.add_page()
        _heading(pdf, annex.heading)
        if annex.note:
            _paragraph(pdf, annex.note)
            pdf.ln(LINE / 2)
        if annex.letter:
            _letter(pdf, annex.lines)
        else:
            _verbatim(pdf, annex.lines)
    return pdf


def _heading(pdf: _Pdf, text: str) -> None:
    pdf.set_font(FONT, "B", HEADING_SIZE)
    pdf.multi_cell(0, LINE * 1.3, text, align=pdf.align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(LINE / 2)


def _paragraph(pdf: _Pdf, text: str, *, size: float = BODY_SIZE) -> None:
    pdf.set_font(FONT, size=size)
    pdf.multi_cell(0, LINE, text, align=pdf.align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _notes_box(pdf: _Pdf, heading: str, notes: tuple[str, ...]) -> None:
    """The notes for the person, set apart in small grey type above the letter."""
    pdf.set_text_color(GREY)
    pdf.set_font(FONT, "B", SMALL_SIZE)
    pdf.multi_cell(0, LINE * 0.85, heading, align=pdf.align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for line in notes:
        _paragraph(pdf, line, size=SMALL_SIZE)
    pdf.set_text_color(0)
    y = pdf.get_y() + LINE / 2
    pdf.set_draw_color(GREY)
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.set_draw_color(0)
    pdf.set_y(y + LINE)


def _letter(pdf: _Pdf, lines: tuple[str, ...]) -> None:
    """A letter line by line: its first line (the subject) bold, list items with a hanging
    indent, indented lines (a quoted text) indented."""
    first = True
    for line in lines:
        if not line.strip():
            pdf.ln(LINE * 0.6)
            continue
        pdf.set_font(FONT, "B" if first else "", BODY_SIZE)
        first = False
        stripped = line.lstrip(" ")
        indent = min(len(line) - len(stripped), 8) / 4 * INDENT
        if pdf.rtl:  # the indent is on the right; a list item's dash leads its own line
            pdf.multi_cell(
                pdf.epw - indent, LINE, stripped, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
        elif stripped.startswith("- "):
            pdf.set_x(pdf.l_margin + indent)
            pdf.cell(BULLET, LINE, "-")
            pdf.multi_cell(
                pdf.epw - indent - BULLET,
                LINE,
                stripped[2:],
                align=pdf.align,
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
        else:
            pdf.set_x(pdf.l_margin + indent)
            pdf.multi_cell(
                pdf.epw - indent,
                LINE,
                stripped,
                align=pdf.align,
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )


def _verbatim(pdf: _Pdf, lines: tuple[str, ...]) -> None:
    """A text exactly as the person gave it, indented under its heading."""
    pdf.set_font(FONT, size=BODY_SIZE)
    for line in lines:
        pdf.set_x(pdf.l_margin + (0 if pdf.rtl else INDENT))
        pdf.multi_cell(
            pdf.epw - INDENT, LINE, line, align=pdf.align, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )


def _signature(pdf: _Pdf, labels: dict[str, str]) -> None:
    """Lines to sign on by hand: place and date, signature, name."""
    if pdf.get_y() > pdf.h - 75:  # keep the block together, on the complaint's last page
        pdf.add_page()
    pdf.ln(LINE * 2)
    pdf.set_font(FONT, "B", BODY_SIZE)
    pdf.multi_cell(
        0, LINE, labels["signature.intro"], align=pdf.align, new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    for key in ("signature.place_date", "signature.signature", "signature.name"):
        pdf.ln(LINE * 2.6)
        y, x = pdf.get_y(), pdf.w - pdf.r_margin - 95 if pdf.rtl else pdf.l_margin
        pdf.line(x, y, x + 95, y)
        pdf.set_font(FONT, size=SMALL_SIZE)
        pdf.set_text_color(GREY)
        pdf.set_x(x)
        pdf.multi_cell(
            95, LINE * 0.9, labels[key], align=pdf.align, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        pdf.set_text_color(0)


def _timeline_table(
    pdf: _Pdf, labels: dict[str, str], timeline: tuple[tuple[str, str], ...]
) -> None:
    _paragraph(pdf, labels["timeline.intro"], size=SMALL_SIZE)
    pdf.ln(LINE / 2)
    if not timeline:
        _paragraph(pdf, labels["timeline.none"])
        return
    pdf.set_font(FONT, size=BODY_SIZE)
    rows = [(labels["timeline.date"], labels["timeline.event"]), *timeline]
    widths = (DATE_COLUMN, pdf.epw - DATE_COLUMN)
    if pdf.rtl:  # the first column on the right
        rows, widths = [(event, when) for when, event in rows], widths[::-1]
    with pdf.table(
        col_widths=widths,
        width=pdf.epw,
        borders_layout="HORIZONTAL_LINES",
        line_height=LINE,
        padding=1.5,
        text_align="RIGHT" if pdf.rtl else "LEFT",
    ) as table:
        for row in rows:
            table.row(row)


def _has_arabic(content: _Content) -> bool:
    """Whether any text of the pack is in Arabic script (a person's own words may be)."""
    texts = [content.main, *content.labels.values(), *(e for _, e in content.timeline)]
    texts += [line for annex in content.annexes for line in (annex.note, *annex.lines)]
    return any(ARABIC_SCRIPT.search(text) for text in texts)


def _fonts(family: str) -> dict[str, Path]:
    """A family's static fonts by fpdf2 style, made on its first use (see the module's rules)."""
    with _fonts_lock:
        if family not in _font_files:
            _font_files[family] = _make_fonts(family)
        return dict(_font_files[family])


def _make_fonts(family: str) -> dict[str, Path]:
    folder = Path(tempfile.mkdtemp(prefix="optout-bot-fonts-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    package, file = FONT_FILES[family]
    source = resources.files(package).joinpath(file)
    with resources.as_file(source) as path, TTFont(path) as variable:
        options = Options()
        # Latin, Greek and Cyrillic are drawn without OpenType features; Arabic is shaped by
        # HarfBuzz from the font's own substitution and positioning tables, which stay.
        options.layout_features = ["*"] if family == ARABIC_FONT else []
        options.hinting = False  # for print
        options.notdef_outline = True  # a character the font lacks shows as a box
        subsetter = Subsetter(options=options)
        blocks = BLOCKS[family]
        subsetter.populate(unicodes=[c for low, high in blocks for c in range(low, high + 1)])
        subsetter.subset(variable)
        buffer = io.BytesIO()
        variable.save(buffer)
    files = {}
    for style, weight in FONT_STYLES:
        font = TTFont(io.BytesIO(buffer.getvalue()))
        instancer.instantiateVariableFont(
            font, {"wght": weight, "wdth": 100}, inplace=True, static=True
        )
        files[style] = folder / f"{family}-{weight}.ttf"
        font.save(files[style])
    return files
