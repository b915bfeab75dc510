//! The second pass: subsets the faces to exactly the characters placed, turns the marks into `printpdf` operations
//! and writes the file with its document information.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use printpdf::{
    Color, FontId, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfParseErrorSeverity,
    PdfSaveOptions, Point, Pt, Rect, Rgb, TextItem,
};

use super::RenderError;
use super::fonts::{BOLD_TTF, Faces, REGULAR_TTF, Weight, subset_face};
use super::layout::Mark;
use super::page::{PAGE_HEIGHT_MM, PAGE_WIDTH_MM};

/// The PDF's document information.
pub(super) struct Metadata<'a> {
    pub(super) title: &'a str,
    /// e.g. "Registration number: KAZNU-CS-2026-000017", in the document's language.
    pub(super) subject: String,
    pub(super) registration_number: &'a str,
    pub(super) issued_at: DateTime<Utc>,
}

pub(super) fn write_pdf(meta: &Metadata<'_>, faces: &Faces, pages: Vec<Vec<Mark>>) -> Result<Vec<u8>, RenderError> {
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

    let mut pdf = PdfDocument::new(meta.title);
    let issued = printpdf::OffsetDateTime::from_unix_timestamp(meta.issued_at.timestamp())
        .map_err(|e| RenderError::Pdf(e.to_string()))?;
    pdf.metadata.info.creation_date = issued;
    pdf.metadata.info.modification_date = issued;
    pdf.metadata.info.metadata_date = issued;
    pdf.metadata.info.creator = "onewindow".to_string();
    // The electronic copy prints no number (seed rule), but it is registered under one: the document information
    // carries it, so a PDF found on its own can be traced back to the journal.
    pdf.metadata.info.subject = meta.subject.clone();
    pdf.metadata.info.identifier = meta.registration_number.to_string();

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
                ops.push(rectangle(x, y, width, height, PaintMode::Fill));
            }
            Mark::Frame { x, y, width, height } => ops.push(rectangle(x, y, width, height, PaintMode::Stroke)),
        }
    }
    ops
}

fn rectangle(x: f32, y: f32, width: f32, height: f32, mode: PaintMode) -> Op {
    Op::DrawRectangle {
        rectangle: Rect {
            x: Pt(x),
            y: Pt(y),
            width: Pt(width),
            height: Pt(height),
            mode: Some(mode),
            winding_order: None,
        },
    }
}
