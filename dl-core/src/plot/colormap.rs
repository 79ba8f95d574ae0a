//! Colormaps for `imshow` and coloured `scatter`: matplotlib's `binary` (white → black),
//! `gray` (black → white) and `viridis` (16 anchors of matplotlib's table, interpolated).

use super::fmt::Rgb;
use crate::error::{Error, Result};

/// A colormap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Colormap {
    /// White for low values, black for high (`plt.cm.binary`, the course's digits).
    Binary,
    /// Black for low values, white for high.
    Gray,
    /// matplotlib's default: dark purple → yellow.
    #[default]
    Viridis,
}

const VIRIDIS: [Rgb; 16] = [
    (68, 1, 84),
    (72, 26, 108),
    (71, 47, 125),
    (65, 68, 135),
    (57, 86, 140),
    (49, 104, 142),
    (42, 120, 142),
    (35, 136, 142),
    (31, 152, 139),
    (34, 168, 132),
    (53, 183, 121),
    (84, 197, 104),
    (122, 209, 81),
    (165, 219, 54),
    (210, 226, 27),
    (253, 231, 37),
];

impl Colormap {
    /// The colour for `t` in `[0, 1]` (clamped).
    pub fn color(self, t: f64) -> Rgb {
        let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
        match self {
            Colormap::Binary => {
                let v = (255.0 * (1.0 - t)).round() as u8;
                (v, v, v)
            }
            Colormap::Gray => {
                let v = (255.0 * t).round() as u8;
                (v, v, v)
            }
            Colormap::Viridis => {
                let x = t * (VIRIDIS.len() - 1) as f64;
                let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
                let f = x - i as f64;
                let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
                let mix = |p: u8, q: u8| (p as f64 + f * (q as f64 - p as f64)).round() as u8;
                (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
            }
        }
    }
}

impl std::str::FromStr for Colormap {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "binary" | "Greys" => Ok(Colormap::Binary),
            "gray" | "grey" => Ok(Colormap::Gray),
            "viridis" => Ok(Colormap::Viridis),
            other => Err(Error::plot("colormap", format!("unknown colormap {other:?}; use binary, gray or viridis"))),
        }
    }
}
