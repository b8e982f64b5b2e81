//! The response validator: a 2xx status, a content type that is not a web page or JSON, and magic
//! bytes of the format asked for. Nothing is cached or written before it passes. (The HTTP client
//! itself is the project's one polite client, `polite-http`.)

use polite_http::Response;

use crate::error::{HipsError, Result};

/// What a body must be, for [`check_body`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// A JPEG image.
    Jpeg,
    /// A PNG image.
    Png,
    /// A FITS file.
    Fits,
    /// Plain text (a HiPS `properties` file).
    Text,
}

impl From<crate::sky_image::ImageFormat> for BodyFormat {
    fn from(f: crate::sky_image::ImageFormat) -> Self {
        match f {
            crate::sky_image::ImageFormat::Jpg => BodyFormat::Jpeg,
            crate::sky_image::ImageFormat::Png => BodyFormat::Png,
            crate::sky_image::ImageFormat::Fits => BodyFormat::Fits,
        }
    }
}

impl BodyFormat {
    fn magic_ok(self, body: &[u8]) -> bool {
        match self {
            BodyFormat::Jpeg => body.starts_with(&[0xFF, 0xD8, 0xFF]),
            BodyFormat::Png => body.starts_with(b"\x89PNG\r\n\x1a\n"),
            BodyFormat::Fits => body.starts_with(b"SIMPLE  ="),
            BodyFormat::Text => std::str::from_utf8(body).is_ok(),
        }
    }
}

/// The response validator: a 2xx status, a content type that is not a web page or JSON (for image
/// formats), a non-empty body and the magic bytes of `format`. A maintenance page served with 200,
/// or labelled `image/png`, is refused here, before it can be cached or written as the output.
pub fn check_body(url: &str, resp: &Response, format: BodyFormat) -> Result<()> {
    let refuse = |reason: String| HipsError::BadResponse { url: url.to_string(), reason };
    if !resp.is_success() {
        return Err(refuse(format!("HTTP {}", resp.status)));
    }
    if resp.body.is_empty() {
        return Err(refuse("empty body".into()));
    }
    if format != BodyFormat::Text
        && let Some(ct) = resp.content_type.as_deref()
    {
        let ct = ct.to_ascii_lowercase();
        if ct.starts_with("text/") || ct.contains("html") || ct.contains("json") || ct.contains("xml") {
            return Err(refuse(format!("content type {ct:?} is not an image ({} bytes)", resp.body.len())));
        }
    }
    if !format.magic_ok(&resp.body) {
        let head: String = resp
            .body
            .iter()
            .take(16)
            .map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' })
            .collect();
        return Err(refuse(format!("body is not {format:?} (starts with {head:?}, {} bytes)", resp.body.len())));
    }
    Ok(())
}

/// The size check every cutout passes (hips2fits answers, cached or fresh): the image in `body`
/// (JPEG, PNG or FITS, read from its header) must be `width × height` as asked. A server that
/// answers 64×48 with 7×5 is refused before anything is cached or written.
pub fn check_size(url: &str, body: &[u8], (width, height): (u32, u32)) -> Result<()> {
    let refuse = |reason: String| HipsError::BadResponse { url: url.to_string(), reason };
    let got = if body.starts_with(b"SIMPLE  =") {
        let shape = astro_image::fits::fits_shape_bytes(body, std::path::Path::new(url))
            .map_err(|e| refuse(format!("unreadable FITS header: {e}")))?;
        (shape.width as u64, shape.height as u64)
    } else {
        let reader = image::ImageReader::new(std::io::Cursor::new(body))
            .with_guessed_format()
            .map_err(|e| refuse(format!("unreadable image header: {e}")))?;
        let (w, h) = reader.into_dimensions().map_err(|e| refuse(format!("unreadable image header: {e}")))?;
        (w as u64, h as u64)
    };
    if got != (width as u64, height as u64) {
        return Err(refuse(format!("asked for {width}x{height} pixels, the image is {}x{}", got.0, got.1)));
    }
    Ok(())
}
