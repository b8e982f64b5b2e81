//! Issue #29 item 16: a FIFO given as an input blocked the reader for ever (upscale, classify and
//! the frame tools waited for a writer that never came). It is refused at once, named.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use astro_image::fits::{is_fits, read_fits, read_fits_shape};
use astro_image::image_io::{ColorMode, ImageLimits, image_dimensions, load_image};

/// Run `f` on a thread; it must answer within two seconds (a blocked reader never does).
fn answers_quickly<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(2)).expect("the reader blocked on a FIFO")
}

#[test]
fn a_fifo_input_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("frames.png");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let p = fifo.clone();
    let err = answers_quickly(move || load_image(&p, ColorMode::Rgb, ImageLimits::default()).unwrap_err().to_string());
    assert!(err.contains("frames.png") && err.contains("not a regular file"), "{err}");
    let p = fifo.clone();
    let err = answers_quickly(move || image_dimensions(&p).unwrap_err().to_string());
    assert!(err.contains("not a regular file"), "{err}");
    let p = fifo.clone();
    assert!(!answers_quickly(move || is_fits(&p)));
    let p = fifo.clone();
    let err = answers_quickly(move || read_fits(&p).unwrap_err().to_string());
    assert!(err.contains("not a regular file"), "{err}");
    let p = fifo.clone();
    let err = answers_quickly(move || read_fits_shape(&p).unwrap_err().to_string());
    assert!(err.contains("not a regular file"), "{err}");
    // A folder is named as one.
    let d = dir.path().to_path_buf();
    let err = load_image(Path::new(&d), ColorMode::Rgb, ImageLimits::default()).unwrap_err().to_string();
    assert!(err.contains("is a folder"), "{err}");
}
