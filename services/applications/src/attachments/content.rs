//! What a file is, from its bytes: the accepted types and the size limit, and the file name kept as a label.
//!
//! The type is sniffed from the content's magic bytes (`infer`), never taken from the name or a client's claim:
//! an executable or an HTML page renamed `scan.pdf` is refused, a real PDF named `scan.exe` is a PDF.

/// 10 MiB: a multi-page scan at a readable resolution, and the most one upload holds in memory.
pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;
/// PDF scans and photos of documents.
pub const DEFAULT_TYPES: &str = "application/pdf,image/jpeg,image/png";
/// Longer names are cut (by characters) before they are stored.
const MAX_NAME_CHARS: usize = 200;

/// The limits every uploaded file is checked against: settings of the applications process and of the embedded
/// mode, checked when read.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The largest file an applicant can attach, in bytes
    #[arg(id = "attachment_max_bytes", long = "attachment-max-bytes", env = "ONEWINDOW_ATTACHMENT_MAX_BYTES",
        value_name = "BYTES", default_value_t = DEFAULT_MAX_BYTES, value_parser = positive_size)]
    pub max_bytes: usize,
    /// The accepted types, comma-separated MIME types, recognised from the content (never the name)
    #[arg(id = "attachment_types", long = "attachment-types", env = "ONEWINDOW_ATTACHMENT_TYPES", value_name = "TYPES",
        value_delimiter = ',', default_value = DEFAULT_TYPES, value_parser = recognisable_type)]
    pub accepted: Vec<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_bytes: DEFAULT_MAX_BYTES, accepted: DEFAULT_TYPES.split(',').map(str::to_owned).collect() }
    }
}

fn positive_size(raw: &str) -> Result<usize, String> {
    raw.trim().parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| "expected a positive number of bytes".into())
}

/// A MIME type `infer` can recognise from a file's content, lowercase.
fn recognisable_type(raw: &str) -> Result<String, String> {
    let mime = raw.trim().to_ascii_lowercase();
    match infer::is_mime_supported(&mime) {
        true => Ok(mime),
        false => Err(format!("{raw:?} is not a type recognisable from the content (e.g. application/pdf, image/png)")),
    }
}

impl Limits {
    /// The content type of `bytes` if it is one of the accepted ones; otherwise why not, for the applicant.
    pub fn check(&self, bytes: &[u8]) -> Result<&'static str, String> {
        if bytes.is_empty() {
            return Err("the file is empty".into());
        }
        if bytes.len() > self.max_bytes {
            return Err(format!("the file is larger than {}", size_label(self.max_bytes)));
        }
        match infer::get(bytes) {
            Some(kind) if self.accepted.iter().any(|t| t == kind.mime_type()) => Ok(kind.mime_type()),
            Some(kind) => Err(format!(
                "the file is {} by its content, not one of {} (the name does not matter)",
                kind.mime_type(),
                self.accepted.join(", ")
            )),
            None => {
                Err(format!("the file's content is not one of {} (the name does not matter)", self.accepted.join(", ")))
            }
        }
    }
}

/// "10 MiB", "512 KiB", "700 bytes".
pub fn size_label(bytes: usize) -> String {
    match bytes {
        b if b >= 1024 * 1024 && b % (1024 * 1024) == 0 => format!("{} MiB", b / (1024 * 1024)),
        b if b >= 1024 && b % 1024 == 0 => format!("{} KiB", b / 1024),
        b => format!("{b} bytes"),
    }
}

/// The file name as a label: its last path part (either slash), without control and bidirectional-override
/// characters, trimmed, at most [`MAX_NAME_CHARS`] characters. `None` when nothing is left.
pub fn sanitise_file_name(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
        })
        .take(MAX_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    (!cleaned.is_empty()).then(|| cleaned.to_owned())
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attachments::samples::*;

    #[test]
    fn the_content_decides_the_type() {
        let limits = Limits::default();
        assert_eq!(limits.check(&pdf()), Ok("application/pdf"));
        assert_eq!(limits.check(PNG), Ok("image/png"));
        assert_eq!(limits.check(&jpeg()), Ok("image/jpeg"));
        let elf = limits.check(&elf()).expect_err("an executable");
        assert!(elf.contains("application/x-executable"), "{elf}");
        assert!(limits.check(HTML).is_err(), "HTML is not a scan");
        assert!(limits.check(b"just some text, named scan.pdf").is_err());
        assert_eq!(limits.check(&[]), Err("the file is empty".into()));
    }

    #[test]
    fn the_size_limit_is_inclusive() {
        let limits = Limits { max_bytes: 1024, ..Limits::default() };
        let mut exactly = pdf();
        exactly.resize(1024, b' ');
        assert_eq!(limits.check(&exactly), Ok("application/pdf"));
        exactly.push(b' ');
        assert_eq!(limits.check(&exactly), Err("the file is larger than 1 KiB".into()));
    }

    #[test]
    fn settings_are_checked_when_read() {
        #[derive(clap::Parser)]
        struct Settings {
            #[command(flatten)]
            limits: Limits,
        }
        let parse = |args: &[&str]| {
            <Settings as clap::Parser>::try_parse_from(std::iter::once("applications").chain(args.iter().copied()))
                .map(|s| s.limits)
        };
        assert_eq!(parse(&[]).expect("defaults"), Limits::default());
        let set = parse(&["--attachment-max-bytes", "2048", "--attachment-types", " application/PDF ,image/png"])
            .expect("set");
        assert_eq!((set.max_bytes, set.accepted), (2048, vec!["application/pdf".to_owned(), "image/png".to_owned()]));
        for bad in [["--attachment-max-bytes", "0"], ["--attachment-max-bytes", "ten"]] {
            assert!(parse(&bad).is_err(), "{bad:?}");
        }
        for bad in [["--attachment-types", "text/x-made-up"], ["--attachment-types", " , "]] {
            assert!(parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_accepted_types_are_configurable() {
        let pdf_only = Limits { accepted: vec!["application/pdf".into()], ..Limits::default() };
        assert_eq!(pdf_only.accepted, ["application/pdf"]);
        assert!(pdf_only.check(PNG).is_err());
        assert!(pdf_only.check(&pdf()).is_ok());
    }

    #[test]
    fn a_file_name_is_only_a_label() {
        assert_eq!(sanitise_file_name("scan.pdf").as_deref(), Some("scan.pdf"));
        assert_eq!(sanitise_file_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(sanitise_file_name("C:\\Users\\me\\Скан паспорта.jpg").as_deref(), Some("Скан паспорта.jpg"));
        assert_eq!(sanitise_file_name("invoice\u{202e}fdp.exe").as_deref(), Some("invoicefdp.exe"));
        assert_eq!(sanitise_file_name("a\nb\tc.png").as_deref(), Some("abc.png"));
        assert_eq!(sanitise_file_name(".hidden").as_deref(), Some("hidden"));
        assert_eq!(sanitise_file_name("x".repeat(500).as_str()).map(|n| n.chars().count()), Some(MAX_NAME_CHARS));
        for nothing in ["", "   ", "dir/", "..", "\u{0}"] {
            assert_eq!(sanitise_file_name(nothing), None, "{nothing:?}");
        }
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(size_label(DEFAULT_MAX_BYTES), "10 MiB");
        assert_eq!(size_label(512 * 1024), "512 KiB");
        assert_eq!(size_label(700), "700 bytes");
    }
}
