//! Keras's datasets read from the real files in `../shared/data` (through `DL_DATASETS_DIR`),
//! and the download path exercised for real against a local HTTP server on 127.0.0.1.

use dl_core::datasets::{boston_housing, cache, grading, mnist};
use dl_core::prelude::*;
use dl_core::random::mt19937;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Mutex;

/// These tests change process-wide environment variables, so they take turns.
static ENV: Mutex<()> = Mutex::new(());

/// `DL_DATASETS_DIR` (as it was before any test changed it), or `../shared/data` beside the
/// repository.
fn shared_data() -> PathBuf {
    static DIR: std::sync::OnceLock<Option<std::ffi::OsString>> = std::sync::OnceLock::new();
    let from_env = DIR.get_or_init(|| {
        let _guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
        std::env::var_os("DL_DATASETS_DIR")
    });
    let dir = from_env
        .clone()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    assert!(
        dir.join("mnist.npz").exists(),
        "the dataset tests need the real data files: set DL_DATASETS_DIR to a directory holding \
         boston_housing.npz, mnist.npz and grading.npz (not found in {})",
        dir.display()
    );
    dir
}

fn with_env<R>(vars: &[(&str, Option<&std::ffi::OsStr>)], f: impl FnOnce() -> R) -> R {
    let _guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let saved: Vec<_> = vars.iter().map(|(k, _)| (*k, std::env::var_os(k))).collect();
    for (k, v) in vars {
        match v {
            Some(v) => std::env::set_var(k, v),
            None => std::env::remove_var(k),
        }
    }
    let r = f();
    for (k, v) in saved {
        match v {
            Some(v) => std::env::set_var(k, v),
            None => std::env::remove_var(k),
        }
    }
    r
}

#[test]
fn boston_split_matches_numpys_legacy_shuffle_row_by_row() {
    let dir = shared_data();
    let ((xtr, ytr), (xte, yte)) =
        with_env(&[("DL_DATASETS_DIR", Some(dir.as_os_str()))], boston_housing::load_data).unwrap();
    assert_eq!((xtr.shape(), ytr.len(), xte.shape(), yte.len()), (&[404, 13][..], 404, &[102, 13][..], 102));
    let raw = Npz::load(dir.join("boston_housing.npz")).unwrap();
    let (x, y) = (raw.array::<f64, Ix2>("x").unwrap(), raw.array::<f64, Ix1>("y").unwrap());
    let p = mt19937::legacy_permutation(506, 113);
    // The permutation given in ../shared/data/README.md.
    assert_eq!(&p[..10], &[22, 202, 368, 335, 461, 323, 382, 143, 146, 141]);
    assert_eq!(&p[404..409], &[415, 112, 339, 160, 87]);
    for (i, &r) in p.iter().enumerate() {
        let (xr, yr) = if i < 404 { (xtr.row(i), ytr[i]) } else { (xte.row(i - 404), yte[i - 404]) };
        assert_eq!(xr, x.row(r), "row {i} should be file row {r}");
        assert_eq!(yr, y[r]);
    }
    assert!((y.sum() - 11401.6).abs() < 1e-6);
}

#[test]
fn mnist_has_keras_shapes_dtypes_and_label_counts() {
    let dir = shared_data();
    let ((xtr, ytr), (xte, yte)) = with_env(&[("DL_DATASETS_DIR", Some(dir.as_os_str()))], mnist::load_data).unwrap();
    assert_eq!(xtr.shape(), &[60000, 28, 28]);
    assert_eq!(xte.shape(), &[10000, 28, 28]);
    let count = |l: &Array1<u8>| {
        let mut c = [0usize; 10];
        l.iter().for_each(|&v| c[v as usize] += 1);
        c
    };
    assert_eq!(count(&ytr), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    assert_eq!(count(&yte), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    assert_eq!(ytr.slice(s![..10]).to_vec(), vec![5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    assert_eq!(*xtr.iter().max().unwrap(), 255);
}

#[test]
fn grading_npz_loads_with_the_documented_shapes() {
    let dir = shared_data();
    let (x, y) = grading::load(dir.join("grading.npz")).unwrap();
    assert_eq!((x.shape(), y.shape()), (&[2000, 3][..], &[2000, 1][..]));
    assert!(y.iter().all(|g| (0..=5).contains(g)));
    let (x2, _) = with_env(&[("DL_DATASETS_DIR", Some(dir.as_os_str()))], grading::load_data).unwrap();
    assert_eq!(x, x2);
    // A generated file has the same layout.
    let tmp = tempdir("grading");
    grading::generate(tmp.join("grading.npz"), 7).unwrap();
    let (gx, gy) = grading::load(tmp.join("grading.npz")).unwrap();
    assert_eq!((gx.shape(), gy.shape()), (&[2000, 3][..], &[2000, 1][..]));
}

#[test]
fn a_file_in_the_datasets_dir_with_the_wrong_hash_is_reported() {
    let dir = tempdir("badhash");
    std::fs::write(dir.join("mnist.npz"), b"not the real file").unwrap();
    let e = with_env(&[("DL_DATASETS_DIR", Some(dir.as_os_str()))], mnist::load_data).unwrap_err().to_string();
    assert!(e.contains("does not match Keras's copy") && e.contains("731c5ac6"), "{e}");
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dl-core-test-{tag}-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

#[derive(Clone, Copy)]
enum Serve {
    Good,
    WrongBytes,
    DropHalfway,
    NotFound,
}

/// A one-file HTTP/1.1 server on 127.0.0.1 that answers every request according to `mode`.
fn serve(body: Vec<u8>, mode: Serve) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut req = [0u8; 4096];
            let _ = s.read(&mut req);
            let _ = match mode {
                Serve::NotFound => {
                    s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                }
                Serve::Good | Serve::WrongBytes | Serve::DropHalfway => {
                    let mut b = body.clone();
                    if let Serve::WrongBytes = mode {
                        b[1000] ^= 0xff;
                    }
                    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", b.len());
                    let end = if let Serve::DropHalfway = mode { b.len() / 2 } else { b.len() };
                    s.write_all(head.as_bytes()).and_then(|_| s.write_all(&b[..end]))
                }
            };
        }
    });
    format!("http://{addr}")
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn download_with(mode: Serve) -> (PathBuf, Result<boston_housing::Split>) {
    let body = std::fs::read(shared_data().join("boston_housing.npz")).unwrap();
    let url = serve(body, mode);
    let home = tempdir("keras-home");
    let r = with_env(
        &[
            ("DL_DATASETS_DIR", None),
            ("KERAS_HOME", Some(home.as_os_str())),
            ("DL_DATASETS_URL", Some(std::ffi::OsStr::new(&url))),
        ],
        boston_housing::load_data,
    );
    (home.join("datasets"), r)
}

#[test]
fn a_correct_download_lands_in_the_cache_and_is_reused() {
    let (cache, r) = download_with(Serve::Good);
    let ((xtr, _), _) = r.unwrap();
    assert_eq!(xtr.shape(), &[404, 13]);
    assert_eq!(files_in(&cache), vec!["boston_housing.npz"]);
    assert_eq!(cache::sha256_file(&cache.join("boston_housing.npz")).unwrap(), boston_housing::FILE.sha256);
}

#[test]
fn a_download_with_the_wrong_hash_leaves_no_file() {
    let (cache, r) = download_with(Serve::WrongBytes);
    let e = r.unwrap_err().to_string();
    assert!(e.contains("sha256") && e.contains("boston_housing.npz"), "{e}");
    assert!(files_in(&cache).is_empty(), "{:?}", files_in(&cache));
}

#[test]
fn a_connection_dropped_halfway_leaves_no_file() {
    let (cache, r) = download_with(Serve::DropHalfway);
    let e = r.unwrap_err().to_string();
    assert!(e.contains("could not be downloaded") && e.contains("Put a copy of the file there"), "{e}");
    assert!(files_in(&cache).is_empty(), "{:?}", files_in(&cache));
}

#[test]
fn a_404_leaves_no_file_and_says_where_the_file_comes_from() {
    let (cache, r) = download_with(Serve::NotFound);
    let e = r.unwrap_err().to_string();
    assert!(e.contains("404") && e.contains("/boston_housing.npz") && e.contains(&cache.display().to_string()), "{e}");
    assert!(files_in(&cache).is_empty(), "{:?}", files_in(&cache));
}

#[test]
fn offline_the_error_names_the_file_the_folder_and_the_url() {
    let home = tempdir("offline");
    let e = with_env(
        &[
            ("DL_DATASETS_DIR", None),
            ("KERAS_HOME", Some(home.as_os_str())),
            // Nothing listens on port 9 (discard) here: the connection is refused at once.
            ("DL_DATASETS_URL", Some(std::ffi::OsStr::new("http://127.0.0.1:9/keras"))),
        ],
        mnist::load_data,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("mnist.npz is not in") && e.contains("http://127.0.0.1:9/keras/mnist.npz"), "{e}");
    assert!(files_in(&home.join("datasets")).is_empty());
}

#[test]
fn a_cached_file_with_the_wrong_hash_is_fetched_again() {
    let body = std::fs::read(shared_data().join("boston_housing.npz")).unwrap();
    let url = serve(body, Serve::Good);
    let home = tempdir("refetch");
    std::fs::create_dir_all(home.join("datasets")).unwrap();
    std::fs::write(home.join("datasets/boston_housing.npz"), b"stale").unwrap();
    with_env(
        &[
            ("DL_DATASETS_DIR", None),
            ("KERAS_HOME", Some(home.as_os_str())),
            ("DL_DATASETS_URL", Some(std::ffi::OsStr::new(&url))),
        ],
        boston_housing::load_data,
    )
    .unwrap();
    assert_eq!(cache::sha256_file(&home.join("datasets/boston_housing.npz")).unwrap(), boston_housing::FILE.sha256);
}
