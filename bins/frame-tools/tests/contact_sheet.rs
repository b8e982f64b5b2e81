//! The contact sheet → picks → train-ranker --labels → rank-frames --model loop, end to end.
//!
//! `contact_sheet_marks_keys_and_clicks_into_picks_csv` opens the sheet that `rank-frames
//! --contact-sheet` writes in real headless Chromium over file:// (driven through chromedriver's
//! WebDriver protocol on 127.0.0.1, `test_servers::webdriver`), marks frames with keys and
//! clicks, zooms, presses "Download picks.csv" and checks the CSV the page produced; that CSV then
//! trains a picks ranker used by rank-frames. Needs the Debian packages `chromium` and
//! `chromium-driver` (or $CHROME / $CHROMEDRIVER); `scripts/test` installs them. Fails if they are missing.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use test_servers::webdriver::{Browser, ESCAPE, RIGHT};

fn run(bin: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(bin).args(args).output().expect("binary runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// A small simulated video in `dir/sim/frames.ser`.
fn simulate(dir: &Path, frames: usize) -> String {
    let out = dir.join("sim");
    let (ok, text) = run(
        env!("CARGO_BIN_EXE_frame-sim"),
        &[
            "-o",
            out.to_str().unwrap(),
            "--frames",
            &frames.to_string(),
            "--size",
            "96",
            "--radius",
            "30",
            "--pupil",
            "24",
            "--d-over-r0",
            "5",
        ],
    );
    assert!(ok, "{text}");
    out.join("frames.ser").to_string_lossy().into_owned()
}

#[test]
fn contact_sheet_marks_keys_and_clicks_into_picks_csv() {
    let dir = tempfile::tempdir().unwrap();
    let d = |p: &str| dir.path().join(p).to_string_lossy().into_owned();
    let ser = simulate(dir.path(), 30);

    let (ok, text) =
        run(env!("CARGO_BIN_EXE_rank-frames"), &[&ser, "--contact-sheet", &d("sheet.html"), "--sheet-frames", "12"]);
    assert!(ok, "{text}");
    assert!(text.contains("sheet.html (12 frames to mark)"), "{text}");
    let html = std::fs::read_to_string(d("sheet.html")).unwrap();
    assert_eq!(html.matches("class=\"tile\"").count(), 12);
    assert!(!html.contains("http://") && !html.contains("https://"), "the page needs no network");

    let wd = Browser::start();

    let (frames, csv, again) = {
        wd.goto(&format!("file://{}", d("sheet.html")));
        let frames: Vec<u64> = serde_json::from_value(
            wd.script("return [...document.querySelectorAll('.tile')].map(t => +t.dataset.frame);"),
        )
        .unwrap();
        assert_eq!(frames.len(), 12);
        assert!(frames.windows(2).all(|w| w[0] < w[1]), "video order: {frames:?}");
        let loaded = wd.script("return [...document.images].filter(i => i.id !== 'zoom-img').every(i => i.complete && i.naturalWidth > 0);");
        assert_eq!(loaded, true, "every embedded PNG decodes");

        // Keys: tile 0 good, tile 1 bad then unmarked, tile 2 good, tile 3 bad.
        wd.keys(&["g", "j", "b", RIGHT, "1", "k", "u", "j", "j", "0"]);
        // Clicks: tile 5 bad, tile 6 good, tile 7 good twice (= unmarked again).
        wd.click(".tile:nth-child(6) button.bad");
        wd.click(".tile:nth-child(7) button.good");
        wd.click(".tile:nth-child(8) button.good");
        wd.click(".tile:nth-child(8) button.good");
        // Zoom tile 8 by clicking its image: full-resolution crop, then 2× with 'z'.
        wd.click(".tile:nth-child(9) img");
        let zoom = wd.script(
            "const z=document.getElementById('zoom'),i=document.getElementById('zoom-img'),\
             t=document.querySelectorAll('.tile img')[8];return [z.hidden,i.width,+t.dataset.w,i.naturalWidth];",
        );
        assert_eq!(zoom[0], false, "zoom open: {zoom}");
        assert_eq!(zoom[1], zoom[2], "1× = the crop's full resolution: {zoom}");
        assert_eq!(zoom[2], zoom[3], "data-w is the PNG's width: {zoom}");
        wd.keys(&["z"]);
        let w2 = wd.script("return document.getElementById('zoom-img').width;");
        assert_eq!(w2.as_u64(), zoom[1].as_u64().map(|w| 2 * w), "2× zoom");
        // While zoomed: mark tile 8 good, move to tile 9, mark it bad, close.
        wd.keys(&["g", RIGHT, "b"]);
        let caption = wd.script("return document.getElementById('zoom-caption').textContent;");
        assert!(caption.as_str().unwrap().starts_with(&format!("frame {} (10/12", frames[9])), "{caption}");
        wd.keys(&[ESCAPE]);
        assert_eq!(wd.script("return document.getElementById('zoom').hidden;"), true);

        let counter = wd.script("return document.getElementById('counter').textContent;");
        assert_eq!(counter, "4 good · 3 bad · 5 unmarked of 12");
        wd.click("#download");
        let csv = wd.script("return document.getElementById('csv').textContent;");
        (frames, csv.as_str().unwrap_or_default().to_string(), wd.script("return window.picksCsv();"))
    };
    drop(wd);

    let expected: String = [(0, 1), (2, 1), (3, 0), (5, 0), (6, 1), (8, 1), (9, 0)]
        .iter()
        .fold("frame,label\n".to_string(), |s, (i, l)| s + &format!("{},{l}\n", frames[*i]));
    assert_eq!(csv, expected);
    assert_eq!(again, expected.as_str());

    // The downloaded picks train a picks ranker, which rank-frames uses.
    std::fs::write(d("picks.csv"), &csv).unwrap();
    let (ok, text) = run(env!("CARGO_BIN_EXE_train-ranker"), &[&ser, "--labels", &d("picks.csv"), "-o", &d("m.json")]);
    assert!(ok, "{text}");
    assert!(text.contains("trained a picks ranker on 7 labels (4 good, 3 bad)"), "{text}");
    let (ok, text) = run(env!("CARGO_BIN_EXE_rank-frames"), &[&ser, "--model", &d("m.json"), "--csv", &d("r.csv")]);
    assert!(ok, "{text}");
    assert!(text.contains("Picks"), "{text}");
    let ranks = std::fs::read_to_string(d("r.csv")).unwrap();
    assert_eq!(ranks.lines().count(), 31);
    // The model's scores put the frames marked good above the frames marked bad on average.
    let score: Vec<f64> = ranks.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse().unwrap()).collect();
    let mean = |idx: &[usize]| idx.iter().map(|&i| score[frames[i] as usize]).sum::<f64>() / idx.len() as f64;
    assert!(mean(&[0, 2, 6, 8]) > mean(&[3, 5, 9]), "good frames score above bad ones: {ranks}");

    // A picks model whose features do not match this build is refused by name, in one line.
    let mut model: Value = serde_json::from_str(&std::fs::read_to_string(d("m.json")).unwrap()).unwrap();
    assert_eq!(model["kind"], "picks");
    model["grid"] = json!(2);
    std::fs::write(d("bad.json"), model.to_string()).unwrap();
    let (ok, text) = run(env!("CARGO_BIN_EXE_rank-frames"), &[&ser, "--model", &d("bad.json"), "--csv", &d("b.csv")]);
    assert!(!ok && text.contains("bad.json") && text.contains("do not match"), "{text}");
    assert_eq!(text.trim_end().lines().count(), 1, "{text}");
    assert!(!dir.path().join("b.csv").exists());
}

#[test]
fn train_ranker_labels_errors_keep_the_old_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = |p: &str| dir.path().join(p).to_string_lossy().into_owned();
    let ser = simulate(dir.path(), 12);
    std::fs::write(d("model.json"), b"{\"old\": true}").unwrap();
    let cases = [
        (
            "frame,label\n0,1\n1,0\n2,1\n3,0\n4,1\n12,0\n",
            "picks.csv: line 7: frame 12 is not in the video (it has 12 frames",
        ),
        ("0,1\n1,0\n2,1\n3,0\n4,1\n1,1\n", "picks.csv: line 6: frame 1 is labelled twice (first on line 2)"),
        ("0,1\n1,0\n2,good\n", "picks.csv: line 3: label 'good' is not 0 (bad) or 1 (good)"),
        ("0,1\n1,1\n2,1\n3,1\n4,1\n5,1\n", "picks.csv: all 6 labels are good (1)"),
        ("0,1\n1,0\n", "picks.csv: 2 labels; at least 6 are needed"),
    ];
    // The same for the logistic picks ranker (the default) and the CNN fine-tuning (--kind cnn).
    for ((text, want), kind) in cases.iter().flat_map(|c| [(*c, "picks"), (*c, "cnn")]) {
        std::fs::write(d("picks.csv"), text).unwrap();
        let (ok, out) = run(
            env!("CARGO_BIN_EXE_train-ranker"),
            &[&ser, "--labels", &d("picks.csv"), "--kind", kind, "-o", &d("model.json")],
        );
        assert!(!ok, "{out}");
        assert!(out.contains(want), "want '{want}' in: {out}");
        assert_eq!(out.trim_end().lines().count(), 1, "one-line error: {out}");
        assert!(!out.contains("panicked"), "{out}");
        assert_eq!(std::fs::read(d("model.json")).unwrap(), b"{\"old\": true}", "existing model kept");
    }
    let (ok, out) =
        run(env!("CARGO_BIN_EXE_train-ranker"), &[&ser, "--labels", &d("missing.csv"), "-o", &d("model.json")]);
    assert!(!ok && out.contains("missing.csv"), "{out}");
    let (ok, out) = run(env!("CARGO_BIN_EXE_train-ranker"), &[&ser, "-o", &d("model.json")]);
    assert!(!ok && out.contains("--labels"), "neither --kind nor --labels: {out}");
    // Good picks fine-tune the CNN; rank-frames and stack-frames use the model.
    std::fs::write(d("picks.csv"), "0,1\n1,0\n2,1\n3,0\n4,1\n5,0\n").unwrap();
    let (ok, out) = run(
        env!("CARGO_BIN_EXE_train-ranker"),
        &[&ser, "--labels", &d("picks.csv"), "--kind", "cnn", "--steps", "20", "-o", &d("cnn.json")],
    );
    assert!(ok && out.contains("fine-tuned the quality CNN on 6 labels (3 good, 3 bad"), "{out}");
    let model: Value = serde_json::from_slice(&std::fs::read(d("cnn.json")).unwrap()).unwrap();
    assert_eq!(model["kind"], "cnn-picks");
    let (ok, out) = run(env!("CARGO_BIN_EXE_rank-frames"), &[&ser, "--model", &d("cnn.json"), "--csv", &d("r.csv")]);
    assert!(ok, "{out}");
    assert_eq!(std::fs::read_to_string(d("r.csv")).unwrap().lines().filter(|l| !l.trim().is_empty()).count(), 13);
    let (ok, out) =
        run(env!("CARGO_BIN_EXE_rank-frames"), &[&ser, "--contact-sheet", &d("s.html"), "--sheet-frames", "0"]);
    assert!(!ok && out.contains("--sheet-frames 0"), "{out}");
    assert!(!dir.path().join("s.html").exists());
    assert_eq!(std::fs::read(d("model.json")).unwrap(), b"{\"old\": true}");
}
