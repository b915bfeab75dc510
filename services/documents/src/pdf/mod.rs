//! Renders issued documents to PDF: a certificate of study (справка об обучении /
//! оқу туралы анықтама) in Kazakh, Russian or English, on A4, with the approvals
//! table and a QR code that carries the verification payload.
//!
//! Layout happens in two passes. The first pass places every piece of text and
//! every shape on pages, measuring text with the advance widths of the embedded
//! DejaVu Sans faces. The second pass subsets those faces to exactly the
//! characters that were placed and turns the marks into `printpdf` operations.
//! The subsetting is ours because `printpdf` only subsets with its heavy
//! `text_layout` feature; without it the whole 700 KB font would be embedded.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use printpdf::{
    Color, FontId, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfParseErrorSeverity,
    PdfSaveOptions, Point, Pt, Rect, Rgb, TextItem,
};
use qrcode::{EcLevel, QrCode};

mod model;
pub use model::*;

const REGULAR_TTF: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/fonts/DejaVuSans.ttf"));
const BOLD_TTF: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/fonts/DejaVuSans-Bold.ttf"));

/// Everything printed on a certificate of study (справка об обучении / оқу туралы анықтама).
#[derive(Debug, Clone)]
pub struct CertificateLayout {
    pub language: Language,
    /// e.g. "Al-Farabi Kazakh National University"
    pub organisation_name: String,
    /// e.g. "KAZNU-CS-2026-000017"; printed only when `printed_form` is true.
    pub registration_number: String,
    /// The paper form shows the number and the QR code, the electronic copy only the QR code.
    pub printed_form: bool,
    pub holder_full_name: String,
    /// Empty → the line is omitted.
    pub faculty: String,
    /// Empty → the line is omitted.
    pub specialty: String,
    /// 0 → the line is omitted.
    pub course: u8,
    /// Free text such as "to be presented at the place of demand"; empty → omitted.
    pub purpose: String,
    pub issued_at: DateTime<Utc>,
    /// Printed as a table: full name | position | department | date.
    pub approvals: Vec<Approval>,
    /// Arbitrary text (a verification URL and signature) encoded in the QR code.
    pub qr_payload: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the PDF could not be rendered: {0}")]
    Pdf(String),
    #[error("the QR code could not be built: {0}")]
    Qr(String),
}

/// Renders a document to the bytes of a PDF file.
pub fn render(doc: &Printed) -> Result<Vec<u8>, RenderError> {
    match &doc.body {
        Body::CertificateOfStudy(body) => render_certificate_of_study(&CertificateLayout {
            language: doc.language,
            organisation_name: doc.organisation_name.clone(),
            registration_number: doc.registration_number.clone(),
            printed_form: doc.printed_form,
            holder_full_name: body.holder.full_name.clone(),
            faculty: body.holder.faculty.clone(),
            specialty: body.holder.specialty.clone(),
            course: body.holder.course,
            purpose: body.purpose.clone(),
            issued_at: doc.issued_at,
            approvals: body.approvals.clone(),
            qr_payload: doc.qr_payload.clone(),
        }),
        _ => Err(RenderError::Pdf("this document type has no template yet".into())),
    }
}

/// Renders the certificate to the bytes of a PDF file.
fn render_certificate_of_study(doc: &CertificateLayout) -> Result<Vec<u8>, RenderError> {
    let faces = faces()?;
    let qr = QrCode::with_error_correction_level(doc.qr_payload.as_bytes(), EcLevel::M)
        .map_err(|e| RenderError::Qr(e.to_string()))?;
    let pages = lay_out(doc, faces, &qr);
    write_pdf(doc, faces, pages)
}

// ---------------------------------------------------------------------------
// Static texts
// ---------------------------------------------------------------------------

struct Texts {
    title: &'static str,
    /// The certifying sentence is `before_holder` + holder + `between` + organisation +
    /// `after_organisation`; the holder comes first in all three languages.
    before_holder: &'static str,
    between: &'static str,
    after_organisation: &'static str,
    faculty: &'static str,
    specialty: &'static str,
    course: &'static str,
    approvals: &'static str,
    column_name: &'static str,
    column_position: &'static str,
    column_department: &'static str,
    column_date: &'static str,
    registration_number: &'static str,
    date_of_issue: &'static str,
    verification_note: &'static str,
}

const KK: Texts = Texts {
    title: "ОҚУ ТУРАЛЫ АНЫҚТАМА",
    before_holder: "Осы анықтама ",
    between: " шын мәнінде «",
    after_organisation: "» білім беру ұйымында білім алатынын растайды.",
    faculty: "Факультеті",
    specialty: "Мамандығы",
    course: "Курсы",
    approvals: "Келісілді",
    column_name: "Аты-жөні",
    column_position: "Лауазымы",
    column_department: "Бөлімшесі",
    column_date: "Күні",
    registration_number: "Тіркеу нөмірі",
    date_of_issue: "Берілген күні",
    verification_note: "Құжаттың түпнұсқалығын QR-кодты сканерлеп тексеруге болады.",
};

const RU: Texts = Texts {
    title: "СПРАВКА ОБ ОБУЧЕНИИ",
    before_holder: "Настоящей справкой подтверждается, что ",
    between: " действительно обучается в организации образования «",
    after_organisation: "».",
    faculty: "Факультет",
    specialty: "Специальность",
    course: "Курс",
    approvals: "Согласовано",
    column_name: "ФИО",
    column_position: "Должность",
    column_department: "Подразделение",
    column_date: "Дата",
    registration_number: "Регистрационный номер",
    date_of_issue: "Дата выдачи",
    verification_note: "Подлинность документа можно проверить, отсканировав QR-код.",
};

const EN: Texts = Texts {
    title: "CERTIFICATE OF STUDY",
    before_holder: "This is to certify that ",
    between: " is a student of ",
    after_organisation: ".",
    faculty: "Faculty",
    specialty: "Specialty",
    course: "Year of study",
    approvals: "Approved by",
    column_name: "Full name",
    column_position: "Position",
    column_department: "Department",
    column_date: "Date",
    registration_number: "Registration number",
    date_of_issue: "Date of issue",
    verification_note: "The authenticity of this document can be verified by scanning the QR code.",
};

fn texts(language: Language) -> &'static Texts {
    match language {
        Language::Kk => &KK,
        Language::Ru => &RU,
        Language::En => &EN,
    }
}

fn format_date(language: Language, at: &DateTime<Utc>) -> String {
    match language {
        // Day.month.year is how dates are written on Kazakh and Russian documents.
        Language::Kk | Language::Ru => at.format("%d.%m.%Y").to_string(),
        // A spelled-out month cannot be misread as month/day by an English reader.
        Language::En => at.format("%-d %B %Y").to_string(),
    }
}

// ---------------------------------------------------------------------------
// Fonts and text measurement
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Weight {
    Regular,
    Bold,
}

/// The full faces, parsed once: layout measures with them and subsetting starts from them.
struct Faces {
    regular: ParsedFont,
    bold: ParsedFont,
}

impl Faces {
    fn face(&self, weight: Weight) -> &ParsedFont {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    /// Width of `text` in points. Characters the face lacks are measured as `.notdef`
    /// (glyph 0), which is also what the PDF will show for them.
    fn width(&self, weight: Weight, size: f32, text: &str) -> f32 {
        let face = self.face(weight);
        let units: u32 = text
            .chars()
            .map(|c| {
                let gid = face.lookup_glyph_index(u32::from(c)).unwrap_or(0);
                u32::from(face.get_glyph_width(gid).unwrap_or(0))
            })
            .sum();
        units as f32 * size / f32::from(face.units_per_em.max(1))
    }
}

fn faces() -> Result<&'static Faces, RenderError> {
    static FACES: OnceLock<Result<Faces, String>> = OnceLock::new();
    FACES
        .get_or_init(|| {
            let parse = |bytes: &[u8], name: &str| {
                ParsedFont::from_bytes(bytes, 0, &mut Vec::new())
                    .ok_or_else(|| format!("the embedded font {name} could not be parsed"))
            };
            Ok(Faces { regular: parse(REGULAR_TTF, "DejaVuSans.ttf")?, bold: parse(BOLD_TTF, "DejaVuSans-Bold.ttf")? })
        })
        .as_ref()
        .map_err(|e| RenderError::Pdf(e.clone()))
}

/// Cuts the face down to the glyphs of `chars` and parses the result, so the PDF embeds
/// a few kilobytes of outlines instead of the whole font.
fn subset_face(ttf: &[u8], full: &ParsedFont, chars: &BTreeSet<char>) -> Result<ParsedFont, RenderError> {
    use allsorts::binary::read::ReadScope;
    use allsorts::font_data::FontData;
    use allsorts::subset::{CmapTarget, SubsetProfile, subset};

    let fail =
        |what: &str, e: &dyn std::fmt::Display| RenderError::Pdf(format!("font subsetting failed ({what}): {e}"));
    let used: BTreeSet<u16> =
        chars.iter().filter_map(|c| full.lookup_glyph_index(u32::from(*c))).filter(|gid| *gid != 0).collect();
    // allsorts requires .notdef first and no duplicates.
    let glyph_ids: Vec<u16> = std::iter::once(0).chain(used).collect();
    let font_data = ReadScope::new(ttf).read::<FontData<'_>>().map_err(|e| fail("read", &e))?;
    let provider = font_data.table_provider(0).map_err(|e| fail("tables", &e))?;
    // A Unicode cmap in the subset lets `ParsedFont` map characters to the new glyph ids.
    let bytes =
        subset(&provider, &glyph_ids, &SubsetProfile::Pdf, CmapTarget::Unicode).map_err(|e| fail("subset", &e))?;
    ParsedFont::from_bytes(&bytes, 0, &mut Vec::new())
        .ok_or_else(|| RenderError::Pdf("the subset font could not be parsed".to_string()))
}

// ---------------------------------------------------------------------------
// Page geometry (points; PDF y grows upwards from the bottom edge)
// ---------------------------------------------------------------------------

const PT_PER_MM: f32 = 72.0 / 25.4;
const PAGE_WIDTH_MM: f32 = 210.0;
const PAGE_HEIGHT_MM: f32 = 297.0;
const PAGE_WIDTH: f32 = PAGE_WIDTH_MM * PT_PER_MM;
const PAGE_HEIGHT: f32 = PAGE_HEIGHT_MM * PT_PER_MM;
const MARGIN_LEFT: f32 = 25.0 * PT_PER_MM;
const MARGIN_RIGHT: f32 = 15.0 * PT_PER_MM;
const MARGIN_TOP: f32 = 20.0 * PT_PER_MM;
const MARGIN_BOTTOM: f32 = 20.0 * PT_PER_MM;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
const CONTENT_TOP: f32 = PAGE_HEIGHT - MARGIN_TOP;
/// Page numbers sit inside the bottom margin, below everything else.
const PAGE_NUMBER_BASELINE: f32 = 10.0 * PT_PER_MM;

const ORGANISATION_SIZE: f32 = 12.0;
const TITLE_SIZE: f32 = 16.0;
const BODY_SIZE: f32 = 11.0;
const TABLE_SIZE: f32 = 9.0;
const FOOTER_SIZE: f32 = 10.0;
const NOTE_SIZE: f32 = 8.0;
const LINE_SPACING: f32 = 1.35;
const CELL_PADDING: f32 = 3.0;
/// Share of the content width for full name | position | department | date.
const COLUMN_SHARES: [f32; 4] = [0.29, 0.25, 0.27, 0.19];
/// Half a millimetre per module keeps long payloads scannable by a phone camera.
const QR_MODULE_MIN: f32 = 0.5 * PT_PER_MM;
const QR_SIDE_MIN: f32 = 30.0 * PT_PER_MM;
const QR_SIDE_MAX: f32 = 50.0 * PT_PER_MM;
/// A QR code needs four light modules around it to be found by a reader.
const QR_QUIET_MODULES: f32 = 4.0;

fn line_height(size: f32) -> f32 {
    size * LINE_SPACING
}

/// Baseline of a line whose box starts at `top`: DejaVu's ascent is 0.93 em, and the
/// extra leading is split so the text sits visually centred in its line box.
fn baseline(top: f32, size: f32) -> f32 {
    top - size * (0.93 + (LINE_SPACING - 1.16) / 2.0)
}

// ---------------------------------------------------------------------------
// Word wrapping
// ---------------------------------------------------------------------------

struct Span<'a> {
    text: &'a str,
    weight: Weight,
}

fn regular(text: &str) -> Span<'_> {
    Span { text, weight: Weight::Regular }
}

fn bold(text: &str) -> Span<'_> {
    Span { text, weight: Weight::Bold }
}

/// A run of one weight inside a word, e.g. the bold name and the regular comma after it.
struct Piece {
    text: String,
    weight: Weight,
}

/// What may not be broken: the characters between two whitespace gaps.
struct Word {
    pieces: Vec<Piece>,
    width: f32,
}

impl Word {
    fn last_weight(&self) -> Weight {
        self.pieces.last().map_or(Weight::Regular, |p| p.weight)
    }
}

/// A laid-out line: runs of one weight each, at x offsets from the line start.
struct Line {
    runs: Vec<(Weight, String, f32)>,
    width: f32,
}

/// Splits spans into words. Whitespace separates words; a span boundary without
/// whitespace does not, so "«" + organisation + "»" stays one unit.
fn split_words(spans: &[Span<'_>]) -> Vec<Vec<Piece>> {
    let mut words: Vec<Vec<Piece>> = Vec::new();
    let mut current: Vec<Piece> = Vec::new();
    for span in spans {
        for c in span.text.chars() {
            if c.is_whitespace() {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
                continue;
            }
            match current.last_mut() {
                Some(piece) if piece.weight == span.weight => piece.text.push(c),
                _ => current.push(Piece { text: c.to_string(), weight: span.weight }),
            }
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Breaks a word wider than `max_width` (a long code or URL) into chunks that fit.
fn measure_and_split(faces: &Faces, size: f32, max_width: f32, pieces: Vec<Piece>) -> Vec<Word> {
    let total: f32 = pieces.iter().map(|p| faces.width(p.weight, size, &p.text)).sum();
    if total <= max_width {
        return vec![Word { pieces, width: total }];
    }
    let mut out = Vec::new();
    let mut chunk = Word { pieces: Vec::new(), width: 0.0 };
    for piece in pieces {
        for c in piece.text.chars() {
            let mut buf = [0u8; 4];
            let w = faces.width(piece.weight, size, c.encode_utf8(&mut buf));
            if chunk.width + w > max_width && !chunk.pieces.is_empty() {
                out.push(std::mem::replace(&mut chunk, Word { pieces: Vec::new(), width: 0.0 }));
            }
            match chunk.pieces.last_mut() {
                Some(p) if p.weight == piece.weight => p.text.push(c),
                _ => chunk.pieces.push(Piece { text: c.to_string(), weight: piece.weight }),
            }
            chunk.width += w;
        }
    }
    if !chunk.pieces.is_empty() {
        out.push(chunk);
    }
    out
}

/// Greedy word wrap. The space between two words is set in the weight of the word
/// before it, both when measuring and when the line is emitted, so the widths used
/// here are exactly the widths the PDF viewer will draw.
fn wrap(faces: &Faces, spans: &[Span<'_>], size: f32, max_width: f32) -> Vec<Line> {
    let words: Vec<Word> =
        split_words(spans).into_iter().flat_map(|pieces| measure_and_split(faces, size, max_width, pieces)).collect();

    let mut lines: Vec<Vec<Word>> = Vec::new();
    let mut current: Vec<Word> = Vec::new();
    let mut current_width = 0.0;
    for word in words {
        let space = current.last().map_or(0.0, |prev| faces.width(prev.last_weight(), size, " "));
        if !current.is_empty() && current_width + space + word.width > max_width {
            lines.push(std::mem::take(&mut current));
            current_width = word.width;
        } else {
            current_width += space + word.width;
        }
        current.push(word);
    }
    if !current.is_empty() {
        lines.push(current);
    }

    lines
        .into_iter()
        .map(|words| {
            let mut runs: Vec<(Weight, String, f32)> = Vec::new();
            let mut x = 0.0;
            for (i, word) in words.iter().enumerate() {
                if i > 0
                    && let Some(run) = runs.last_mut()
                {
                    run.1.push(' ');
                }
                for piece in &word.pieces {
                    match runs.last_mut() {
                        Some(run) if run.0 == piece.weight => run.1.push_str(&piece.text),
                        _ => {
                            if let Some(run) = runs.last() {
                                x += faces.width(run.0, size, &run.1);
                            }
                            runs.push((piece.weight, piece.text.clone(), x));
                        }
                    }
                }
            }
            let width = runs.last().map_or(0.0, |run| run.2 + faces.width(run.0, size, &run.1));
            Line { runs, width }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Layout: places marks on pages
// ---------------------------------------------------------------------------

enum Mark {
    Text { x: f32, y: f32, size: f32, weight: Weight, text: String },
    Fill { x: f32, y: f32, width: f32, height: f32, grey: f32 },
    Frame { x: f32, y: f32, width: f32, height: f32 },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Centre,
}

struct Layout<'f> {
    faces: &'f Faces,
    done: Vec<Vec<Mark>>,
    page: Vec<Mark>,
    /// Top of the free space on the current page.
    y: f32,
}

impl<'f> Layout<'f> {
    fn new(faces: &'f Faces) -> Self {
        Layout { faces, done: Vec::new(), page: Vec::new(), y: CONTENT_TOP }
    }

    fn new_page(&mut self) {
        self.done.push(std::mem::take(&mut self.page));
        self.y = CONTENT_TOP;
    }

    /// Starts a new page unless `height` still fits above `floor`.
    fn ensure(&mut self, height: f32, floor: f32) {
        if self.y - height < floor && self.y < CONTENT_TOP {
            self.new_page();
        }
    }

    fn gap(&mut self, height: f32) {
        self.y -= height;
    }

    fn emit_line(&mut self, line: &Line, x: f32, top: f32, size: f32) {
        let y = baseline(top, size);
        for (weight, text, offset) in &line.runs {
            self.page.push(Mark::Text { x: x + offset, y, size, weight: *weight, text: text.clone() });
        }
    }

    /// A wrapped paragraph across the content width, breaking pages between lines.
    fn paragraph(&mut self, spans: &[Span<'_>], size: f32, align: Align) {
        let lh = line_height(size);
        for line in wrap(self.faces, spans, size, CONTENT_WIDTH) {
            self.ensure(lh, MARGIN_BOTTOM);
            let x = match align {
                Align::Left => MARGIN_LEFT,
                Align::Centre => MARGIN_LEFT + (CONTENT_WIDTH - line.width).max(0.0) / 2.0,
            };
            let top = self.y;
            self.emit_line(&line, x, top, size);
            self.y -= lh;
        }
    }

    fn table(&mut self, headers: [&str; 4], rows: &[[String; 4]]) {
        let widths = COLUMN_SHARES.map(|share| share * CONTENT_WIDTH);
        let wrap_cells = |cells: [&str; 4], weight: Weight| -> [Vec<Line>; 4] {
            std::array::from_fn(|i| {
                let span = Span { text: cells[i], weight };
                wrap(self.faces, &[span], TABLE_SIZE, widths[i] - 2.0 * CELL_PADDING)
            })
        };
        let header = wrap_cells(headers, Weight::Bold);
        let header_height = row_height(&header);
        let lh = line_height(TABLE_SIZE);
        // A row taller than this cannot fit on any page and is split across pages.
        let page_capacity = ((CONTENT_TOP - header_height - MARGIN_BOTTOM - 2.0 * CELL_PADDING) / lh).floor();
        let page_capacity = (page_capacity.max(1.0)) as usize;

        self.ensure(header_height + lh + 2.0 * CELL_PADDING, MARGIN_BOTTOM);
        self.table_row(&header, 0, row_lines(&header), &widths, true);

        for row in rows {
            let cells = wrap_cells([&row[0], &row[1], &row[2], &row[3]], Weight::Regular);
            let total = row_lines(&cells);
            let mut start = 0;
            // Set right after a page break, so a row never waits for a better page forever.
            let mut fresh_page = false;
            while start < total {
                let remaining = total - start;
                let fits = ((self.y - MARGIN_BOTTOM - 2.0 * CELL_PADDING) / lh).floor().max(0.0) as usize;
                let take = if remaining <= fits {
                    remaining
                } else if fits > 0 && (fresh_page || remaining > page_capacity) {
                    fits
                } else if fresh_page {
                    // Only when the header alone fills a page; overflow rather than loop.
                    1
                } else {
                    self.new_page();
                    self.table_row(&header, 0, row_lines(&header), &widths, true);
                    fresh_page = true;
                    continue;
                };
                self.table_row(&cells, start, take, &widths, false);
                start += take;
                fresh_page = false;
            }
        }
    }

    /// Draws lines `start..start + count` of a row's cells as one band of framed cells.
    fn table_row(&mut self, cells: &[Vec<Line>; 4], start: usize, count: usize, widths: &[f32; 4], header: bool) {
        let lh = line_height(TABLE_SIZE);
        let height = count as f32 * lh + 2.0 * CELL_PADDING;
        let bottom = self.y - height;
        if header {
            self.page.push(Mark::Fill { x: MARGIN_LEFT, y: bottom, width: CONTENT_WIDTH, height, grey: 0.9 });
        }
        let mut x = MARGIN_LEFT;
        for (lines, width) in cells.iter().zip(widths) {
            self.page.push(Mark::Frame { x, y: bottom, width: *width, height });
            let mut top = self.y - CELL_PADDING;
            for line in lines.iter().skip(start).take(count) {
                self.emit_line(line, x + CELL_PADDING, top, TABLE_SIZE);
                top -= lh;
            }
            x += width;
        }
        self.y = bottom;
    }

    fn finish(mut self) -> Vec<Vec<Mark>> {
        self.done.push(self.page);
        self.done
    }
}

fn row_lines(cells: &[Vec<Line>; 4]) -> usize {
    cells.iter().map(Vec::len).max().unwrap_or(0).max(1)
}

fn row_height(cells: &[Vec<Line>; 4]) -> f32 {
    row_lines(cells) as f32 * line_height(TABLE_SIZE) + 2.0 * CELL_PADDING
}

fn lay_out(doc: &CertificateLayout, faces: &Faces, qr: &QrCode) -> Vec<Vec<Mark>> {
    let t = texts(doc.language);
    let mut layout = Layout::new(faces);

    layout.paragraph(&[bold(&doc.organisation_name)], ORGANISATION_SIZE, Align::Centre);
    layout.gap(24.0);
    layout.paragraph(&[bold(t.title)], TITLE_SIZE, Align::Centre);
    layout.gap(18.0);

    layout.paragraph(
        &[
            regular(t.before_holder),
            bold(&doc.holder_full_name),
            regular(t.between),
            regular(&doc.organisation_name),
            regular(t.after_organisation),
        ],
        BODY_SIZE,
        Align::Left,
    );
    layout.gap(6.0);

    let course = doc.course.to_string();
    let details = [
        (t.faculty, doc.faculty.trim()),
        (t.specialty, doc.specialty.trim()),
        (t.course, if doc.course == 0 { "" } else { course.as_str() }),
    ];
    for (label, value) in details {
        if !value.is_empty() {
            let label = format!("{label}: ");
            layout.paragraph(&[regular(&label), bold(value)], BODY_SIZE, Align::Left);
        }
    }

    if !doc.purpose.trim().is_empty() {
        layout.gap(6.0);
        layout.paragraph(&[regular(&doc.purpose)], BODY_SIZE, Align::Left);
    }

    if !doc.approvals.is_empty() {
        layout.gap(16.0);
        // Keep the heading together with the table header and a first row.
        let keep = line_height(BODY_SIZE) + 4.0 * line_height(TABLE_SIZE) + 4.0 * CELL_PADDING;
        layout.ensure(keep, MARGIN_BOTTOM);
        layout.paragraph(&[bold(t.approvals)], BODY_SIZE, Align::Left);
        layout.gap(4.0);
        let rows: Vec<[String; 4]> = doc
            .approvals
            .iter()
            .map(|a| {
                [
                    a.full_name.clone(),
                    a.position.clone(),
                    a.department.clone(),
                    format_date(doc.language, &a.decided_at),
                ]
            })
            .collect();
        layout.table([t.column_name, t.column_position, t.column_department, t.column_date], &rows);
    }

    footer(&mut layout, doc, t, qr);

    let mut pages = layout.finish();
    let count = pages.len();
    if count > 1 {
        for (i, page) in pages.iter_mut().enumerate() {
            let text = format!("{} / {}", i + 1, count);
            let width = faces.width(Weight::Regular, NOTE_SIZE, &text);
            page.push(Mark::Text {
                x: MARGIN_LEFT + (CONTENT_WIDTH - width) / 2.0,
                y: PAGE_NUMBER_BASELINE,
                size: NOTE_SIZE,
                weight: Weight::Regular,
                text,
            });
        }
    }
    pages
}

/// The bottom band of the last page: number and date on the left, the QR code on the
/// right. It moves to a fresh page when the content above leaves no room for it.
fn footer(layout: &mut Layout<'_>, doc: &CertificateLayout, t: &Texts, qr: &QrCode) {
    let modules = qr.width() as f32;
    let side = (modules * QR_MODULE_MIN).clamp(QR_SIDE_MIN, QR_SIDE_MAX);
    let module = side / modules.max(1.0);
    let quiet = QR_QUIET_MODULES * module;
    let band_top = MARGIN_BOTTOM + side;

    if layout.y - quiet < band_top {
        layout.new_page();
    }

    let qr_x = PAGE_WIDTH - MARGIN_RIGHT - side;
    let qr_y = MARGIN_BOTTOM;
    let colors = qr.to_colors();
    let width = qr.width();
    // One rectangle per horizontal run of dark modules: fewer operators, and no
    // hairline seams between neighbouring modules in anti-aliasing viewers.
    for (row, line) in colors.chunks(width.max(1)).enumerate() {
        let y = qr_y + side - (row as f32 + 1.0) * module;
        let mut col = 0;
        while col < line.len() {
            if line[col] == qrcode::Color::Dark {
                let start = col;
                while col < line.len() && line[col] == qrcode::Color::Dark {
                    col += 1;
                }
                layout.page.push(Mark::Fill {
                    x: qr_x + start as f32 * module,
                    y,
                    width: (col - start) as f32 * module,
                    height: module,
                    grey: 0.0,
                });
            } else {
                col += 1;
            }
        }
    }

    let text_width = CONTENT_WIDTH - side - quiet;
    let mut lines: Vec<(Line, f32)> = Vec::new();
    if doc.printed_form {
        let label = format!("{}: ", t.registration_number);
        for line in wrap(layout.faces, &[regular(&label), bold(&doc.registration_number)], FOOTER_SIZE, text_width) {
            lines.push((line, FOOTER_SIZE));
        }
    }
    let label = format!("{}: ", t.date_of_issue);
    let date = format_date(doc.language, &doc.issued_at);
    for line in wrap(layout.faces, &[regular(&label), bold(&date)], FOOTER_SIZE, text_width) {
        lines.push((line, FOOTER_SIZE));
    }
    let note = wrap(layout.faces, &[regular(t.verification_note)], NOTE_SIZE, text_width);

    // The left block is anchored to the bottom of the QR code, note last.
    let height: f32 = lines.iter().map(|(_, size)| line_height(*size)).sum::<f32>()
        + 6.0
        + note.len() as f32 * line_height(NOTE_SIZE);
    let mut top = MARGIN_BOTTOM + height;
    for (line, size) in &lines {
        layout.emit_line(line, MARGIN_LEFT, top, *size);
        top -= line_height(*size);
    }
    top -= 6.0;
    for line in &note {
        layout.emit_line(line, MARGIN_LEFT, top, NOTE_SIZE);
        top -= line_height(NOTE_SIZE);
    }
    layout.y = MARGIN_BOTTOM;
}

// ---------------------------------------------------------------------------
// PDF output
// ---------------------------------------------------------------------------

fn write_pdf(doc: &CertificateLayout, faces: &Faces, pages: Vec<Vec<Mark>>) -> Result<Vec<u8>, RenderError> {
    let mut regular_chars = BTreeSet::new();
    let mut bold_chars = BTreeSet::new();
    for mark in pages.iter().flatten() {
        if let Mark::Text { weight, text, .. } = mark {
            let set = match weight {
                Weight::Regular => &mut regular_chars,
                Weight::Bold => &mut bold_chars,
            };
            set.extend(text.chars());
        }
    }

    let title = texts(doc.language).title;
    let mut pdf = PdfDocument::new(title);
    let issued = printpdf::OffsetDateTime::from_unix_timestamp(doc.issued_at.timestamp())
        .map_err(|e| RenderError::Pdf(e.to_string()))?;
    pdf.metadata.info.creation_date = issued;
    pdf.metadata.info.modification_date = issued;
    pdf.metadata.info.metadata_date = issued;
    pdf.metadata.info.creator = "onewindow".to_string();
    // The electronic copy prints no number (seed rule), but it is registered under one: the document information
    // carries it, so a PDF found on its own can be traced back to the journal.
    pdf.metadata.info.subject = format!("{}: {}", texts(doc.language).registration_number, doc.registration_number);
    pdf.metadata.info.identifier = doc.registration_number.clone();

    let mut add = |ttf: &[u8], full: &ParsedFont, chars: &BTreeSet<char>| {
        if chars.is_empty() { Ok(None) } else { subset_face(ttf, full, chars).map(|font| Some(pdf.add_font(&font))) }
    };
    let regular_id = add(REGULAR_TTF, &faces.regular, &regular_chars)?;
    let bold_id = add(BOLD_TTF, &faces.bold, &bold_chars)?;

    let pdf_pages = pages
        .into_iter()
        .map(|marks| {
            let ops = page_ops(marks, regular_id.as_ref(), bold_id.as_ref());
            PdfPage::new(Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM), ops)
        })
        .collect();
    pdf.with_pages(pdf_pages);

    let mut warnings = Vec::new();
    let bytes = pdf.save(&PdfSaveOptions::default(), &mut warnings);
    let errors: Vec<String> =
        warnings.into_iter().filter(|w| w.severity == PdfParseErrorSeverity::Error).map(|w| w.msg).collect();
    if !errors.is_empty() {
        return Err(RenderError::Pdf(errors.join("; ")));
    }
    Ok(bytes)
}

fn grey(level: f32) -> Color {
    Color::Rgb(Rgb { r: level, g: level, b: level, icc_profile: None })
}

fn page_ops(marks: Vec<Mark>, regular: Option<&FontId>, bold: Option<&FontId>) -> Vec<Op> {
    let mut ops = vec![Op::SetOutlineColor { col: grey(0.35) }, Op::SetOutlineThickness { pt: Pt(0.5) }];
    for mark in marks {
        match mark {
            Mark::Text { x, y, size, weight, text } => {
                let font = match weight {
                    Weight::Regular => regular,
                    Weight::Bold => bold,
                };
                // A font is only missing when no text of that weight exists at all.
                let Some(font) = font else { continue };
                // One text object per run: `SetTextCursor` is the relative `Td`
                // operator, and a fresh text object starts it from the page origin.
                ops.extend([
                    Op::StartTextSection,
                    Op::SetFillColor { col: grey(0.0) },
                    Op::SetFont { font: PdfFontHandle::External(font.clone()), size: Pt(size) },
                    Op::SetTextCursor { pos: Point { x: Pt(x), y: Pt(y) } },
                    Op::ShowText { items: vec![TextItem::Text(text)] },
                    Op::EndTextSection,
                ]);
            }
            Mark::Fill { x, y, width, height, grey: level } => {
                ops.push(Op::SetFillColor { col: grey(level) });
                ops.push(Op::DrawRectangle {
                    rectangle: Rect {
                        x: Pt(x),
                        y: Pt(y),
                        width: Pt(width),
                        height: Pt(height),
                        mode: Some(PaintMode::Fill),
                        winding_order: None,
                    },
                });
            }
            Mark::Frame { x, y, width, height } => {
                ops.push(Op::DrawRectangle {
                    rectangle: Rect {
                        x: Pt(x),
                        y: Pt(y),
                        width: Pt(width),
                        height: Pt(height),
                        mode: Some(PaintMode::Stroke),
                        winding_order: None,
                    },
                });
            }
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::path::PathBuf;
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 9, 30, 0).single().expect("valid date")
    }

    fn sample(language: Language, printed_form: bool, approvals: usize) -> CertificateLayout {
        let (organisation, holder, faculty, specialty, purpose, position, department) = match language {
            Language::Kk => (
                "Әл-Фараби атындағы Қазақ ұлттық университеті",
                "Гауһар Әлиханқызы Нұрланова",
                "Ақпараттық технологиялар факультеті",
                "Бағдарламалық инженерия",
                "Анықтама талап етілген жерге ұсыну үшін берілді.",
                "Тіркеу кеңсесінің маманы",
                "Тіркеу кеңсесі",
            ),
            Language::Ru => (
                "Казахский национальный университет имени аль-Фараби",
                "Иванова Мария Сергеевна",
                "Факультет информационных технологий",
                "Программная инженерия",
                "Справка выдана для предъявления по месту требования.",
                "Специалист офиса регистратора",
                "Офис регистратора",
            ),
            Language::En => (
                "Al-Farabi Kazakh National University",
                "Aigerim Nurlanova",
                "Faculty of Information Technology",
                "Software Engineering",
                "Issued to be presented at the place of demand.",
                "Registrar's office specialist",
                "Registrar's office",
            ),
        };
        CertificateLayout {
            language,
            organisation_name: organisation.to_string(),
            registration_number: "KAZNU-CS-2026-000017".to_string(),
            printed_form,
            holder_full_name: holder.to_string(),
            faculty: faculty.to_string(),
            specialty: specialty.to_string(),
            course: 3,
            purpose: purpose.to_string(),
            issued_at: at(17),
            approvals: (0..approvals)
                .map(|i| Approval {
                    full_name: format!("Approver{i:02} Surname"),
                    position: position.to_string(),
                    department: department.to_string(),
                    decided_at: at(16),
                    acting_for: String::new(),
                })
                .collect(),
            qr_payload: "https://onewindow.example/verify/KAZNU-CS-2026-000017?sig=\
                         MEUCIQDx3v9Yk2Jp0l4sQfZ8mN1aB7cR5tW6uE2oP9iL3hG4AIgV8bN0cX1zA2sD3fG4hJ5kL6"
                .to_string(),
        }
    }

    fn temp_pdf(bytes: &[u8]) -> PathBuf {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "onewindow-pdf-test-{}-{}.pdf",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, bytes).expect("write the temporary PDF");
        path
    }

    /// Runs a poppler tool; a missing tool fails the test instead of skipping it.
    fn run(tool: &str, args: &[&std::ffi::OsStr]) -> String {
        let output = Command::new(tool)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("`{tool}` could not be run ({e}); install poppler-utils"));
        assert!(output.status.success(), "{tool} failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("UTF-8 output")
    }

    fn pdf_text(bytes: &[u8]) -> String {
        let path = temp_pdf(bytes);
        let text = run("pdftotext", &["-enc".as_ref(), "UTF-8".as_ref(), path.as_os_str(), "-".as_ref()]);
        let _ = std::fs::remove_file(&path);
        text
    }

    fn page_count(bytes: &[u8]) -> usize {
        let path = temp_pdf(bytes);
        let info = run("pdfinfo", &[path.as_os_str()]);
        let _ = std::fs::remove_file(&path);
        info.lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .and_then(|n| n.trim().parse().ok())
            .expect("pdfinfo reports the page count")
    }

    /// Wrapped lines come out of pdftotext with line breaks; compare word sequences.
    fn normalise(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn assert_contains_all(text: &str, expected: &[&str]) {
        let text = normalise(text);
        for e in expected {
            assert!(text.contains(&normalise(e)), "missing {e:?} in:\n{text}");
        }
    }

    #[test]
    fn starts_with_pdf_header() {
        let bytes = render_certificate_of_study(&sample(Language::En, true, 2)).expect("render");
        assert!(bytes.starts_with(b"%PDF-"));
    }

    #[test]
    fn kazakh_text_round_trips() {
        let doc = sample(Language::Kk, true, 3);
        let text = pdf_text(&render_certificate_of_study(&doc).expect("render"));
        assert_contains_all(
            &text,
            &[
                "ОҚУ ТУРАЛЫ АНЫҚТАМА",
                "Әл-Фараби атындағы Қазақ ұлттық университеті",
                "Осы анықтама Гауһар Әлиханқызы Нұрланова шын мәнінде «Әл-Фараби атындағы \
                 Қазақ ұлттық университеті» білім беру ұйымында білім алатынын растайды.",
                "Факультеті: Ақпараттық технологиялар факультеті",
                "Мамандығы: Бағдарламалық инженерия",
                "Курсы: 3",
                "Анықтама талап етілген жерге ұсыну үшін берілді.",
                "Келісілді",
                "Аты-жөні",
                "Лауазымы",
                "Бөлімшесі",
                "Күні",
                "Тіркеу нөмірі: KAZNU-CS-2026-000017",
                "Берілген күні: 17.03.2026",
                "Құжаттың түпнұсқалығын QR-кодты сканерлеп тексеруге болады.",
                "16.03.2026",
            ],
        );
        for letter in ["ә", "ғ", "қ", "ң", "ө", "ұ", "ү", "һ", "і", "Ә", "Қ"] {
            assert!(text.contains(letter), "missing letter {letter}");
        }
    }

    #[test]
    fn every_kazakh_letter_is_embedded() {
        let mut doc = sample(Language::Kk, false, 0);
        doc.purpose = "ӘҒҚҢӨҰҮҺІ әғқңөұүһі".to_string();
        let text = pdf_text(&render_certificate_of_study(&doc).expect("render"));
        assert_contains_all(&text, &["ӘҒҚҢӨҰҮҺІ әғқңөұүһі"]);
    }

    #[test]
    fn russian_text_round_trips() {
        let doc = sample(Language::Ru, true, 3);
        let text = pdf_text(&render_certificate_of_study(&doc).expect("render"));
        assert_contains_all(
            &text,
            &[
                "СПРАВКА ОБ ОБУЧЕНИИ",
                "Настоящей справкой подтверждается, что Иванова Мария Сергеевна действительно \
                 обучается в организации образования «Казахский национальный университет имени \
                 аль-Фараби».",
                "Факультет: Факультет информационных технологий",
                "Специальность: Программная инженерия",
                "Курс: 3",
                "Справка выдана для предъявления по месту требования.",
                "Согласовано",
                "ФИО",
                "Должность",
                "Подразделение",
                "Дата",
                "Регистрационный номер: KAZNU-CS-2026-000017",
                "Дата выдачи: 17.03.2026",
            ],
        );
    }

    #[test]
    fn english_text_round_trips() {
        let doc = sample(Language::En, true, 3);
        let text = pdf_text(&render_certificate_of_study(&doc).expect("render"));
        assert_contains_all(
            &text,
            &[
                "CERTIFICATE OF STUDY",
                "This is to certify that Aigerim Nurlanova is a student of Al-Farabi Kazakh \
                 National University.",
                "Faculty: Faculty of Information Technology",
                "Specialty: Software Engineering",
                "Year of study: 3",
                "Issued to be presented at the place of demand.",
                "Approved by",
                "Full name",
                "Position",
                "Department",
                "Registration number: KAZNU-CS-2026-000017",
                "Date of issue: 17 March 2026",
            ],
        );
    }

    #[test]
    fn registration_number_only_on_the_printed_form() {
        for language in [Language::Kk, Language::Ru, Language::En] {
            let printed = pdf_text(&render_certificate_of_study(&sample(language, true, 1)).expect("render"));
            let electronic = pdf_text(&render_certificate_of_study(&sample(language, false, 1)).expect("render"));
            let label = texts(language).registration_number;
            assert!(printed.contains("KAZNU-CS-2026-000017"), "{language:?} printed");
            assert!(normalise(&printed).contains(label), "{language:?} printed label");
            assert!(!electronic.contains("KAZNU-CS-2026-000017"), "{language:?} electronic");
            assert!(!normalise(&electronic).contains(label), "{language:?} electronic label");
        }
    }

    #[test]
    fn empty_details_are_omitted() {
        let mut doc = sample(Language::En, false, 0);
        doc.faculty.clear();
        doc.specialty = "  ".to_string();
        doc.course = 0;
        doc.purpose.clear();
        let text = normalise(&pdf_text(&render_certificate_of_study(&doc).expect("render")));
        for absent in ["Faculty:", "Specialty:", "Year of study:", "Approved by", "Full name"] {
            assert!(!text.contains(absent), "{absent} should be omitted");
        }
        assert!(text.contains("Date of issue: 17 March 2026"));
    }

    #[test]
    fn long_approval_table_breaks_across_pages() {
        let doc = sample(Language::Ru, true, 40);
        let bytes = render_certificate_of_study(&doc).expect("render");
        assert!(page_count(&bytes) >= 2);
        let text = pdf_text(&bytes);
        for approval in &doc.approvals {
            assert!(text.contains(&approval.full_name), "missing {}", approval.full_name);
        }
        // The header row is repeated on the continuation page.
        assert!(text.matches("Подразделение").count() >= 2);
        // Page numbers; pdftotext drops the narrow spaces around the slash.
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let pages = page_count(&bytes);
        assert!(compact.contains(&format!("1/{pages}")) && compact.contains(&format!("{pages}/{pages}")));
    }

    #[test]
    fn long_cells_and_words_wrap_inside_the_page() {
        let mut doc = sample(Language::En, true, 2);
        doc.approvals[0].position = "Deputy dean for academic affairs and student support ".repeat(40);
        doc.approvals[1].department = "X".repeat(300);
        doc.purpose = "word ".repeat(400);
        let bytes = render_certificate_of_study(&doc).expect("render");
        assert!(page_count(&bytes) >= 2);
        // Every mark stays inside the page.
        let faces = faces().expect("fonts");
        let qr = QrCode::with_error_correction_level(doc.qr_payload.as_bytes(), EcLevel::M).expect("qr");
        for mark in lay_out(&doc, faces, &qr).iter().flatten() {
            if let Mark::Text { x, y, size, weight, text } = mark {
                assert!(*x >= MARGIN_LEFT - 0.01);
                assert!(x + faces.width(*weight, *size, text) <= PAGE_WIDTH - MARGIN_RIGHT + 0.01);
                assert!(*y >= PAGE_NUMBER_BASELINE - 0.01 && *y <= CONTENT_TOP);
            }
        }
    }

    #[test]
    fn qr_payload_limits() {
        let mut doc = sample(Language::En, false, 0);
        doc.qr_payload.clear();
        assert!(render_certificate_of_study(&doc).is_ok());
        // A version 40 code at level M holds 2331 bytes; more cannot be encoded.
        doc.qr_payload = "x".repeat(3000);
        assert!(matches!(render_certificate_of_study(&doc), Err(RenderError::Qr(_))));
    }

    #[test]
    fn characters_outside_the_font_do_not_fail() {
        let mut doc = sample(Language::Ru, true, 1);
        doc.holder_full_name = "Ли 李 Мин 🙂".to_string();
        let text = pdf_text(&render_certificate_of_study(&doc).expect("render"));
        assert!(text.contains("Ли") && text.contains("Мин"));
    }

    #[test]
    fn fonts_are_subset() {
        let bytes = render_certificate_of_study(&sample(Language::Kk, true, 5)).expect("render");
        assert!(bytes.len() < 150_000, "PDF is {} bytes", bytes.len());
    }

    #[test]
    fn qr_code_decodes_to_the_payload() {
        let mut doc = sample(Language::En, false, 2);
        let long = format!("{}&pad={}", doc.qr_payload, "A1b2C3d4".repeat(60));
        for payload in [doc.qr_payload.clone(), long] {
            doc.qr_payload = payload;
            assert_eq!(decode_qr(&render_certificate_of_study(&doc).expect("render")), doc.qr_payload);
        }
    }

    /// Rasterises the last page and reads the QR code back; needs poppler-utils and zbar-tools.
    fn decode_qr(bytes: &[u8]) -> String {
        let path = temp_pdf(bytes);
        let prefix = path.with_extension("");
        let pages = page_count(bytes).to_string();
        run(
            "pdftoppm",
            &[
                "-r".as_ref(),
                "200".as_ref(),
                "-png".as_ref(),
                "-singlefile".as_ref(),
                "-f".as_ref(),
                pages.as_ref(),
                path.as_os_str(),
                prefix.as_os_str(),
            ],
        );
        let png = prefix.with_extension("png");
        let output = Command::new("zbarimg")
            .args(["--quiet", "--raw"])
            .arg(&png)
            .output()
            .unwrap_or_else(|e| panic!("`zbarimg` could not be run ({e}); install zbar-tools"));
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(&png);
        assert!(output.status.success(), "zbarimg found no code");
        String::from_utf8_lossy(&output.stdout).trim_end().to_string()
    }

    /// `cargo test --release -- --ignored --nocapture render_timing`
    #[test]
    #[ignore]
    fn render_timing() {
        let doc = sample(Language::Kk, true, 5);
        let _ = render_certificate_of_study(&doc).expect("warm-up");
        let runs = 50;
        let started = std::time::Instant::now();
        let mut size = 0;
        for _ in 0..runs {
            size = render_certificate_of_study(&doc).expect("render").len();
        }
        let per = started.elapsed() / runs;
        println!("{size} bytes, {per:?} per render");
        let big = render_certificate_of_study(&sample(Language::Ru, true, 40)).expect("render");
        println!("40 approvals: {} bytes", big.len());
    }
}
