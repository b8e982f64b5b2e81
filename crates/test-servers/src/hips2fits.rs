//! A local stand-in for the CDS hips2fits service: `GET /hips2fits?hips=…` with either the `wcs=`
//! JSON FITS header (what `CutoutRequest::from_wcs` sends) or `ra`/`dec`/`fov`/`width`/`height`
//! (`projection=TAN`, optional `rotation_angle`; what `from_center` sends), answering a PNG or JPEG
//! (`format=png|jpg`) that renders a sky function at the centre of every pixel of the requested
//! WCS, so cutouts land exactly where the client asked. Bad requests get the service's JSON error
//! (`{"title", "description"}`, HTTP 400); [`Hips2FitsServer::refusing`] answers every request
//! with a given status and body.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{Arc, Mutex};

use sky_geometry::Wcs;

use crate::{Reply, TestServer};

/// Largest side the stand-in renders (the real service's limit is 5000).
pub const MAX_SIDE: u32 = 5000;

/// A sky: linear RGB in [0, 1] at (RA, Dec) in degrees.
pub type Sky = dyn Fn(f64, f64) -> [f32; 3] + Send + Sync;

/// A running hips2fits stand-in on 127.0.0.1; stops when dropped.
pub struct Hips2FitsServer {
    server: TestServer,
    requests: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

fn json_error(status: u16, title: &str, description: &str) -> Reply {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let body = format!("{{\"title\":\"{}\",\"description\":\"{}\"}}", esc(title), esc(description));
    (status, "application/json", body.into_bytes())
}

fn number(q: &HashMap<String, String>, key: &str) -> Result<f64, Reply> {
    let v = q.get(key).ok_or_else(|| json_error(400, "Missing parameter", &format!("{key} is required")))?;
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| json_error(400, "Invalid parameter", &format!("{key}={v} is not a number")))
}

/// The WCS a request asks for, or the service's 400 answer.
fn requested_wcs(q: &HashMap<String, String>) -> Result<Wcs, Reply> {
    if let Some(w) = q.get("wcs") {
        let json: serde_json::Value = serde_json::from_str(w)
            .map_err(|e| json_error(400, "Invalid parameter", &format!("wcs is not JSON: {e}")))?;
        return Wcs::from_fits_header_json(&json).map_err(|e| json_error(400, "Invalid WCS", &e.to_string()));
    }
    if q.get("projection").is_some_and(|p| p != "TAN") {
        return Err(json_error(400, "Invalid parameter", "only projection=TAN is served by this stand-in"));
    }
    let (ra, dec, fov) = (number(q, "ra")?, number(q, "dec")?, number(q, "fov")?);
    let (w, h) = (number(q, "width")?, number(q, "height")?);
    if !(w >= 1.0 && h >= 1.0 && w.fract() == 0.0 && h.fract() == 0.0) {
        return Err(json_error(400, "Invalid parameter", "width and height must be positive integers"));
    }
    let rotation = if q.contains_key("rotation_angle") { number(q, "rotation_angle")? } else { 0.0 };
    // hips2fits' fov is along the largest side.
    let fov_w = fov * w / w.max(h);
    Wcs::from_center(ra, dec, fov_w, w as u32, h as u32, rotation)
        .map_err(|e| json_error(400, "Invalid parameter", &e.to_string()))
}

/// Answer one hips2fits request by rendering `sky` on the requested WCS.
pub fn answer(path: &str, q: &HashMap<String, String>, sky: &Sky) -> Reply {
    if path.trim_end_matches('/') != "/hips2fits" {
        return json_error(404, "Not found", &format!("{path}: not a hips2fits endpoint"));
    }
    if q.get("hips").is_none_or(|h| h.trim().is_empty()) {
        return json_error(400, "Missing parameter", "hips is required");
    }
    let format = q.get("format").map(String::as_str).unwrap_or("fits");
    let (image_format, ctype) = match format {
        "png" => (image::ImageFormat::Png, "image/png"),
        "jpg" | "jpeg" => (image::ImageFormat::Jpeg, "image/jpeg"),
        other => {
            return json_error(400, "Invalid parameter", &format!("format={other} is not served by this stand-in"));
        }
    };
    let wcs = match requested_wcs(q) {
        Ok(w) => w,
        Err(reply) => return reply,
    };
    let (w, h) = (wcs.width, wcs.height);
    if w > MAX_SIDE || h > MAX_SIDE {
        return json_error(400, "Invalid parameter", &format!("{w}x{h}: width and height must be ≤ {MAX_SIDE}"));
    }
    let p = wcs.projector();
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let rgb = p.pixel_to_sky(x as f64 + 0.5, y as f64 + 0.5).map(|(ra, dec)| sky(ra, dec)).unwrap_or([0.0; 3]);
        image::Rgb(rgb.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8))
    });
    let mut out = Cursor::new(Vec::new());
    match img.write_to(&mut out, image_format) {
        Ok(()) => (200, ctype, out.into_inner()),
        Err(e) => json_error(500, "Internal error", &e.to_string()),
    }
}

/// A synthetic sky with fixed coordinates: Gaussian stars (σ = 4″) on a jittered 30″ grid, slightly
/// coloured, over a faint background; the same at any pixel scale or rotation, so cutouts of it
/// can be compared and aligned.
pub fn star_field(ra: f64, dec: f64) -> [f32; 3] {
    let sigma = 4.0 / 3600.0;
    let step = 30.0 / 3600.0;
    let cosd = dec.to_radians().cos();
    let (gx, gy) = (((ra * cosd) / step).round() * step, (dec / step).round() * step);
    let (jx, jy) = ((gy * 7919.0).sin() * step * 0.3, (gx * 104729.0).sin() * step * 0.3);
    let (dx, dy) = (ra * cosd - gx - jx, dec - gy - jy);
    let v = (0.05 + 0.8 * (-(dx * dx + dy * dy) / (2.0 * sigma * sigma)).exp()) as f32;
    [v * 0.85, v * 0.8, v]
}

impl Hips2FitsServer {
    /// Serve cutouts of `sky` at `http://127.0.0.1:<port>/hips2fits`.
    pub fn start(sky: impl Fn(f64, f64) -> [f32; 3] + Send + Sync + 'static) -> Hips2FitsServer {
        let sky: Arc<Sky> = Arc::new(sky);
        Self::with_handler(move |path, q| answer(path, q, &*sky))
    }

    /// Answer every request with `status` and `body` (`application/json` when the body is a JSON
    /// object, as hips2fits' errors are, `text/plain` otherwise).
    pub fn refusing(status: u16, body: &str) -> Hips2FitsServer {
        let body = body.to_string();
        let ctype = if serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&body).is_ok() {
            "application/json"
        } else {
            "text/plain"
        };
        Self::with_handler(move |_, _| (status, ctype, body.clone().into_bytes()))
    }

    fn with_handler(
        handler: impl Fn(&str, &HashMap<String, String>) -> Reply + Send + Sync + 'static,
    ) -> Hips2FitsServer {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let server = TestServer::start(move |path, q| {
            seen.lock().expect("requests lock").push(q.clone());
            handler(path, q)
        });
        Hips2FitsServer { server, requests }
    }

    /// The endpoint to give clients: `http://127.0.0.1:<port>/hips2fits`.
    pub fn url(&self) -> String {
        format!("{}/hips2fits", self.server.base)
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.server.hits()
    }

    /// The query parameters of every request received so far.
    pub fn requests(&self) -> Vec<HashMap<String, String>> {
        self.requests.lock().expect("requests lock").clone()
    }

    /// Stop listening.
    pub fn stop(self) {
        self.server.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn renders_the_requested_size_in_the_requested_format() {
        let centre = [("hips", "CDS/P/DSS2/color"), ("ra", "202.47"), ("dec", "47.2"), ("fov", "0.02")];
        let mut a = centre.to_vec();
        a.extend([("width", "40"), ("height", "30"), ("projection", "TAN"), ("format", "png")]);
        let (status, ctype, body) = answer("/hips2fits", &q(&a), &star_field);
        assert_eq!((status, ctype), (200, "image/png"));
        let img = image::load_from_memory(&body).unwrap();
        assert_eq!((img.width(), img.height()), (40, 30));
        let wcs = Wcs::from_center(10.0, 20.0, 0.01, 24, 16, 30.0).unwrap();
        let json = wcs.to_fits_header_json().to_string();
        let (status, ctype, body) =
            answer("/hips2fits", &q(&[("hips", "x"), ("wcs", &json), ("format", "jpg")]), &star_field);
        assert_eq!((status, ctype), (200, "image/jpeg"));
        assert_eq!(image::load_from_memory(&body).unwrap().width(), 24);
    }

    #[test]
    fn bad_requests_get_the_services_json_error() {
        for (query, needle) in [
            (vec![("ra", "1")], "hips is required"),
            (vec![("hips", "x"), ("format", "png"), ("ra", "1"), ("dec", "2"), ("fov", "0.1")], "width is required"),
            (vec![("hips", "x"), ("format", "fits"), ("wcs", "{}")], "format=fits"),
            (vec![("hips", "x"), ("format", "png"), ("wcs", "nope")], "wcs is not JSON"),
        ] {
            let (status, ctype, body) = answer("/hips2fits", &q(&query), &star_field);
            let text = String::from_utf8(body).unwrap();
            assert_eq!((status, ctype), (400, "application/json"), "{text}");
            assert!(text.contains(needle), "{text}");
            serde_json::from_str::<serde_json::Value>(&text).unwrap();
        }
        assert_eq!(answer("/other", &q(&[("hips", "x")]), &star_field).0, 404);
    }
}
