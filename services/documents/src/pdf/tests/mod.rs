//! Tests of the rendered PDFs: the text is read back with poppler's `pdftotext`, page counts with `pdfinfo`, the QR
//! code with `pdftoppm` and `zbarimg`. A missing tool fails the test instead of skipping it.

mod layout;
mod samples;
mod wording;

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Printed, render};

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

/// Runs a tool; a missing tool fails the test instead of skipping it.
fn run(tool: &str, args: &[&OsStr]) -> String {
    let output = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("`{tool}` could not be run ({e}); install poppler-utils and zbar-tools"));
    assert!(output.status.success(), "{tool} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

fn rendered(doc: &Printed) -> Vec<u8> {
    render(doc).expect("render")
}

fn pdf_text(bytes: &[u8]) -> String {
    let path = temp_pdf(bytes);
    let text = run("pdftotext", &["-enc".as_ref(), "UTF-8".as_ref(), path.as_os_str(), "-".as_ref()]);
    let _ = std::fs::remove_file(&path);
    text
}

fn pdf_info(bytes: &[u8]) -> String {
    let path = temp_pdf(bytes);
    let info = run("pdfinfo", &["-enc".as_ref(), "UTF-8".as_ref(), path.as_os_str()]);
    let _ = std::fs::remove_file(&path);
    info
}

fn page_count(bytes: &[u8]) -> usize {
    pdf_info(bytes)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo reports the page count")
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

/// Rasterises the last page and reads the QR code back.
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
