//! Hostile outputs and flags for the frame tools (issue #29, part A): an output that is an input
//! (or inside an input folder, or another output) is refused before any work and the input is left
//! byte for byte; output names must match what is written; sizes are bounded before allocation.

use std::path::Path;
use std::process::Command;

use frame_quality::io::{ColorId, SerHeader, SerWriter};

/// Run a binary under a 2 GB address-space limit; (success, stderr+stdout).
fn run(bin: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2000000; exec \"$0\" \"$@\"")
        .arg(bin)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("binary runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
    (out.status.success(), text)
}

/// The one `error:` line (no stack trace, no second error line).
fn error_line(text: &str) -> &str {
    assert!(!text.contains("backtrace"), "backtrace printed:\n{text}");
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    lines[0]
}

fn ser(path: &Path, side: usize, frames: usize) {
    let mut w = SerWriter::create(path, SerHeader::new(side, side, ColorId::Mono, 8)).unwrap();
    for i in 0..frames {
        let bytes: Vec<u8> = (0..side * side).map(|p| ((p * 7 + i * 13) % 251) as u8).collect();
        w.write_raw(&bytes).unwrap();
    }
    w.finish().unwrap();
}

const RANK: &str = env!("CARGO_BIN_EXE_rank-frames");
const STACK: &str = env!("CARGO_BIN_EXE_stack-frames");
const TRAIN: &str = env!("CARGO_BIN_EXE_train-ranker");

#[test]
fn an_output_that_is_an_input_is_refused_and_the_input_survives() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("in.ser");
    ser(&video, 32, 8);
    let original = std::fs::read(&video).unwrap();
    let v = video.to_str().unwrap();
    let png = dir.path().join("stack.png");
    let p = png.to_str().unwrap();
    let cases: &[(&str, &[&str], &str)] = &[
        (RANK, &[v, "--csv", v], "--csv"),
        (RANK, &[v, "--contact-sheet", v], "--contact-sheet"),
        (STACK, &[v, "-o", p, "--export-best", v], "--export-best"),
        (TRAIN, &[v, "--kind", "linear", "-o", v], "-o"),
    ];
    for (bin, args, flag) in cases {
        let (ok, text) = run(bin, args);
        let line = error_line(&text);
        assert!(!ok && line.contains(flag) && line.contains("destroy the input"), "{args:?}: {text}");
        assert_eq!(std::fs::read(&video).unwrap(), original, "{args:?} changed the input");
    }
    assert!(!png.exists());

    // The same output twice: the SER would replace the stacked PNG.
    let (ok, text) = run(STACK, &[v, "-o", p, "--export-best", p]);
    assert!(!ok && error_line(&text).contains("-o and --export-best both name"), "{text}");
    // The name must match the bytes: --export-best writes SER.
    let (ok, text) = run(STACK, &[v, "-o", p, "--export-best", dir.path().join("best.png").to_str().unwrap()]);
    assert!(!ok && error_line(&text).contains("--export-best") && text.contains(".ser name"), "{text}");
    assert!(!png.exists() && !dir.path().join("best.png").exists());
}

#[test]
fn an_output_inside_the_input_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    for i in 0..4u8 {
        let img = image::GrayImage::from_fn(16, 16, |x, y| image::Luma([(x * 9 + y * 5) as u8 + i]));
        img.save(frames.join(format!("f{i:03}.png"))).unwrap();
    }
    let first = std::fs::read(frames.join("f000.png")).unwrap();
    let out = frames.join("f000.png");
    let (ok, text) = run(STACK, &[frames.to_str().unwrap(), "-o", out.to_str().unwrap(), "--best", "2"]);
    assert!(!ok && error_line(&text).contains("inside the input folder"), "{text}");
    assert_eq!(std::fs::read(frames.join("f000.png")).unwrap(), first);

    // --boxes on frames smaller than the smallest box: say so, not "from 8 to 4".
    let tiny = dir.path().join("tiny.ser");
    ser(&tiny, 4, 4);
    let out = dir.path().join("t.png");
    let (ok, text) = run(STACK, &[tiny.to_str().unwrap(), "-o", out.to_str().unwrap(), "--boxes", "8"]);
    let line = error_line(&text);
    assert!(!ok && line.contains("4x4") && line.contains("smaller than the smallest box"), "{text}");
    assert!(!line.contains("from 8 to 4"), "{text}");
}

#[test]
fn a_failing_contact_sheet_leaves_the_old_csv() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("v.ser");
    ser(&video, 32, 6);
    let csv = dir.path().join("scores.csv");
    std::fs::write(&csv, "the previous ranking\n").unwrap();
    // The sheet's folder is a file: the sheet cannot be written.
    std::fs::write(dir.path().join("not-a-folder"), b"x").unwrap();
    let sheet = dir.path().join("not-a-folder").join("sheet.html");
    let args = [video.to_str().unwrap(), "--csv", csv.to_str().unwrap(), "--contact-sheet", sheet.to_str().unwrap()];
    let (ok, text) = run(RANK, &args);
    assert!(!ok && error_line(&text).contains("sheet.html"), "{text}");
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), "the previous ranking\n");
}

#[test]
fn train_ranker_bounds_the_patch_before_reading_frames() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("v.ser");
    ser(&video, 64, 8);
    let out = dir.path().join("m.json");
    let (v, o) = (video.to_str().unwrap(), out.to_str().unwrap());
    for (patch, want) in [("0", "between 4 and 256"), ("10000", "between 4 and 256"), ("128", "larger than the 64x64")]
    {
        let (ok, text) = run(TRAIN, &[v, "--kind", "linear", "--patch", patch, "-o", o]);
        assert!(!ok && error_line(&text).contains(want), "--patch {patch}: {text}");
    }
    for bad in [["--fraction", "NaN"], ["--alpha", "inf"], ["--max-frames", "0"]] {
        let (ok, text) = run(TRAIN, &[v, "--kind", "ridge", bad[0], bad[1], "-o", o]);
        assert!(!ok && error_line(&text).contains(bad[0]), "{bad:?}: {text}");
    }
    assert!(!out.exists());
    // A model with the wrong number of weights is refused, not used to score every frame 0.
    let (ok, text) = run(TRAIN, &[v, "--kind", "ridge", "--patch", "8", "-o", o]);
    assert!(ok, "{text}");
    let mut model: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    model["weights"] = serde_json::json!([0.5, 0.25]);
    std::fs::write(&out, serde_json::to_vec(&model).unwrap()).unwrap();
    let csv = dir.path().join("r.csv");
    let (ok, text) = run(RANK, &[v, "--model", o, "--csv", csv.to_str().unwrap()]);
    assert!(!ok && error_line(&text).contains("2 weights"), "{text}");
    assert!(!csv.exists());
}

const SIM: &str = env!("CARGO_BIN_EXE_frame-sim");
const EVAL: &str = env!("CARGO_BIN_EXE_frame-eval");

/// Issue #29 items 21 and 24: `frame-sim --size 100000` aborted on an 80 GB allocation; `--size 32`
/// said "need size ≥ 32, pupil_px ≥ 8 and frames ≥ 1" although only the pupil (64 > 32) failed.
#[test]
fn frame_sim_bounds_its_size_and_names_only_the_failing_condition() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sim");
    let o = out.to_str().unwrap();
    let (ok, text) = run(SIM, &["--size", "100000", "--frames", "2", "-o", o]);
    assert!(!ok && error_line(&text).contains("--size") && text.contains("between 32 and 4096"), "{text}");
    let (ok, text) = run(SIM, &["--size", "32", "--frames", "2", "-o", o]);
    let line = error_line(&text);
    assert!(!ok && line.contains("pupil 64 must be at most the frame size 32"), "{text}");
    assert!(!line.contains("size ≥ 32") && !line.contains("frames"), "{text}");
    for bad in [["--d-over-r0", "NaN"], ["--cut-fraction", "2"], ["--frames", "0"]] {
        let (ok, text) = run(SIM, &[bad[0], bad[1], "-o", o]);
        assert!(!ok && error_line(&text).contains(bad[0]), "{bad:?}: {text}");
    }
    assert!(!out.exists());
}

/// Issue #29 item 1 for frame-eval: a report may not replace the simulation's own files.
#[test]
fn frame_eval_reports_may_not_replace_the_simulation() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    std::fs::create_dir(&sim).unwrap();
    ser(&sim.join("frames.ser"), 32, 4);
    std::fs::write(sim.join("truth.csv"), "the truth\n").unwrap();
    let truth = sim.join("truth.csv");
    let (ok, text) = run(EVAL, &[sim.to_str().unwrap(), "--json", truth.to_str().unwrap()]);
    assert!(!ok && error_line(&text).contains("--json") && text.contains("destroy the input"), "{text}");
    assert_eq!(std::fs::read_to_string(&truth).unwrap(), "the truth\n");
    let md = dir.path().join("t.md");
    let (ok, text) =
        run(EVAL, &[sim.to_str().unwrap(), "--json", md.to_str().unwrap(), "--markdown", md.to_str().unwrap()]);
    assert!(!ok && error_line(&text).contains("both name"), "{text}");
    let (ok, text) = run(EVAL, &[sim.to_str().unwrap(), "--top", "0"]);
    assert!(!ok && error_line(&text).contains("--top"), "{text}");
}
