//! End-to-end test in real headless Chromium, driven over the WebDriver protocol (chromedriver on
//! 127.0.0.1): open the page, choose a real Stellarium galaxy image with the file button, press
//! Predict, read the displayed class, toggle the activation map. Needs the Debian packages
//! `chromium` and `chromium-driver` (or $CHROME / $CHROMEDRIVER); fails if they are missing.
//! Set DSO_WEB_SCREENSHOT=path.png to save a screenshot of the result.

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use dso_web::AppConfig;
use serde_json::{Value, json};

const CHROME_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1100,900",
];

fn find(env: &str, names: &[&str]) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    for dir in ["/usr/bin", "/usr/local/bin", "/usr/lib/chromium"] {
        for name in names {
            let p = PathBuf::from(dir).join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("{} not found: install the Debian packages chromium and chromium-driver (or set ${env})", names[0]);
}

struct Driver {
    child: Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct WebDriver {
    http: reqwest::Client,
    base: String,
}

impl WebDriver {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("webdriver {path}: {e}"));
        let status = resp.status();
        let v: Value = resp.json().await.unwrap();
        assert!(status.is_success(), "webdriver {path}: {status} {v}");
        v["value"].clone()
    }

    async fn find(&self, session: &str, css: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                &format!("/session/{session}/element"),
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v.as_object().and_then(|o| o.values().next()).and_then(|e| e.as_str()).unwrap().to_string()
    }

    async fn script(&self, session: &str, js: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            &format!("/session/{session}/execute/sync"),
            Some(json!({"script": js, "args": []})),
        )
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_uploads_a_galaxy_and_shows_the_class() {
    let chrome = find("CHROME", &["chromium", "chromium-browser", "chrome"]);
    let chromedriver = find("CHROMEDRIVER", &["chromedriver"]);
    let addr = serve(AppConfig::default()).await;
    let image = galaxy_image();

    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _driver = Driver {
        child: Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", chromedriver.display())),
    };
    let wd = WebDriver { http: reqwest::Client::new(), base: format!("http://127.0.0.1:{port}") };
    let start = Instant::now();
    loop {
        if let Ok(r) = wd.http.get(format!("{}/status", wd.base)).send().await
            && let Ok(v) = r.json::<Value>().await
            && v["value"]["ready"] == true
        {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let profile = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = CHROME_FLAGS.iter().map(|s| s.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": chrome.display().to_string(), "args": args}
    }}});
    let session = wd.call(reqwest::Method::POST, "/session", Some(caps)).await;
    let sid = session["sessionId"].as_str().unwrap().to_string();

    let result = async {
        wd.call(reqwest::Method::POST, &format!("/session/{sid}/url"), Some(json!({"url": format!("http://{addr}/")})))
            .await;
        let input = wd.find(&sid, "#file-input").await;
        wd.call(
            reqwest::Method::POST,
            &format!("/session/{sid}/element/{input}/value"),
            Some(json!({"text": image.display().to_string()})),
        )
        .await;
        let button = wd.find(&sid, "#predict").await;
        wd.call(reqwest::Method::POST, &format!("/session/{sid}/element/{button}/click"), Some(json!({}))).await;
        let start = Instant::now();
        let class = loop {
            let text = wd.script(&sid, "return document.getElementById('result-class').textContent;").await;
            let error = wd.script(&sid, "return document.getElementById('error').textContent;").await;
            assert_eq!(error, "", "page shows an error");
            let t = text.as_str().unwrap_or_default().to_string();
            if !t.is_empty() && t != "…" {
                break t;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "no class displayed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let bars = wd.script(&sid, "return document.querySelectorAll('#bars .bar-row').length;").await;
        let toggle = wd.find(&sid, "#cam-toggle").await;
        wd.call(reqwest::Method::POST, &format!("/session/{sid}/element/{toggle}/click"), Some(json!({}))).await;
        let src = wd.script(&sid, "return document.getElementById('preview').src;").await;
        if let Some(path) = std::env::var_os("DSO_WEB_SCREENSHOT") {
            // Show the photo (not the overlay) in the saved screenshot.
            wd.call(reqwest::Method::POST, &format!("/session/{sid}/element/{toggle}/click"), Some(json!({}))).await;
            let png = wd.call(reqwest::Method::GET, &format!("/session/{sid}/screenshot"), None).await;
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        (class, bars, src)
    }
    .await;
    wd.call(reqwest::Method::DELETE, &format!("/session/{sid}"), None).await;

    let (class, bars, src) = result;
    assert_eq!(class, "galaxy");
    assert_eq!(bars, 3);
    assert!(src.as_str().unwrap().starts_with("data:image/png;base64,"), "CAM overlay shown");
}
