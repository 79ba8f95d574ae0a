//! matplotlib's format strings (`'ro'`, `'b--'`, `'k:'`, `'g^-'`): `[color][marker][line]` in
//! any order. A marker alone draws markers only; a colour alone (or nothing) a solid line.
//!
//! Colours `b g r c m y k w`; markers `. o s ^ v x + * d`; lines `-`, `--`, `-.`, `:`.

use crate::error::{Error, Result};

/// An RGB colour.
pub type Rgb = (u8, u8, u8);

/// Line styles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineStyle {
    /// `-`
    Solid,
    /// `--`
    Dashed,
    /// `-.`
    DashDot,
    /// `:`
    Dotted,
}

/// Marker shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// `.` a small dot
    Point,
    /// `o`
    Circle,
    /// `s`
    Square,
    /// `^`
    TriangleUp,
    /// `v`
    TriangleDown,
    /// `x`
    X,
    /// `+`
    Plus,
    /// `*`
    Star,
    /// `d`
    Diamond,
}

/// A parsed format string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Format {
    /// The colour, if the string named one.
    pub color: Option<Rgb>,
    /// The marker, if any.
    pub marker: Option<Marker>,
    /// The line, if any (after applying matplotlib's defaults).
    pub line: Option<LineStyle>,
}

/// matplotlib's single-letter colours.
pub fn named_color(c: char) -> Option<Rgb> {
    Some(match c {
        'b' => (0, 0, 255),
        'g' => (0, 128, 0),
        'r' => (255, 0, 0),
        'c' => (0, 191, 191),
        'm' => (191, 0, 191),
        'y' => (191, 191, 0),
        'k' => (0, 0, 0),
        'w' => (255, 255, 255),
        _ => return None,
    })
}

/// matplotlib's default colour cycle (`tab10`).
pub const CYCLE: [Rgb; 10] = [
    (0x1f, 0x77, 0xb4),
    (0xff, 0x7f, 0x0e),
    (0x2c, 0xa0, 0x2c),
    (0xd6, 0x27, 0x28),
    (0x94, 0x67, 0xbd),
    (0x8c, 0x56, 0x4b),
    (0xe3, 0x77, 0xc2),
    (0x7f, 0x7f, 0x7f),
    (0xbc, 0xbd, 0x22),
    (0x17, 0xbe, 0xcf),
];

/// Parses a format string such as `"ro"` or `"b--"`.
///
/// # Errors
/// An unknown character, or two colours, markers or line styles.
pub fn parse(fmt: &str) -> Result<Format> {
    let bad = |msg: String| Error::plot("plot", format!("format string {fmt:?}: {msg}"));
    let mut f = Format::default();
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let line = match (c, next) {
            ('-', Some('-')) => Some((LineStyle::Dashed, 2)),
            ('-', Some('.')) => Some((LineStyle::DashDot, 2)),
            ('-', _) => Some((LineStyle::Solid, 1)),
            (':', _) => Some((LineStyle::Dotted, 1)),
            _ => None,
        };
        if let Some((l, len)) = line {
            if f.line.replace(l).is_some() {
                return Err(bad("two line styles".into()));
            }
            i += len;
            continue;
        }
        let marker = match c {
            '.' => Some(Marker::Point),
            'o' => Some(Marker::Circle),
            's' => Some(Marker::Square),
            '^' => Some(Marker::TriangleUp),
            'v' => Some(Marker::TriangleDown),
            'x' => Some(Marker::X),
            '+' => Some(Marker::Plus),
            '*' => Some(Marker::Star),
            'd' | 'D' => Some(Marker::Diamond),
            _ => None,
        };
        if let Some(m) = marker {
            if f.marker.replace(m).is_some() {
                return Err(bad("two markers".into()));
            }
        } else if let Some(col) = named_color(c) {
            if f.color.replace(col).is_some() {
                return Err(bad("two colours".into()));
            }
        } else {
            return Err(bad(format!(
                "unknown character {c:?} (colours b g r c m y k w, markers . o s ^ v x + * d, lines - -- -. :)"
            )));
        }
        i += 1;
    }
    if f.line.is_none() && f.marker.is_none() {
        f.line = Some(LineStyle::Solid);
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matplotlib_format_strings_parse() {
        assert_eq!(parse("ro").unwrap(), Format { color: Some((255, 0, 0)), marker: Some(Marker::Circle), line: None });
        assert_eq!(
            parse("b").unwrap(),
            Format { color: Some((0, 0, 255)), marker: None, line: Some(LineStyle::Solid) }
        );
        assert_eq!(parse("k--").unwrap().line, Some(LineStyle::Dashed));
        assert_eq!(parse("g-.").unwrap().line, Some(LineStyle::DashDot));
        assert_eq!(parse(":").unwrap().line, Some(LineStyle::Dotted));
        assert_eq!(
            parse("^-m").unwrap(),
            Format { color: Some((191, 0, 191)), marker: Some(Marker::TriangleUp), line: Some(LineStyle::Solid) }
        );
        assert_eq!(parse("").unwrap().line, Some(LineStyle::Solid));
        assert!(parse("rq").unwrap_err().to_string().contains("unknown character 'q'"));
        assert!(parse("rb").unwrap_err().to_string().contains("two colours"));
    }
}
