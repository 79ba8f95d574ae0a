//! The grading exercise: predict a course grade (0..5) from the points of three parts of a
//! course.
//!
//! The teacher's `grading.npz` holds `x` float32 `(2000, 3)`, points of the three parts
//! (0..40, 0..30, 0..30, in half-point steps), and `y` int64 `(2000, 1)`, the grade: how many of
//! the totals 50, 60, 70, 80, 90 the student reached, with 3% of labels moved by one grade.
//! [`generate`] writes a file of that layout, so that a student without the teacher's file can
//! still do the exercise; [`load_data`] opens whichever is there.

use crate::error::{Error, Result};
use crate::io::npz::{Npz, NpzWriter};
use crate::random::Rng;
use ndarray::{Array2, Ix2};
use std::path::{Path, PathBuf};

/// The maximum points of each part.
pub const MAX_POINTS: [f64; 3] = [40.0, 30.0, 30.0];
/// The totals that each add one grade.
pub const THRESHOLDS: [f64; 5] = [50.0, 60.0, 70.0, 80.0, 90.0];

/// The grade for a total: how many thresholds it reaches.
pub fn grade(total: f64) -> i64 {
    THRESHOLDS.iter().filter(|&&t| total >= t).count() as i64
}

/// `n` synthetic students: an ability per student (normal, mean 0.66, sd 0.21, of the maximum),
/// each part that ability plus noise (sd 0.11), clipped and rounded to half points — which gives
/// the teacher's file's means (26.3, 19.8, 19.9), spreads and part-to-part correlation (0.78) —
/// and the grade from the total, with a share `noise` of grades moved by one.
pub fn synthesize(n: usize, noise: f64, seed: u64) -> (Array2<f32>, Array2<i64>) {
    let mut rng = Rng::new(seed);
    let mut x = Array2::<f32>::zeros((n, 3));
    let mut y = Array2::<i64>::zeros((n, 1));
    for i in 0..n {
        let ability = 0.66 + 0.21 * rng.normal();
        let mut total = 0.0;
        for (j, max) in MAX_POINTS.iter().enumerate() {
            let share = (ability + 0.11 * rng.normal()).clamp(0.0, 1.0);
            let points = (2.0 * share * max).round() / 2.0;
            x[[i, j]] = points as f32;
            total += points;
        }
        let mut g = grade(total);
        if rng.next_f64() < noise {
            g = if g == 0 || (g < 5 && rng.below(2) == 0) { g + 1 } else { g - 1 };
        }
        y[[i, 0]] = g;
    }
    (x, y)
}

/// Writes a `grading.npz` like the teacher's (2000 students, 3% label noise) to `path`.
///
/// # Errors
/// When the file cannot be written.
pub fn generate(path: impl AsRef<Path>, seed: u64) -> Result<()> {
    let (x, y) = synthesize(2000, 0.03, seed);
    NpzWriter::create(path)?.add("x", &x)?.add("y", &y)?.finish()
}

/// Where `load_data` looks: `DL_DATASETS_DIR`, then the current directory, then the dataset
/// cache (`~/.keras/datasets`).
pub fn candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(d) = std::env::var_os("DL_DATASETS_DIR") {
        out.push(PathBuf::from(d).join("grading.npz"));
    }
    out.push(PathBuf::from("grading.npz"));
    out.push(super::cache_dir().join("grading.npz"));
    out
}

/// The exercise data `(x, y)`: `x` `(n, 3)` float32 points, `y` `(n, 1)` int64 grades, from the
/// first `grading.npz` in [`candidates`].
///
/// # Errors
/// When no file is found (the message says where to put the teacher's file, or how to generate
/// one), or the file has another layout.
pub fn load_data() -> Result<(Array2<f32>, Array2<i64>)> {
    let found = candidates().into_iter().find(|p| p.exists()).ok_or_else(|| {
        Error::Dataset(format!(
            "grading.npz not found (looked in {:?}). Put the teacher's file in one of those places, \
             or make one with dl_core::datasets::grading::generate(\"grading.npz\", 0)",
            candidates()
        ))
    })?;
    load(found)
}

/// Opens a `grading.npz` at `path`.
///
/// # Errors
/// When the file cannot be read or its arrays are not `x (n, 3)` and `y (n, 1)`.
pub fn load(path: impl AsRef<Path>) -> Result<(Array2<f32>, Array2<i64>)> {
    let npz = Npz::load(path.as_ref())?;
    let x = npz.array::<f32, Ix2>("x")?;
    let y = npz.array::<i64, Ix2>("y")?;
    if x.ncols() != 3 || y.ncols() != 1 || x.nrows() != y.nrows() {
        return Err(Error::shape("grading::load", "expected x (n, 3) and y (n, 1)", x.shape(), "(n, 3)"));
    }
    Ok((x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_data_has_the_teachers_layout_and_statistics() {
        let (x, y) = synthesize(2000, 0.03, 1);
        let means: Vec<f32> = (0..3).map(|j| x.column(j).mean().unwrap()).collect();
        for (m, want) in means.iter().zip([26.3, 19.8, 19.9]) {
            assert!((m - want).abs() < 1.5, "{means:?}");
        }
        assert!(x.iter().all(|v| (v * 2.0).fract() == 0.0 && *v >= 0.0));
        assert!(x.column(0).iter().all(|&v| v <= 40.0) && x.column(1).iter().all(|&v| v <= 30.0));
        let agree = x.rows().into_iter().zip(y.column(0)).filter(|(r, g)| grade(r.sum() as f64) == **g).count();
        assert!((1900..2000).contains(&agree), "{agree} of 2000 labels agree with the totals");
    }
}
