//! The Data2Dome JSON feed (`/images/d2d/?page=N`): paged listing with per-image metadata and AVM fields.

use serde_json::Value;

use crate::error::{EsaError, Result};
use crate::record::{ImageRecord, MetadataSource, Resource, SkyGeometry, SpectralBand};
use crate::site::Site;
use crate::values::normalise_ws;

/// One page of the feed: its items (each parsed on its own, so one bad item spoils nothing else) and the next URL.
#[derive(Debug)]
pub struct FeedPage {
    /// `Count`: total number of items in the feed, when given.
    pub count: Option<u64>,
    /// `Next`: URL of the next page, `None` on the last page.
    pub next: Option<String>,
    /// Items in page order: a record, or the reason the item could not be read.
    pub items: Vec<Result<ImageRecord>>,
}

/// Parse one feed page; `what` names the page in errors (usually its URL).
pub fn parse_d2d_page(site: Site, text: &str, what: &str) -> Result<FeedPage> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| EsaError::Json { what: what.into(), message: e.to_string() })?;
    let obj = doc
        .as_object()
        .ok_or_else(|| EsaError::Json { what: what.into(), message: "top level is not an object".into() })?;
    let collections = obj
        .get("Collections")
        .and_then(Value::as_array)
        .ok_or_else(|| EsaError::Json { what: what.into(), message: "no \"Collections\" array".into() })?;
    let next = match obj.get("Next") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.trim()).filter(|s| !s.is_empty()).map(String::from),
        Some(other) => {
            return Err(EsaError::Json {
                what: what.into(),
                message: format!("\"Next\" is {other}, not a URL string or null"),
            });
        }
    };
    let count = obj.get("Count").and_then(Value::as_u64);
    let items = collections
        .iter()
        .enumerate()
        .map(|(i, item)| parse_d2d_item(site, item).map_err(|e| with_context(e, &format!("{what} item {i}"))))
        .collect();
    Ok(FeedPage { count, next, items })
}

fn with_context(e: EsaError, what: &str) -> EsaError {
    match e {
        EsaError::Json { message, .. } => EsaError::Json { what: what.into(), message },
        other => other,
    }
}

/// A string field; numbers are accepted and printed.
fn str_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A list of strings from an array, a single string, or a comma-free scalar.
fn strings_of(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(|x| str_of(Some(x))).collect(),
        Some(x) => str_of(Some(x)).into_iter().collect(),
        None => Vec::new(),
    }
}

/// A number from a JSON number or a numeric string; `Err` for anything else that is present.
fn num_of(field: &str, v: &Value) -> Result<f64> {
    let x = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match x {
        Some(x) if x.is_finite() => Ok(x),
        _ => Err(EsaError::value(field, &v.to_string(), "not a finite number")),
    }
}

fn opt_num(field: &str, v: Option<&Value>) -> Result<Option<f64>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) if a.len() == 1 => num_of(field, &a[0]).map(Some),
        Some(x) => num_of(field, x).map(Some),
    }
}

/// A pair of numbers from `[a, b]` (or "a b" / "a,b" / "AxB" strings).
fn pair_of(field: &str, v: Option<&Value>) -> Result<Option<[f64; 2]>> {
    let v = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    let nums: Vec<f64> = match v {
        Value::Array(a) => a.iter().map(|x| num_of(field, x)).collect::<Result<_>>()?,
        Value::String(s) => s
            .split(|c: char| c == ',' || c == 'x' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .map(|p| num_of(field, &Value::String(p.into())))
            .collect::<Result<_>>()?,
        _ => return Err(EsaError::value(field, &v.to_string(), "expected a pair of numbers")),
    };
    if nums.len() != 2 {
        return Err(EsaError::value(field, &v.to_string(), "expected exactly two numbers"));
    }
    Ok(Some([nums[0], nums[1]]))
}

/// Parse the `Spatial` object of `ObservationData` into AVM geometry.
pub fn parse_spatial(v: &Value) -> Result<SkyGeometry> {
    let g = SkyGeometry {
        reference_value: pair_of("Spatial.ReferenceValue", v.get("ReferenceValue"))?,
        reference_pixel: pair_of("Spatial.ReferencePixel", v.get("ReferencePixel"))?,
        reference_dimension: pair_of("Spatial.ReferenceDimension", v.get("ReferenceDimension"))?,
        scale: pair_of("Spatial.Scale", v.get("Scale"))?,
        rotation_deg: opt_num("Spatial.Rotation", v.get("Rotation"))?,
        coordinate_frame: str_of(v.get("CoordinateFrame")),
        equinox: str_of(v.get("Equinox")),
        projection: str_of(v.get("CoordsystemProjection")),
        quality: match str_of(v.get("Quality")) {
            Some(q) => Some(crate::avm::parse_quality(&q)?),
            None => None,
        },
        field_of_view_deg: None,
    };
    crate::avm::validate_geometry(&g, "feed Spatial")?;
    Ok(g)
}

/// Zip the per-exposure `Spectral` arrays into bands.
pub fn parse_spectral(v: &Value) -> Result<Vec<SpectralBand>> {
    let colors = strings_of(v.get("ColorAssignment"));
    let bands = strings_of(v.get("Band"));
    let passes = strings_of(v.get("Bandpass"));
    let waves: Vec<Option<f64>> = match v.get("CentralWavelength") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| if x.is_null() { Ok(None) } else { num_of("Spectral.CentralWavelength", x).map(Some) })
            .collect::<Result<_>>()?,
        other => vec![opt_num("Spectral.CentralWavelength", other)?],
    };
    let n = colors.len().max(bands.len()).max(passes.len()).max(waves.iter().filter(|w| w.is_some()).count());
    Ok((0..n)
        .map(|i| SpectralBand {
            color_assignment: colors.get(i).cloned(),
            band: bands.get(i).cloned(),
            bandpass: passes.get(i).cloned(),
            central_wavelength_nm: waves.get(i).copied().flatten(),
            facility: None,
        })
        .collect())
}

/// Parse one `Collections` item into a record (geometry from the feed's `Spatial`, source = feed).
pub fn parse_d2d_item(site: Site, item: &Value) -> Result<ImageRecord> {
    let id = str_of(item.get("ID"))
        .ok_or_else(|| EsaError::Json { what: String::new(), message: "item has no \"ID\"".into() })?;
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(EsaError::value("ID", &id, "ids are letters, digits, '-' and '_'"));
    }
    let ctx = |e: EsaError| match e {
        EsaError::Value { field, value, message } => {
            EsaError::Value { field: format!("{id}: {field}"), value, message }
        }
        other => other,
    };
    let mut rec = ImageRecord::new(site, id.clone());
    rec.sources.push(MetadataSource::Feed);
    rec.title = str_of(item.get("Title")).unwrap_or_default();
    rec.credit = str_of(item.get("Credit")).map(|c| normalise_ws(&c)).unwrap_or_default();
    rec.release_date = str_of(item.get("PublicationDate"));
    rec.reference_url = str_of(item.get("ReferenceURL"));
    if let Some(r) = str_of(item.get("Rights")) {
        if !r.to_ascii_lowercase().contains("attribution 4.0") && !r.contains("CC BY 4.0") {
            rec.licence = r.clone();
            rec.licence_url = String::new();
        }
        rec.rights = Some(r);
    }
    if let Some(subject) = item.get("Subject") {
        rec.categories = strings_of(subject.get("Category"));
        rec.subject_names = strings_of(subject.get("Name"));
    }
    let asset = match item.get("Assets") {
        Some(Value::Array(a)) => a.first(),
        Some(v @ Value::Object(_)) => Some(v),
        _ => None,
    };
    if let Some(asset) = asset {
        if let Some(Value::Array(res)) = asset.get("Resources") {
            for r in res {
                let Some(url) = str_of(r.get("URL")) else { continue };
                let dims = pair_of("Dimensions", r.get("Dimensions")).map_err(ctx)?;
                rec.resources.push(Resource {
                    kind: str_of(r.get("ResourceType")).unwrap_or_default(),
                    url,
                    file_size: opt_num("FileSize", r.get("FileSize"))
                        .map_err(ctx)?
                        .filter(|s| *s > 0.0)
                        .map(|s| s as u64),
                    dimensions: dims.filter(|d| d[0] >= 1.0 && d[1] >= 1.0).map(|d| [d[0] as u32, d[1] as u32]),
                    checksum: str_of(r.get("Checksum")),
                });
            }
        }
        rec.pixel_size = rec
            .resources
            .iter()
            .find(|r| r.kind.eq_ignore_ascii_case("original"))
            .or_else(|| rec.resources.iter().find(|r| r.kind.eq_ignore_ascii_case("large")))
            .and_then(|r| r.dimensions);
        if let Some(obs) = asset.get("ObservationData").filter(|v| v.is_object()) {
            rec.image_type = Some("Observation".into());
            rec.facility = strings_of(obs.get("Facility"));
            rec.instrument = strings_of(obs.get("Instrument"));
            if let Some(sp) = obs.get("Spectral") {
                rec.spectral = parse_spectral(sp).map_err(ctx)?;
            }
            if let Some(sp) = obs.get("Spatial").filter(|v| v.is_object()) {
                let g = parse_spatial(sp).map_err(ctx)?;
                if !g.is_empty() {
                    rec.geometry = Some(g);
                    rec.geometry_source = Some(MetadataSource::Feed);
                }
            }
        }
    }
    Ok(rec)
}
