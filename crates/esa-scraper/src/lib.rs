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

mod avm;
mod credits;
mod error;
mod feed;
mod filter;
pub mod fixture;
mod geometry;
mod html;
mod record;
mod scrape;
mod site;
mod store;
pub mod values;

pub use avm::{AvmTags, MAX_XMP_BYTES, MAX_XMP_DEPTH, MAX_XMP_NODES, embed_xmp_in_jpeg, extract_xmp, write_xmp};
pub use credits::write_credit_markdown;
pub use error::{EsaError, Result};
pub use feed::{FeedPage, parse_d2d_page};
pub use filter::{Blacklist, FilterConfig, FilterReason};
pub use geometry::choose_geometry;
pub use html::{parse_detail_page, parse_list_page};
/// HTTP politeness and fault tolerance of a scrape (the project's one client: `polite-http`).
pub use polite_http::Policy as HttpConfig;
pub use record::{DownloadedFile, ImageRecord, MetadataSource, SkyGeometry, SpatialQuality, SpectralBand};
pub use scrape::{DetailPolicy, Event, ListingSource, Outcome, ResumeMode, ScrapeOptions, Summary, scrape};
pub use site::{ImageFormat, Site, SiteConfig};
pub use sky_geometry::Wcs;
pub use store::{FailureLedger, Stage, lock_dir, read_metadata};
