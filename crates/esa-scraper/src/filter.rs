//! Which archive images to keep: type, categories, field of view, pixel size, spatial quality and a
//! checked-in blacklist of ids with reasons.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{EsaError, Result};
use crate::record::{ImageRecord, SpatialQuality};
use crate::site::Site;

/// One blacklisted image.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct BlacklistEntry {
    /// Site the id belongs to; absent = both.
    #[serde(default)]
    pub site: Option<Site>,
    /// Image id.
    pub id: String,
    /// Why it is excluded.
    pub reason: String,
}

/// Ids never to download, with reasons (`datasets/esa/blacklist.json`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Blacklist {
    /// The entries.
    pub entries: Vec<BlacklistEntry>,
}

/// The project's blacklist, used when none is given and the file exists (relative to the
/// working directory, as the command-line tools run from the repository root).
pub const DEFAULT_BLACKLIST: &str = "datasets/esa/blacklist.json";

impl Blacklist {
    /// `explicit` when given, else [`DEFAULT_BLACKLIST`] when it exists, else an empty list.
    pub fn load_or_default(explicit: Option<&Path>) -> Result<Blacklist> {
        match explicit {
            Some(p) => Blacklist::load(p),
            None if Path::new(DEFAULT_BLACKLIST).exists() => Blacklist::load(Path::new(DEFAULT_BLACKLIST)),
            None => Ok(Blacklist::default()),
        }
    }

    /// Load a blacklist file: a JSON array of `{site?, id, reason}`.
    pub fn load(path: &Path) -> Result<Blacklist> {
        let text = std::fs::read_to_string(path).map_err(|e| EsaError::io(path, e))?;
        let entries: Vec<BlacklistEntry> = serde_json::from_str(&text)
            .map_err(|e| EsaError::Config { path: path.into(), message: format!("not a blacklist: {e}") })?;
        if let Some(e) = entries.iter().find(|e| e.id.trim().is_empty() || e.reason.trim().is_empty()) {
            return Err(EsaError::Config {
                path: path.into(),
                message: format!("entry {e:?} needs an id and a reason"),
            });
        }
        Ok(Blacklist { entries })
    }

    /// The reason `id` on `site` is blacklisted, if it is.
    pub fn reason(&self, site: Site, id: &str) -> Option<&str> {
        self.entries.iter().find(|e| e.id == id && e.site.is_none_or(|s| s == site)).map(|e| e.reason.as_str())
    }
}

/// Why an image was left out; `key()` groups the summary.
#[derive(Clone, Debug, PartialEq)]
pub enum FilterReason {
    /// On the blacklist.
    Blacklisted(String),
    /// Not of the required type (Artwork, Photographic, …, or unknown).
    Type(Option<String>),
    /// In a dropped category.
    Category(String),
    /// Field of view smaller than the minimum (degrees).
    FieldOfView(f64),
    /// Smaller side below the minimum (pixels).
    PixelSize(u32),
    /// Spatial quality not Full.
    SpatialQuality(String),
    /// No usable sky geometry from any source.
    NoGeometry,
}

impl FilterReason {
    /// Short grouping key for summaries ("blacklist", "type", "category", …).
    pub fn key(&self) -> String {
        match self {
            FilterReason::Blacklisted(_) => "blacklist".into(),
            FilterReason::Type(_) => "type".into(),
            FilterReason::Category(c) => format!("category {c}"),
            FilterReason::FieldOfView(_) => "field of view".into(),
            FilterReason::PixelSize(_) => "pixel size".into(),
            FilterReason::SpatialQuality(_) => "spatial quality".into(),
            FilterReason::NoGeometry => "no sky geometry".into(),
        }
    }
}

impl fmt::Display for FilterReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterReason::Blacklisted(r) => write!(f, "blacklisted: {r}"),
            FilterReason::Type(t) => write!(f, "type {}", t.as_deref().unwrap_or("unknown")),
            FilterReason::Category(c) => write!(f, "category {c}"),
            FilterReason::FieldOfView(v) => write!(f, "field of view {:.3} arcmin", v * 60.0),
            FilterReason::PixelSize(p) => write!(f, "smaller side {p} px"),
            FilterReason::SpatialQuality(q) => write!(f, "spatial quality {q}"),
            FilterReason::NoGeometry => write!(f, "no usable sky geometry"),
        }
    }
}

/// AVM subject taxonomy: the domain letter of a category code ("C.5.1.1" → Local Universe).
pub fn avm_domain(code: &str) -> Option<&'static str> {
    let first = code.trim().split('.').next()?;
    match first {
        "A" => Some("Solar System"),
        "B" => Some("Milky Way"),
        "C" => Some("Local Universe"),
        "D" => Some("Early Universe"),
        "E" => Some("Unspecified"),
        "X" => Some("Local Use"),
        _ => None,
    }
}

/// Filter settings (all configurable; defaults follow the project's needs).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FilterConfig {
    /// Required image type (default "Observation"); `None` keeps every type.
    pub image_type: Option<String>,
    /// Categories to drop: AVM domain names ("Solar System"), site category names, or code prefixes ("A.1").
    pub drop_categories: Vec<String>,
    /// Smallest field of view (larger side, degrees) to keep.
    pub min_fov_deg: Option<f64>,
    /// Smallest pixel size (smaller side) to keep.
    pub min_pixels: Option<u32>,
    /// Keep only images whose `Spatial.Quality` is Full (unknown quality passes before download).
    pub require_full_quality: bool,
    /// Drop images without a complete WCS (reference value, pixel, scale) once all sources are merged.
    pub require_geometry: bool,
    /// Blacklisted ids.
    #[serde(default)]
    pub blacklist: Blacklist,
}

impl Default for FilterConfig {
    fn default() -> Self {
        FilterConfig {
            image_type: Some("Observation".into()),
            drop_categories: vec!["Solar System".into(), "Early Universe".into()],
            min_fov_deg: Some(0.5 / 60.0),
            min_pixels: Some(512),
            require_full_quality: true,
            require_geometry: true,
            blacklist: Blacklist::default(),
        }
    }
}

impl FilterConfig {
    /// Keep everything (for tests and full mirrors).
    pub fn keep_all() -> Self {
        FilterConfig {
            image_type: None,
            drop_categories: Vec::new(),
            min_fov_deg: None,
            min_pixels: None,
            require_full_quality: false,
            require_geometry: false,
            blacklist: Blacklist::default(),
        }
    }

    /// The dropped category a record falls in, if any.
    pub fn dropped_category(&self, rec: &ImageRecord) -> Option<String> {
        for cat in &rec.categories {
            let domain = avm_domain(cat);
            for drop in &self.drop_categories {
                let hit = cat.eq_ignore_ascii_case(drop)
                    || domain.is_some_and(|d| d.eq_ignore_ascii_case(drop))
                    || (drop.contains('.') || drop.len() == 1) && (cat == drop || cat.starts_with(&format!("{drop}.")));
                if hit {
                    return Some(drop.clone());
                }
            }
        }
        None
    }

    /// Checks that need only listing metadata (feed/HTML); unknown values pass.
    pub fn check_listing(&self, rec: &ImageRecord) -> std::result::Result<(), FilterReason> {
        if let Some(r) = self.blacklist.reason(rec.site, &rec.id) {
            return Err(FilterReason::Blacklisted(r.to_string()));
        }
        if let Some(c) = self.dropped_category(rec) {
            return Err(FilterReason::Category(c));
        }
        if let Some(want) = &self.image_type {
            match &rec.image_type {
                Some(t) if t.eq_ignore_ascii_case(want) => {}
                other => return Err(FilterReason::Type(other.clone())),
            }
        }
        if let (Some(min), Some(fov)) = (self.min_fov_deg, rec.fov_deg()) {
            let big = fov[0].max(fov[1]);
            if big < min {
                return Err(FilterReason::FieldOfView(big));
            }
        }
        if let (Some(min), Some(size)) = (self.min_pixels, rec.pixel_size) {
            let small = size[0].min(size[1]);
            if small < min {
                return Err(FilterReason::PixelSize(small));
            }
        }
        if self.require_full_quality
            && let Some(q) = rec.geometry.as_ref().and_then(|g| g.quality)
            && q != SpatialQuality::Full
        {
            return Err(FilterReason::SpatialQuality(format!("{q:?}")));
        }
        Ok(())
    }

    /// All checks on the final record (after the embedded AVM is merged in).
    pub fn check_final(&self, rec: &ImageRecord) -> std::result::Result<(), FilterReason> {
        self.check_listing(rec)?;
        if self.require_geometry && !rec.geometry.as_ref().is_some_and(|g| g.is_complete()) {
            return Err(FilterReason::NoGeometry);
        }
        Ok(())
    }
}
