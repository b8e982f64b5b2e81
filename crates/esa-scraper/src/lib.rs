//! ESA/Hubble and ESA/Webb outreach archives: image metadata, exact sky geometry (AVM), polite resumable
//! downloads and credit lines.
//!
//! The "pretty" half of the training pairs: every observation image of esahubble.org / esawebb.org with
//! its sky geometry and credit line. Listing uses the Data2Dome JSON feed (HTML archive pages as a
//! fallback), each image's embedded AVM (XMP) is preferred over the feed and the HTML for its geometry,
//! and [`ImageRecord::wcs`] gives the TAN WCS of the file on disk (the math is `sky_geometry::Wcs`).
//!
//! ```no_run
//! use esa_scraper::{scrape, ScrapeOptions, Site, SiteConfig};
//! let opts = ScrapeOptions::new(SiteConfig::public(Site::Hubble), "data/esa");
//! let summary = scrape(&opts, &mut |_event| {})?;
//! println!("{summary}");
//! # Ok::<(), esa_scraper::EsaError>(())
//! ```
#![warn(missing_docs)]

pub mod avm;
pub mod credits;
pub mod error;
pub mod feed;
pub mod filter;
pub mod fixture;
pub mod geometry;
pub mod html;
pub mod record;
pub mod scrape;
pub mod site;
pub mod store;
pub mod values;

pub use error::{EsaError, Result};
pub use filter::{Blacklist, FilterConfig, FilterReason};
/// HTTP politeness and fault tolerance of a scrape (the project's one client: `polite-http`).
pub use polite_http::Policy as HttpConfig;
pub use record::{ImageRecord, MetadataSource, SkyGeometry, SpatialQuality, SpectralBand};
pub use scrape::{DetailPolicy, Event, Outcome, ResumeMode, ScrapeOptions, Summary, scrape};
pub use site::{ImageFormat, Site, SiteConfig};
pub use sky_geometry::Wcs;
pub use store::read_metadata;
