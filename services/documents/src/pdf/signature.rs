//! The signature block: a framed stamp saying who signed the document electronically, when, and with which key.

use chrono::{DateTime, Utc};

use super::layout::{Block, Layout, Region};
use super::page::{BODY_SIZE, FOOTER_SIZE};
use super::texts::{acting_for, common};
use super::wrap::{bold, regular};
use super::{Language, Signatory, locale};

const PADDING: f32 = 6.0;
/// Wide enough for a long position on two lines, narrow enough to read as a stamp rather than a paragraph.
const WIDTH_SHARE: f32 = 0.6;

pub(super) fn signature_block(layout: &mut Layout<'_>, language: Language, signatory: &Signatory, at: &DateTime<Utc>) {
    let t = common(language);
    let region = Region::left(WIDTH_SHARE);
    let inner = region.width - 2.0 * PADDING;
    let labelled = |label: &str, value: String| [regular(format!("{label}: ")), bold(value)];

    let mut blocks: Vec<Block> = vec![layout.wrap(&[bold(t.signed_electronically)], BODY_SIZE, inner)];
    let position = signatory.position.trim();
    if !position.is_empty() {
        blocks.push(layout.wrap(&[regular(position)], FOOTER_SIZE, inner));
    }
    blocks.push(layout.wrap(&[bold(signatory.full_name.trim())], FOOTER_SIZE, inner));
    let principal = signatory.acting_for.trim();
    if !principal.is_empty() {
        blocks.push(layout.wrap(&[regular(acting_for(language, principal))], FOOTER_SIZE, inner));
    }
    blocks.push(layout.wrap(&labelled(t.signed_at, locale::date_time(language, at)), FOOTER_SIZE, inner));
    let key_id = signatory.key_id.trim();
    if !key_id.is_empty() {
        blocks.push(layout.wrap(&labelled(t.key_id, key_id.to_string()), FOOTER_SIZE, inner));
    }

    layout.gap(16.0);
    layout.framed(region, &blocks, PADDING);
}
