//! `.npz`/`.npy` I/O: a table of hostile inputs (truncations at every few bytes, wrong magic,
//! huge declared shapes, header garbage) gives errors, never panics or huge allocations; arrays
//! round-trip through numpy itself (Python's numpy, as CI installs it); a saved model loads back.

use dl_core::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn tempdir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let d = std::env::temp_dir().join(format!("dl-npz-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sample_npz(dir: &Path, compressed: bool) -> PathBuf {
    let path = dir.join(if compressed { "c.npz" } else { "s.npz" });
    let x = Array2::from_shape_fn((7, 5), |(i, j)| (i * 5 + j) as f32 * 0.5);
    let y = Array1::from_shape_fn(7, |i| i as i64 - 3);
    NpzWriter::create(&path)
        .unwrap()
        .compressed(compressed)
        .add("x", &x)
        .unwrap()
        .add("y", &y)
        .unwrap()
        .finish()
        .unwrap();
    path
}

#[test]
fn written_npz_reads_back_with_dtypes_and_shapes() {
    let dir = tempdir("rt");
    for compressed in [false, true] {
        let npz = Npz::load(sample_npz(&dir, compressed)).unwrap();
        assert_eq!(npz.keys(), &["x".to_string(), "y".to_string()]);
        assert_eq!((npz.get("x").unwrap().dtype(), npz.get("x").unwrap().shape()), ("float32", &[7, 5][..]));
        assert_eq!(npz.get("y").unwrap().dtype(), "int64");
        assert_eq!(npz.array::<f32, Ix2>("x").unwrap()[[6, 4]], 17.0);
        assert_eq!(npz.array::<i64, Ix1>("y").unwrap()[0], -3);
        // Conversions that lose nothing work; those that would lose fail clearly.
        assert_eq!(npz.array::<f64, Ix1>("y").unwrap()[6], 3.0);
        let e = npz.array::<u8, Ix1>("y").unwrap_err().to_string();
        assert!(e.contains("cannot convert int64 to uint8") && e.contains("-3"), "{e}");
        let e = npz.array::<i32, Ix2>("x").unwrap_err().to_string();
        assert!(e.contains("0.5"), "{e}");
        let e = npz.array::<f32, Ix1>("x").unwrap_err().to_string();
        assert!(e.contains("2 dimensions"), "{e}");
    }
    // No temporary file is left beside the result.
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names, vec!["c.npz", "s.npz"]);
}

#[test]
fn a_missing_key_lists_the_keys_present() {
    let dir = tempdir("keys");
    let npz = Npz::load(sample_npz(&dir, false)).unwrap();
    let e = npz.get("x_train").unwrap_err().to_string();
    assert!(e.contains("no array named \"x_train\"") && e.contains("[\"x\", \"y\"]"), "{e}");
}

#[test]
fn truncating_a_real_file_anywhere_gives_an_error_not_a_panic() {
    let dir = tempdir("trunc");
    for compressed in [false, true] {
        let bytes = std::fs::read(sample_npz(&dir, compressed)).unwrap();
        for cut in (0..bytes.len()).step_by(3) {
            let p = dir.join("t.npz");
            std::fs::write(&p, &bytes[..cut]).unwrap();
            assert!(Npz::load(&p).is_err(), "cut at {cut} of {} read without error", bytes.len());
        }
    }
    // The real Boston file, cut every 997 bytes.
    if let Some(d) = std::env::var_os("DL_DATASETS_DIR") {
        let bytes = std::fs::read(Path::new(&d).join("boston_housing.npz")).unwrap();
        for cut in (0..bytes.len()).step_by(997) {
            let p = dir.join("b.npz");
            std::fs::write(&p, &bytes[..cut]).unwrap();
            assert!(Npz::load(&p).is_err(), "boston cut at {cut}");
        }
    }
}

/// An `.npy` image with the given header text and `data_len` bytes of data.
fn npy(header: &str, data_len: usize) -> Vec<u8> {
    let mut h = header.to_string();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend((h.len() as u16).to_le_bytes());
    v.extend(h.as_bytes());
    v.extend(std::iter::repeat_n(0u8, data_len));
    v
}

#[test]
fn hostile_npy_headers_are_errors_without_huge_allocations() {
    let dir = tempdir("hostile");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("wrong magic", b"PK\x03\x04garbage".to_vec(), "magic"),
        ("empty", vec![], "magic"),
        (
            "huge shape",
            npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4000000000, 4000000000), }", 16),
            "truncated",
        ),
        (
            "overflowing shape",
            npy("{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551615, 3), }", 16),
            "overflow",
        ),
        (
            "shape larger than data",
            npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000,), }", 40),
            "truncated",
        ),
        ("garbage header", npy("{'descr': <<<>>>, 'shape': (x,y) }", 8), "bad"),
        ("no shape", npy("{'descr': '<f4', 'fortran_order': False}", 8), "no shape"),
        ("object dtype", npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", 8), "dtype"),
        ("complex dtype", npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 8), "not supported"),
        ("header length past end", b"\x93NUMPY\x01\x00\xff\xff{'descr'".to_vec(), "truncated"),
        (
            "bad bool byte",
            npy("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", 0).into_iter().chain([1u8, 7]).collect(),
            "read",
        ),
    ];
    for (what, bytes, want) in cases {
        let p = dir.join("h.npy");
        std::fs::write(&p, &bytes).unwrap();
        let e = load_npy(&p).expect_err(what).to_string();
        assert!(e.to_lowercase().contains(want), "{what}: {e}");
    }
    std::fs::write(dir.join("n.npz"), b"this is not a zip archive at all").unwrap();
    let e = Npz::load(dir.join("n.npz")).unwrap_err().to_string();
    assert!(e.contains("not a valid .npz"), "{e}");
    let e = Npz::load(dir.join("missing.npz")).unwrap_err().to_string();
    assert!(e.contains("missing.npz"), "{e}");
}

#[test]
fn fortran_order_arrays_are_read_in_logical_order() {
    let dir = tempdir("fortran");
    // [[1, 2, 3], [4, 5, 6]] stored column by column.
    let mut bytes = npy("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", 0);
    for v in [1i32, 4, 2, 5, 3, 6] {
        bytes.extend(v.to_le_bytes());
    }
    std::fs::write(dir.join("f.npy"), bytes).unwrap();
    let a = load_npy(dir.join("f.npy")).unwrap().to::<i32, Ix2>().unwrap();
    assert_eq!(a, array![[1, 2, 3], [4, 5, 6]]);
}

/// Python with numpy: `DL_PYTHON`, else `python3`. CI installs numpy into a virtual environment
/// and sets `DL_PYTHON` (see `.ci/run`).
fn python() -> String {
    let py = std::env::var("DL_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py).args(["-c", "import numpy"]).status().is_ok_and(|s| s.success());
    assert!(ok, "these tests need Python with numpy: run them through the README's test command, or set DL_PYTHON");
    py
}

#[test]
fn numpy_reads_what_we_write_with_equal_values_and_dtypes() {
    let py = python();
    let dir = tempdir("np-read");
    let path = dir.join("ours.npz");
    let f = Array2::from_shape_fn((3, 4), |(i, j)| i as f32 - 0.25 * j as f32);
    let d = Array1::from_vec(vec![1e-300f64, -2.5, f64::MAX]);
    let u = Array3::from_shape_fn((2, 2, 2), |(a, b, c)| (a * 4 + b * 2 + c) as u8 * 30);
    let b = array![true, false, true];
    let i = array![i32::MIN, 0, i32::MAX];
    NpzWriter::create(&path)
        .unwrap()
        .compressed(true)
        .add("f", &f)
        .unwrap()
        .add("d", &d)
        .unwrap()
        .add("u", &u)
        .unwrap()
        .add("b", &b)
        .unwrap()
        .add("i", &i)
        .unwrap()
        .finish()
        .unwrap();
    save_npy(dir.join("t.npy"), &f.t()).unwrap();
    let script = format!(
        r#"
import numpy as np
z = np.load(r"{p}")
assert sorted(z.files) == ["b", "d", "f", "i", "u"], z.files
assert z["f"].dtype == np.float32 and z["f"].shape == (3, 4)
assert (z["f"] == np.arange(3, dtype=np.float32)[:, None] - 0.25 * np.arange(4, dtype=np.float32)).all()
assert z["d"].dtype == np.float64 and z["d"][0] == 1e-300 and z["d"][2] == np.finfo(np.float64).max
assert z["u"].dtype == np.uint8 and z["u"].shape == (2, 2, 2) and z["u"][1, 1, 1] == 210
assert z["b"].dtype == np.bool_ and list(z["b"]) == [True, False, True]
assert z["i"].dtype == np.int32 and z["i"][0] == np.iinfo(np.int32).min
t = np.load(r"{t}")
assert t.shape == (4, 3) and t[3, 2] == 2 - 0.75, t
print("ok")
"#,
        p = path.display(),
        t = dir.join("t.npy").display()
    );
    let out = Command::new(py).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "numpy failed: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn we_read_what_numpy_writes_compressed_and_not() {
    let py = python();
    let dir = tempdir("np-write");
    let script = format!(
        r#"
import numpy as np
kw = dict(f4=np.arange(12, dtype=np.float32).reshape(3, 4) / 4, f8=np.array([1.5, -2.0]),
          u1=np.arange(6, dtype=np.uint8).reshape(2, 3), i4=np.array([-1, 2], dtype=np.int32),
          i8=np.array([[7], [-8]], dtype=np.int64), b=np.array([True, False]),
          big=np.array([1.0, 2.0], dtype='>f8'), fo=np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3)))
np.savez(r"{d}/plain.npz", **kw)
np.savez_compressed(r"{d}/packed.npz", **kw)
np.save(r"{d}/one.npy", np.arange(5, dtype=np.int64))
"#,
        d = dir.display()
    );
    let out = Command::new(py).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "numpy failed: {}", String::from_utf8_lossy(&out.stderr));
    for name in ["plain.npz", "packed.npz"] {
        let z = Npz::load(dir.join(name)).unwrap();
        assert_eq!(z.array::<f32, Ix2>("f4").unwrap()[[2, 3]], 2.75, "{name}");
        assert_eq!(z.get("f8").unwrap().dtype(), "float64");
        assert_eq!(z.array::<u8, Ix2>("u1").unwrap(), array![[0u8, 1, 2], [3, 4, 5]]);
        assert_eq!(z.array::<i32, Ix1>("i4").unwrap(), array![-1, 2]);
        assert_eq!(z.array::<i64, Ix2>("i8").unwrap(), array![[7i64], [-8]]);
        assert_eq!(z.array::<bool, Ix1>("b").unwrap(), array![true, false]);
        assert_eq!(z.array::<f64, Ix1>("big").unwrap(), array![1.0, 2.0], "big-endian float64");
        assert_eq!(z.array::<i16, Ix2>("fo").unwrap(), array![[0i16, 1, 2], [3, 4, 5]], "Fortran order");
    }
    assert_eq!(load_npy(dir.join("one.npy")).unwrap().to::<i64, Ix1>().unwrap(), array![0i64, 1, 2, 3, 4]);
}

#[test]
fn a_saved_model_loads_back_and_numpy_opens_its_weights() {
    let py = python();
    let dir = tempdir("model");
    let mut m = Sequential::new();
    m.add(Dense::new(4).activation("tanh").input_dim(3));
    m.add(Dense::new(2).activation("softmax").use_bias(false));
    m.compile(Adam { learning_rate: 0.01, ..Default::default() }, "sparse_categorical_crossentropy", &["acc"]).unwrap();
    let x = Array2::from_shape_fn((20, 3), |(i, j)| ((i * 3 + j) % 7) as f32 / 7.0);
    let y = Array1::from_shape_fn(20, |i| (i % 2) as u8);
    m.fit_with(&x, &y, FitOptions { epochs: 3, batch_size: 5, verbose: 0, ..Default::default() }).unwrap();
    m.save(dir.join("model")).unwrap();
    let mut back = Sequential::load(dir.join("model")).unwrap();
    assert_eq!(back.get_weights(), m.get_weights());
    assert_eq!(back.predict_with(&x, 32, 0).unwrap(), m.predict_with(&x, 32, 0).unwrap());
    // Optimizer state is not saved, so only the trained model shows "Optimizer params".
    let without_optimizer =
        |s: String| s.lines().filter(|l| !l.contains("Optimizer params")).collect::<Vec<_>>().join("\n");
    assert_eq!(without_optimizer(back.summary_string(Some(76))), without_optimizer(m.summary_string(Some(76))));
    assert_eq!(back.evaluate_with(&x, &y, 32, 0).unwrap(), m.evaluate_with(&x, &y, 32, 0).unwrap());
    let kernel0 = m.get_weights()[0][[2, 3]];
    let script = format!(
        r#"
import numpy as np, json
z = np.load(r"{d}/model/weights.npz")
names = sorted(z.files)
assert len(names) == 3 and names[0].endswith("/bias") and names[1].endswith("/kernel"), names
k = z[names[1]]
assert k.shape == (3, 4) and k.dtype == np.float32
assert k[2, 3] == np.float32("{kernel0:?}"), k
cfg = json.load(open(r"{d}/model/config.json"))
assert [l["units"] for l in cfg["layers"]] == [4, 2] and cfg["compile"]["loss"] == "sparse_categorical_crossentropy"
"#,
        d = dir.display()
    );
    let out = Command::new(py).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "numpy failed: {}", String::from_utf8_lossy(&out.stderr));
    // A missing directory is an error naming the file.
    let e = Sequential::load(dir.join("nothing")).unwrap_err().to_string();
    assert!(e.contains("config.json"), "{e}");
}

#[test]
fn min_max_argmin_argmax_agree_with_numpy_on_the_same_file() {
    let py = python();
    let dir = tempdir("np-extremes");
    let path = dir.join("x.npz");
    // Ties (the first index wins in numpy), negative values, and a u8 image as MNIST's.
    let f = Array2::from_shape_fn((5, 4), |(i, j)| ((i * 7 + j * 3) % 5) as f32 - 2.5 * (j % 2) as f32);
    let u = Array3::from_shape_fn((2, 3, 3), |(a, b, c)| ((a * 97 + b * 41 + c * 13) % 256) as u8);
    NpzWriter::create(&path).unwrap().add("f", &f).unwrap().add("u", &u).unwrap().finish().unwrap();
    let script = format!(
        r#"
import json, numpy as np
z = np.load(r"{p}")
f, u = z["f"], z["u"]
print(json.dumps([float(f.min()), float(f.max()), int(u.min()), int(u.max()),
                  np.argmin(f, 0).tolist(), np.argmax(f, 0).tolist(), np.argmin(f, 1).tolist(), np.argmax(f, 1).tolist()]))
"#,
        p = path.display()
    );
    let out = Command::new(py).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "numpy failed: {}", String::from_utf8_lossy(&out.stderr));
    let ours = format!(
        "[{:?}, {:?}, {}, {}, {:?}, {:?}, {:?}, {:?}]",
        min(&f).unwrap() as f64,
        max(&f).unwrap() as f64,
        min(&u).unwrap(),
        max(&u).unwrap(),
        argmin(&f, Axis(0)).to_vec(),
        argmax(&f, Axis(0)).to_vec(),
        argmin(&f, Axis(1)).to_vec(),
        argmax(&f, Axis(1)).to_vec()
    );
    assert_eq!(ours.replace(' ', ""), String::from_utf8_lossy(&out.stdout).trim().replace(' ', ""));
}
