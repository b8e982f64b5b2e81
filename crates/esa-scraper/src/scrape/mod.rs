//! The whole run: list (feed, else HTML), filter, fetch detail pages where needed, download, read the
//! embedded AVM, merge, record — resumable and safe to kill at any moment.
//!
//! - [`options`]: what a run is asked to do;
//! - `listing`: the feed or the HTML search pages, as candidates;
//! - `image`: one image from detail page to record;
//! - [`report`]: outcomes, progress events, the summary;
//! - `run`: [`scrape`], the worker pool and the stores.

mod image;
mod listing;
pub mod options;
pub mod report;
mod run;

pub use options::{DetailPolicy, ListingSource, ResumeMode, ScrapeOptions};
pub use report::{Event, Outcome, Summary};
pub use run::scrape;
