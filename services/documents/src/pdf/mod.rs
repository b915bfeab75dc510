//! Renders issued documents to PDF, in Kazakh, Russian or English, on A4: certificates of study and of stipend,
//! clearance sheets, orders, application forms and notifications of acceptance. [`render`] takes a [`Printed`]
//! document (see `model`) and returns the file's bytes.
//!
//! # How a page is made
//!
//! Rendering happens in two passes.
//!
//! 1. **Layout** (`layout`, `table`, `wrap`, `footer`, `signature`). A template in `templates` walks down the page
//!    block by block: centred letterhead and title, paragraphs whose spans mix regular and bold text, labelled
//!    fields ("Label: **value**", left out when the value is blank), headings kept with what follows them, tables
//!    with any number of columns sized by shares of the width, framed boxes. Text is measured with the advance
//!    widths of the embedded DejaVu Sans faces (`fonts`) and wrapped greedily; a word wider than its column is cut.
//!    A block that does not fit starts a new page; a table breaks between rows (or inside a row taller than a page)
//!    and repeats its header row on the next page. Every document then ends alike: the signature block when it is
//!    signed, and a footer band at the bottom of the last page with the QR code (drawn as rectangles) on the right
//!    and the registration number, the date of issue and a verification note on the left. Pages are numbered
//!    "i / n" when there is more than one. The result is a list of marks (text runs, filled and framed
//!    rectangles) per page, in points.
//! 2. **Output** (`output`). The faces are subset to exactly the characters placed, and the marks become `printpdf`
//!    operations. The subsetting is ours because `printpdf` only subsets with its heavy `text_layout` feature;
//!    without it the whole 700 KB font would be embedded.
//!
//! The static texts are in `texts` (shared ones) and in each template (its own), in all three languages; `locale`
//! writes dates ("17.03.2026", "17 March 2026"), times (in Kazakhstan time, UTC+05:00) and amounts of tenge.
//!
//! The registration number is printed only on the printed form (seed rule) and is always in the PDF's document
//! information; the QR code is always printed.

mod fonts;
mod footer;
mod layout;
mod locale;
mod model;
mod output;
mod page;
mod signature;
mod table;
mod templates;
mod texts;
mod wrap;

#[cfg(test)]
mod tests;

pub use model::*;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the PDF could not be rendered: {0}")]
    Pdf(String),
    #[error("the QR code could not be built: {0}")]
    Qr(String),
}

/// Renders a document to the bytes of a PDF file.
pub fn render(doc: &Printed) -> Result<Vec<u8>, RenderError> {
    let faces = fonts::faces()?;
    let qr = footer::qr_code(&doc.qr_payload)?;
    let pages = templates::lay_out(doc, faces, &qr);
    let metadata = output::Metadata {
        title: templates::title(doc),
        // An electronic copy rendered before its number is taken carries none.
        subject: if doc.registration_number.is_empty() {
            String::new()
        } else {
            format!("{}: {}", texts::common(doc.language).registration_number, doc.registration_number)
        },
        registration_number: &doc.registration_number,
        issued_at: doc.issued_at,
    };
    output::write_pdf(&metadata, faces, pages)
}
