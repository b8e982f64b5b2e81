//! End-to-end test in real headless Chromium, driven over the WebDriver protocol (chromedriver on
//! 127.0.0.1, `test_servers::webdriver`): open the page, choose a real Stellarium galaxy image with the file button, press
//! Predict, read the displayed class, toggle the activation map. Needs the Debian packages
//! `chromium` and `chromium-driver` (or $CHROME / $CHROMEDRIVER); fails if they are missing.
//! Set DSO_WEB_SCREENSHOT=path.png to save a screenshot of the result.

mod common;

use std::time::{Duration, Instant};

use common::*;
use dso_web::AppConfig;
use test_servers::webdriver::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_uploads_a_galaxy_and_shows_the_class() {
    let addr = serve(AppConfig::default()).await;
    let image = galaxy_image();
    // The browser is driven with blocking calls, off the server's runtime threads.
    let (class, bars, src) = tokio::task::spawn_blocking(move || {
        let wd = Browser::start();
        wd.goto(&format!("http://{addr}/"));
        wd.type_into("#file-input", &image.display().to_string());
        wd.click("#predict");
        let start = Instant::now();
        let class = loop {
            let text = wd.script("return document.getElementById('result-class').textContent;");
            let error = wd.script("return document.getElementById('error').textContent;");
            assert_eq!(error, "", "page shows an error");
            let t = text.as_str().unwrap_or_default().to_string();
            if !t.is_empty() && t != "…" {
                break t;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "no class displayed");
            std::thread::sleep(Duration::from_millis(100));
        };
        let bars = wd.script("return document.querySelectorAll('#bars .bar-row').length;");
        wd.click("#cam-toggle");
        let src = wd.script("return document.getElementById('preview').src;");
        if let Some(path) = std::env::var_os("DSO_WEB_SCREENSHOT") {
            // Show the photo (not the overlay) in the saved screenshot.
            wd.click("#cam-toggle");
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD.decode(wd.screenshot_base64()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        (class, bars, src)
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));

    assert_eq!(class, "galaxy");
    assert_eq!(bars, 3);
    assert!(src.as_str().unwrap().starts_with("data:image/png;base64,"), "CAM overlay shown");
}
