//! The `classify` binary on real Stellarium images, with the bundled models.

use std::process::Command;

use dataset::stellarium::StellariumSet;

fn image(file: &str) -> std::path::PathBuf {
    let set = StellariumSet::locate().expect("Stellarium data (run datasets/stellarium/fetch.sh)");
    set.nebulae_dir.join(file)
}

#[test]
fn classifies_a_real_galaxy_and_writes_the_cam_overlay() {
    let dir = tempfile::tempdir().unwrap();
    let cam = dir.path().join("cam.png");
    let out = Command::new(env!("CARGO_BIN_EXE_classify"))
        .arg(image("m101-vasey.png"))
        .args(["--json", "--cam"])
        .arg(&cam)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["class"], "galaxy", "{v}");
    assert_eq!(v["model"], "dsonet-three-class");
    assert_eq!(v["probabilities"].as_object().unwrap().len(), 3);
    let overlay = dataset::image_io::image_dimensions(&cam).unwrap();
    assert_eq!(overlay, (384, 384));

    let text = Command::new(env!("CARGO_BIN_EXE_classify"))
        .arg(image("m101-vasey.png"))
        .args(["--task", "galaxy-nebula", "--no-tta"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.lines().next().unwrap().ends_with(": galaxy"), "{stdout}");
    assert!(stdout.contains("nebula") && !stdout.contains("star cluster"), "{stdout}");
}

#[test]
fn a_file_that_is_not_an_image_fails_with_a_one_line_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("notes.png");
    std::fs::write(&bogus, "just text").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_classify")).arg(&bogus).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("notes.png") && err.contains("not a recognised image"), "{err}");
}
