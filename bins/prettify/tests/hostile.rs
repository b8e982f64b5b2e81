//! prettify's own flags against hostile values (issue #14): exit code ≠ 0, one line naming the
//! flag, no output written and no temporary folder left behind.

use std::process::Command;

/// The binary under a 2 GB address-space limit (`ulimit -v`): a tool that tried to allocate what a
/// hostile input declares would be killed instead of passing (issue #14: bounded memory).
fn limited(bin: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c").arg("ulimit -v 2000000; exec \"$0\" \"$@\"").arg(bin);
    c
}

fn run(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = limited(env!("CARGO_BIN_EXE_prettify"))
        .args(args)
        .current_dir(dir)
        .env("TMPDIR", dir.join("tmp"))
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn cutout_size_above_the_budget_and_bad_numbers_are_refused_without_leftovers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
    let url = "http://127.0.0.1:9/hips2fits";
    let cases: &[(&[&str], &str)] = &[
        (&["--ra", "10", "--dec", "20", "--fov", "0.1", "--size", "100000"], "--max-pixels"),
        (&["--ra", "10", "--dec", "20", "--fov", "0.1", "--size", "2000", "--max-pixels", "1000000"], "--max-pixels"),
        (&["--ra", "NaN", "--dec", "20", "--fov", "0.1"], "--ra"),
        (&["--ra", "10", "--dec", "95", "--fov", "0.1"], "--dec"),
        (&["--ra", "10", "--dec", "20", "--fov=-1"], "--fov"),
        (&["--ra", "10", "--dec", "20", "--fov", "0.1", "--size", "0"], "--size"),
        // Unreachable service: fails, and the temporary folder is removed on that path too.
        (&["--ra", "10", "--dec", "20", "--fov", "0.1", "--size", "64"], "cutout"),
    ];
    for (args, needle) in cases {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--hips2fits-url", url, "-o", "out.png"]);
        let (ok, text) = run(dir.path(), &all);
        assert!(!ok, "{args:?}: {text}");
        assert!(!text.contains("backtrace"), "{text}");
        // The `error:` line (retry warnings before it also say "error" in the transport's words).
        let line = text.lines().find(|l| l.starts_with("error:")).unwrap_or("");
        assert!(line.contains(needle), "{args:?}: {text}");
        assert!(!dir.path().join("out.png").exists());
        let left: Vec<_> = std::fs::read_dir(dir.path().join("tmp")).unwrap().collect();
        assert!(left.is_empty(), "{args:?}: temporary folders left: {left:?}");
    }
}

/// Issue #29 items 1 and 27: prettify's errors start with `error:` like every tool's (they began
/// with `prettify:`); `--fov 1e-300` is refused while parsing instead of being fetched and echoed
/// with 300 digits; `--starless` and the dream layer may not replace the input.
#[test]
fn errors_read_like_every_tools_and_outputs_may_not_replace_the_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
    let (ok, text) = run(dir.path(), &["missing.png", "-o", "out.png"]);
    assert!(!ok && text.starts_with("error: ") && text.trim().lines().count() == 1, "{text}");
    let (ok, text) = run(dir.path(), &["--ra", "10", "--dec", "20", "--fov", "1e-300"]);
    assert!(!ok && text.contains("--fov") && text.contains("between 1e-6 and 180"), "{text}");
    assert!(!text.contains("0.00000000"), "{text}");
    // The input named like the dream layer of the output: --hallucinate would replace it.
    for (name, args) in [
        ("in.png", ["in.png", "-o", "out.png", "--starless", "in.png"]),
        ("out.invented.png", ["out.invented.png", "-o", "out.png", "--hallucinate", "--spikes"]),
    ] {
        let input = dir.path().join(name);
        std::fs::write(&input, b"survey pixels").unwrap();
        let (ok, text) = run(dir.path(), &args);
        assert!(!ok && text.starts_with("error: ") && text.contains("destroy the input"), "{args:?}: {text}");
        assert_eq!(std::fs::read(&input).unwrap(), b"survey pixels");
    }
    assert!(!dir.path().join("out.png").exists());
}
