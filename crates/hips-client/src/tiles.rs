//! Native HiPS access: `properties`, tile choice, tile fetching (with an on-disk cache) and local
//! reprojection of tiles onto any TAN [`Wcs`] — works where hips2fits is down and offline from a
//! warm cache.
//!
//! # Tile pixel layout
//!
//! A tile `NorderK/DirD/NpixN` of `2^m × 2^m` pixels holds the HEALPix NESTED cells of depth
//! `K + m` whose index is `(N << 2m) | z(ix, iy)`, with `z` the z-order interleave (`ix` on the even
//! bits) and `(ix, iy)` the cell's coordinates inside the tile along the HEALPix south→east (`ix`)
//! and south→west (`iy`) axes. In a JPEG/PNG tile (rows top-down) the cell `(ix, iy)` is at
//! **row `ix`, column `iy`**; FITS tiles store the same picture bottom-up (FITS row `2^m − 1 − ix`).
//! This is the layout of the per-tile HPX WCS used by astropy `reproject`
//! (`CD = [[−r, −r], [r, −r]]`), which a test checks through the CDS `wcs` crate.
//!
//! # Sampling
//!
//! For every output pixel centre the sky position comes from the output WCS, then
//! `cdshealpix::nested::hash_with_dxdy` at depth `K + m` gives the cell and the position `(dx, dy)`
//! inside it. *Nearest* takes that cell's value. *Bilinear* interpolates between the cell and its
//! neighbours towards the point (along `ix`, `iy` and the diagonal), found inside the tile directly
//! and across tile and face boundaries with `cdshealpix`'s `neighbour`; missing neighbours (the 8
//! HEALPix corner points, tiles outside the footprint) are left out and the weights renormalised.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use cdshealpix::compass_point::MainWind;
use cdshealpix::nested::{self, zordercurve::get_zoc};
use rayon::prelude::*;

use crate::cache::DiskCache;
use crate::error::{HipsError, Result};
use crate::sky_image::{ImageFormat, Planes};
use crate::wcs::Wcs;
use polite_http::{Client as HttpClient, Policy};

/// Parsed HiPS `properties` file (`key = value` lines).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HipsProperties {
    /// Every key with its value, as written.
    pub values: BTreeMap<String, String>,
}

impl HipsProperties {
    /// Parse the text of a `properties` file; `#` comments and blank lines are skipped.
    pub fn parse(text: &str, source: &str) -> Result<HipsProperties> {
        let mut values = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return Err(HipsError::Properties {
                    source_name: source.into(),
                    reason: format!("line {} is not `key = value`: {line:?}", i + 1),
                });
            };
            values.insert(k.trim().to_string(), v.trim().to_string());
        }
        let p = HipsProperties { values };
        p.order()?;
        Ok(p)
    }

    /// Value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Deepest tile order (`hips_order`).
    pub fn order(&self) -> Result<u8> {
        let v = self.get("hips_order").ok_or_else(|| HipsError::Properties {
            source_name: "properties".into(),
            reason: "missing hips_order".into(),
        })?;
        v.parse::<u8>().ok().filter(|o| *o <= 24).ok_or_else(|| HipsError::Properties {
            source_name: "properties".into(),
            reason: format!("hips_order {v:?} is not an order in 0..=24"),
        })
    }

    /// Lowest tile order (`hips_order_min`, default 0).
    pub fn order_min(&self) -> u8 {
        self.get("hips_order_min").and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// Tile width in pixels (`hips_tile_width`, default 512), checked to be a power of two.
    pub fn tile_width(&self) -> Result<u32> {
        let w: u32 = self.get("hips_tile_width").and_then(|v| v.parse().ok()).unwrap_or(512);
        if w.is_power_of_two() && (2..=4096).contains(&w) {
            Ok(w)
        } else {
            Err(HipsError::Properties {
                source_name: "properties".into(),
                reason: format!("hips_tile_width {w} is not a power of two in 2..=4096"),
            })
        }
    }

    /// Tile formats offered (`hips_tile_format`, e.g. `jpeg fits`).
    pub fn formats(&self) -> Vec<ImageFormat> {
        self.get("hips_tile_format").unwrap_or("jpeg").split_whitespace().filter_map(ImageFormat::parse).collect()
    }

    /// Coordinate frame (`hips_frame`, default `equatorial`).
    pub fn frame(&self) -> &str {
        self.get("hips_frame").unwrap_or("equatorial")
    }
}

/// Interpolation used when reprojecting tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sampling {
    /// The HEALPix cell containing the output pixel centre.
    Nearest,
    /// Bilinear between the cell and its three neighbours towards the point.
    #[default]
    Bilinear,
}

impl std::str::FromStr for Sampling {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "nearest" => Ok(Sampling::Nearest),
            "bilinear" => Ok(Sampling::Bilinear),
            _ => Err(format!("unknown sampling {s:?} (nearest or bilinear)")),
        }
    }
}

/// Path of a tile relative to the HiPS root: `NorderK/DirD/NpixN.ext`, `D = (N / 10000) * 10000`.
pub fn tile_path(order: u8, npix: u64, format: ImageFormat) -> String {
    let ext = match format {
        ImageFormat::Jpg => "jpg",
        ImageFormat::Png => "png",
        ImageFormat::Fits => "fits",
    };
    format!("Norder{order}/Dir{}/Npix{npix}.{ext}", (npix / 10000) * 10000)
}

/// Angular size (degrees) of a HEALPix cell at `depth`: `sqrt(4π / (12·4^depth))`.
pub fn cell_size_deg(depth: u8) -> f64 {
    ((std::f64::consts::PI / 3.0).sqrt() / (1u64 << depth) as f64).to_degrees()
}

/// Row and column (top-down, JPEG/PNG orientation) of tile-local cell `sub` in a `2^m` tile.
pub fn tile_pixel_of(sub: u64, m: u8) -> (usize, usize) {
    let zoc = get_zoc(m);
    let ij = zoc.h2ij(sub);
    (zoc.ij2i(ij) as usize, zoc.ij2j(ij) as usize)
}

/// Tile-local cell index of the pixel at `row`, `col` (top-down) in a `2^m` tile.
pub fn tile_cell_at(row: usize, col: usize, m: u8) -> u64 {
    get_zoc(m).ij2h(row as u32, col as u32)
}

/// Cache extension marking a tile the server does not have (HTTP 404).
const MISSING: &str = "missing";

/// Tile cache key: (order, npix).
type TileKey = (u8, u64);

/// A HiPS survey accessed tile by tile.
pub struct HipsTileClient {
    http: HttpClient,
    base_url: String,
    cache: Option<DiskCache>,
    properties: HipsProperties,
    format: ImageFormat,
    tile_width: u32,
    tiles: Mutex<HashMap<TileKey, Option<Arc<Planes>>>>,
    max_pixels: u64,
}

impl HipsTileClient {
    /// Open the HiPS at `base_url`: read its `properties` (from the cache when offline) and pick
    /// a tile format (`prefer` if offered, else PNG, JPEG, FITS in that order).
    pub fn open(
        base_url: &str,
        policy: Policy,
        cache: Option<DiskCache>,
        prefer: Option<ImageFormat>,
    ) -> Result<HipsTileClient> {
        let http = HttpClient::new(policy).map_err(HipsError::from)?;
        let base_url = base_url.trim_end_matches('/').to_string();
        let url = format!("{base_url}/properties");
        let cached = cache.as_ref().and_then(|c| c.get(&url, "properties"));
        let text = match cached {
            Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            None => {
                let resp = http.get(&url).map_err(HipsError::from)?;
                if resp.is_success() {
                    crate::body::check_body(&url, &resp, crate::body::BodyFormat::Text)?;
                }
                if !resp.is_success() {
                    return Err(HipsError::Service {
                        url,
                        status: resp.status,
                        title: "HiPS properties not available".into(),
                        description: polite_http::server_text(&resp.body, polite_http::MAX_SERVER_TEXT),
                    });
                }
                let text = String::from_utf8_lossy(&resp.body).into_owned();
                HipsProperties::parse(&text, &url)?;
                if let Some(c) = &cache {
                    c.put(&url, "properties", &resp.body)?;
                }
                text
            }
        };
        let properties = HipsProperties::parse(&text, &url)?;
        let frame = properties.frame().to_ascii_lowercase();
        if frame != "equatorial" && frame != "icrs" && frame != "c" {
            return Err(HipsError::Properties {
                source_name: url,
                reason: format!("hips_frame {frame:?} is not supported (equatorial only)"),
            });
        }
        let offered = properties.formats();
        let format = prefer
            .filter(|f| offered.contains(f))
            .or_else(|| {
                [ImageFormat::Png, ImageFormat::Jpg, ImageFormat::Fits].into_iter().find(|f| offered.contains(f))
            })
            .ok_or_else(|| HipsError::Properties {
                source_name: url.clone(),
                reason: format!("no supported tile format in {:?}", properties.get("hips_tile_format")),
            })?;
        let tile_width = properties.tile_width()?;
        Ok(HipsTileClient {
            http,
            base_url,
            cache,
            properties,
            format,
            tile_width,
            tiles: Mutex::new(HashMap::new()),
            max_pixels: crate::error::DEFAULT_MAX_PIXELS,
        })
    }

    /// Change the largest output (width × height) [`HipsTileClient::reproject`] accepts.
    pub fn with_max_pixels(mut self, max_pixels: u64) -> Self {
        self.max_pixels = max_pixels;
        self
    }

    /// The survey's properties.
    pub fn properties(&self) -> &HipsProperties {
        &self.properties
    }

    /// The tile format in use.
    pub fn format(&self) -> ImageFormat {
        self.format
    }

    /// log2 of the tile width.
    fn m(&self) -> u8 {
        self.tile_width.trailing_zeros() as u8
    }

    /// The lowest order whose tile pixels are no larger than `pixel_scale_deg` (so the output is
    /// not undersampled), clamped to `[hips_order_min, hips_order]`.
    pub fn choose_order(&self, pixel_scale_deg: f64) -> Result<u8> {
        let max = self.properties.order()?;
        let min = self.properties.order_min().min(max);
        let m = self.m();
        Ok((min..=max).find(|&k| cell_size_deg(k + m) <= pixel_scale_deg).unwrap_or(max))
    }

    /// Tiles at `order` that intersect the image of `wcs` (CDS polygon coverage of the image's
    /// corners: TAN maps the image edges to great circles, so the polygon is exact).
    pub fn covering_tiles(&self, wcs: &Wcs, order: u8) -> Vec<u64> {
        let corners: Vec<(f64, f64)> =
            wcs.corners().iter().map(|(ra, dec)| (ra.to_radians(), dec.to_radians())).collect();
        let mut tiles: Vec<u64> = if corners.iter().all(|(a, b)| a.is_finite() && b.is_finite()) {
            nested::polygon_coverage(order, &corners, true).flat_iter().collect()
        } else {
            Vec::new()
        };
        // Also hash a coarse grid of pixel centres: guards against degenerate polygons.
        let p = wcs.projector();
        let layer = nested::get(order);
        let step = 16usize;
        for y in (0..wcs.height as usize).step_by(step).chain([wcs.height as usize - 1]) {
            for x in (0..wcs.width as usize).step_by(step).chain([wcs.width as usize - 1]) {
                if let Some((ra, dec)) = p.pixel_to_sky(x as f64 + 0.5, y as f64 + 0.5) {
                    tiles.push(layer.hash(ra.to_radians(), dec.to_radians()));
                }
            }
        }
        tiles.sort_unstable();
        tiles.dedup();
        tiles
    }

    /// URL of a tile.
    pub fn tile_url(&self, order: u8, npix: u64) -> String {
        format!("{}/{}", self.base_url, tile_path(order, npix, self.format))
    }

    /// One tile, decoded (rows top-down), from memory, the disk cache or the server. `Ok(None)`
    /// when the server has no such tile (404: outside the survey's footprint).
    pub fn tile(&self, order: u8, npix: u64) -> Result<Option<Arc<Planes>>> {
        if let Some(t) = self.tiles.lock().unwrap_or_else(|p| p.into_inner()).get(&(order, npix)) {
            return Ok(t.clone());
        }
        let url = self.tile_url(order, npix);
        let ext = self.format.extension();
        let known_missing = self.cache.as_ref().is_some_and(|c| c.get(&url, MISSING).is_some());
        let bytes = match self.cache.as_ref().and_then(|c| c.get(&url, ext)) {
            Some(b) => Some(b),
            None if known_missing => None,
            None => {
                let resp = self.http.get(&url).map_err(HipsError::from)?;
                match resp.status {
                    200 => {
                        crate::body::check_body(&url, &resp, self.format.into())?;
                        if let Some(c) = &self.cache {
                            c.put(&url, ext, &resp.body)?;
                        }
                        Some(resp.body)
                    }
                    404 => {
                        // Remember that the tile does not exist (outside the footprint), for offline use.
                        if let Some(c) = &self.cache {
                            c.put(&url, MISSING, b"")?;
                        }
                        None
                    }
                    s => {
                        return Err(HipsError::Service {
                            url,
                            status: s,
                            title: "tile request failed".into(),
                            description: polite_http::server_text(&resp.body, polite_http::MAX_SERVER_TEXT),
                        });
                    }
                }
            }
        };
        let tile = match bytes {
            None => None,
            Some(b) => {
                let img = crate::sky_image::decode_image(&b, &url)?;
                let w = self.tile_width as usize;
                if img.width != w || img.height != w {
                    return Err(HipsError::Decode {
                        what: url,
                        reason: format!("tile is {}x{}, properties say {w}x{w}", img.width, img.height),
                    });
                }
                Some(Arc::new(img))
            }
        };
        self.tiles.lock().unwrap_or_else(|p| p.into_inner()).insert((order, npix), tile.clone());
        Ok(tile)
    }

    /// Fetch every tile in `npixs` at `order` (warming the memory and disk caches).
    pub fn prefetch(&self, order: u8, npixs: &[u64]) -> Result<usize> {
        let mut found = 0;
        for &n in npixs {
            if self.tile(order, n)?.is_some() {
                found += 1;
            }
        }
        Ok(found)
    }

    /// Reproject the survey onto `wcs` at the order chosen from its pixel scale.
    pub fn reproject(&self, wcs: &Wcs, sampling: Sampling) -> Result<Planes> {
        let order = self.choose_order(wcs.pixel_scale_deg())?;
        self.reproject_at(wcs, order, sampling)
    }

    /// Reproject the survey onto `wcs` using tiles of `order`. Pixels with no data are `NaN`.
    pub fn reproject_at(&self, wcs: &Wcs, order: u8, sampling: Sampling) -> Result<Planes> {
        crate::error::check_pixels("reprojected cutout", wcs.width, wcs.height, self.max_pixels)?;
        let tiles = self.covering_tiles(wcs, order);
        tracing::debug!(order, tiles = tiles.len(), "reprojecting");
        self.prefetch(order, &tiles)?;
        let m = self.m();
        let depth = order + m;
        let layer = nested::get(depth);
        let (w, h) = (wcs.width as usize, wcs.height as usize);
        let channels = tiles
            .iter()
            .find_map(|&n| self.tile(order, n).ok().flatten().map(|t| t.channels))
            .unwrap_or(if self.format == ImageFormat::Fits { 1 } else { 3 });
        let p = wcs.projector();
        let rows: Vec<Result<Vec<f32>>> = (0..h)
            .into_par_iter()
            .map(|y| {
                let mut row = vec![f32::NAN; channels * w];
                let mut px = vec![0f32; channels];
                for x in 0..w {
                    let Some((ra, dec)) = p.pixel_to_sky(x as f64 + 0.5, y as f64 + 0.5) else { continue };
                    let (hash, dx, dy) = layer.hash_with_dxdy(ra.to_radians(), dec.to_radians());
                    let ok = match sampling {
                        Sampling::Nearest => self.cell_value(order, m, hash, &mut px)?,
                        Sampling::Bilinear => self.bilinear(order, m, layer, hash, dx, dy, &mut px)?,
                    };
                    if ok {
                        for c in 0..channels {
                            row[c * w + x] = px[c.min(px.len() - 1)];
                        }
                    }
                }
                Ok(row)
            })
            .collect();
        let mut out = Planes::no_data(channels, h, w);
        for (y, row) in rows.into_iter().enumerate() {
            let row = row?;
            for c in 0..channels {
                out.data[(c * h + y) * w..(c * h + y + 1) * w].copy_from_slice(&row[c * w..(c + 1) * w]);
            }
        }
        Ok(out)
    }

    /// Value of the cell `hash` (depth `order + m`) into `out`; `false` when there is no data.
    fn cell_value(&self, order: u8, m: u8, hash: u64, out: &mut [f32]) -> Result<bool> {
        let npix = hash >> (2 * m);
        let Some(tile) = self.tile(order, npix)? else { return Ok(false) };
        let (row, col) = tile_pixel_of(hash & ((1u64 << (2 * m)) - 1), m);
        let mut any = true;
        for (c, o) in out.iter_mut().enumerate() {
            let v = tile.get(c.min(tile.channels - 1), row, col);
            any &= !v.is_nan();
            *o = v;
        }
        Ok(any)
    }

    #[allow(clippy::too_many_arguments)]
    fn bilinear(
        &self,
        order: u8,
        m: u8,
        layer: &nested::Layer,
        hash: u64,
        dx: f64,
        dy: f64,
        out: &mut [f32],
    ) -> Result<bool> {
        let (fx, fy) = (dx - 0.5, dy - 0.5);
        let (wx, wy) = (fx.abs(), fy.abs());
        let (sx, sy) = (if fx >= 0.0 { 1i64 } else { -1 }, if fy >= 0.0 { 1i64 } else { -1 });
        let wind = |di: i64, dj: i64| match (di, dj) {
            (1, 0) => MainWind::NE,
            (-1, 0) => MainWind::SW,
            (0, 1) => MainWind::NW,
            (0, -1) => MainWind::SE,
            (1, 1) => MainWind::N,
            (-1, -1) => MainWind::S,
            (1, -1) => MainWind::E,
            _ => MainWind::W,
        };
        let mask = (1u64 << (2 * m)) - 1;
        let n = 1i64 << m;
        let (ix, iy) = tile_pixel_of(hash & mask, m);
        let neighbour = |di: i64, dj: i64| -> Option<u64> {
            let (i2, j2) = (ix as i64 + di, iy as i64 + dj);
            if (0..n).contains(&i2) && (0..n).contains(&j2) {
                Some((hash & !mask) | tile_cell_at(i2 as usize, j2 as usize, m))
            } else {
                layer.neighbour(hash, wind(di, dj))
            }
        };
        let stencil = [
            (Some(hash), (1.0 - wx) * (1.0 - wy)),
            (neighbour(sx, 0), wx * (1.0 - wy)),
            (neighbour(0, sy), (1.0 - wx) * wy),
            (neighbour(sx, sy), wx * wy),
        ];
        let mut acc = vec![0f64; out.len()];
        let mut wsum = 0f64;
        let mut px = vec![0f32; out.len()];
        for (h, wgt) in stencil {
            let Some(h) = h else { continue };
            if wgt == 0.0 {
                continue;
            }
            if self.cell_value(order, m, h, &mut px)? {
                for (a, v) in acc.iter_mut().zip(&px) {
                    *a += wgt * *v as f64;
                }
                wsum += wgt;
            }
        }
        if wsum <= 0.0 {
            return Ok(false);
        }
        for (o, a) in out.iter_mut().zip(&acc) {
            *o = (*a / wsum) as f32;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tile layout agrees with the per-tile HPX WCS that astropy `reproject` writes
    /// (`CD = [[−r, −r], [r, −r]]`, `CRVAL = (0, 0)`, HPX with H = 4, K = 3, CRPIX from the tile's
    /// point (dx, dy) = (0.75, 0.25)), evaluated with the HPX equatorial-zone formulae of
    /// Calabretta & Roukema (2007): `x = φ`, `y = 67.5° · sin θ`.
    #[test]
    fn tile_layout_matches_the_hpx_tile_wcs_of_astropy_reproject() {
        let (order, m) = (3u8, 6u8);
        let n = 1u64 << m;
        let depth = order + m;
        let r = 45.0 / (n as f64 * (1u64 << order) as f64);
        let cd = [[-r, -r], [r, -r]];
        let det = cd[0][0] * cd[1][1] - cd[0][1] * cd[1][0];
        let hpx = |lon: f64, lat: f64| {
            let x = lon.to_degrees();
            (if x > 180.0 { x - 360.0 } else { x }, 67.5 * lat.sin())
        };
        let unhpx = |x: f64, y: f64| (x.rem_euclid(360.0).to_radians(), (y / 67.5).asin());
        // Tiles in the equatorial base cells 4..8, away from the polar caps.
        for npix in [4 * 64 + 27, 5 * 64 + 18, 6 * 64 + 45, 7 * 64 + 12] {
            let (lon, lat) = nested::sph_coo(order, npix, 0.75, 0.25);
            let (x, y) = hpx(lon, lat);
            // Pixel offsets with CRPIX = 0, then reproject's CRPIX (its world_to_pixel is 0-based).
            let q = [(cd[1][1] * x - cd[0][1] * y) / det, (-cd[1][0] * x + cd[0][0] * y) / det];
            let crpix = [-(q[0] - 1.0) - 0.5 + n as f64 / 4.0, -(q[1] - 1.0) - 0.5 + n as f64 / 4.0];
            for (p1, p2) in [(1u64, 1u64), (10, 50), (64, 3), (33, 64), (5, 20), (64, 64)] {
                let (d1, d2) = (p1 as f64 - crpix[0], p2 as f64 - crpix[1]);
                let (x, y) = (cd[0][0] * d1 + cd[0][1] * d2, cd[1][0] * d1 + cd[1][1] * d2);
                assert!(y.abs() < 45.0, "test tile must stay in the equatorial zone");
                let (lon, lat) = unhpx(x, y);
                let hash = nested::hash(depth, lon, lat);
                assert_eq!(hash >> (2 * m), npix, "FITS pixel ({p1}, {p2}) left tile {npix}");
                let (row, col) = tile_pixel_of(hash & ((1 << (2 * m)) - 1), m);
                // FITS column p1 = col + 1; FITS row p2 (bottom-up) = n − row (row counted top-down).
                assert_eq!((row as u64, col as u64), (n - p2, p1 - 1), "tile {npix}, FITS ({p1}, {p2})");
            }
        }
    }

    #[test]
    fn tile_paths_and_properties() {
        assert_eq!(tile_path(3, 123, ImageFormat::Jpg), "Norder3/Dir0/Npix123.jpg");
        assert_eq!(tile_path(9, 1_234_567, ImageFormat::Fits), "Norder9/Dir1230000/Npix1234567.fits");
        let p = HipsProperties::parse("# c\nhips_order = 9\nhips_tile_width=512\nhips_tile_format = jpeg fits\n", "t")
            .unwrap();
        assert_eq!(p.order().unwrap(), 9);
        assert_eq!(p.formats(), vec![ImageFormat::Jpg, ImageFormat::Fits]);
        assert_eq!(p.frame(), "equatorial");
        let e = HipsProperties::parse("hips_tile_width = 512\n", "http://x/properties").unwrap_err().to_string();
        assert!(e.contains("hips_order"), "{e}");
        assert!(HipsProperties::parse("hips_order = 3\njunk line\n", "t").is_err());
        // Order 9 with 512-px tiles (depth 18) is about 0.8″ per pixel.
        assert!((cell_size_deg(18) * 3600.0 - 0.805).abs() < 0.01, "{}", cell_size_deg(18) * 3600.0);
        for sub in [0u64, 1, 2, 3, 77, 4095] {
            let (r, c) = tile_pixel_of(sub, 6);
            assert_eq!(tile_cell_at(r, c, 6), sub);
        }
        // Child order: sub-index 1 is one step along ix (row), 2 along iy (column).
        assert_eq!(tile_pixel_of(1, 6), (1, 0));
        assert_eq!(tile_pixel_of(2, 6), (0, 1));
    }
}
