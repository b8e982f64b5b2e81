//! The two archives (ESA/Hubble, ESA/Webb) and every URL the scraper builds for them, all configurable.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::EsaError;

/// One of the two djangoplicity image archives.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Site {
    /// esahubble.org.
    Hubble,
    /// esawebb.org.
    Webb,
}

impl Site {
    /// Lower-case name used in paths and the CLI (`hubble`, `webb`).
    pub fn name(self) -> &'static str {
        match self {
            Site::Hubble => "hubble",
            Site::Webb => "webb",
        }
    }

    /// Public web site.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Site::Hubble => "https://esahubble.org",
            Site::Webb => "https://esawebb.org",
        }
    }

    /// Public CDN serving the image files.
    pub fn default_cdn_url(self) -> &'static str {
        match self {
            Site::Hubble => "https://cdn.esahubble.org",
            Site::Webb => "https://cdn.esawebb.org",
        }
    }

    /// The archive-search `facility` number of the site's own telescope (2 = Hubble, 1 = JWST).
    pub fn facility_number(self) -> u32 {
        match self {
            Site::Hubble => 2,
            Site::Webb => 1,
        }
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Site {
    type Err = EsaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hubble" | "esahubble" | "esahubble.org" => Ok(Site::Hubble),
            "webb" | "jwst" | "esawebb" | "esawebb.org" => Ok(Site::Webb),
            _ => Err(EsaError::value("site", s, "expected hubble or webb")),
        }
    }
}

/// Image file formats offered by the archives' CDN.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// 1280 px wide JPEG.
    #[default]
    Screen,
    /// Full-size JPEG.
    Large,
    /// 4000 px JPEG.
    Publicationjpg,
    /// Original TIFF.
    Original,
}

impl ImageFormat {
    /// Name used in the CDN path and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Screen => "screen",
            ImageFormat::Large => "large",
            ImageFormat::Publicationjpg => "publicationjpg",
            ImageFormat::Original => "original",
        }
    }

    /// File extension of this format.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Original => "tif",
            _ => "jpg",
        }
    }

    /// The Data2Dome `ResourceType` that points at this very file, if any.
    pub fn d2d_resource_type(self) -> Option<&'static str> {
        match self {
            ImageFormat::Original => Some("Original"),
            ImageFormat::Large => Some("Large"),
            _ => None,
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ImageFormat {
    type Err = EsaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "screen" => Ok(ImageFormat::Screen),
            "large" => Ok(ImageFormat::Large),
            "publicationjpg" => Ok(ImageFormat::Publicationjpg),
            "original" => Ok(ImageFormat::Original),
            _ => Err(EsaError::value("format", s, "expected screen, large, publicationjpg or original")),
        }
    }
}

/// Base URLs of one archive: the web site (feeds, HTML) and the CDN (image files).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SiteConfig {
    /// Which archive this is.
    pub site: Site,
    /// Web site root, without trailing slash (e.g. `https://esahubble.org`).
    pub base_url: String,
    /// CDN root for `/archives/images/<format>/<id>.jpg`, without trailing slash.
    pub cdn_url: String,
}

impl SiteConfig {
    /// The public site and CDN.
    pub fn public(site: Site) -> Self {
        SiteConfig { site, base_url: site.default_base_url().into(), cdn_url: site.default_cdn_url().into() }
    }

    /// A site served from one root (feeds, HTML and images), as for a local mirror or fixture server.
    pub fn with_base(site: Site, base_url: &str) -> Self {
        let base = base_url.trim_end_matches('/').to_string();
        SiteConfig { site, base_url: base.clone(), cdn_url: base }
    }

    /// Data2Dome JSON feed page `n` (1-based).
    pub fn d2d_page_url(&self, page: u32) -> String {
        format!("{}/images/d2d/?page={page}", self.base_url)
    }

    /// HTML detail page of one image.
    pub fn detail_url(&self, id: &str) -> String {
        format!("{}/images/{id}/", self.base_url)
    }

    /// Per-image AVM JSON record.
    pub fn api_json_url(&self, id: &str) -> String {
        format!("{}/images/{id}/api/json/", self.base_url)
    }

    /// HTML archive list page `n` (1-based) of observations by the site's own telescope.
    pub fn archive_search_url(&self, page: u32) -> String {
        format!(
            "{}/images/archive/search/page/{page}/?minimum_size=3&facility={}&type=Observation",
            self.base_url,
            self.site.facility_number()
        )
    }

    /// Plain HTML list page `n` (1-based) of all images.
    pub fn list_page_url(&self, page: u32) -> String {
        format!("{}/images/page/{page}/", self.base_url)
    }

    /// CDN URL of an image in a given format.
    pub fn image_url(&self, id: &str, format: ImageFormat) -> String {
        match format {
            ImageFormat::Original => format!("{}/media/archives/images/original/{id}.tif", self.base_url),
            f => format!("{}/archives/images/{}/{id}.jpg", self.cdn_url, f.name()),
        }
    }
}
