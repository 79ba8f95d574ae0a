//! Reproduces every Keras fixture in `tests/oracles/` (copied from `../shared/oracles`, made by
//! real Keras 3.15.1 on TensorFlow 2.21 with `make_oracles.py`; see `tests/oracles/README.md`):
//! forward pass before training, per-epoch history, final weights, predictions and evaluate
//! results, all within the fixtures' stated tolerance `|got − want| <= 1e-4 · max(1, |want|)`,
//! and the exact `summary()` text.

use dl_core::prelude::*;
use serde_json::Value;
use std::path::PathBuf;

fn oracle_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oracles")
}

fn load(name: &str) -> Value {
    let path = oracle_dir().join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn matrix(v: &Value) -> Array2<f32> {
    let rows = v.as_array().unwrap();
    let cols = rows[0].as_array().map_or(1, Vec::len);
    Array2::from_shape_fn((rows.len(), cols), |(i, j)| match &rows[i] {
        Value::Array(r) => r[j].as_f64().unwrap() as f32,
        x => x.as_f64().unwrap() as f32,
    })
}

fn vector(v: &Value) -> Array1<f32> {
    Array1::from_iter(v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32))
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-4 * want.abs().max(1.0)
}

fn assert_all_close(what: &str, got: impl IntoIterator<Item = f64>, want: impl IntoIterator<Item = f64>) {
    let (got, want): (Vec<f64>, Vec<f64>) = (got.into_iter().collect(), want.into_iter().collect());
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(close(*g, *w), "{what}[{i}]: got {g}, Keras {w}\n got  {got:?}\n want {want:?}");
    }
}

fn build(case: &Value) -> Sequential {
    clear_session();
    let m = &case["model"];
    let mut model = Sequential::new();
    for (i, l) in m["layers"].as_array().unwrap().iter().enumerate() {
        let mut d = Dense::new(l["units"].as_u64().unwrap() as usize)
            .activation(l["activation"].as_str().unwrap())
            .use_bias(l["use_bias"].as_bool().unwrap());
        if i == 0 {
            d = d.input_dim(m["input_dim"].as_u64().unwrap() as usize);
        }
        model.add(d);
    }
    let mut weights = Vec::new();
    for w in case["initial_weights"].as_array().unwrap() {
        weights.push(matrix(&w["kernel"]).into_dyn());
        if !w["bias"].is_null() {
            weights.push(vector(&w["bias"]).into_dyn());
        }
    }
    model.set_weights(weights).unwrap();
    let c = &case["compile"];
    let o = &c["optimizer"];
    let f = |k: &str| o[k].as_f64().unwrap() as f32;
    let optimizer: Optimizer = match o["name"].as_str().unwrap() {
        "sgd" => Sgd {
            learning_rate: f("learning_rate"),
            momentum: f("momentum"),
            nesterov: o["nesterov"].as_bool().unwrap(),
        }
        .into(),
        "rmsprop" => RmsProp {
            learning_rate: f("learning_rate"),
            rho: f("rho"),
            momentum: f("momentum"),
            epsilon: f("epsilon"),
            centered: o["centered"].as_bool().unwrap(),
        }
        .into(),
        "adam" => Adam {
            learning_rate: f("learning_rate"),
            beta_1: f("beta_1"),
            beta_2: f("beta_2"),
            epsilon: f("epsilon"),
            amsgrad: o["amsgrad"].as_bool().unwrap(),
        }
        .into(),
        other => panic!("optimizer {other}"),
    };
    let metrics: Vec<&str> = c["metrics"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
    model.compile(optimizer, c["loss"].as_str().unwrap(), &metrics).unwrap();
    model
}

/// `y` as the fixture stores it: 2-D floats, or 1-D integer labels (case 03).
fn targets(case: &Value, key: &str) -> ArrayD<f32> {
    let y = &case["data"][key];
    if y[0].is_array() {
        matrix(y).into_dyn()
    } else {
        vector(y).into_dyn()
    }
}

fn check_eval(what: &str, got: &std::collections::BTreeMap<String, f64>, want: &Value) {
    let keys: Vec<&String> = got.keys().collect();
    let want_keys: Vec<&String> = want.as_object().unwrap().keys().collect();
    assert_eq!(keys, want_keys, "{what}: keys");
    for (k, v) in got {
        assert!(close(*v, want[k].as_f64().unwrap()), "{what}[{k}]: got {v}, Keras {}", want[k]);
    }
}

/// Automatic layer names are process-wide, so tests that depend on them take turns.
static NAMES: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn run_case(name: &str) {
    let _names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let case = load(name);
    let mut model = build(&case);
    let x = matrix(&case["data"]["x"]);
    let y = targets(&case, "y");
    let probe = matrix(&case["data"]["probe_x"]);
    let exp = &case["expected"];

    // The forward pass alone, before any training.
    let p0 = model.predict_with(&probe, 32, 0).unwrap();
    assert_all_close(
        "initial_predict",
        p0.iter().map(|&v| v as f64),
        matrix(&exp["initial_predict"]).iter().map(|&v| v as f64),
    );
    check_eval("initial_evaluate", &model.evaluate_with(&x, &y, 32, 0).unwrap(), &exp["initial_evaluate"]);

    let fit = &case["fit"];
    let vx;
    let vy;
    let mut opts = FitOptions {
        epochs: fit["epochs"].as_u64().unwrap() as usize,
        batch_size: fit["batch_size"].as_u64().unwrap() as usize,
        shuffle: fit["shuffle"].as_bool().unwrap(),
        verbose: 0,
        validation_split: fit.get("validation_split").and_then(Value::as_f64).unwrap_or(0.0),
        ..Default::default()
    };
    if fit.get("validation_data").is_some() {
        vx = matrix(&case["data"]["validation_x"]);
        vy = targets(&case, "validation_y");
        opts.validation_data = Some((&vx, &vy));
    }
    let history = model.fit_with(&x, &y, opts).unwrap();

    let keys: Vec<&str> = exp["history_keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    assert_eq!(history.keys(), keys, "history keys");
    for k in keys {
        assert_all_close(
            &format!("history[{k}]"),
            history.get(k).unwrap().iter().copied(),
            vector(&exp["history"][k]).iter().map(|&v| v as f64),
        );
    }

    let mut want_w = Vec::new();
    for w in exp["final_weights"].as_array().unwrap() {
        want_w.push(matrix(&w["kernel"]).into_dyn());
        if !w["bias"].is_null() {
            want_w.push(vector(&w["bias"]).into_dyn());
        }
    }
    let got_w = model.get_weights();
    assert_eq!(got_w.len(), want_w.len());
    for (i, (g, w)) in got_w.iter().zip(&want_w).enumerate() {
        assert_eq!(g.shape(), w.shape(), "weight {i} shape");
        assert_all_close(&format!("final weight {i}"), g.iter().map(|&v| v as f64), w.iter().map(|&v| v as f64));
    }

    let p = model.predict_with(&probe, 32, 0).unwrap();
    assert_all_close("predict", p.iter().map(|&v| v as f64), matrix(&exp["predict"]).iter().map(|&v| v as f64));
    check_eval("evaluate", &model.evaluate_with(&x, &y, 32, 0).unwrap(), &exp["evaluate"]);
    assert_eq!(
        model.evaluate(&x, &y).unwrap().len(),
        1 + case["compile"]["metrics"].as_array().unwrap().len(),
        "evaluate returns loss then each metric"
    );
}

#[test]
fn case01_linear_regression_sgd_matches_keras() {
    run_case("case01_linear_regression_sgd.json");
}
#[test]
fn case02_thirteen_features_sgd_mae_metric_matches_keras() {
    run_case("case02_linear_13_features_sgd_mae_metric.json");
}
#[test]
fn case03_mlp_relu_softmax_adam_sparse_cce_matches_keras() {
    run_case("case03_mlp_relu_softmax_adam_sparse_cce.json");
}
#[test]
fn case04_logistic_rmsprop_bce_matches_keras() {
    run_case("case04_logistic_rmsprop_bce.json");
}
#[test]
fn case05_tanh_softmax_nesterov_cce_acc_matches_keras() {
    run_case("case05_tanh_softmax_nesterov_cce_acc.json");
}
#[test]
fn case06_sigmoid_hidden_momentum_mae_validation_split_matches_keras() {
    run_case("case06_sigmoid_hidden_momentum_mae_validation_split.json");
}
#[test]
fn case07_relu_nobias_adam_validation_data_matches_keras() {
    run_case("case07_relu_nobias_adam_validation_data.json");
}
#[test]
fn case08_rmsprop_centered_momentum_matches_keras() {
    run_case("case08_rmsprop_centered_momentum.json");
}
/// The lecture's MNIST-as-regression compile, `metrics=['acc']` on one linear unit with labels
/// 0..9: Keras 3 names the key `acc` and counts binary accuracy (made by `make_case09.py`).
#[test]
fn case09_acc_on_one_linear_unit_with_digit_labels_matches_keras() {
    run_case("case09_linear_digit_regression_sgd_acc.json");
}

// The summary tests share the global name counters with `build`, so they run in one test.
#[test]
fn summary_text_is_exactly_keras() {
    let _names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let s = load("summary.json");
    let models = &s["models"];
    let mlp = || {
        let mut m = Sequential::new();
        m.add(Dense::new(512).activation("relu").input_dim(784));
        m.add(Dense::new(10).activation("softmax"));
        m.build(784).unwrap();
        m
    };
    let lin = || {
        let mut m = Sequential::new();
        m.add(Dense::new(1).input_dim(13));
        m.build(13).unwrap();
        m
    };
    for (key, make) in [("mnist_mlp", &mlp as &dyn Fn() -> Sequential), ("linear_13", &lin)] {
        clear_session();
        let m = make();
        assert_eq!(m.count_params() as u64, models[key]["total_params"].as_u64().unwrap());
        assert_eq!(m.summary_string(Some(76)), models[key]["default_80_columns"].as_str().unwrap(), "{key} at 76");
        assert_eq!(m.summary_string(Some(88)), models[key]["default_wide_terminal"].as_str().unwrap(), "{key} at 88");
    }
    // A second model in the same session counts on: sequential_1, dense_2.
    clear_session();
    let _first = mlp();
    let second = lin();
    assert_eq!(
        second.summary_string(Some(76)),
        s["naming_second_model_same_session"]["default_80_columns"].as_str().unwrap()
    );
}
