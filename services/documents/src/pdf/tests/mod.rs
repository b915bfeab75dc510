//! Tests of the rendered PDFs: the text is read back with poppler's `pdftotext`, page counts with `pdfinfo`, the QR
//! code with `pdftoppm` and `zbarimg`. A missing tool fails the test instead of skipping it.

mod layout;
mod samples;
mod wording;

use super::{Printed, render};
pub(super) use crate::testing::{decode_qr, page_count, pdf_info, pdf_text};

fn rendered(doc: &Printed) -> Vec<u8> {
    render(doc).expect("render")
}

/// Wrapped lines come out of pdftotext with line breaks, and no-break spaces as spaces or not at all; compare word
/// sequences with every kind of space made one plain space.
fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn assert_contains_all(text: &str, expected: &[&str]) {
    let text = normalise(text);
    for e in expected {
        assert!(text.contains(&normalise(e)), "missing {e:?} in:\n{text}");
    }
}

/// Writes every sample to `$TMPDIR/onewindow-pdf-samples/` for a look with a viewer:
/// `cargo test -p onewindow-documents --lib -- --ignored write_samples`
#[test]
#[ignore]
fn write_samples() {
    let dir = std::env::temp_dir().join("onewindow-pdf-samples");
    std::fs::create_dir_all(&dir).expect("create the samples directory");
    for language in samples::LANGUAGES {
        let mut docs = samples::every_type(language);
        docs.push(samples::clearance_sheet(language, 40));
        for (i, doc) in docs.iter().enumerate() {
            let path = dir.join(format!("{language:?}-{i}.pdf").to_lowercase());
            std::fs::write(&path, rendered(doc)).expect("write a sample");
        }
    }
    println!("{}", dir.display());
}
