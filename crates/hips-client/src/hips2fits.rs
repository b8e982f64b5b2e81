//! Client for the CDS hips2fits service: server-side cutouts of any HiPS on a given WCS.
//!
//! Requests built from a [`Wcs`] send the `wcs=` JSON of FITS keywords, so the cutout is aligned
//! pixel-for-pixel with the image the WCS describes (rotation included). Requests larger than
//! [`Hips2FitsClient::max_side`] are split into sub-WCS tiles and stitched. Note that for JPEG/PNG
//! the server computes its percentile cuts per request, so a stitched JPEG/PNG cutout may show
//! brightness steps between tiles; request `fits` and stretch locally when that matters (colour
//! HiPS such as DSS2 colour are served as they are and are not affected).

use crate::cache::DiskCache;
use crate::error::{HipsError, Result};
use crate::sky_image::{ImageFormat, Planes};
use crate::wcs::Wcs;
use polite_http::{Client as HttpClient, Policy};

/// The public hips2fits endpoint.
pub const DEFAULT_HIPS2FITS_URL: &str = "https://alasky.cds.unistra.fr/hips-image-services/hips2fits";

/// Largest side requested in one call; bigger cutouts are tiled (the limit is undocumented).
pub const DEFAULT_MAX_SIDE: u32 = 5000;

/// How the cutout's pixel grid is specified.
#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    /// An explicit TAN WCS (sent as the `wcs=` JSON): exact alignment.
    Wcs(Wcs),
    /// Centre, field of view along the **largest** side, size and rotation, sent as hips2fits'
    /// `ra`/`dec`/`fov`/`width`/`height`/`projection=TAN`/`rotation_angle` parameters.
    Center {
        /// Right ascension of the centre, degrees.
        ra_deg: f64,
        /// Declination of the centre, degrees.
        dec_deg: f64,
        /// Field of view along the largest side, degrees.
        fov_deg: f64,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// hips2fits `rotation_angle` in degrees (passed through as is).
        rotation_deg: f64,
    },
}

/// hips2fits `stretch` values (JPEG/PNG only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stretch {
    /// Power law.
    Power,
    /// Linear.
    Linear,
    /// Square root.
    Sqrt,
    /// Logarithmic.
    Log,
    /// Inverse hyperbolic sine.
    Asinh,
}

impl Stretch {
    /// The parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            Stretch::Power => "power",
            Stretch::Linear => "linear",
            Stretch::Sqrt => "sqrt",
            Stretch::Log => "log",
            Stretch::Asinh => "asinh",
        }
    }
}

impl std::str::FromStr for Stretch {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "power" => Stretch::Power,
            "linear" => Stretch::Linear,
            "sqrt" => Stretch::Sqrt,
            "log" => Stretch::Log,
            "asinh" => Stretch::Asinh,
            _ => return Err(format!("unknown stretch {s:?} (power, linear, sqrt, log, asinh)")),
        })
    }
}

/// One hips2fits cutout request.
#[derive(Debug, Clone, PartialEq)]
pub struct CutoutRequest {
    /// Full HiPS id, e.g. `CDS/P/DSS2/color`.
    pub hips: String,
    /// Pixel grid.
    pub geometry: Geometry,
    /// Output format.
    pub format: ImageFormat,
    /// Lower cut, percentile (JPEG/PNG only; server default 0.5).
    pub min_cut: Option<f64>,
    /// Upper cut, percentile (JPEG/PNG only; server default 99.5).
    pub max_cut: Option<f64>,
    /// Stretch (JPEG/PNG only).
    pub stretch: Option<Stretch>,
    /// Colour map name (JPEG/PNG of single-band HiPS only).
    pub cmap: Option<String>,
}

impl CutoutRequest {
    /// A cutout on exactly the pixel grid of `wcs`.
    pub fn from_wcs(hips: &str, wcs: Wcs, format: ImageFormat) -> CutoutRequest {
        CutoutRequest {
            hips: hips.to_string(),
            geometry: Geometry::Wcs(wcs),
            format,
            min_cut: None,
            max_cut: None,
            stretch: None,
            cmap: None,
        }
    }

    /// A cutout from centre/fov (along the largest side)/size/rotation parameters.
    pub fn from_center(
        hips: &str,
        (ra_deg, dec_deg): (f64, f64),
        fov_deg: f64,
        (width, height): (u32, u32),
        rotation_deg: f64,
        format: ImageFormat,
    ) -> CutoutRequest {
        CutoutRequest {
            hips: hips.to_string(),
            geometry: Geometry::Center { ra_deg, dec_deg, fov_deg, width, height, rotation_deg },
            format,
            min_cut: None,
            max_cut: None,
            stretch: None,
            cmap: None,
        }
    }

    /// Output size in pixels.
    pub fn size(&self) -> (u32, u32) {
        match &self.geometry {
            Geometry::Wcs(w) => (w.width, w.height),
            Geometry::Center { width, height, .. } => (*width, *height),
        }
    }

    /// Query parameters, in a stable order (also the cache key).
    pub fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![("hips", self.hips.clone())];
        match &self.geometry {
            Geometry::Wcs(w) => q.push(("wcs", w.to_fits_header_json().to_string())),
            Geometry::Center { ra_deg, dec_deg, fov_deg, width, height, rotation_deg } => {
                q.push(("width", width.to_string()));
                q.push(("height", height.to_string()));
                q.push(("projection", "TAN".into()));
                q.push(("ra", format!("{ra_deg}")));
                q.push(("dec", format!("{dec_deg}")));
                q.push(("fov", format!("{fov_deg}")));
                q.push(("coordsys", "icrs".into()));
                if *rotation_deg != 0.0 {
                    q.push(("rotation_angle", format!("{rotation_deg}")));
                }
            }
        }
        q.push(("format", self.format.extension().into()));
        if self.format != ImageFormat::Fits {
            if let Some(v) = self.min_cut {
                q.push(("min_cut", format!("{v}")));
            }
            if let Some(v) = self.max_cut {
                q.push(("max_cut", format!("{v}")));
            }
            if let Some(s) = self.stretch {
                q.push(("stretch", s.as_str().into()));
            }
            if let Some(c) = &self.cmap {
                q.push(("cmap", c.clone()));
            }
        }
        q
    }

    /// The full GET URL against `base_url`.
    pub fn url(&self, base_url: &str) -> String {
        let qs: Vec<String> = self.query().into_iter().map(|(k, v)| format!("{k}={}", encode(&v))).collect();
        format!("{}?{}", base_url.trim_end_matches('?'), qs.join("&"))
    }

    /// The WCS of the returned image. For [`Geometry::Center`] this assumes `rotation_angle` has
    /// the `CROTA2` meaning of [`Wcs::from_center`]; use [`Geometry::Wcs`] for guaranteed alignment.
    pub fn wcs(&self) -> Result<Wcs> {
        match &self.geometry {
            Geometry::Wcs(w) => Ok(w.clone()),
            Geometry::Center { ra_deg, dec_deg, fov_deg, width, height, rotation_deg } => {
                let fov_w = fov_deg * *width as f64 / (*width).max(*height) as f64;
                Ok(Wcs::from_center(*ra_deg, *dec_deg, fov_w, *width, *height, *rotation_deg)?)
            }
        }
    }

    fn check(&self) -> Result<()> {
        let (w, h) = self.size();
        if w == 0 || h == 0 {
            return Err(HipsError::InvalidRequest(format!("cutout size {w}x{h} must be positive")));
        }
        if self.hips.trim().is_empty() {
            return Err(HipsError::InvalidRequest("empty HiPS id".into()));
        }
        if let Geometry::Center { ra_deg, dec_deg, fov_deg, .. } = &self.geometry
            && !(ra_deg.is_finite() && (-90.0..=90.0).contains(dec_deg) && *fov_deg > 0.0 && *fov_deg < 180.0)
        {
            return Err(HipsError::InvalidRequest(format!(
                "ra {ra_deg}, dec {dec_deg}, fov {fov_deg}: not a valid sky region"
            )));
        }
        Ok(())
    }
}

/// Percent-encode a query value (RFC 3986 unreserved characters kept).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// hips2fits client with retries, rate limit and an optional on-disk cache keyed by request URL.
pub struct Hips2FitsClient {
    http: HttpClient,
    base_url: String,
    cache: Option<DiskCache>,
    max_side: u32,
    max_pixels: u64,
}

impl Hips2FitsClient {
    /// A client for `base_url` (use [`DEFAULT_HIPS2FITS_URL`] for the real service).
    pub fn new(base_url: &str, policy: Policy, cache: Option<DiskCache>) -> Result<Hips2FitsClient> {
        Ok(Hips2FitsClient {
            http: HttpClient::new(policy).map_err(HipsError::from)?,
            base_url: base_url.to_string(),
            cache,
            max_side: DEFAULT_MAX_SIDE,
            max_pixels: crate::error::DEFAULT_MAX_PIXELS,
        })
    }

    /// Change the pixel budget (width × height) of one cutout, tiled or not; larger requests are
    /// refused before anything is fetched or allocated.
    pub fn with_max_pixels(mut self, max_pixels: u64) -> Self {
        self.max_pixels = max_pixels;
        self
    }

    fn check_budget(&self, req: &CutoutRequest) -> Result<()> {
        let (w, h) = req.size();
        crate::error::check_pixels(&format!("hips2fits {} cutout", req.hips), w, h, self.max_pixels)
    }

    /// Change the largest side fetched in one request (tiling threshold).
    pub fn with_max_side(mut self, max_side: u32) -> Self {
        self.max_side = max_side.max(1);
        self
    }

    /// The tiling threshold.
    pub fn max_side(&self) -> u32 {
        self.max_side
    }

    /// Fetch the bytes of one request exactly as the server returns them (no tiling; the request
    /// must fit in `max_side`). Served from the cache when present. An answer whose image is not
    /// the size asked for is refused before it is cached or returned ([`crate::check_size`]).
    pub fn fetch_bytes(&self, req: &CutoutRequest) -> Result<Vec<u8>> {
        req.check()?;
        self.check_budget(req)?;
        let (w, h) = req.size();
        if w > self.max_side || h > self.max_side {
            return Err(HipsError::InvalidRequest(format!(
                "{w}x{h} exceeds {} px a side; use fetch() which tiles",
                self.max_side
            )));
        }
        let url = req.url(&self.base_url);
        let ext = req.format.extension();
        let want = crate::body::BodyFormat::from(req.format);
        if let Some(bytes) = self.cache.as_ref().and_then(|c| c.get(&url, ext)) {
            // A cached answer is checked like a fresh one (an older version cached web pages).
            let cached = polite_http::Response { status: 200, content_type: None, body: bytes };
            if crate::body::check_body(&url, &cached, want).is_ok()
                && crate::body::check_size(&url, &cached.body, (w, h)).is_ok()
            {
                tracing::debug!(url, "hips2fits cache hit");
                return Ok(cached.body);
            }
            tracing::warn!(url, "ignoring a cached answer that is not a {:?}", want);
        }
        let resp = self.http.get(&url).map_err(HipsError::from)?;
        if !resp.is_success() {
            return Err(service_error(&url, resp.status, &resp.body));
        }
        // A 200 carrying a JSON error (seen on some proxies) is an error too.
        if resp.content_type.as_deref().is_some_and(|c| c.contains("json")) {
            return Err(service_error(&url, resp.status, &resp.body));
        }
        // Nothing is cached or returned unless it is the format asked for.
        crate::body::check_body(&url, &resp, want)?;
        crate::body::check_size(&url, &resp.body, (w, h))?;
        if let Some(cache) = &self.cache {
            cache.put(&url, ext, &resp.body)?;
        }
        Ok(resp.body)
    }

    /// Fetch and decode a cutout of any size, tiling requests larger than `max_side` (WCS
    /// geometry; a centre geometry is converted to its WCS first when it needs tiling).
    pub fn fetch(&self, req: &CutoutRequest) -> Result<Planes> {
        req.check()?;
        self.check_budget(req)?;
        let (w, h) = req.size();
        if w <= self.max_side && h <= self.max_side {
            // fetch_bytes has checked the size (check_size), cached or fresh.
            let bytes = self.fetch_bytes(req)?;
            return crate::sky_image::decode_image(&bytes, &format!("hips2fits {} cutout", req.hips));
        }
        let wcs = req.wcs()?;
        let mut out: Option<Planes> = None;
        for (x0, y0, tw, th) in tile_grid(w, h, self.max_side) {
            let sub = sub_wcs(&wcs, x0, y0, tw, th);
            let piece_req = CutoutRequest { geometry: Geometry::Wcs(sub), ..req.clone() };
            let piece = self.fetch(&piece_req)?;
            let canvas = out.get_or_insert_with(|| Planes::no_data(piece.channels, h as usize, w as usize));
            canvas
                .paste(&piece, x0 as usize, y0 as usize)
                .map_err(|e| HipsError::Decode { what: "stitched cutout".into(), reason: e.to_string() })?;
        }
        out.ok_or_else(|| HipsError::InvalidRequest("empty tiling".into()))
    }

    /// Fetch a cutout and return it encoded in the requested format (server bytes when it was one
    /// request, a re-encoded stitched image otherwise).
    pub fn fetch_encoded(&self, req: &CutoutRequest) -> Result<Vec<u8>> {
        self.check_budget(req)?;
        let (w, h) = req.size();
        if w <= self.max_side && h <= self.max_side {
            return self.fetch_bytes(req);
        }
        let img = self.fetch(req)?;
        crate::sky_image::encode_image(&img, req.format, Some(&req.wcs()?))
    }
}

/// Split `width × height` into tiles of at most `max_side`: `(x0, y0, w, h)` in image pixels
/// (origin top-left).
pub fn tile_grid(width: u32, height: u32, max_side: u32) -> Vec<(u32, u32, u32, u32)> {
    let nx = width.div_ceil(max_side);
    let ny = height.div_ceil(max_side);
    let mut tiles = Vec::new();
    for j in 0..ny {
        for i in 0..nx {
            let x0 = i * width / nx;
            let x1 = (i + 1) * width / nx;
            let y0 = j * height / ny;
            let y1 = (j + 1) * height / ny;
            tiles.push((x0, y0, x1 - x0, y1 - y0));
        }
    }
    tiles
}

/// The WCS of the `tw × th` sub-image whose top-left corner is image pixel (`x0`, `y0`).
pub fn sub_wcs(wcs: &Wcs, x0: u32, y0: u32, tw: u32, th: u32) -> Wcs {
    // Full FITS y = H + 0.5 − y_img; sub FITS y = th + 0.5 − (y_img − y0).
    let dy = wcs.height as f64 - y0 as f64 - th as f64;
    Wcs { crval: wcs.crval, crpix: [wcs.crpix[0] - x0 as f64, wcs.crpix[1] - dy], cd: wcs.cd, width: tw, height: th }
}

/// Turn a hips2fits error answer (JSON `{title, description}`, or anything else) into a typed error.
pub fn service_error(url: &str, status: u16, body: &[u8]) -> HipsError {
    #[derive(serde::Deserialize)]
    struct Err {
        title: Option<String>,
        description: Option<String>,
    }
    let (title, description) = match serde_json::from_slice::<Err>(body) {
        Ok(e) => (e.title.unwrap_or_default(), e.description.unwrap_or_default()),
        Err(_) => (String::new(), polite_http::server_text(body, polite_http::MAX_SERVER_TEXT)),
    };
    // The server's words reach a terminal: one line, no escapes, bounded.
    let clean = |s: String| polite_http::server_text(s.as_bytes(), polite_http::MAX_SERVER_TEXT);
    let (title, description) = (clean(title), clean(description));
    HipsError::Service { url: url.to_string(), status, title, description }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_image_exactly_and_sub_wcs_keeps_sky_positions() {
        let tiles = tile_grid(12001, 7000, 5000);
        assert_eq!(tiles.len(), 6);
        assert!(tiles.iter().all(|t| t.2 <= 5000 && t.3 <= 5000));
        let area: u64 = tiles.iter().map(|t| t.2 as u64 * t.3 as u64).sum();
        assert_eq!(area, 12001 * 7000);
        let wcs = Wcs::from_center(83.8, -5.4, 1.0, 12001, 7000, 20.0).unwrap();
        for &(x0, y0, tw, th) in &tiles {
            let sub = sub_wcs(&wcs, x0, y0, tw, th);
            for (x, y) in [(0.5, 0.5), (tw as f64 - 0.5, th as f64 - 0.5), (10.0, 3.0)] {
                let a = sub.pixel_to_sky(x, y).unwrap();
                let b = wcs.pixel_to_sky(x + x0 as f64, y + y0 as f64).unwrap();
                assert!(crate::wcs::angular_distance_deg(a, b) < 1e-10);
            }
        }
    }

    #[test]
    fn query_carries_the_wcs_json_and_is_percent_encoded() {
        let wcs = Wcs::from_center(10.0, -20.0, 0.2, 300, 200, 0.0).unwrap();
        let mut req = CutoutRequest::from_wcs("CDS/P/DSS2/color", wcs.clone(), ImageFormat::Jpg);
        req.stretch = Some(Stretch::Asinh);
        let url = req.url("http://127.0.0.1:1/hips2fits");
        assert!(url.starts_with("http://127.0.0.1:1/hips2fits?hips=CDS%2FP%2FDSS2%2Fcolor&wcs=%7B"), "{url}");
        assert!(url.contains("&format=jpg") && url.contains("&stretch=asinh"));
        let q = req.query();
        let json: serde_json::Value = serde_json::from_str(&q[1].1).unwrap();
        assert_eq!(Wcs::from_fits_header_json(&json).unwrap(), wcs);
        let c = CutoutRequest::from_center("CDS/P/DSS2/red", (1.0, 2.0), 0.5, (400, 200), 0.0, ImageFormat::Fits);
        let w = c.wcs().unwrap();
        assert!((w.fov_deg().0 - 0.5).abs() < 1e-12, "fov is along the largest side");
    }
}
