//! stack-frames per-region selection flags: `--boxes` selects per box by default, `--global-select`
//! restores the global selection, and `--global-select` without `--boxes` is refused.

use std::process::Command;

use frame_quality::simulation::{AnisoConfig, SimConfig, planet_texture, simulate_aniso_to_dir};

fn stack_frames(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stack-frames")).args(args).output().expect("stack-frames runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn boxes_select_per_region_unless_global_select_is_given() {
    let tex = planet_texture("mars").expect("Stellarium data (run datasets/stellarium/fetch.sh)");
    let dir = tempfile::tempdir().unwrap();
    let sim =
        SimConfig { size: 96, disc_radius: 30.0, pupil_px: 24, frames: 30, d_over_r0: 6.0, ..SimConfig::default() };
    let sim =
        simulate_aniso_to_dir(&AnisoConfig { sim, patches: 3, correlation: 0.0 }, &tex, dir.path(), &|_| {}).unwrap();
    let ser = sim.ser.to_str().unwrap();
    let (local, global) = (dir.path().join("local.png"), dir.path().join("global.png"));
    let (ok, text) = stack_frames(&[ser, "-o", local.to_str().unwrap(), "--best", "20%", "--boxes", "32"]);
    assert!(ok, "{text}");
    let (ok, text) =
        stack_frames(&[ser, "-o", global.to_str().unwrap(), "--best", "20%", "--boxes", "32", "--global-select"]);
    assert!(ok, "{text}");
    let (a, b) = (std::fs::read(&local).unwrap(), std::fs::read(&global).unwrap());
    assert_ne!(a, b, "per-box and global selection gave the same stack");

    let refused = dir.path().join("refused.png");
    let (ok, text) = stack_frames(&[ser, "-o", refused.to_str().unwrap(), "--global-select"]);
    assert!(!ok, "{text}");
    let line = text.lines().find(|l| l.contains("error")).unwrap_or_else(|| panic!("no error line:\n{text}"));
    assert!(line.contains("--global-select") && line.contains("--boxes"), "not one line naming both flags: {text}");
    assert!(!refused.exists());
}
