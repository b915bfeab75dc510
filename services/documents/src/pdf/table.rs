//! Framed tables with any number of columns: cells wrap (a `\n` in a cell starts a new line), rows break across
//! pages, and the header row is repeated at the top of every continuation page.

use super::fonts::Weight;
use super::layout::{Layout, Mark, Region};
use super::page::{CONTENT_TOP, MARGIN_BOTTOM, TABLE_SIZE, line_height};
use super::wrap::{Line, Span, wrap};

pub(super) const CELL_PADDING: f32 = 3.0;

pub(super) struct Column<'a> {
    pub(super) header: &'a str,
    /// The column's part of the table width, relative to the other columns' shares.
    pub(super) share: f32,
}

pub(super) struct Table<'a> {
    pub(super) columns: Vec<Column<'a>>,
    /// One string per column; missing cells are blank.
    pub(super) rows: Vec<Vec<String>>,
}

/// A row's cells, each wrapped to its column.
type WrappedRow = Vec<Vec<Line>>;

impl Layout<'_> {
    pub(super) fn table(&mut self, table: &Table<'_>) {
        let region = Region::FULL;
        let total_share: f32 = table.columns.iter().map(|c| c.share.max(0.0)).sum::<f32>().max(f32::EPSILON);
        let widths: Vec<f32> = table.columns.iter().map(|c| c.share.max(0.0) / total_share * region.width).collect();
        // The faces alone, not `self`: rows are wrapped while `self` is drawing.
        let faces = self.faces;
        let wrap_cells = |cells: &mut dyn Iterator<Item = &str>, weight: Weight| -> WrappedRow {
            widths
                .iter()
                .map(|width| {
                    let text = cells.next().unwrap_or("");
                    let inner = (width - 2.0 * CELL_PADDING).max(1.0);
                    wrap(faces, &[Span { text: text.into(), weight }], TABLE_SIZE, inner)
                })
                .collect()
        };
        let header = wrap_cells(&mut table.columns.iter().map(|c| c.header), Weight::Bold);
        let header_lines = row_lines(&header);
        let lh = line_height(TABLE_SIZE);
        let header_height = header_lines as f32 * lh + 2.0 * CELL_PADDING;
        // A row taller than this cannot fit on any page and is split across pages.
        let page_capacity = ((CONTENT_TOP - header_height - MARGIN_BOTTOM - 2.0 * CELL_PADDING) / lh).floor();
        let page_capacity = (page_capacity.max(1.0)) as usize;

        self.keep(header_height + lh + 2.0 * CELL_PADDING);
        self.table_row(region, &header, 0, header_lines, &widths, true);

        for row in &table.rows {
            let cells = wrap_cells(&mut row.iter().map(String::as_str), Weight::Regular);
            let total = row_lines(&cells);
            let mut start = 0;
            // Set right after a page break, so a row never waits for a better page forever.
            let mut fresh_page = false;
            while start < total {
                let remaining = total - start;
                let fits = ((self.y - MARGIN_BOTTOM - 2.0 * CELL_PADDING) / lh).floor().max(0.0) as usize;
                let take = if remaining <= fits {
                    remaining
                } else if fits > 0 && (fresh_page || remaining > page_capacity) {
                    fits
                } else if fresh_page {
                    // Only when the header alone fills a page; overflow rather than loop.
                    1
                } else {
                    self.new_page();
                    self.table_row(region, &header, 0, header_lines, &widths, true);
                    fresh_page = true;
                    continue;
                };
                self.table_row(region, &cells, start, take, &widths, false);
                start += take;
                fresh_page = false;
            }
        }
    }

    /// Draws lines `start..start + count` of a row's cells as one band of framed cells.
    fn table_row(
        &mut self,
        region: Region,
        cells: &WrappedRow,
        start: usize,
        count: usize,
        widths: &[f32],
        header: bool,
    ) {
        let lh = line_height(TABLE_SIZE);
        let height = count as f32 * lh + 2.0 * CELL_PADDING;
        let bottom = self.y - height;
        if header {
            self.mark(Mark::Fill { x: region.x, y: bottom, width: region.width, height, grey: 0.9 });
        }
        let mut x = region.x;
        for (lines, width) in cells.iter().zip(widths) {
            self.mark(Mark::Frame { x, y: bottom, width: *width, height });
            let mut top = self.y - CELL_PADDING;
            for line in lines.iter().skip(start).take(count) {
                self.emit_line(line, x + CELL_PADDING, top, TABLE_SIZE);
                top -= lh;
            }
            x += width;
        }
        self.y = bottom;
    }
}

fn row_lines(cells: &WrappedRow) -> usize {
    cells.iter().map(Vec::len).max().unwrap_or(0).max(1)
}
