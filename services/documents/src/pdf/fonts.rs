//! The embedded DejaVu Sans faces: measuring text with them, and cutting them down to the glyphs a document uses.
//!
//! The subsetting is ours because `printpdf` only subsets with its heavy `text_layout` feature; without it the
//! whole 700 KB font would be embedded in every document.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use printpdf::ParsedFont;

use super::RenderError;

pub(super) const REGULAR_TTF: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/fonts/DejaVuSans.ttf"));
pub(super) const BOLD_TTF: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/fonts/DejaVuSans-Bold.ttf"));

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Weight {
    Regular,
    Bold,
}

/// The full faces, parsed once: layout measures with them and subsetting starts from them.
pub(super) struct Faces {
    pub(super) regular: ParsedFont,
    pub(super) bold: ParsedFont,
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
    pub(super) fn width(&self, weight: Weight, size: f32, text: &str) -> f32 {
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

/// The parsed faces, shared by every render.
pub(super) fn faces() -> Result<&'static Faces, RenderError> {
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
pub(super) fn subset_face(ttf: &[u8], full: &ParsedFont, chars: &BTreeSet<char>) -> Result<ParsedFont, RenderError> {
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
