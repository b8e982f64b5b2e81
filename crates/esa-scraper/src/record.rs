//! The per-image record written as one JSON line to `metadata.jsonl`: the contract read by `build-dataset`.
//!
//! Field names are stable (schema version [`RECORD_SCHEMA`]); new fields are only ever added as optional
//! (`#[serde(default)]`), so older files keep loading.

use serde::{Deserialize, Serialize};

use crate::site::{ImageFormat, Site};

/// Version of the `metadata.jsonl` record layout.
pub const RECORD_SCHEMA: u32 = 1;

/// Licence of the archives' images unless the record says otherwise.
pub const DEFAULT_LICENCE: &str = "CC BY 4.0";

/// Canonical URL of the default licence.
pub const DEFAULT_LICENCE_URL: &str = "https://creativecommons.org/licenses/by/4.0/";

/// Where a piece of metadata came from, in order of trust (embedded AVM first).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum MetadataSource {
    /// The XMP/AVM packet embedded in the downloaded image file.
    Avm,
    /// The Data2Dome JSON feed.
    Feed,
    /// The HTML detail page (rounded values; RA/Dec at the reference pixel).
    Html,
}

/// AVM `Spatial.Quality`: whether the full WCS or only the position is trustworthy.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpatialQuality {
    /// Full astrometric solution (position, scale, rotation).
    Full,
    /// Only the position is reliable.
    Position,
}

/// The image's sky geometry as AVM `Spatial.*` tags (FITS pixel convention: 1-based, y up).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct SkyGeometry {
    /// `Spatial.ReferenceValue`: RA and Dec (degrees) at the reference pixel — not the image centre.
    pub reference_value: Option<[f64; 2]>,
    /// `Spatial.ReferencePixel`: FITS x, y of the reference point (1-based, y up) in the reference dimension.
    #[serde(default)]
    pub reference_pixel: Option<[f64; 2]>,
    /// `Spatial.ReferenceDimension`: width, height (px) the reference pixel and scale refer to.
    #[serde(default)]
    pub reference_dimension: Option<[f64; 2]>,
    /// `Spatial.Scale`: degrees per pixel along x and y (x usually negative: RA grows to the left).
    #[serde(default)]
    pub scale: Option<[f64; 2]>,
    /// `Spatial.Rotation`: degrees, the FITS CROTA2 angle.
    #[serde(default)]
    pub rotation_deg: Option<f64>,
    /// `Spatial.CoordinateFrame` (ICRS, FK5, …).
    #[serde(default)]
    pub coordinate_frame: Option<String>,
    /// `Spatial.Equinox` (e.g. "J2000").
    #[serde(default)]
    pub equinox: Option<String>,
    /// `Spatial.CoordsystemProjection` (TAN).
    #[serde(default)]
    pub projection: Option<String>,
    /// `Spatial.Quality`.
    #[serde(default)]
    pub quality: Option<SpatialQuality>,
    /// Field of view in degrees (width, height) when only that is known (HTML "Field of view").
    #[serde(default)]
    pub field_of_view_deg: Option<[f64; 2]>,
}

impl SkyGeometry {
    /// Whether the tags suffice for a full TAN WCS (reference value, pixel, scale).
    pub fn is_complete(&self) -> bool {
        self.reference_value.is_some() && self.reference_pixel.is_some() && self.scale.is_some()
    }

    /// Field of view in degrees: |scale| × reference dimension, else the recorded field of view.
    pub fn fov_deg(&self) -> Option<[f64; 2]> {
        match (self.scale, self.reference_dimension) {
            (Some(s), Some(d)) => Some([(s[0] * d[0]).abs(), (s[1] * d[1]).abs()]),
            _ => self.field_of_view_deg,
        }
    }

    /// Fill every missing field from `other` (lower-priority source), keeping the fields already present.
    pub fn fill_from(&mut self, other: &SkyGeometry) {
        macro_rules! fill {
            ($($f:ident),*) => { $( if self.$f.is_none() { self.$f = other.$f.clone(); } )* };
        }
        fill!(
            reference_value,
            reference_pixel,
            reference_dimension,
            scale,
            rotation_deg,
            coordinate_frame,
            equinox,
            projection,
            quality,
            field_of_view_deg
        );
    }

    /// True when no field is set.
    pub fn is_empty(&self) -> bool {
        *self == SkyGeometry::default()
    }
}

/// One exposure/filter of the colour composite (AVM `Spectral.*`, one entry per exposure).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct SpectralBand {
    /// `Spectral.ColorAssignment` (Red, Green, Blue, Cyan, …).
    #[serde(default)]
    pub color_assignment: Option<String>,
    /// `Spectral.Band` (Optical, Infrared, …).
    #[serde(default)]
    pub band: Option<String>,
    /// `Spectral.Bandpass` — filter name (e.g. "F814W").
    #[serde(default)]
    pub bandpass: Option<String>,
    /// `Spectral.CentralWavelength` in nanometres.
    #[serde(default)]
    pub central_wavelength_nm: Option<f64>,
    /// Telescope/facility of this exposure (HTML "Colours & filters" table).
    #[serde(default)]
    pub facility: Option<String>,
}

/// One downloadable file of the image as listed by the feed (or built from the CDN pattern).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Resource {
    /// Data2Dome `ResourceType` (Original, Large, Medium, Small, Thumbnail, Icon).
    pub kind: String,
    /// Absolute URL.
    pub url: String,
    /// Size in bytes, when the feed gives it.
    #[serde(default)]
    pub file_size: Option<u64>,
    /// Width and height in pixels, when the feed gives them.
    #[serde(default)]
    pub dimensions: Option<[u32; 2]>,
    /// Checksum as the feed gives it (hex MD5 or SHA-256, told apart by length).
    #[serde(default)]
    pub checksum: Option<String>,
}

/// The image file this record describes, once downloaded and verified.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DownloadedFile {
    /// Format that was downloaded.
    pub format: ImageFormat,
    /// Path relative to the site directory (`images/<id>.<ext>`).
    pub path: String,
    /// URL it was fetched from.
    pub url: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the file (hex), computed while streaming.
    pub sha256: String,
    /// Pixel width of the file.
    pub width: u32,
    /// Pixel height of the file.
    pub height: u32,
}

/// Everything known about one archive image; one JSON line of `metadata.jsonl`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ImageRecord {
    /// Record layout version ([`RECORD_SCHEMA`]).
    #[serde(default = "default_schema")]
    pub schema: u32,
    /// Archive the image comes from.
    pub site: Site,
    /// Archive id (e.g. "heic0506a", "weic2216b").
    pub id: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Image type (Observation, Artwork, Photographic, Collage, Chart, Simulation), when known.
    #[serde(default)]
    pub image_type: Option<String>,
    /// Subject categories as given (AVM taxonomy codes such as "C.5.1.1", or site category names).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Subject (object) names.
    #[serde(default)]
    pub subject_names: Vec<String>,
    /// Release/publication date as given by the site (ISO 8601 from the feed).
    #[serde(default)]
    pub release_date: Option<String>,
    /// Pixel size (width, height) of the full-size image.
    #[serde(default)]
    pub pixel_size: Option<[u32; 2]>,
    /// Credit line; showing it in full is mandatory.
    #[serde(default)]
    pub credit: String,
    /// Rights statement as given by the site.
    #[serde(default)]
    pub rights: Option<String>,
    /// Licence short name (CC BY 4.0 unless the rights say otherwise).
    #[serde(default = "default_licence")]
    pub licence: String,
    /// Licence URL.
    #[serde(default = "default_licence_url")]
    pub licence_url: String,
    /// Web page of the image.
    #[serde(default)]
    pub reference_url: Option<String>,
    /// Telescopes (AVM `Facility`).
    #[serde(default)]
    pub facility: Vec<String>,
    /// Instruments (AVM `Instrument`).
    #[serde(default)]
    pub instrument: Vec<String>,
    /// Exposures/filters.
    #[serde(default)]
    pub spectral: Vec<SpectralBand>,
    /// Downloadable files.
    #[serde(default)]
    pub resources: Vec<Resource>,
    /// Object name, type, distance and constellation from the detail page ("About the Object").
    #[serde(default)]
    pub object: ObjectInfo,
    /// Sky geometry merged from the sources (embedded AVM > feed > HTML).
    #[serde(default)]
    pub geometry: Option<SkyGeometry>,
    /// The source the geometry's reference value came from.
    #[serde(default)]
    pub geometry_source: Option<MetadataSource>,
    /// Every source that contributed to this record.
    #[serde(default)]
    pub sources: Vec<MetadataSource>,
    /// The downloaded image file.
    #[serde(default)]
    pub file: Option<DownloadedFile>,
}

/// "About the Object" rows of the detail page.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ObjectInfo {
    /// Object name(s).
    #[serde(default)]
    pub name: Option<String>,
    /// Object type (e.g. "Local Universe : Galaxy : Type : Spiral").
    #[serde(default)]
    pub object_type: Option<String>,
    /// Distance as written (e.g. "30 million light years").
    #[serde(default)]
    pub distance: Option<String>,
    /// Constellation.
    #[serde(default)]
    pub constellation: Option<String>,
}

fn default_schema() -> u32 {
    RECORD_SCHEMA
}
fn default_licence() -> String {
    DEFAULT_LICENCE.into()
}
fn default_licence_url() -> String {
    DEFAULT_LICENCE_URL.into()
}

impl ImageRecord {
    /// An empty record for `site`/`id`, to be filled by the parsers.
    pub fn new(site: Site, id: impl Into<String>) -> Self {
        ImageRecord {
            schema: RECORD_SCHEMA,
            site,
            id: id.into(),
            title: String::new(),
            image_type: None,
            categories: Vec::new(),
            subject_names: Vec::new(),
            release_date: None,
            pixel_size: None,
            credit: String::new(),
            rights: None,
            licence: DEFAULT_LICENCE.into(),
            licence_url: DEFAULT_LICENCE_URL.into(),
            reference_url: None,
            facility: Vec::new(),
            instrument: Vec::new(),
            spectral: Vec::new(),
            resources: Vec::new(),
            object: ObjectInfo::default(),
            geometry: None,
            geometry_source: None,
            sources: Vec::new(),
            file: None,
        }
    }

    /// Field of view in degrees from the geometry, if known.
    pub fn fov_deg(&self) -> Option<[f64; 2]> {
        self.geometry.as_ref().and_then(SkyGeometry::fov_deg)
    }

    /// The feed resource whose URL is `url`, if any (for size/checksum verification).
    pub fn resource_for_url(&self, url: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.url == url)
    }

    /// Fill fields still empty in `self` from a lower-priority record of the same image.
    pub fn fill_from(&mut self, other: &ImageRecord) {
        if self.title.is_empty() {
            self.title = other.title.clone();
        }
        if self.credit.is_empty() {
            self.credit = other.credit.clone();
        }
        macro_rules! fill_opt {
            ($($f:ident),*) => { $( if self.$f.is_none() { self.$f = other.$f.clone(); } )* };
        }
        fill_opt!(image_type, release_date, pixel_size, rights, reference_url);
        macro_rules! fill_vec {
            ($($f:ident),*) => { $( if self.$f.is_empty() { self.$f = other.$f.clone(); } )* };
        }
        fill_vec!(categories, subject_names, facility, instrument, spectral, resources);
        macro_rules! fill_obj {
            ($($f:ident),*) => { $( if self.object.$f.is_none() { self.object.$f = other.object.$f.clone(); } )* };
        }
        fill_obj!(name, object_type, distance, constellation);
        for s in &other.sources {
            if !self.sources.contains(s) {
                self.sources.push(*s);
            }
        }
        self.sources.sort();
    }
}
