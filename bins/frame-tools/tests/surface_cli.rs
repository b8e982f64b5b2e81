//! Surface footage through the binaries (issue 27): `frame-sim --grid --check` writes a crater
//! cell, `rank-frames --local` writes its per-point table, and bad --ap-size values are one-line
//! errors that write nothing.

use std::process::Command;

fn run(bin: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(bin).args(args).output().expect("run");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn rank_frames_local_writes_one_row_per_frame_and_one_column_per_point() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    let (ok, text) = run(
        env!("CARGO_BIN_EXE_frame-sim"),
        &["--grid", "--check", "--cells", "check-craters-iso", "--frames", "12", "-o", &d("grid")],
    );
    assert!(ok, "{text}");
    let ser = d("grid/check-craters-iso/frames.ser");
    let (ok, text) = run(env!("CARGO_BIN_EXE_rank-frames"), &[&ser, "--local", &d("local.csv"), "--ap-size", "64"]);
    assert!(ok, "{text}");
    assert!(text.contains("alignment points of 64 px"), "{text}");
    let csv = std::fs::read_to_string(d("local.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 13, "{csv}");
    let cols = lines[0].split(',').count();
    assert!(cols > 2 && lines[0].starts_with("frame,p0_x"), "{}", lines[0]);
    for (i, l) in lines[1..].iter().enumerate() {
        let v: Vec<&str> = l.split(',').collect();
        assert_eq!(v.len(), cols);
        assert_eq!(v[0], i.to_string());
        assert!(v[1..].iter().all(|s| s.parse::<f32>().is_ok_and(|x| x.is_finite() && x >= 0.0)), "{l}");
    }
    // --ap-size 0 (clap's error and hint) and one larger than the frame: an error line, nothing written.
    for size in ["0", "100000"] {
        let (ok, text) = run(env!("CARGO_BIN_EXE_rank-frames"), &[&ser, "--local", &d("bad.csv"), "--ap-size", size]);
        assert!(!ok, "--ap-size {size}: {text}");
        let first = text.lines().next().unwrap_or("");
        assert!(first.starts_with("error:"), "{text}");
        assert!(first.contains("--ap-size"), "{text}");
        assert!(!dir.path().join("bad.csv").exists());
    }
}
