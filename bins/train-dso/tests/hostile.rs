//! train-dso against hostile flags (issue #29 items 20 and 21): `--batch-size 0` divided by zero;
//! sizes are bounded before any image is loaded, with one `error:` line naming the flag.

use std::process::Command;

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2000000; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_train-dso"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        // No Stellarium data: a flag that got past the checks would fail later, differently.
        .env("PRETTIER_STELLARIUM_DIR", "/nonexistent/stellarium")
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn zero_and_huge_sizes_are_refused_before_any_image_is_loaded() {
    let out = std::env::temp_dir().join(format!("train-dso-hostile-{}", std::process::id()));
    let o = out.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--batch-size", "0"], "--batch-size"),
        (&["--batch-size", "100000"], "--batch-size"),
        (&["--epochs", "0"], "--epochs"),
        (&["--image-size", "100000"], "--image-size"),
        (&["--folds", "1"], "--folds"),
        (&["--batch-size", "1024", "--image-size", "1024"], "pixels per step"),
    ];
    for (extra, want) in cases {
        let mut args = vec!["-o", o];
        args.extend_from_slice(extra);
        let (ok, text) = run(&args);
        assert!(!ok, "{extra:?} accepted: {text}");
        assert!(!text.contains("panicked") && !text.contains("backtrace"), "{extra:?}: {text}");
        let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("error")).collect();
        assert!(errors.len() == 1 && errors[0].contains(want), "{extra:?}: {text}");
        assert!(!text.contains("Stellarium"), "{extra:?} got as far as the data: {text}");
    }
    assert!(!out.exists());
}
