//! Hostile inputs for the frame tools (issue #14): every refusal exits non-zero with one line that
//! names the offending flag or file, before anything is written or allocated.

use std::path::Path;
use std::process::Command;

use frame_quality::io::{ColorId, SerHeader, SerWriter};

/// The binary under a 2 GB address-space limit (`ulimit -v`): a tool that tried to allocate what a
/// hostile input declares would be killed instead of passing (issue #14: bounded memory).
fn limited(bin: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c").arg("ulimit -v 2000000; exec \"$0\" \"$@\"").arg(bin);
    c
}

/// Run a binary; (success, stderr+stdout).
fn run(bin: &str, args: &[&str]) -> (bool, String) {
    let out = limited(bin).args(args).env("RUST_BACKTRACE", "1").output().expect("binary runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
    (out.status.success(), text)
}

/// The first line that says `error`, and a check that no stack trace follows it.
fn error_line(text: &str) -> &str {
    assert!(!text.contains("stack backtrace") && !text.contains("Stack backtrace"), "backtrace printed:\n{text}");
    text.lines().find(|l| l.contains("error")).unwrap_or_else(|| panic!("no error line in:\n{text}"))
}

fn small_ser(path: &Path, frames: usize) {
    let mut w = SerWriter::create(path, SerHeader::new(32, 32, ColorId::Mono, 8)).unwrap();
    for i in 0..frames {
        let bytes: Vec<u8> = (0..32 * 32).map(|p| ((p * 7 + i * 13) % 251) as u8).collect();
        w.write_raw(&bytes).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn stack_frames_refuses_unbounded_kernel_and_invalid_values_before_work() {
    let dir = tempfile::tempdir().unwrap();
    let ser = dir.path().join("v.ser");
    small_ser(&ser, 4);
    let out = dir.path().join("x.png");
    let (s, o) = (ser.to_str().unwrap(), out.to_str().unwrap());
    let cases: &[(&[&str], &str)] = &[
        (&["--sharpen", "1", "--sharpen-sigma", "1e9"], "--sharpen-sigma"),
        (&["--sharpen", "1", "--sharpen-sigma", "NaN"], "--sharpen-sigma"),
        (&["--sharpen", "1", "--sharpen-sigma", "0"], "--sharpen-sigma"),
        (&["--sharpen", "NaN"], "--sharpen"),
        (&["--sharpen=-2"], "--sharpen"),
        (&["--sigma-clip", "NaN"], "--sigma-clip"),
        (&["--sigma-clip=-1"], "--sigma-clip"),
        (&["--boxes", "0"], "--boxes"),
        (&["--boxes", "4"], "--boxes"),
        (&["--boxes", "4096"], "--boxes"),
    ];
    for (extra, flag) in cases {
        let mut args = vec![s, "-o", o];
        args.extend_from_slice(extra);
        let (ok, text) = run(env!("CARGO_BIN_EXE_stack-frames"), &args);
        assert!(!ok, "{extra:?} accepted:\n{text}");
        assert!(error_line(&text).contains(flag), "{extra:?}: {text}");
        assert!(!out.exists(), "{extra:?} wrote output");
    }
    // An unsupported output extension is refused before ranking.
    let (ok, text) = run(env!("CARGO_BIN_EXE_stack-frames"), &[s, "-o", dir.path().join("x.gif").to_str().unwrap()]);
    assert!(!ok && error_line(&text).contains("x.gif"), "{text}");
    // The sane case still works.
    let (ok, text) = run(env!("CARGO_BIN_EXE_stack-frames"), &[s, "-o", o, "--sharpen", "1", "--sharpen-sigma", "2"]);
    assert!(ok, "{text}");
    assert!(out.exists());
}

#[test]
fn zero_frame_and_corrupt_ser_are_refused_with_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let zero = dir.path().join("zero.ser");
    small_ser(&zero, 0);
    let csv = dir.path().join("r.csv");
    let (ok, text) = run(env!("CARGO_BIN_EXE_rank-frames"), &[zero.to_str().unwrap(), "--csv", csv.to_str().unwrap()]);
    assert!(!ok);
    let line = error_line(&text);
    assert!(line.contains("zero.ser") && line.contains("declares no frames"), "{text}");
    assert!(!line.contains("holds only 0"), "{text}");
    assert!(!csv.exists());

    // Header-declared bombs: a frame size above the limit, and a huge frame count with no data.
    let good = dir.path().join("good.ser");
    small_ser(&good, 2);
    let bytes = std::fs::read(&good).unwrap();
    let mut huge = bytes.clone();
    huge[26..30].copy_from_slice(&1_000_000i32.to_le_bytes());
    let mut many = bytes.clone();
    many[38..42].copy_from_slice(&i32::MAX.to_le_bytes());
    for (name, data) in [("huge.ser", huge), ("many.ser", many)] {
        let p = dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        let out = dir.path().join(format!("{name}.png"));
        let (ok, text) =
            run(env!("CARGO_BIN_EXE_stack-frames"), &[p.to_str().unwrap(), "-o", out.to_str().unwrap(), "--best", "1"]);
        if name == "many.ser" {
            // A truncated capture is read with its complete frames (documented), never allocated whole.
            assert!(ok, "{text}");
        } else {
            assert!(!ok && error_line(&text).contains(name), "{text}");
            assert!(!out.exists());
        }
    }
}

#[test]
fn kill_9_during_stacking_leaves_the_old_output_intact() {
    let dir = tempfile::tempdir().unwrap();
    let ser = dir.path().join("long.ser");
    // 400 frames of 640×480: ranking, aligning and stacking them takes seconds.
    let mut w = SerWriter::create(&ser, SerHeader::new(640, 480, ColorId::Mono, 8)).unwrap();
    for i in 0..400 {
        let bytes: Vec<u8> = (0..640 * 480).map(|p| ((p * 7 + i * 13 + p / 640 * 3) % 251) as u8).collect();
        w.write_raw(&bytes).unwrap();
    }
    w.finish().unwrap();
    let out = dir.path().join("stack.png");
    std::fs::write(&out, b"the previous stack").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stack-frames"))
        .args([ser.to_str().unwrap(), "-o", out.to_str().unwrap(), "--best", "100%", "--boxes", "64"])
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "stack-frames finished before the kill; make the video longer");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"the previous stack", "the old output was touched");
}

/// Issue #29 item 16: a FIFO in place of the video is refused at once by name, not waited on
/// (opening a FIFO for reading blocks until a writer comes; `timeout` turns a hang into a failure).
#[test]
fn a_fifo_input_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("frames.ser");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let csv = dir.path().join("scores.csv");
    let out = Command::new("timeout")
        .arg("60")
        .arg(env!("CARGO_BIN_EXE_rank-frames"))
        .arg(&fifo)
        .arg("--csv")
        .arg(&csv)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(124), "rank-frames waited on the FIFO: {err}");
    assert!(!out.status.success());
    assert!(error_line(&err).contains("frames.ser") && err.contains("not a regular file"), "{err}");
    assert!(!csv.exists());
}
