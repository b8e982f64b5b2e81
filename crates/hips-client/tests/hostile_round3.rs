//! hips-client against hostile servers, round 3 (issue #29): a cutout of the wrong size (item 3)
//! and server error text carrying newlines and ANSI escapes (item 22).

use hips_client::{CutoutRequest, DiskCache, Hips2FitsClient, HipsError, ImageFormat, Policy};
use test_servers::{RawServer, answer};

fn request(format: ImageFormat) -> CutoutRequest {
    CutoutRequest::from_center("CDS/P/DSS2/color", (10.0, 20.0), 0.1, (64, 48), 0.0, format)
}

/// A real 7×5 image in `format` (PNG, JPEG or FITS).
fn small_image(format: ImageFormat) -> Vec<u8> {
    hips_client::encode_image(&hips_client::Planes::zeros(3, 5, 7), format, None).unwrap()
}

fn files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| if e.path().is_dir() { files(&e.path()) } else { 1 }).sum())
        .unwrap_or(0)
}

#[test]
fn a_cutout_of_the_wrong_size_is_refused_and_not_cached() {
    for format in [ImageFormat::Png, ImageFormat::Jpg, ImageFormat::Fits] {
        let body = small_image(format);
        let ctype = match format {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpg => "image/jpeg",
            ImageFormat::Fits => "application/fits",
        };
        let server = RawServer::start(move |_| Some(answer("200 OK", ctype, "", &body)));
        let dir = tempfile::tempdir().unwrap();
        let client = Hips2FitsClient::new(
            &format!("{}/hips2fits", server.base),
            Policy::fast(),
            Some(DiskCache::new(dir.path())),
        )
        .unwrap();
        for result in [client.fetch_encoded(&request(format)), client.fetch_bytes(&request(format))] {
            let err = result.unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, HipsError::BadResponse { .. }), "{format:?}: {msg}");
            assert!(msg.contains("asked for 64x48 pixels, the image is 7x5"), "{format:?}: {msg}");
        }
        assert!(client.fetch(&request(format)).is_err());
        assert_eq!(files(dir.path()), 0, "{format:?}: a wrong-size cutout was cached");
    }
}

#[test]
fn server_error_text_reaches_the_message_as_one_plain_line() {
    let body =
        "{\"title\":\"Bad\\r\\nrequest\\u001b[2J\",\"description\":\"line one\\nline two\\u001b[31m red\\u0007\"}";
    let server = RawServer::start(move |_| Some(answer("400 Bad Request", "application/json", "", body.as_bytes())));
    let client = Hips2FitsClient::new(&format!("{}/hips2fits", server.base), Policy::fast(), None).unwrap();
    let msg = client.fetch_bytes(&request(ImageFormat::Png)).unwrap_err().to_string();
    assert!(!msg.chars().any(|c| c.is_control()), "control characters in {msg:?}");
    assert!(msg.contains("Bad request [2J: line one line two [31m red"), "{msg}");
    // Not JSON: the raw text, cut and cleaned the same way.
    let raw = format!("<pre>\x1b[1mDown\x1b[0m\n{}</pre>", "x".repeat(5000));
    let server = RawServer::start(move |_| Some(answer("500 Oops", "text/html", "", raw.as_bytes())));
    let policy = Policy { max_retries: 0, ..Policy::fast() };
    let client = Hips2FitsClient::new(&format!("{}/hips2fits", server.base), policy, None).unwrap();
    let msg = client.fetch_bytes(&request(ImageFormat::Png)).unwrap_err().to_string();
    assert!(!msg.chars().any(|c| c.is_control()) && msg.len() < 700, "{msg:?}");
}
