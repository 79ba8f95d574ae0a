//! Bad input gives an error that names the operation and the shapes, never a panic; the model
//! keeps what it had.

use dl_core::prelude::*;

fn linear(inputs: usize) -> Sequential {
    let mut m = Sequential::new();
    m.add(Dense::new(1).input_dim(inputs));
    m.compile("sgd", "mse", &["mse"]).unwrap();
    m
}

fn quiet(epochs: usize) -> FitOptions<'static> {
    FitOptions { epochs, batch_size: 4, verbose: 0, ..Default::default() }
}

fn err_text(r: Result<impl std::fmt::Debug>) -> String {
    r.expect_err("expected an error").to_string()
}

#[test]
fn fitting_13_features_into_a_model_built_for_1_names_both_shapes() {
    let mut m = linear(1);
    let e = err_text(m.fit_with(&Array2::<f32>::zeros((404, 13)), &Array1::<f32>::zeros(404), quiet(1)));
    assert!(
        e.contains("fit") && e.contains("13 features") && e.contains("expects 1") && e.contains("[404, 13]"),
        "{e}"
    );
}

#[test]
fn y_with_other_row_count_than_x_is_an_error() {
    let mut m = linear(2);
    let e = err_text(m.fit_with(&Array2::<f32>::zeros((10, 2)), &Array1::<f32>::zeros(9), quiet(1)));
    assert!(e.contains("y has 9 rows but x has 10"), "{e}");
}

#[test]
fn y_with_wrong_width_for_the_loss_is_an_error() {
    let mut m = Sequential::new();
    m.add(Dense::new(3).activation("softmax").input_dim(2));
    m.compile("adam", "categorical_crossentropy", &["accuracy"]).unwrap();
    let e = err_text(m.fit_with(&Array2::<f32>::zeros((5, 2)), &Array1::<f32>::zeros(5), quiet(1)));
    assert!(e.contains("y has 1 columns but categorical_crossentropy on a 3-unit output needs 3"), "{e}");
}

#[test]
fn sparse_labels_out_of_range_are_an_error() {
    let mut m = Sequential::new();
    m.add(Dense::new(3).activation("softmax").input_dim(2));
    m.compile("adam", "sparse_categorical_crossentropy", &["accuracy"]).unwrap();
    let e = err_text(m.fit_with(&Array2::<f32>::zeros((3, 2)), &array![0u8, 1, 3], quiet(1)));
    assert!(e.contains("label 3 at row 2") && e.contains("[0, 3)"), "{e}");
}

#[test]
fn a_diverging_loss_is_reported_and_training_stops() {
    let mut m = Sequential::new();
    m.add(Dense::new(1).input_dim(1));
    m.compile(Sgd { learning_rate: 1e6, ..Default::default() }, "mse", &[]).unwrap();
    let x = Array2::from_shape_fn((64, 1), |(i, _)| i as f32);
    let y = x.mapv(|v| 3.0 * v);
    let e = m.fit_with(&x, &y, quiet(50)).unwrap_err();
    assert!(matches!(e, Error::NonFinite { .. }), "{e}");
    assert!(e.to_string().contains("the loss became"), "{e}");
    // Epochs finished before the failure are kept.
    assert!(m.history().epoch.len() < 50);
}

#[test]
fn non_finite_inputs_are_rejected_before_training() {
    let mut m = linear(2);
    let x = array![[1.0f32, f32::NAN], [0.0, 1.0]];
    let e = err_text(m.fit_with(&x, &array![1.0f32, 2.0], quiet(1)));
    assert!(e.contains("x contains NaN"), "{e}");
    let e = err_text(m.fit_with(&array![[1.0f32, 2.0]], &array![f32::INFINITY], quiet(1)));
    assert!(e.contains("y contains inf"), "{e}");
}

#[test]
fn calling_fit_or_evaluate_before_compile_says_what_to_do() {
    let mut m = Sequential::new();
    m.add(Dense::new(1));
    let e = err_text(m.fit(&array![[1.0f32]], &array![1.0f32], 1, 1));
    assert!(e.contains("compiled first"), "{e}");
    let e = err_text(m.evaluate(&array![[1.0f32]], &array![1.0f32]));
    assert!(e.contains("compiled first"), "{e}");
}

#[test]
fn an_empty_model_is_an_error() {
    let mut m = Sequential::new();
    let e = err_text(m.compile("sgd", "mse", &[]));
    assert!(e.contains("no layers"), "{e}");
    let e = err_text(m.predict(&array![[1.0f32]]));
    assert!(e.contains("no layers"), "{e}");
}

#[test]
fn unknown_names_list_what_is_accepted() {
    let mut m = Sequential::new();
    m.add(Dense::new(1).input_dim(1));
    assert!(err_text(m.compile("sgdd", "mse", &[])).contains("unknown optimizer \"sgdd\""));
    assert!(err_text(m.compile("sgd", "mse2", &[])).contains("unknown loss \"mse2\""));
    assert!(err_text(m.compile("sgd", "mse", &["f1"])).contains("unknown metric \"f1\""));
    let mut m = Sequential::new();
    m.add(Dense::new(1).activation("rellu").input_dim(1));
    assert!(err_text(m.compile("sgd", "mse", &[])).contains("unknown activation \"rellu\""));
    let mut m = linear(1);
    assert!(
        err_text(m.compile(Sgd { learning_rate: -1.0, ..Default::default() }, "mse", &[])).contains("learning_rate")
    );
}

#[test]
fn three_dimensional_x_asks_for_flatten() {
    let mut m = linear(784);
    let e = err_text(m.predict(&Array3::<u8>::zeros((2, 28, 28))));
    assert!(e.contains("flatten") && e.contains("[2, 28, 28]"), "{e}");
}

#[test]
fn set_weights_with_wrong_count_or_shape_changes_nothing() {
    let mut m = linear(3);
    m.build(3).unwrap();
    let before = m.get_weights();
    let e = err_text(m.set_weights(vec![Array2::<f32>::zeros((3, 1)).into_dyn()]));
    assert!(e.contains("expected 2 arrays"), "{e}");
    let e = err_text(m.set_weights(vec![Array2::<f32>::zeros((2, 1)).into_dyn(), Array1::<f32>::zeros(1).into_dyn()]));
    assert!(e.contains("array 0 has the wrong shape") && e.contains("[2, 1]"), "{e}");
    assert_eq!(m.get_weights(), before);
}

#[test]
fn bad_fit_options_are_errors() {
    let mut m = linear(1);
    let x = Array2::<f32>::zeros((10, 1));
    let y = Array1::<f32>::zeros(10);
    assert!(err_text(m.fit_with(&x, &y, FitOptions { batch_size: 0, ..quiet(1) })).contains("batch_size"));
    assert!(err_text(m.fit_with(&x, &y, FitOptions { validation_split: 1.5, ..quiet(1) })).contains("validation_split"));
    assert!(err_text(m.fit_with(&x, &y, FitOptions { validation_split: 0.95, ..quiet(1) }))
        .contains("leaves 0 for training and 10"));
    let vx = Array2::<f32>::zeros((4, 2));
    let e = err_text(m.fit_with(&x, &y, FitOptions { validation_data: Some((&vx, &y)), ..quiet(1) }));
    assert!(e.contains("validation_data") && e.contains("2 features"), "{e}");
}

#[test]
fn an_interrupt_stops_fit_with_the_weights_learned_so_far() {
    let mut m = linear(1);
    let x = Array2::from_shape_fn((400, 1), |(i, _)| i as f32 / 400.0);
    let y = x.mapv(|v| 2.0 * v);
    m.fit_with(&x, &y, quiet(1)).unwrap();
    let trained = m.get_weights();
    dl_core::display::request_interrupt();
    // The flag set before `fit` starts is forgotten; one set while it runs stops it.
    m.fit_with(&x, &y, quiet(1)).unwrap();
    let handle = std::thread::spawn(|| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        dl_core::display::request_interrupt();
    });
    let e = m.fit_with(&x, &y, FitOptions { epochs: 1_000_000, ..quiet(1) }).unwrap_err();
    handle.join().unwrap();
    assert!(matches!(e, Error::Interrupted { op: "fit", .. }), "{e}");
    assert!(e.to_string().starts_with("KeyboardInterrupt"), "{e}");
    assert_ne!(m.get_weights(), trained, "training went on until the interrupt");
    assert!(!m.history().epoch.is_empty());
}
