//! Weight initialisers with Keras's definitions. `fan_in`/`fan_out` are the kernel's
//! `(input, units)` sizes.
//!
//! | name             | distribution                                              |
//! |------------------|-----------------------------------------------------------|
//! | `glorot_uniform` | U(−l, l), l = √(6 / (fan_in + fan_out)) (Keras's kernel default) |
//! | `glorot_normal`  | truncated N(0, 2 / (fan_in + fan_out))                     |
//! | `he_uniform`     | U(−l, l), l = √(6 / fan_in)                                |
//! | `he_normal`      | truncated N(0, 2 / fan_in)                                 |
//! | `zeros`, `ones`  | constants (`zeros` is Keras's bias default)                |

use crate::error::{Error, Result};
use crate::random::Rng;
use ndarray::{ArrayD, IxDyn};
use std::str::FromStr;

/// A weight initialiser.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Initializer {
    /// Glorot (Xavier) uniform.
    #[default]
    GlorotUniform,
    /// Glorot (Xavier) normal, truncated at two standard deviations.
    GlorotNormal,
    /// He uniform.
    HeUniform,
    /// He normal, truncated at two standard deviations.
    HeNormal,
    /// All zeros.
    Zeros,
    /// All ones.
    Ones,
}

impl Initializer {
    /// An array of `shape` filled by this initialiser with `rng`.
    pub fn init(self, shape: &[usize], fan_in: usize, fan_out: usize, rng: &mut Rng) -> ArrayD<f32> {
        let (fi, fo) = (fan_in.max(1) as f64, fan_out.max(1) as f64);
        let uniform = |l: f64, rng: &mut Rng| ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.uniform(-l, l) as f32);
        // Keras's truncated normal: redraw values beyond two standard deviations; the scale
        // 0.8796... corrects the variance lost by truncation.
        let truncated = |var: f64, rng: &mut Rng| {
            let std = var.sqrt() / 0.879_625_661_034_239_8;
            ArrayD::from_shape_simple_fn(IxDyn(shape), || loop {
                let v = rng.normal();
                if v.abs() <= 2.0 {
                    break (v * std) as f32;
                }
            })
        };
        match self {
            Initializer::GlorotUniform => uniform((6.0 / (fi + fo)).sqrt(), rng),
            Initializer::GlorotNormal => truncated(2.0 / (fi + fo), rng),
            Initializer::HeUniform => uniform((6.0 / fi).sqrt(), rng),
            Initializer::HeNormal => truncated(2.0 / fi, rng),
            Initializer::Zeros => ArrayD::zeros(IxDyn(shape)),
            Initializer::Ones => ArrayD::ones(IxDyn(shape)),
        }
    }
}

impl FromStr for Initializer {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "glorot_uniform" => Initializer::GlorotUniform,
            "glorot_normal" => Initializer::GlorotNormal,
            "he_uniform" => Initializer::HeUniform,
            "he_normal" => Initializer::HeNormal,
            "zeros" => Initializer::Zeros,
            "ones" => Initializer::Ones,
            other => {
                return Err(Error::invalid(
                    "initializer",
                    format!("unknown initializer {other:?}; use glorot_uniform, glorot_normal, he_uniform, he_normal, zeros or ones"),
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glorot_uniform_stays_within_its_limit_and_fills_it() {
        let w = Initializer::GlorotUniform.init(&[784, 512], 784, 512, &mut Rng::new(0));
        let limit = (6.0f32 / (784.0 + 512.0)).sqrt();
        let max = w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(max <= limit && max > 0.99 * limit, "{max} {limit}");
    }

    #[test]
    fn truncated_normal_has_the_requested_variance() {
        let w = Initializer::HeNormal.init(&[1000, 100], 1000, 100, &mut Rng::new(1));
        let var = w.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / w.len() as f64;
        assert!((var - 0.002).abs() < 0.0001, "{var}");
    }
}
