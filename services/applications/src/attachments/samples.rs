//! Small real files of each kind an applicant attaches, and liars (an executable, a web page named `scan.pdf`):
//! what the unit tests, the end-to-end tests and the benchmark upload.

/// A one-page PDF that poppler opens (correct cross-reference table).
pub fn pdf() -> Vec<u8> {
    pdf_noting("")
}

/// A one-page PDF that poppler opens; `note` makes each one different (as a scanned page would be).
pub fn pdf_noting(note: &str) -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Note ({note}) >>"),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    pdf
}

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0a, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// An 8×8 grey baseline JPEG (libjpeg's djpeg decodes it): one quantisation table, a one-code Huffman table each
/// for DC and AC, and one block whose DC difference is 0 followed by end-of-block.
pub fn jpeg() -> Vec<u8> {
    fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
        let length = u16::try_from(body.len() + 2).expect("a short segment").to_be_bytes();
        [&[0xff, marker], length.as_slice(), body].concat()
    }
    let one_code = |class: u8| [[class, 1].as_slice(), &[0; 15], &[0x00]].concat();
    [
        vec![0xff, 0xd8],
        segment(0xe0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"),
        segment(0xdb, &[[0u8].as_slice(), &[1; 64]].concat()),
        segment(0xc0, &[8, 0, 8, 0, 8, 1, 1, 0x11, 0]),
        segment(0xc4, &one_code(0x00)),
        segment(0xc4, &one_code(0x10)),
        segment(0xda, &[1, 1, 0x00, 0, 63, 0]),
        vec![0b0011_1111, 0xff, 0xd9],
    ]
    .concat()
}

/// The start of an x86-64 ELF executable.
pub fn elf() -> Vec<u8> {
    let mut elf = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x3e, 0, 1, 0, 0, 0];
    elf.resize(256, 0);
    elf
}

pub const HTML: &[u8] = b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>\n";
