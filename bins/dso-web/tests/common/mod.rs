//! Shared helpers: a real server on 127.0.0.1 with the bundled models, and real Stellarium images.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use dataset::stellarium::{CoarseClass, StellariumSet};
use dso_classify::{Classifier, Task};
use dso_web::{AppConfig, AppState, router, start};
use ml_core::backend::FlexBackend;

/// The bundled models, as the binary loads them.
pub fn bundled_classifiers() -> Vec<Classifier<FlexBackend>> {
    let device = Default::default();
    [Task::ThreeClass, Task::GalaxyNebula]
        .into_iter()
        .map(|t| Classifier::<FlexBackend>::bundled(t, &device).expect("bundled model"))
        .collect()
}

/// Serve `state` on an ephemeral loopback port; the server lives as long as the test runtime.
pub async fn serve_state(state: Arc<AppState>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let listener = dso_web::HeadDeadlineListener::new(listener, state.config.head_timeout);
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
    addr
}

/// Start the real app (worker thread + bundled models) with `config`.
pub async fn serve(config: AppConfig) -> SocketAddr {
    serve_state(start(config, bundled_classifiers()).unwrap()).await
}

/// A real Stellarium image file by name (the data must be fetched; a missing set fails the test).
pub fn stellarium_image(file: &str) -> PathBuf {
    let set = StellariumSet::locate().expect("Stellarium data (run datasets/stellarium/fetch.sh)");
    let path = set.nebulae_dir.join(file);
    assert!(path.is_file(), "{} missing", path.display());
    path
}

/// The galaxy image used by the end-to-end tests (M 101, a face-on spiral), checked against the manifest.
pub fn galaxy_image() -> PathBuf {
    let set = StellariumSet::locate().expect("Stellarium data (run datasets/stellarium/fetch.sh)");
    let manifest = set.manifest().unwrap();
    let entry = manifest.iter().find(|d| d.file == GALAXY_FILE).expect("galaxy image in manifest");
    assert_eq!(entry.class, CoarseClass::Galaxy);
    entry.path.clone()
}

/// File name of the galaxy test image.
pub const GALAXY_FILE: &str = "m101-vasey.png";

/// A PNG whose header claims `w × h` pixels but which carries almost no data (a decompression bomb).
pub fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey
    chunk(&mut out, b"IHDR", &ihdr);
    // A zlib stream of a few zero bytes (would have to inflate to w*h bytes).
    chunk(&mut out, b"IDAT", &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
