//! Saving and loading a model: a directory holding `config.json` (the architecture and the
//! compile settings) and `weights.npz` (one array per parameter, named `<layer>/kernel` and
//! `<layer>/bias`, which `numpy.load` opens). Optimizer state is not saved; a loaded model that
//! trains again starts its optimizer from zero.

use super::sequential::{Compiled, Sequential};
use crate::error::{Error, Result};
use crate::init::Initializer;
use crate::io::npz::{Npz, NpzWriter};
use crate::layers::{Activation, Dense};
use crate::loss::Loss;
use crate::metrics::Metric;
use crate::optim::Optimizer;
use ndarray::{Ix1, Ix2};
use serde::{Deserialize, Serialize};
use std::path::Path;

const FORMAT: &str = "dl-core-sequential/1";

#[derive(Serialize, Deserialize)]
struct Config {
    format: String,
    name: String,
    layers: Vec<LayerConfig>,
    compile: Option<CompileConfig>,
}

#[derive(Serialize, Deserialize)]
struct LayerConfig {
    name: String,
    units: usize,
    activation: Activation,
    use_bias: bool,
    input_dim: Option<usize>,
    kernel_initializer: Initializer,
    bias_initializer: Initializer,
}

#[derive(Serialize, Deserialize)]
struct CompileConfig {
    optimizer: Optimizer,
    loss: Loss,
    metrics: Vec<Metric>,
}

impl Sequential {
    /// Saves the architecture, compile settings and weights into the directory `path`
    /// (created if needed).
    ///
    /// # Errors
    /// When the model has no weights yet, or the files cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let dir = path.as_ref();
        if !self.built() {
            return Err(Error::not_ready(
                "save",
                "the model has no weights yet; fit it or call build(input_dim) first",
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::io("save", dir, e))?;
        let config = Config {
            format: FORMAT.into(),
            name: self.name.clone(),
            layers: self
                .layers
                .iter()
                .map(|l| LayerConfig {
                    name: l.name.clone(),
                    units: l.units,
                    activation: l.activation,
                    use_bias: l.use_bias,
                    input_dim: l.input_dim,
                    kernel_initializer: l.kernel_initializer,
                    bias_initializer: l.bias_initializer,
                })
                .collect(),
            compile: self.compiled.as_ref().map(|c| CompileConfig {
                optimizer: c.optimizer.clone(),
                loss: c.loss,
                metrics: c.metrics.clone(),
            }),
        };
        let json = serde_json::to_string_pretty(&config).expect("config serialises");
        crate::io::atomic::write_atomically(&dir.join("config.json"), "save", |f| {
            std::io::Write::write_all(f, json.as_bytes())
        })?;
        self.save_weights(dir.join("weights.npz"))
    }

    /// Writes the weights alone to an `.npz` file (`<layer>/kernel`, `<layer>/bias`).
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn save_weights(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut w = NpzWriter::create(path)?;
        for l in self.layers.iter().filter(|l| l.built) {
            w = w.add(&format!("{}/kernel", l.name), &l.kernel)?;
            if l.use_bias {
                w = w.add(&format!("{}/bias", l.name), &l.bias)?;
            }
        }
        w.finish()
    }

    /// Loads weights saved by [`Sequential::save_weights`] into this model's layers, by name.
    ///
    /// # Errors
    /// A missing array or one whose shape does not match the layer (nothing is changed then).
    pub fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let npz = Npz::load(path)?;
        let mut weights = Vec::new();
        for l in &self.layers {
            weights.push(npz.array::<f32, Ix2>(&format!("{}/kernel", l.name))?.into_dyn());
            if l.use_bias {
                weights.push(npz.array::<f32, Ix1>(&format!("{}/bias", l.name))?.into_dyn());
            }
        }
        if !self.built() {
            let dim = weights.first().map(|k| k.shape()[0]).unwrap_or(0);
            self.build(dim)?;
        }
        self.set_weights(weights)
    }

    /// Loads a model saved with [`Sequential::save`]: same layers, names, weights and compile
    /// settings.
    ///
    /// # Errors
    /// A missing or unreadable directory, a `config.json` that is not this format, or weights
    /// that do not fit the architecture.
    pub fn load(path: impl AsRef<Path>) -> Result<Sequential> {
        let dir = path.as_ref();
        let cfg_path = dir.join("config.json");
        let text = std::fs::read_to_string(&cfg_path).map_err(|e| Error::io("Sequential::load", &cfg_path, e))?;
        let config: Config =
            serde_json::from_str(&text).map_err(|e| Error::format("Sequential::load", &cfg_path, e.to_string()))?;
        if config.format != FORMAT {
            return Err(Error::format("Sequential::load", &cfg_path, format!("unknown format {:?}", config.format)));
        }
        let mut model = Sequential::new();
        model.name = config.name;
        for l in config.layers {
            let mut d = Dense::new(l.units)
                .name(l.name)
                .activation(l.activation)
                .use_bias(l.use_bias)
                .kernel_initializer(l.kernel_initializer)
                .bias_initializer(l.bias_initializer);
            d.input_dim = l.input_dim;
            model.add(d);
        }
        model.load_weights(dir.join("weights.npz"))?;
        if let Some(c) = config.compile {
            model.compiled = Some(Compiled {
                optimizer: c.optimizer,
                loss: c.loss,
                metrics: c.metrics,
                state: Vec::new(),
                iterations: 0,
            });
        }
        Ok(model)
    }
}
