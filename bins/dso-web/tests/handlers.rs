//! Handler tests against a real server on 127.0.0.1 (real multipart uploads, real images, real models).

mod common;

use std::time::Duration;

use common::*;
use dso_web::{AppConfig, AppState, worker};
use reqwest::multipart::{Form, Part};

fn upload(bytes: Vec<u8>, name: &str) -> Form {
    Form::new().part("image", Part::bytes(bytes).file_name(name.to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_pages_and_prediction_on_a_real_galaxy_image() {
    let addr = serve(AppConfig::default()).await;
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");

    let health: serde_json::Value =
        client.get(format!("{base}/api/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["models"].as_array().unwrap().len(), 2);
    assert_eq!(health["queue_capacity"], 8);

    let index = client.get(&base).send().await.unwrap();
    assert_eq!(index.status(), 200);
    let html = index.text().await.unwrap();
    assert!(html.contains("id=\"drop-zone\"") && html.contains("id=\"predict\"") && html.contains("/static/app.js"));
    assert!(!html.contains("http://") && !html.contains("https://"), "no external assets (works offline)");
    let js = client.get(format!("{base}/static/app.js")).send().await.unwrap();
    assert_eq!(js.headers()["content-type"], "text/javascript; charset=utf-8");
    let doc = client.get(format!("{base}/documentation")).send().await.unwrap().text().await.unwrap();
    assert!(doc.contains("Model cards") && doc.contains("dsonet-three-class") && doc.contains("Held-out test split"));
    assert!(doc.contains("Stellarium") && doc.contains("Adam Block"));

    let bytes = std::fs::read(galaxy_image()).unwrap();
    let form = upload(bytes.clone(), GALAXY_FILE).text("task", "three-class").text("cam", "1");
    let resp = client.post(format!("{base}/api/predict")).multipart(form).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["class"], "galaxy", "{body}");
    assert_eq!(body["model"], "dsonet-three-class");
    let probs = body["probabilities"].as_object().unwrap();
    assert_eq!(probs.len(), 3);
    let total: f64 = probs.values().map(|v| v.as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-3, "probabilities sum to {total}");
    assert!(probs["galaxy"].as_f64().unwrap() > 0.5);
    assert!(body["elapsed_ms"].as_f64().unwrap() > 0.0);
    assert!(body["cam"].as_str().unwrap().starts_with("data:image/png;base64,"));

    // The two-class model answers with two probabilities and no CAM unless asked.
    let form = upload(bytes, "m101.jpg.png").text("task", "galaxy-nebula");
    let body: serde_json::Value =
        client.post(format!("{base}/api/predict")).multipart(form).send().await.unwrap().json().await.unwrap();
    assert_eq!(body["probabilities"].as_object().unwrap().len(), 2);
    assert!(body.get("cam").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_oversized_bodies_fake_images_and_decompression_bombs_with_plain_messages() {
    let config = AppConfig { body_limit: 1024 * 1024, ..AppConfig::default() };
    let addr = serve(config).await;
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/api/predict");

    // 413: body over the limit. The server may answer 413 and close the connection before the
    // client has finished writing the body; then the client sees the write fail instead. Either
    // way the upload is refused — it must never be accepted.
    match client.post(&url).multipart(upload(vec![0x89; 2 * 1024 * 1024], "big.png")).send().await {
        Ok(resp) => assert_eq!(resp.status(), 413),
        Err(e) => {
            let chain = format!("{e:?}");
            assert!(e.is_request() && (chain.contains("BodyWrite") || chain.contains("BrokenPipe")), "{chain}");
        }
    }

    // 415: a script named .png; the echoed name is JSON text, not HTML (the page shows it through
    // textContent; entities would show as "&lt;"), served as JSON so no browser renders it.
    let name = "<script>alert(1)</script>.png";
    let resp = client.post(&url).multipart(upload(b"<html>not an image</html>".to_vec(), name)).send().await.unwrap();
    assert_eq!(resp.status(), 415);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body: serde_json::Value = resp.json().await.unwrap();
    let msg = body["error"].as_str().unwrap();
    assert!(msg.starts_with(name) && !msg.contains("&lt;"), "{msg}");
    assert!(msg.contains("not a PNG, JPEG, TIFF or GIF"), "{msg}");

    // 413 before decoding: a tiny PNG whose header claims 60000 × 60000 pixels.
    let bomb = png_bomb(60_000, 60_000);
    assert!(bomb.len() < 100);
    let resp = client.post(&url).multipart(upload(bomb, "bomb.png")).send().await.unwrap();
    assert_eq!(resp.status(), 413);
    let body: serde_json::Value = resp.json().await.unwrap();
    let msg = body["error"].as_str().unwrap();
    assert!(msg.contains("3600000000 pixels") && msg.contains("budget"), "{msg}");

    // 415: a real PNG signature with garbage after it (content sniffed, then the decoder refuses).
    let mut broken = b"\x89PNG\r\n\x1a\n".to_vec();
    broken.extend_from_slice(b"garbage<b>bold</b>");
    let resp = client.post(&url).multipart(upload(broken, "broken.png")).send().await.unwrap();
    assert!(resp.status() == 415 || resp.status() == 400, "{}", resp.status());
    let body: serde_json::Value = resp.json().await.unwrap();
    // The decoder's text (here echoing the bytes "age<") comes back as JSON text: one line, no
    // control characters, no HTML entities (issue #29 item 27; the page uses textContent).
    let msg = body["error"].as_str().unwrap();
    assert!(msg.starts_with("broken.png: cannot decode"), "{body}");
    assert!(!msg.chars().any(char::is_control) && !msg.contains("&lt;"), "{body}");

    // 400: no image field; bad task; not multipart at all.
    let resp = client.post(&url).multipart(Form::new().text("task", "three-class")).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let png = std::fs::read(stellarium_image("m41.png")).unwrap();
    let resp = client.post(&url).multipart(upload(png, "m41.png").text("task", "<quasar>")).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("<quasar>"), "{body}");
    let resp = client.post(&url).body("hello").send().await.unwrap();
    assert!(resp.status().is_client_error(), "{}", resp.status());

    // 404 page escapes the path.
    let resp = client.get(format!("http://{addr}/%3Cimg%20src=x%3E")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert!(!resp.text().await.unwrap().contains("<img"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_answers_503_and_a_stuck_job_times_out() {
    // A queue of one with no worker attached: the first job waits, the second finds the queue full.
    let (queue, jobs) = worker::channel(1);
    let config = AppConfig { queue_capacity: 1, inference_timeout: Duration::from_secs(3), ..AppConfig::default() };
    let cards = bundled_classifiers().into_iter().map(|c| c.card).collect();
    let addr = serve_state(std::sync::Arc::new(AppState { config, queue, cards })).await;
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/api/predict");
    let png = std::fs::read(stellarium_image("m41.png")).unwrap();

    let first = tokio::spawn({
        let (client, url, png) = (client.clone(), url.clone(), png.clone());
        async move { client.post(&url).multipart(upload(png, "m41.png")).send().await.unwrap().status() }
    });
    let mut waited = 0;
    loop {
        let h: serde_json::Value =
            client.get(format!("http://{addr}/api/health")).send().await.unwrap().json().await.unwrap();
        if h["queue_free"] == 0 {
            break;
        }
        waited += 1;
        assert!(waited < 200, "first job never queued");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = client.post(&url).multipart(upload(png, "m41.png")).send().await.unwrap();
    assert_eq!(second.status(), 503);
    assert_eq!(first.await.unwrap(), 504);
    drop(jobs);
}

/// Send a raw HTTP request and read the whole answer (status, body), ignoring a write cut short.
async fn raw_exchange(addr: std::net::SocketAddr, head: String, chunks: Vec<Vec<u8>>) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        wr.write_all(head.as_bytes()).await?;
        for c in chunks {
            wr.write_all(format!("{:x}\r\n", c.len()).as_bytes()).await?;
            wr.write_all(&c).await?;
            wr.write_all(b"\r\n").await?;
        }
        wr.write_all(b"0\r\n\r\n").await?;
        std::io::Result::Ok(())
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), rd.read_to_end(&mut answer)).await;
    writer.abort();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_chunked_upload_gets_a_json_413_not_a_500() {
    let config = AppConfig { body_limit: 1024 * 1024, ..AppConfig::default() };
    let addr = serve(config).await;
    let boundary = "XBOUNDARYX";
    let head = format!(
        "POST /api/predict HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let mut chunks = vec![
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"big.png\"\r\n\
             Content-Type: image/png\r\n\r\n"
        )
        .into_bytes(),
    ];
    chunks.extend((0..32).map(|_| vec![0x89u8; 64 * 1024]));
    chunks.push(format!("\r\n--{boundary}--\r\n").into_bytes());
    let (status, body) = raw_exchange(addr, head, chunks).await;
    assert_eq!(status, 413, "{body}");
    let json: serde_json::Value = serde_json::from_str(body.trim()).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    assert!(json["error"].as_str().unwrap().contains("limit"), "{json}");

    // A declared Content-Length over the limit: the layer's own 413 is JSON too.
    let head = format!(
        "POST /api/predict HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: 5000000\r\nConnection: close\r\n\r\n"
    );
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    assert!(serde_json::from_str::<serde_json::Value>(body.trim()).is_ok(), "not JSON: {text}");
}
