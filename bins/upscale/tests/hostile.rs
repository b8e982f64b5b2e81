//! Hostile inputs for `upscale` run under an address-space limit (issue #14 defect 1): a tiny
//! GIF declaring a huge logical screen, and one with thousands of frames, are refused from their
//! headers in one line naming the file, without allocating, and nothing is written.

use std::path::Path;
use std::process::Command;

/// A minimal GIF: `screen` logical screen, `frames` 1×1 frames (≈ 20 bytes each).
fn gif(screen: (u16, u16), frame_side: u16, frames: usize) -> Vec<u8> {
    let mut b = b"GIF89a".to_vec();
    b.extend_from_slice(&screen.0.to_le_bytes());
    b.extend_from_slice(&screen.1.to_le_bytes());
    b.extend_from_slice(&[0x80, 0, 0]); // global colour table of 2 entries
    b.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
    for _ in 0..frames {
        b.push(0x2C);
        b.extend_from_slice(&[0, 0, 0, 0]);
        b.extend_from_slice(&frame_side.to_le_bytes());
        b.extend_from_slice(&frame_side.to_le_bytes());
        b.push(0);
        b.extend_from_slice(&[2, 2, 0x4C, 0x01, 0]); // LZW: clear, 0, end
    }
    b.push(0x3B);
    b
}

/// Run `upscale` with at most 1.5 GB of address space (a decoder allocating the declared size would die).
fn upscale_limited(args: &[&str]) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1500000; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_upscale"))
        .args(args)
        .output()
        .expect("run upscale")
}

fn check_refused(input: &Path, out: &Path, expect: &str) {
    let o = upscale_limited(&[input.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "accepted: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line expected: {err}");
    assert!(err.contains(input.file_name().unwrap().to_str().unwrap()), "names the file: {err}");
    assert!(err.contains(expect), "says '{expect}': {err}");
    assert!(!out.exists(), "nothing written");
}

#[test]
fn gif_bombs_are_refused_from_the_header_within_a_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let screen = dir.path().join("screen-bomb.gif");
    std::fs::write(&screen, gif((30000, 30000), 1, 1)).unwrap();
    check_refused(&screen, &dir.path().join("out1.gif"), "30000");
    let frames = dir.path().join("frame-bomb.gif");
    std::fs::write(&frames, gif((500, 500), 500, 3000)).unwrap();
    check_refused(&frames, &dir.path().join("out2.gif"), "3000 frames");
}

#[test]
fn kill_9_mid_run_leaves_the_old_output_intact() {
    let dir = tempfile::tempdir().unwrap();
    // A 640×480 textured image: ×4 takes seconds, long enough to be killed mid-run.
    let (w, h) = (640usize, 480usize);
    let mut img = astro_image::Planes::zeros(3, h, w);
    for c in 0..3 {
        for y in 0..h {
            for x in 0..w {
                img.plane_mut(c)[y * w + x] = 0.5 + 0.4 * ((x * (c + 3)) as f32 * 0.05).sin() * (y as f32 * 0.07).cos();
            }
        }
    }
    let input = dir.path().join("in.png");
    astro_image::image_io::save_image(&img, &input, 8).unwrap();
    let out = dir.path().join("out.png");
    std::fs::write(&out, b"the previous output").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_upscale"))
        .args([input.to_str().unwrap(), "-o", out.to_str().unwrap(), "--scale", "4"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1000));
    assert!(child.try_wait().unwrap().is_none(), "upscale finished before the kill; make the input bigger");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"the previous output", "the old output was touched");
}

/// Issue #29 item 9: the output band was sized by the tile alone, so a 300 KB PNG of 100000×1
/// pixels asked for 4.9 GB and died; within 1.5 GB of address space it is now upscaled.
#[test]
fn a_very_wide_one_row_image_is_upscaled_within_a_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("wide.png");
    let mut row = astro_image::Planes::zeros(3, 1, 100_000);
    for (i, v) in row.data.iter_mut().enumerate() {
        *v = ((i * 37) % 251) as f32 / 250.0;
    }
    astro_image::image_io::save_image(&row, &input, 8).unwrap();
    let out = dir.path().join("wide-x4.png");
    let o = upscale_limited(&[input.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(astro_image::image_io::image_dimensions(&out).unwrap(), (400_000, 4));
}

/// Issue #29 item 16: a FIFO in place of the input is refused at once by name, not waited on
/// (opening a FIFO for reading blocks until a writer comes; `timeout` turns a hang into a failure).
#[test]
fn a_fifo_input_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("in.png");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let out = dir.path().join("out.png");
    let run = Command::new("timeout")
        .arg("60")
        .arg(env!("CARGO_BIN_EXE_upscale"))
        .arg(&fifo)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(err.contains("in.png") && err.contains("not a regular file"), "{err}");
    assert!(!out.exists());
}
