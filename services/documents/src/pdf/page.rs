//! The A4 page and the type sizes, in points; PDF y grows upwards from the bottom edge.

pub(super) const PT_PER_MM: f32 = 72.0 / 25.4;
pub(super) const PAGE_WIDTH_MM: f32 = 210.0;
pub(super) const PAGE_HEIGHT_MM: f32 = 297.0;
pub(super) const PAGE_WIDTH: f32 = PAGE_WIDTH_MM * PT_PER_MM;
pub(super) const PAGE_HEIGHT: f32 = PAGE_HEIGHT_MM * PT_PER_MM;
/// The wider left margin leaves room for binding the paper copy into a file.
pub(super) const MARGIN_LEFT: f32 = 25.0 * PT_PER_MM;
pub(super) const MARGIN_RIGHT: f32 = 15.0 * PT_PER_MM;
pub(super) const MARGIN_TOP: f32 = 20.0 * PT_PER_MM;
pub(super) const MARGIN_BOTTOM: f32 = 20.0 * PT_PER_MM;
pub(super) const CONTENT_WIDTH: f32 = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
pub(super) const CONTENT_TOP: f32 = PAGE_HEIGHT - MARGIN_TOP;
/// Page numbers sit inside the bottom margin, below everything else.
pub(super) const PAGE_NUMBER_BASELINE: f32 = 10.0 * PT_PER_MM;

pub(super) const ORGANISATION_SIZE: f32 = 12.0;
pub(super) const TITLE_SIZE: f32 = 16.0;
pub(super) const BODY_SIZE: f32 = 11.0;
pub(super) const TABLE_SIZE: f32 = 9.0;
pub(super) const FOOTER_SIZE: f32 = 10.0;
pub(super) const NOTE_SIZE: f32 = 8.0;
const LINE_SPACING: f32 = 1.35;

pub(super) fn line_height(size: f32) -> f32 {
    size * LINE_SPACING
}

/// Baseline of a line whose box starts at `top`: DejaVu's ascent is 0.93 em, and the
/// extra leading is split so the text sits visually centred in its line box.
pub(super) fn baseline(top: f32, size: f32) -> f32 {
    top - size * (0.93 + (LINE_SPACING - 1.16) / 2.0)
}
