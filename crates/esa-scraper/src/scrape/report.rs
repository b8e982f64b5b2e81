//! What a run tells: per-image [`Outcome`]s, progress [`Event`]s and the final [`Summary`].

use std::collections::BTreeMap;
use std::fmt;

use crate::filter::FilterReason;
use crate::store::Stage;

use super::options::ListingSource;

/// What happened to one image.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Downloaded, verified and recorded.
    Downloaded,
    /// Already downloaded and recorded: nothing fetched.
    Skipped,
    /// Found complete on disk without a record (an interrupted run): verified and recorded, nothing fetched.
    Adopted,
    /// Left out.
    Filtered(FilterReason),
    /// Dry run: would be downloaded.
    WouldDownload,
    /// Failed at a stage (recorded in the failure ledger).
    Failed(Stage, String),
}

impl Outcome {
    /// A word or two for progress lines: `downloaded`, `skipped`, `recovered`, `filtered`,
    /// `would download`, `FAILED`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Downloaded => "downloaded",
            Outcome::Skipped => "skipped",
            Outcome::Adopted => "recovered",
            Outcome::Filtered(_) => "filtered",
            Outcome::WouldDownload => "would download",
            Outcome::Failed(..) => "FAILED",
        }
    }
}

/// Progress events, delivered on the calling thread.
#[derive(Clone, Debug)]
pub enum Event {
    /// A listing page was read.
    Listed {
        /// Page URL.
        url: String,
        /// Items on the page.
        items: usize,
        /// Total announced by the feed, if any.
        total: Option<u64>,
    },
    /// The listing is complete; `queued` images will be processed.
    Queued {
        /// Images to process.
        queued: usize,
    },
    /// One image is finished.
    Done {
        /// Image id.
        id: String,
        /// Its outcome.
        outcome: Outcome,
    },
}

/// Counts of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Where the ids came from.
    pub listing_source: ListingSource,
    /// Images listed (readable listing entries).
    pub listed: usize,
    /// Images that passed the filters.
    pub kept: usize,
    /// Filtered images per reason.
    pub filtered: BTreeMap<String, usize>,
    /// Not processed because of `--limit` or `--missing`.
    pub not_selected: usize,
    /// Downloaded this run.
    pub downloaded: usize,
    /// Already present and recorded.
    pub skipped: usize,
    /// Found complete on disk and recorded without downloading.
    pub adopted: usize,
    /// Dry run: would download.
    pub would_download: usize,
    /// Images that failed.
    pub failed: usize,
    /// Listing pages or feed items that could not be read.
    pub listing_failures: usize,
    /// Records in `metadata.jsonl` after the run.
    pub records: usize,
    /// HTTP requests sent (attempts, including retries).
    pub requests: u64,
}

impl Summary {
    /// Whether anything failed (the binary's exit status).
    pub fn has_failures(&self) -> bool {
        self.failed > 0 || self.listing_failures > 0
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let filtered: usize = self.filtered.values().sum();
        writeln!(f, "listed      {:>6}  (from the {:?} listing)", self.listed, self.listing_source)?;
        writeln!(f, "kept        {:>6}", self.kept)?;
        writeln!(f, "filtered    {:>6}", filtered)?;
        for (k, v) in &self.filtered {
            writeln!(f, "  {k:<24}{v:>6}")?;
        }
        if self.not_selected > 0 {
            writeln!(f, "not selected{:>6}  (--limit / --missing)", self.not_selected)?;
        }
        writeln!(f, "downloaded  {:>6}", self.downloaded)?;
        writeln!(f, "skipped     {:>6}  (already downloaded and verified)", self.skipped)?;
        if self.adopted > 0 {
            writeln!(f, "recovered   {:>6}  (complete on disk, recorded without download)", self.adopted)?;
        }
        if self.would_download > 0 {
            writeln!(f, "would fetch {:>6}  (dry run)", self.would_download)?;
        }
        writeln!(f, "failed      {:>6}", self.failed)?;
        if self.listing_failures > 0 {
            writeln!(f, "listing failures {:>6}", self.listing_failures)?;
        }
        write!(f, "records     {:>6}  requests {}", self.records, self.requests)
    }
}
