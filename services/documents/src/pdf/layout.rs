//! The first pass: places text and shapes on pages, top to bottom, starting a new page when the next piece does not
//! fit. Templates call it block by block (paragraphs, labelled fields, headings, tables, framed boxes); nothing here
//! knows what a document says.

use super::fonts::{Faces, Weight};
use super::page::{
    BODY_SIZE, CONTENT_TOP, CONTENT_WIDTH, MARGIN_BOTTOM, MARGIN_LEFT, TABLE_SIZE, baseline, line_height,
};
use super::table::CELL_PADDING;
use super::wrap::{Line, Span, bold, regular, wrap};

/// Something drawn on a page, in points from the bottom-left corner.
pub(super) enum Mark {
    Text { x: f32, y: f32, size: f32, weight: Weight, text: String },
    Fill { x: f32, y: f32, width: f32, height: f32, grey: f32 },
    Frame { x: f32, y: f32, width: f32, height: f32 },
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Align {
    Left,
    Centre,
}

/// The horizontal stretch text is set in: the whole content width, or a part of it such as the right half an
/// application's addressee is written in.
#[derive(Clone, Copy)]
pub(super) struct Region {
    pub(super) x: f32,
    pub(super) width: f32,
}

impl Region {
    pub(super) const FULL: Region = Region { x: MARGIN_LEFT, width: CONTENT_WIDTH };

    /// The left part of the content width, `share` of it wide.
    pub(super) fn left(share: f32) -> Region {
        Region { x: MARGIN_LEFT, width: CONTENT_WIDTH * share }
    }

    /// The right part of the content width, `share` of it wide.
    pub(super) fn right(share: f32) -> Region {
        let width = CONTENT_WIDTH * share;
        Region { x: MARGIN_LEFT + CONTENT_WIDTH - width, width }
    }
}

/// A block of wrapped lines in one size, ready to be placed.
pub(super) struct Block {
    pub(super) lines: Vec<Line>,
    pub(super) size: f32,
}

impl Block {
    pub(super) fn height(&self) -> f32 {
        self.lines.len() as f32 * line_height(self.size)
    }
}

pub(super) struct Layout<'f> {
    pub(super) faces: &'f Faces,
    done: Vec<Vec<Mark>>,
    page: Vec<Mark>,
    /// Top of the free space on the current page.
    pub(super) y: f32,
}

impl<'f> Layout<'f> {
    pub(super) fn new(faces: &'f Faces) -> Self {
        Layout { faces, done: Vec::new(), page: Vec::new(), y: CONTENT_TOP }
    }

    pub(super) fn new_page(&mut self) {
        self.done.push(std::mem::take(&mut self.page));
        self.y = CONTENT_TOP;
    }

    /// Starts a new page unless `height` still fits above the bottom margin. A fresh page is never left, so
    /// something taller than a page overflows instead of looping.
    pub(super) fn keep(&mut self, height: f32) {
        if self.y - height < MARGIN_BOTTOM && self.y < CONTENT_TOP {
            self.new_page();
        }
    }

    pub(super) fn gap(&mut self, height: f32) {
        self.y -= height;
    }

    pub(super) fn mark(&mut self, mark: Mark) {
        self.page.push(mark);
    }

    pub(super) fn wrap(&self, spans: &[Span<'_>], size: f32, width: f32) -> Block {
        Block { lines: wrap(self.faces, spans, size, width), size }
    }

    /// Draws a line whose box starts at `top`, left edge at `x`.
    pub(super) fn emit_line(&mut self, line: &Line, x: f32, top: f32, size: f32) {
        let y = baseline(top, size);
        for (weight, text, offset) in &line.runs {
            self.page.push(Mark::Text { x: x + offset, y, size, weight: *weight, text: text.clone() });
        }
    }

    /// A wrapped paragraph across the content width, breaking pages between lines.
    pub(super) fn paragraph(&mut self, spans: &[Span<'_>], size: f32, align: Align) {
        self.paragraph_in(Region::FULL, spans, size, align);
    }

    pub(super) fn paragraph_in(&mut self, region: Region, spans: &[Span<'_>], size: f32, align: Align) {
        let lh = line_height(size);
        for line in wrap(self.faces, spans, size, region.width) {
            self.keep(lh);
            let x = region.x + aligned_offset(align, region.width, line.width);
            let top = self.y;
            self.emit_line(&line, x, top, size);
            self.y -= lh;
        }
    }

    /// "Label: value" with the value in bold; nothing when the value is blank, so empty details leave no line.
    pub(super) fn field(&mut self, label: &str, value: &str) {
        self.field_in(Region::FULL, label, value);
    }

    pub(super) fn field_in(&mut self, region: Region, label: &str, value: &str) {
        let value = value.trim();
        if !value.is_empty() {
            let label = format!("{label}: ");
            self.paragraph_in(region, &[regular(&label), bold(value)], BODY_SIZE, Align::Left);
        }
    }

    /// A bold heading, kept on the page with room for a table header and its first row (or a few lines of text)
    /// below it, so it is never stranded at the bottom of a page.
    pub(super) fn heading(&mut self, text: &str) {
        let keep = line_height(BODY_SIZE) + 4.0 * line_height(TABLE_SIZE) + 4.0 * CELL_PADDING;
        self.keep(keep);
        self.paragraph(&[bold(text)], BODY_SIZE, Align::Left);
        self.gap(4.0);
    }

    /// Two blocks on the same lines: `left` against the left margin, `right` against the right one, e.g. an order's
    /// date and number, or a date and a signature line. Each gets half the width.
    pub(super) fn left_and_right(&mut self, left: &[Span<'_>], right: &[Span<'_>], size: f32) {
        let half = CONTENT_WIDTH / 2.0;
        let left = wrap(self.faces, left, size, half);
        let right = wrap(self.faces, right, size, half);
        let lh = line_height(size);
        for i in 0..left.len().max(right.len()) {
            self.keep(lh);
            let top = self.y;
            if let Some(line) = left.get(i) {
                self.emit_line(line, MARGIN_LEFT, top, size);
            }
            if let Some(line) = right.get(i) {
                self.emit_line(line, MARGIN_LEFT + CONTENT_WIDTH - line.width, top, size);
            }
            self.y -= lh;
        }
    }

    /// Blocks inside a thin frame, kept together on one page, e.g. the signature stamp.
    pub(super) fn framed(&mut self, region: Region, blocks: &[Block], padding: f32) {
        let height = blocks.iter().map(Block::height).sum::<f32>() + 2.0 * padding;
        self.keep(height);
        let bottom = self.y - height;
        self.page.push(Mark::Frame { x: region.x, y: bottom, width: region.width, height });
        let mut top = self.y - padding;
        for block in blocks {
            for line in &block.lines {
                self.emit_line(line, region.x + padding, top, block.size);
                top -= line_height(block.size);
            }
        }
        self.y = bottom;
    }

    /// The pages laid out, the current one last.
    pub(super) fn finish(mut self) -> Vec<Vec<Mark>> {
        self.done.push(self.page);
        self.done
    }
}

fn aligned_offset(align: Align, region_width: f32, line_width: f32) -> f32 {
    let free = (region_width - line_width).max(0.0);
    match align {
        Align::Left => 0.0,
        Align::Centre => free / 2.0,
    }
}
