//! The bottom band of the last page (the document's number and date and the verification note on the left, the QR
//! code on the right) and the page numbers.

use qrcode::{EcLevel, QrCode};

use super::RenderError;
use super::fonts::{Faces, Weight};
use super::layout::{Layout, Mark};
use super::page::{
    CONTENT_WIDTH, FOOTER_SIZE, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT, NOTE_SIZE, PAGE_NUMBER_BASELINE, PAGE_WIDTH,
    PT_PER_MM, line_height,
};
use super::wrap::{Line, bold, regular};

/// Half a millimetre per module keeps long payloads scannable by a phone camera.
const QR_MODULE_MIN: f32 = 0.5 * PT_PER_MM;
const QR_SIDE_MIN: f32 = 30.0 * PT_PER_MM;
const QR_SIDE_MAX: f32 = 50.0 * PT_PER_MM;
/// A QR code needs four light modules around it to be found by a reader.
const QR_QUIET_MODULES: f32 = 4.0;
/// Between the labelled lines and the verification note.
const NOTE_GAP: f32 = 6.0;

/// Level M survives a crease or a stain on paper and still holds 2331 bytes.
///
/// Choosing the mask scores eight candidate codes, a fifth of a render for a signed payload; the three language
/// copies of one document carry the same payload and are rendered one after another, so the thread keeps the last
/// code it built.
pub(super) fn qr_code(payload: &str) -> Result<QrCode, RenderError> {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(String, QrCode)>> = const { std::cell::RefCell::new(None) };
    }
    if let Some(code) = LAST.with_borrow(|last| last.as_ref().filter(|(p, _)| p == payload).map(|(_, c)| c.clone())) {
        return Ok(code);
    }
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| RenderError::Qr(e.to_string()))?;
    LAST.with_borrow_mut(|last| *last = Some((payload.to_owned(), code.clone())));
    Ok(code)
}

/// What the footer says next to the QR code: "label: value" lines (value bold), then the note.
pub(super) struct Footer<'a> {
    pub(super) lines: Vec<(&'a str, String)>,
    pub(super) note: &'a str,
}

/// Draws the footer band at the bottom of the current page, or of a fresh page when the content above leaves no room
/// for it.
pub(super) fn footer(layout: &mut Layout<'_>, footer: &Footer<'_>, qr: &QrCode) {
    let modules = qr.width() as f32;
    let side = (modules * QR_MODULE_MIN).clamp(QR_SIDE_MIN, QR_SIDE_MAX);
    let module = side / modules.max(1.0);
    let quiet = QR_QUIET_MODULES * module;

    let text_width = CONTENT_WIDTH - side - quiet;
    let mut labelled: Vec<Line> = Vec::new();
    for (label, value) in &footer.lines {
        let label = format!("{label}: ");
        labelled.extend(layout.wrap(&[regular(&label), bold(value)], FOOTER_SIZE, text_width).lines);
    }
    let note = layout.wrap(&[regular(footer.note)], NOTE_SIZE, text_width);
    let gap = if labelled.is_empty() { 0.0 } else { NOTE_GAP };
    let text_height = labelled.len() as f32 * line_height(FOOTER_SIZE) + gap + note.height();

    if layout.y - quiet < MARGIN_BOTTOM + side.max(text_height) {
        layout.new_page();
    }

    draw_qr(layout, qr, PAGE_WIDTH - MARGIN_RIGHT - side, MARGIN_BOTTOM, side);

    // The left block is anchored to the bottom of the QR code, note last.
    let mut top = MARGIN_BOTTOM + text_height;
    for line in &labelled {
        layout.emit_line(line, MARGIN_LEFT, top, FOOTER_SIZE);
        top -= line_height(FOOTER_SIZE);
    }
    top -= gap;
    for line in &note.lines {
        layout.emit_line(line, MARGIN_LEFT, top, NOTE_SIZE);
        top -= line_height(NOTE_SIZE);
    }
    layout.y = MARGIN_BOTTOM;
}

/// One rectangle per horizontal run of dark modules: fewer operators, and no hairline seams between neighbouring
/// modules in anti-aliasing viewers.
fn draw_qr(layout: &mut Layout<'_>, qr: &QrCode, x: f32, y: f32, side: f32) {
    let width = qr.width();
    let module = side / (width as f32).max(1.0);
    for (row, line) in qr.to_colors().chunks(width.max(1)).enumerate() {
        let row_y = y + side - (row as f32 + 1.0) * module;
        let mut col = 0;
        while col < line.len() {
            if line[col] == qrcode::Color::Dark {
                let start = col;
                while col < line.len() && line[col] == qrcode::Color::Dark {
                    col += 1;
                }
                layout.mark(Mark::Fill {
                    x: x + start as f32 * module,
                    y: row_y,
                    width: (col - start) as f32 * module,
                    height: module,
                    grey: 0.0,
                });
            } else {
                col += 1;
            }
        }
    }
}

/// "i / n" centred in the bottom margin of every page; a single page needs no number.
pub(super) fn number_pages(pages: &mut [Vec<Mark>], faces: &Faces) {
    let count = pages.len();
    if count < 2 {
        return;
    }
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
