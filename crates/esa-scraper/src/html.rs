//! HTML pages of the archives (fallback source): the image detail page and the archive list pages.
//!
//! Both djangoplicity variants are handled: ESA/Hubble (`div.object-info` with `<h3>` titles and
//! `th.title` rows) and ESA/Webb (`#object_info_div` with `<h4>` titles, bare `th`, `td colspan="2"`).

use scraper::{ElementRef, Html, Selector};
use tracing::warn;

use crate::error::{EsaError, Result};
use crate::record::{ImageRecord, MetadataSource, SkyGeometry, SpectralBand};
use crate::site::Site;
use crate::values;

fn sel(s: &str) -> Selector {
    // The selectors are literals in this file; a failure is a programming error caught by the unit tests.
    Selector::parse(s).unwrap_or_else(|e| panic!("invalid built-in selector {s:?}: {e}"))
}

/// Text of an element; text nodes are joined with spaces so `a<br>b` reads "a b".
fn text_of(e: ElementRef<'_>) -> String {
    crate::values::normalise_ws(&e.text().collect::<Vec<_>>().join(" "))
}

/// One labelled row of a detail page section.
#[derive(Debug, Clone, PartialEq)]
pub struct InfoRow {
    /// Section title ("About the Image", "Coordinates", …).
    pub section: String,
    /// Row label without the trailing colon ("Position (RA)").
    pub label: String,
    /// Cell texts (one for label/value rows, several for the filter table).
    pub cells: Vec<String>,
}

/// Everything read from a detail page.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailPage {
    /// The record filled from the page (geometry from the Coordinates section, source = html).
    pub record: ImageRecord,
    /// All rows in page order, for fields the record does not model.
    pub rows: Vec<InfoRow>,
    /// Whether the printed declination may have lost its minus sign (−1° < Dec < 0 shows as "0° …").
    pub dec_sign_ambiguous: bool,
}

/// All section rows of a detail page in document order.
pub fn info_rows(doc: &Html) -> Vec<InfoRow> {
    let s = sel("div.object-info h3, div.object-info h4, div.object-info tr, \
         #object_info_div h3, #object_info_div h4, #object_info_div tr");
    let th = sel("th");
    let td = sel("td");
    let mut section = String::new();
    let mut rows = Vec::new();
    for e in doc.select(&s) {
        match e.value().name() {
            "h3" | "h4" => section = text_of(e),
            _ => {
                let heads: Vec<String> = e.select(&th).map(text_of).collect();
                let cells: Vec<String> = e.select(&td).map(text_of).collect();
                if heads.is_empty() && cells.is_empty() {
                    continue;
                }
                let (label, cells) = if heads.len() == 1 && !cells.is_empty() {
                    (heads[0].trim_end_matches(':').trim().to_string(), cells)
                } else if heads.is_empty() {
                    (String::new(), cells)
                } else {
                    // A header row of a table (Band | Wavelength | Telescope).
                    (String::from("#header"), heads)
                };
                rows.push(InfoRow { section: section.clone(), label, cells });
            }
        }
    }
    rows
}

/// Parse an image detail page; `id` is the id the page was requested for.
pub fn parse_detail_page(site: Site, id: &str, html: &str) -> Result<DetailPage> {
    let what = format!("{site} detail page {id}");
    let doc = Html::parse_document(html);
    let mut rec = ImageRecord::new(site, id);
    rec.sources.push(MetadataSource::Html);
    rec.title = doc.select(&sel("h1")).next().map(text_of).unwrap_or_default();
    if let Some(c) = doc.select(&sel("div.credit")).next() {
        let t = text_of(c);
        rec.credit = t.strip_prefix("Credit:").unwrap_or(&t).trim().to_string();
    }
    let rows = info_rows(&doc);
    if rows.is_empty() {
        return Err(EsaError::html(&what, "no object-info rows (not a detail page, or truncated)"));
    }
    let mut geo = SkyGeometry::default();
    let (mut ra, mut dec) = (None, None);
    let mut dec_ambiguous = false;
    for row in &rows {
        let value = row.cells.first().map(String::as_str).unwrap_or("");
        let section = row.section.to_ascii_lowercase();
        let label = row.label.to_ascii_lowercase();
        let ctx = |e: EsaError| EsaError::html(&what, e.to_string());
        if section.contains("image") {
            match label.as_str() {
                "id" if value != id => {
                    return Err(EsaError::html(&what, format!("page is for id {value:?}, not {id:?}")));
                }
                "type" => rec.image_type = Some(value.to_string()),
                "release date" => rec.release_date = Some(value.to_string()),
                "size" => rec.pixel_size = Some(values::parse_pixel_size(value).map_err(ctx)?),
                "field of view" => geo.field_of_view_deg = Some(values::parse_field_of_view(value).map_err(ctx)?),
                _ => {}
            }
        } else if section.contains("object") {
            let v = Some(value.to_string()).filter(|v| !v.is_empty());
            match label.as_str() {
                "name" => {
                    rec.object.name = v;
                    rec.subject_names =
                        value.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
                }
                "type" => rec.object.object_type = v,
                "distance" => rec.object.distance = v,
                "constellation" => rec.object.constellation = v,
                "category" => {
                    rec.categories = value.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
                }
                _ => {}
            }
        } else if section.contains("coordinates") {
            match label.as_str() {
                "position (ra)" => ra = Some(values::parse_ra(value).map_err(ctx)?),
                "position (dec)" => {
                    dec_ambiguous = values::dec_sign_ambiguous(value);
                    dec = Some(values::parse_dec(value).map_err(ctx)?)
                }
                "field of view" => geo.field_of_view_deg = Some(values::parse_field_of_view(value).map_err(ctx)?),
                "orientation" => geo.rotation_deg = Some(values::parse_orientation(value).map_err(ctx)?),
                _ => {}
            }
        } else if (section.contains("colours") || section.contains("colors") || section.contains("filters"))
            && row.label != "#header"
        {
            // Rows: Band | Wavelength | Telescope (label may be the first cell's th).
            let mut cells = row.cells.clone();
            if !row.label.is_empty() {
                cells.insert(0, row.label.clone());
            }
            if cells.len() >= 2 {
                let wl = values::parse_wavelength_nm(&cells[1]).map_err(|e| warn!("{what}: {e}")).ok();
                rec.spectral.push(SpectralBand {
                    band: Some(cells[0].clone()).filter(|s| !s.is_empty()),
                    central_wavelength_nm: wl,
                    facility: cells.get(2).cloned().filter(|s| !s.is_empty()),
                    ..SpectralBand::default()
                });
            }
        }
    }
    match (ra, dec) {
        (Some(ra), Some(dec)) => geo.reference_value = Some([ra, dec]),
        (None, None) => {}
        _ => return Err(EsaError::html(&what, "Coordinates section has only one of RA and Dec")),
    }
    if geo.reference_value.is_some() && geo.rotation_deg.is_none() {
        // The archives omit the Orientation row when the rotation is 0.
        geo.rotation_deg = Some(0.0);
    }
    if !geo.is_empty() {
        rec.geometry = Some(geo);
        rec.geometry_source = Some(MetadataSource::Html);
    }
    let mut facilities: Vec<String> = Vec::new();
    for f in rec.spectral.iter().filter_map(|b| b.facility.clone()) {
        if !facilities.contains(&f) {
            facilities.push(f);
        }
    }
    rec.facility = facilities;
    Ok(DetailPage { record: rec, rows, dec_sign_ambiguous: dec_ambiguous })
}

/// One entry of a list page's inline `var images = [...]` script.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListedImage {
    /// Image id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Width in px, if given.
    pub width: Option<u32>,
    /// Height in px, if given.
    pub height: Option<u32>,
    /// Thumbnail URL.
    pub src: Option<String>,
    /// Detail page URL.
    pub url: Option<String>,
}

/// An archive list page: its images and the last page number shown in `ul.pagination`.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    /// Images on the page.
    pub images: Vec<ListedImage>,
    /// Highest page number linked from the pagination (1 when there is none).
    pub last_page: u32,
}

/// Parse a list/search page: ids from the inline script, last page from the pagination.
pub fn parse_list_page(html: &str, what: &str) -> Result<ListPage> {
    let doc = Html::parse_document(html);
    let script = doc
        .select(&sel("script"))
        .map(|s| s.text().collect::<String>())
        .find(|t| t.contains("var images"))
        .ok_or_else(|| EsaError::html(what, "no `var images = [...]` script"))?;
    let images = parse_images_script(&script).map_err(|m| EsaError::html(what, m))?;
    let mut last_page = 1;
    for a in doc.select(&sel("ul.pagination a")) {
        let candidates = [a.value().attr("href").unwrap_or(""), &text_of(a)].map(|s| s.to_string());
        for c in candidates {
            if let Some(n) = page_number(&c) {
                last_page = last_page.max(n);
            }
        }
    }
    Ok(ListPage { images, last_page })
}

fn page_number(s: &str) -> Option<u32> {
    if let Ok(n) = s.trim().parse() {
        return Some(n);
    }
    let i = s.find("/page/")?;
    s[i + 6..].split('/').next()?.parse().ok()
}

/// Read the JavaScript array literal `var images = [{id: '…', title: '…', width: 1, …}, …]`.
fn parse_images_script(script: &str) -> std::result::Result<Vec<ListedImage>, String> {
    let start = script.find("var images").ok_or("no `var images`")?;
    let rest = &script[start..];
    let open = rest.find('[').ok_or("`var images` is not an array")?;
    let chars: Vec<char> = rest[open + 1..].chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut current: Option<ListedImage> = None;
    let mut key = String::new();
    let mut closed = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ']' if current.is_none() => {
                closed = true;
                break;
            }
            '{' => current = Some(ListedImage::default()),
            '}' => {
                let img = current.take().ok_or("unbalanced '}'")?;
                if img.id.is_empty() {
                    return Err("an entry has no id".into());
                }
                out.push(img);
            }
            '\'' | '"' => {
                let quote = c;
                let mut s = String::new();
                i += 1;
                while i < chars.len() && chars[i] != quote {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    s.push(chars[i]);
                    i += 1;
                }
                if i >= chars.len() {
                    return Err("unterminated string".into());
                }
                if key.is_empty() {
                    key = s; // quoted key
                } else {
                    set_field(current.as_mut().ok_or("value outside an entry")?, &key, &s);
                    key.clear();
                }
            }
            ':' => {}
            ',' => key.clear(),
            c if c.is_alphanumeric() || c == '_' || c == '-' || c == '.' => {
                let mut s = String::new();
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '-' || chars[i] == '.')
                {
                    s.push(chars[i]);
                    i += 1;
                }
                i -= 1;
                let next_colon = chars[i + 1..].iter().find(|c| !c.is_whitespace()) == Some(&':');
                if next_colon {
                    key = s;
                } else if !key.is_empty() {
                    set_field(current.as_mut().ok_or("value outside an entry")?, &key, &s);
                    key.clear();
                }
            }
            _ => {}
        }
        i += 1;
    }
    if !closed {
        return Err("`var images` array is not closed (truncated page?)".into());
    }
    Ok(out)
}

fn set_field(img: &mut ListedImage, key: &str, value: &str) {
    match key {
        "id" => img.id = value.to_string(),
        "title" => img.title = value.to_string(),
        "width" => img.width = value.parse().ok(),
        "height" => img.height = value.parse().ok(),
        "src" => img.src = Some(value.to_string()),
        "url" => img.url = Some(value.to_string()),
        _ => {}
    }
}
