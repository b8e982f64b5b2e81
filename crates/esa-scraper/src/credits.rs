//! Credit lines: `credits.tsv` for every downloaded image and a generator for the `Credit.md` section.
//! The archives' images are CC BY 4.0 and showing each full credit line is mandatory.

use std::path::Path;

use crate::error::Result;
use crate::record::ImageRecord;
use crate::site::Site;
use crate::store::write_atomic;

fn tsv_field(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

/// `credits.tsv` text: header + one row per downloaded image (id, site, title, credit, licence, url).
pub fn credits_tsv<'a>(records: impl IntoIterator<Item = &'a ImageRecord>) -> String {
    let mut out = String::from("id\tsite\ttitle\tcredit\tlicence\turl\n");
    for r in records.into_iter().filter(|r| r.file.is_some()) {
        let url = r.reference_url.clone().unwrap_or_default();
        out += &format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            tsv_field(&r.id),
            r.site,
            tsv_field(&r.title),
            tsv_field(&r.credit),
            tsv_field(&r.licence),
            tsv_field(&url)
        );
    }
    out
}

/// Write `credits.tsv` atomically.
pub fn write_credits_tsv<'a>(path: &Path, records: impl IntoIterator<Item = &'a ImageRecord>) -> Result<()> {
    write_atomic(path, credits_tsv(records).as_bytes())
}

/// The `Credit.md` section for the downloaded images of one site: licence statement and every credit line.
pub fn credit_markdown<'a>(site: Site, records: impl IntoIterator<Item = &'a ImageRecord>) -> String {
    let mut rows: Vec<&ImageRecord> = records.into_iter().filter(|r| r.file.is_some()).collect();
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    let (name, host) = match site {
        Site::Hubble => ("ESA/Hubble", "esahubble.org"),
        Site::Webb => ("ESA/Webb", "esawebb.org"),
    };
    let mut out = format!(
        "## {name} images\n\n{} images from [{host}](https://{host}/images/) are used under their licence \
         (Creative Commons Attribution 4.0 International unless stated per image). Each image's full credit line:\n\n",
        rows.len()
    );
    for r in rows {
        let title = if r.title.is_empty() { String::new() } else { format!(" — {}", r.title.replace('|', "/")) };
        let link = r.reference_url.clone().unwrap_or_else(|| format!("https://{host}/images/{}/", r.id));
        let lic = if r.licence == crate::record::DEFAULT_LICENCE { String::new() } else { format!(" ({})", r.licence) };
        out += &format!("- [{}]({link}){title}: {}{lic}\n", r.id, r.credit);
    }
    out
}

/// Write the `Credit.md` section of the images downloaded so far for `site` under `out_dir`
/// (`out_dir/<site>/metadata.jsonl`) to `path`, atomically.
pub fn write_credit_markdown(site: Site, out_dir: &Path, path: &Path) -> Result<()> {
    let meta = out_dir.join(site.name()).join("metadata.jsonl");
    let recs = if meta.exists() { crate::store::read_metadata(&meta)? } else { Vec::new() };
    write_atomic(path, credit_markdown(site, &recs).as_bytes())
}
