//! One image: detail page when needed, download (or adoption of a complete file), embedded AVM,
//! geometry choice, record.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use polite_http::{Client as Fetcher, Expected};
use sha2::{Digest as _, Sha256};
use tracing::{error, info, warn};

use crate::avm::AvmTags;
use crate::error::{EsaError, Result};
use crate::filter::FilterReason;
use crate::geometry::choose_geometry;
use crate::html::parse_detail_page;
use crate::record::{DownloadedFile, ImageRecord, MetadataSource, SkyGeometry};
use crate::store::{Failure, SiteDir, Stage};

use super::listing::Candidate;
use super::options::{DetailPolicy, ResumeMode, ScrapeOptions};
use super::report::Outcome;

/// Shared, read-only context of the workers.
pub(super) struct Ctx<'a> {
    pub(super) opts: &'a ScrapeOptions,
    pub(super) fetcher: &'a Fetcher,
    pub(super) dir: &'a SiteDir,
    pub(super) existing: &'a HashMap<String, ImageRecord>,
}

/// Result of one image.
pub(super) struct Processed {
    pub(super) id: String,
    pub(super) outcome: Outcome,
    pub(super) record: Option<ImageRecord>,
    pub(super) failure: Option<Failure>,
}

pub(super) fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let mut f = std::fs::File::open(path).map_err(|e| EsaError::io(path, e))?;
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut n_total = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| EsaError::io(path, e))?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
        n_total += n as u64;
    }
    Ok((n_total, format!("{:x}", sha.finalize())))
}

pub(super) fn read_head(path: &Path, max: u64) -> Result<Vec<u8>> {
    let f = std::fs::File::open(path).map_err(|e| EsaError::io(path, e))?;
    let mut buf = Vec::new();
    f.take(max).read_to_end(&mut buf).map_err(|e| EsaError::io(path, e))?;
    Ok(buf)
}

/// The URL to download and what the feed says it must match.
pub(super) fn download_source(opts: &ScrapeOptions, rec: &ImageRecord) -> (String, Expected) {
    let feed_url = opts
        .format
        .d2d_resource_type()
        .and_then(|t| rec.resources.iter().find(|r| r.kind.eq_ignore_ascii_case(t)))
        .map(|r| r.url.clone());
    let url = feed_url.unwrap_or_else(|| opts.site.image_url(&rec.id, opts.format));
    let expected = rec
        .resource_for_url(&url)
        .map(|r| Expected { size: r.file_size, checksum: r.checksum.clone() })
        .unwrap_or_default();
    (url, expected)
}

pub(super) fn process(ctx: &Ctx<'_>, cand: Candidate) -> Processed {
    let Candidate { mut rec, from_feed } = cand;
    let id = rec.id.clone();
    let site = ctx.opts.site.site;
    let fail = |stage: Stage, url: Option<String>, e: &EsaError| {
        error!("{site} {id}: {e}");
        Processed {
            id: id.clone(),
            outcome: Outcome::Failed(stage, e.to_string()),
            record: None,
            failure: Some(Failure::new(site, id.clone(), stage, url, e)),
        }
    };
    let filtered =
        |r: FilterReason| Processed { id: id.clone(), outcome: Outcome::Filtered(r), record: None, failure: None };

    // 0. Resume: an image recorded and on disk with its recorded size and format costs no request.
    if ctx.opts.mode != ResumeMode::Override {
        let rel = SiteDir::image_rel(&id, ctx.opts.format);
        let on_disk = std::fs::metadata(ctx.dir.root.join(&rel)).ok().filter(|m| m.is_file()).map(|m| m.len());
        if let (Some(ex), Some(len)) = (ctx.existing.get(&id), on_disk)
            && ex.file.as_ref().is_some_and(|f| f.path == rel && f.bytes == len && f.format == ctx.opts.format)
        {
            return Processed { id, outcome: Outcome::Skipped, record: None, failure: None };
        }
    }

    // 1. Detail page where the listing falls short.
    let feed_geo = if from_feed { rec.geometry.clone() } else { None };
    let mut html_geo: Option<SkyGeometry> = None;
    let need_detail = match ctx.opts.detail {
        DetailPolicy::Never => false,
        DetailPolicy::Always => true,
        DetailPolicy::Missing => {
            !from_feed
                || rec.image_type.is_none()
                || rec.credit.is_empty()
                || !rec.geometry.as_ref().is_some_and(SkyGeometry::is_complete)
        }
    };
    if need_detail {
        let url = ctx.opts.site.detail_url(&id);
        match ctx.fetcher.get_text(&url).map_err(EsaError::from).and_then(|t| parse_detail_page(site, &id, &t)) {
            Ok(page) => {
                if page.dec_sign_ambiguous {
                    warn!("{site} {id}: HTML declination near 0° may have lost its minus sign");
                }
                html_geo = page.record.geometry.clone();
                rec.fill_from(&page.record);
            }
            Err(e) if !from_feed => return fail(Stage::Detail, Some(url), &e),
            Err(e) => warn!("{site} {id}: detail page unusable, continuing with the feed: {e}"),
        }
    }
    let listing_geo = choose_geometry(&id, None, feed_geo.as_ref(), html_geo.as_ref());
    rec.geometry = listing_geo.as_ref().map(|(g, _)| g.clone());
    rec.geometry_source = listing_geo.map(|(_, s)| s);
    if let Err(r) = ctx.opts.filter.check_listing(&rec) {
        return filtered(r);
    }

    // 2. Download source; a file already under the final name may be adopted.
    let format = ctx.opts.format;
    let rel = SiteDir::image_rel(&id, format);
    let dest = ctx.dir.root.join(&rel);
    let on_disk = std::fs::metadata(&dest).ok().filter(|m| m.is_file()).map(|m| m.len());
    let (url, expected) = download_source(ctx.opts, &rec);
    // A complete file under the final name without a record: an earlier run was stopped after the rename.
    let adopt = ctx.opts.mode != ResumeMode::Override
        && on_disk.is_some()
        && match sha256_file(&dest) {
            Ok((bytes, _)) => expected.size.is_none_or(|s| s == bytes),
            Err(_) => false,
        };
    if ctx.opts.dry_run {
        let outcome = if adopt { Outcome::Adopted } else { Outcome::WouldDownload };
        return Processed { id, outcome, record: None, failure: None };
    }

    // 3. Download (streamed to .part, verified, renamed).
    let (bytes, sha256) = if adopt {
        match sha256_file(&dest) {
            Ok(x) => x,
            Err(e) => return fail(Stage::Image, Some(url), &e),
        }
    } else {
        match ctx.fetcher.download(&url, &dest, &expected).map_err(EsaError::from) {
            Ok(d) => (d.bytes, d.sha256),
            Err(e) => return fail(Stage::Download, Some(url), &e),
        }
    };

    // 4. Read the file: pixel size and embedded AVM.
    let dims = image::ImageReader::open(&dest)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| EsaError::io(&dest, e))
        .and_then(|r| {
            r.into_dimensions()
                .map_err(|e| EsaError::avm(dest.display().to_string(), format!("not a readable image: {e}")))
        });
    let (width, height) = match dims {
        Ok(d) => d,
        Err(e) => {
            let _ = std::fs::remove_file(&dest);
            return fail(Stage::Image, Some(url), &e);
        }
    };
    let what = format!("{site} {id} ({rel})");
    let avm = read_head(&dest, ctx.opts.xmp_scan_bytes).and_then(|b| AvmTags::from_image_bytes(&b, &what));
    let avm_geo = match &avm {
        Ok(tags) => match tags.geometry(&what) {
            Ok(g) => Some(g),
            Err(e) => {
                error!("{e}; using the feed/HTML geometry");
                None
            }
        },
        Err(e) => {
            info!("{e}; using the feed/HTML geometry");
            None
        }
    };
    if let Ok(tags) = &avm {
        let mut from_avm = ImageRecord::new(site, id.clone());
        from_avm.sources.push(MetadataSource::Avm);
        from_avm.title = tags.title().unwrap_or_default();
        from_avm.credit = tags.credit().unwrap_or_default();
        from_avm.image_type = tags.image_type();
        from_avm.facility = tags.facility();
        from_avm.instrument = tags.instrument();
        from_avm.categories = tags.categories();
        from_avm.spectral = tags.spectral(&what).unwrap_or_default();
        rec.fill_from(&from_avm);
    }
    match choose_geometry(&id, avm_geo.as_ref(), feed_geo.as_ref(), html_geo.as_ref()) {
        Some((g, s)) => {
            rec.geometry = Some(g);
            rec.geometry_source = Some(s);
        }
        None => {
            rec.geometry = None;
            rec.geometry_source = None;
        }
    }
    rec.file = Some(DownloadedFile { format, path: rel, url, bytes, sha256, width, height });
    if let Err(r) = ctx.opts.filter.check_final(&rec) {
        // The file stays: a re-run re-reads it from disk instead of downloading it again.
        return filtered(r);
    }
    if let Some(g) = &rec.geometry
        && g.is_complete()
        && let Err(e) = rec.wcs()
    {
        warn!("{site} {id}: geometry does not give a usable WCS: {e}");
    }
    let outcome = if adopt { Outcome::Adopted } else { Outcome::Downloaded };
    Processed { id, outcome, record: Some(rec), failure: None }
}

/// Remove `*.part` files left by a killed run.
pub(super) fn remove_stale_parts(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "part")
                && let Err(err) = std::fs::remove_file(&p)
            {
                warn!("{}: cannot remove stale partial download: {err}", p.display());
            }
        }
    }
}
