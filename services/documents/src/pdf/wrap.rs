//! Word wrap with mixed weights: spans of regular and bold text become lines that fit a width.

use std::borrow::Cow;

use super::fonts::{Faces, Weight};

/// A run of text in one weight, as a template writes it: a static text or a value from the document.
pub(super) struct Span<'a> {
    pub(super) text: Cow<'a, str>,
    pub(super) weight: Weight,
}

pub(super) fn regular<'a>(text: impl Into<Cow<'a, str>>) -> Span<'a> {
    Span { text: text.into(), weight: Weight::Regular }
}

pub(super) fn bold<'a>(text: impl Into<Cow<'a, str>>) -> Span<'a> {
    Span { text: text.into(), weight: Weight::Bold }
}

/// A laid-out line: runs of one weight each, at x offsets from the line start.
pub(super) struct Line {
    pub(super) runs: Vec<(Weight, String, f32)>,
    pub(super) width: f32,
}

/// A run of one weight inside a word, e.g. the bold name and the regular comma after it.
struct Piece {
    text: String,
    weight: Weight,
}

/// What may not be broken: the characters between two breakable gaps.
struct Word {
    pieces: Vec<Piece>,
    width: f32,
}

impl Word {
    fn last_weight(&self) -> Weight {
        self.pieces.last().map_or(Weight::Regular, |p| p.weight)
    }
}

enum Token {
    Word(Vec<Piece>),
    /// A `\n` in the text: the next word starts a new line.
    Break,
}

/// Whitespace a line may break at. No-break spaces keep "42 000 ₸" or "№ 17" together.
fn breakable(c: char) -> bool {
    c.is_whitespace() && !matches!(c, '\u{a0}' | '\u{2007}' | '\u{202f}')
}

/// Splits spans into words and hard breaks. Breakable whitespace separates words; a span
/// boundary without whitespace does not, so "«" + organisation + "»" stays one unit.
fn tokenise(spans: &[Span<'_>]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut current: Vec<Piece> = Vec::new();
    for span in spans {
        for c in span.text.chars() {
            if breakable(c) {
                if !current.is_empty() {
                    tokens.push(Token::Word(std::mem::take(&mut current)));
                }
                if c == '\n' {
                    tokens.push(Token::Break);
                }
                continue;
            }
            match current.last_mut() {
                Some(piece) if piece.weight == span.weight => piece.text.push(c),
                _ => current.push(Piece { text: c.to_string(), weight: span.weight }),
            }
        }
    }
    if !current.is_empty() {
        tokens.push(Token::Word(current));
    }
    tokens
}

/// Breaks a word wider than `max_width` (a long code or URL) into chunks that fit.
fn measure_and_split(faces: &Faces, size: f32, max_width: f32, pieces: Vec<Piece>) -> Vec<Word> {
    let total: f32 = pieces.iter().map(|p| faces.width(p.weight, size, &p.text)).sum();
    if total <= max_width {
        return vec![Word { pieces, width: total }];
    }
    let mut out = Vec::new();
    let mut chunk = Word { pieces: Vec::new(), width: 0.0 };
    for piece in pieces {
        for c in piece.text.chars() {
            let mut buf = [0u8; 4];
            let w = faces.width(piece.weight, size, c.encode_utf8(&mut buf));
            if chunk.width + w > max_width && !chunk.pieces.is_empty() {
                out.push(std::mem::replace(&mut chunk, Word { pieces: Vec::new(), width: 0.0 }));
            }
            match chunk.pieces.last_mut() {
                Some(p) if p.weight == piece.weight => p.text.push(c),
                _ => chunk.pieces.push(Piece { text: c.to_string(), weight: piece.weight }),
            }
            chunk.width += w;
        }
    }
    if !chunk.pieces.is_empty() {
        out.push(chunk);
    }
    out
}

/// Greedy word wrap; a `\n` forces a new line. The space between two words is set in the
/// weight of the word before it, both when measuring and when the line is emitted, so the
/// widths used here are exactly the widths the PDF viewer will draw.
pub(super) fn wrap(faces: &Faces, spans: &[Span<'_>], size: f32, max_width: f32) -> Vec<Line> {
    let mut lines: Vec<Vec<Word>> = Vec::new();
    let mut current: Vec<Word> = Vec::new();
    let mut current_width = 0.0;
    for token in tokenise(spans) {
        let pieces = match token {
            Token::Word(pieces) => pieces,
            Token::Break => {
                lines.push(std::mem::take(&mut current));
                current_width = 0.0;
                continue;
            }
        };
        for word in measure_and_split(faces, size, max_width, pieces) {
            let space = current.last().map_or(0.0, |prev| faces.width(prev.last_weight(), size, " "));
            if !current.is_empty() && current_width + space + word.width > max_width {
                lines.push(std::mem::take(&mut current));
                current_width = word.width;
            } else {
                current_width += space + word.width;
            }
            current.push(word);
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines.into_iter().map(|words| set_line(faces, size, &words)).collect()
}

/// Joins a line's words into runs of one weight each, with their x offsets.
fn set_line(faces: &Faces, size: f32, words: &[Word]) -> Line {
    let mut runs: Vec<(Weight, String, f32)> = Vec::new();
    let mut x = 0.0;
    for (i, word) in words.iter().enumerate() {
        if i > 0
            && let Some(run) = runs.last_mut()
        {
            run.1.push(' ');
        }
        for piece in &word.pieces {
            match runs.last_mut() {
                Some(run) if run.0 == piece.weight => run.1.push_str(&piece.text),
                _ => {
                    if let Some(run) = runs.last() {
                        x += faces.width(run.0, size, &run.1);
                    }
                    runs.push((piece.weight, piece.text.clone(), x));
                }
            }
        }
    }
    let width = runs.last().map_or(0.0, |run| run.2 + faces.width(run.0, size, &run.1));
    Line { runs, width }
}
