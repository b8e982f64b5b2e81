//! The binaries end to end on a small simulated video: sim → rank → train → rank with model → stack + export.

use std::process::Command;

fn run(bin: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(bin).args(args).output().expect("binary runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn simulate_rank_train_stack_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let d = |p: &str| dir.path().join(p).to_string_lossy().into_owned();
    let (ok, text) = run(
        env!("CARGO_BIN_EXE_frame-sim"),
        &["-o", &d("sim"), "--frames", "24", "--size", "96", "--radius", "30", "--pupil", "24", "--d-over-r0", "5"],
    );
    assert!(ok, "{text}");
    let ser = d("sim/frames.ser");

    let (ok, text) = run(env!("CARGO_BIN_EXE_rank-frames"), &[&ser, "--csv", &d("rank.csv")]);
    assert!(ok, "{text}");
    assert!(text.contains("frames/s"), "{text}");
    let csv = std::fs::read_to_string(d("rank.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "frame,score,rank");
    assert_eq!(lines.len(), 25);
    let mut ranks: Vec<usize> = lines[1..].iter().map(|l| l.rsplit(',').next().unwrap().parse().unwrap()).collect();
    ranks.sort_unstable();
    assert_eq!(ranks, (1..=24).collect::<Vec<_>>());

    let (ok, text) = run(
        env!("CARGO_BIN_EXE_train-ranker"),
        &[&ser, "--kind", "ridge", "--teacher", "disc-laplace", "-o", &d("ridge.json")],
    );
    assert!(ok, "{text}");
    let (ok, text) = run(env!("CARGO_BIN_EXE_rank-frames"), &[&ser, "--model", &d("ridge.json"), "--csv", &d("m.csv")]);
    assert!(ok, "{text}");
    assert_eq!(std::fs::read_to_string(d("m.csv")).unwrap().lines().count(), 25);

    let (ok, text) = run(
        env!("CARGO_BIN_EXE_stack-frames"),
        &[&ser, "--best", "25%", "-o", &d("stack.png"), "--export-best", &d("best.ser"), "--sharpen", "0.5"],
    );
    assert!(ok, "{text}");
    let img = image::open(d("stack.png")).unwrap();
    assert_eq!((img.width(), img.height()), (96, 96));
    assert!(matches!(img, image::DynamicImage::ImageLuma16(_)), "16-bit output");
    let best = frame_quality::SerReader::open(std::path::Path::new(&d("best.ser"))).unwrap();
    assert_eq!(best.len(), 6);
    assert_eq!(best.timestamps().map(|t| t.len()), Some(6));

    // Bad input: a one-line error naming the file, non-zero exit, no output written.
    std::fs::write(d("junk.ser"), b"definitely not a video").unwrap();
    let (ok, text) = run(env!("CARGO_BIN_EXE_rank-frames"), &[&d("junk.ser"), "--csv", &d("junk.csv")]);
    assert!(!ok);
    assert!(text.contains("junk.ser"), "{text}");
    assert!(!dir.path().join("junk.csv").exists());
    let (ok, text) = run(env!("CARGO_BIN_EXE_rank-frames"), &[&ser, "--metric", "sharpest", "--csv", &d("x.csv")]);
    assert!(!ok && text.contains("unknown metric 'sharpest'"), "{text}");
}

#[test]
fn grid_simulation_and_evaluation_print_the_tables_and_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let d = |p: &str| dir.path().join(p).to_string_lossy().into_owned();
    let cells = "mars-tiny-noisy,mars-small-bright-cut";
    let (ok, text) =
        run(env!("CARGO_BIN_EXE_frame-sim"), &["--grid", "--cells", cells, "--frames", "30", "-o", &d("grid")]);
    assert!(ok, "{text}");
    assert!(
        dir.path().join("grid/mars-tiny-noisy/truth.csv").is_file() && !dir.path().join("grid/moon-field").exists()
    );
    let (ok, text) = run(env!("CARGO_BIN_EXE_frame-eval"), &["--grid", &d("grid"), "--markdown", &d("grid.md")]);
    assert!(ok, "{text}");
    let md = std::fs::read_to_string(d("grid.md")).unwrap();
    assert!(md.contains("| ρ | mars-small-bright-cut | mars-tiny-noisy | mean |"), "{md}");
    assert!(md.contains("| bandpass |") && md.contains("| pipp |") && md.contains("Default `bandpass`"), "{md}");
    // A misspelt cell is refused with the list of cells; an empty folder is refused.
    let (ok, text) = run(env!("CARGO_BIN_EXE_frame-sim"), &["--grid", "--cells", "mars-huge", "-o", &d("g2")]);
    assert!(!ok && text.contains("mars-huge") && text.contains("moon-field"), "{text}");
    std::fs::create_dir(d("empty")).unwrap();
    let (ok, text) = run(env!("CARGO_BIN_EXE_frame-eval"), &["--grid", &d("empty")]);
    assert!(!ok && text.contains("no simulated cells"), "{text}");
}
