//! `textures.json`: which image sits where on the sky, with its credit (near-JSON made strict).

use serde::{Deserialize, Serialize};

/// One entry of `textures.json`: an image and where it sits on the sky.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextureEntry {
    /// Image file name relative to the nebulae directory.
    pub image_url: String,
    /// The four corners (RA, Dec) in degrees.
    pub corners: Vec<[f64; 2]>,
    /// Short credit line (may be empty when the file gives none).
    pub credit: String,
    /// Credit URL when given.
    pub info_url: Option<String>,
}

impl TextureEntry {
    /// Image centre (RA, Dec) in degrees: the normalised mean of the corner unit vectors.
    pub fn center(&self) -> (f64, f64) {
        let mut v = [0.0f64; 3];
        for c in &self.corners {
            let u = unit_vector(c[0], c[1]);
            for i in 0..3 {
                v[i] += u[i];
            }
        }
        let ra = v[1].atan2(v[0]).to_degrees().rem_euclid(360.0);
        let dec = v[2].atan2((v[0] * v[0] + v[1] * v[1]).sqrt()).to_degrees();
        (ra, dec)
    }

    /// Field size in degrees: the mean of the two side lengths.
    pub fn field_deg(&self) -> f64 {
        if self.corners.len() < 4 {
            return 0.0;
        }
        let side = |a: [f64; 2], b: [f64; 2]| sky_geometry::angular_distance_deg((a[0], a[1]), (b[0], b[1]));
        let c = &self.corners;
        (side(c[0], c[1]) + side(c[1], c[2]) + side(c[2], c[3]) + side(c[3], c[0])) / 4.0
    }
}

pub(crate) fn unit_vector(ra_deg: f64, dec_deg: f64) -> [f64; 3] {
    let (ra, dec) = (ra_deg.to_radians(), dec_deg.to_radians());
    [dec.cos() * ra.cos(), dec.cos() * ra.sin(), dec.sin()]
}

/// Make Stellarium's near-JSON strict: add the leading zero to numbers like `-.9794` or `.5`.
pub fn strict_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut in_string = false;
    let mut escaped = false;
    let mut prev = ' ';
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c == '.' && !prev.is_ascii_digit() && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            out.push('0');
        }
        out.push(c);
        prev = c;
    }
    out
}

/// Parse `textures.json` (tolerating its non-strict numbers and `Short`/`short` credit keys).
pub fn parse_textures_json(text: &str) -> std::result::Result<Vec<TextureEntry>, String> {
    let value: serde_json::Value = serde_json::from_str(&strict_json(text)).map_err(|e| format!("bad JSON: {e}"))?;
    let tiles = value.get("subTiles").and_then(|t| t.as_array()).ok_or("no subTiles array")?;
    let mut out = Vec::with_capacity(tiles.len());
    for (i, tile) in tiles.iter().enumerate() {
        let image_url = tile
            .get("imageUrl")
            .and_then(|u| u.as_str())
            .ok_or_else(|| format!("subTiles[{i}] has no imageUrl"))?
            .to_string();
        let corners: Vec<[f64; 2]> = tile
            .get("worldCoords")
            .and_then(|w| w.get(0))
            .and_then(|w| w.as_array())
            .ok_or_else(|| format!("subTiles[{i}] ({image_url}) has no worldCoords"))?
            .iter()
            .map(|p| match (p.get(0).and_then(|v| v.as_f64()), p.get(1).and_then(|v| v.as_f64())) {
                (Some(ra), Some(dec)) => Ok([ra, dec]),
                _ => Err(format!("subTiles[{i}] ({image_url}) has a non-numeric corner")),
            })
            .collect::<std::result::Result<_, _>>()?;
        if corners.len() != 4 {
            return Err(format!("subTiles[{i}] ({image_url}) has {} corners, expected 4", corners.len()));
        }
        let credits = tile.get("imageCredits");
        let field = |k: &str| -> Option<String> {
            credits.and_then(|c| c.as_object()).and_then(|o| {
                o.iter().find(|(key, _)| key.eq_ignore_ascii_case(k)).and_then(|(_, v)| v.as_str()).map(str::to_string)
            })
        };
        out.push(TextureEntry {
            image_url,
            corners,
            credit: field("short").unwrap_or_default(),
            info_url: field("infoUrl"),
        });
    }
    Ok(out)
}
