//! AVM (Astronomy Visualization Metadata) embedded in image files: finding the XMP packet in JPEG (APP1),
//! PNG (`iTXt`) or any file (`<?xpacket` scan), and reading its `avm:*`, `photoshop:Credit` and `dc:*` tags.

use std::collections::HashMap;
use std::io::Read;

use crate::error::{EsaError, Result};
use crate::record::{SkyGeometry, SpatialQuality, SpectralBand};

/// XML namespace of AVM 1.x tags.
pub const AVM_NS: &str = "http://www.communicatingastronomy.org/avm/1.0/";
const PHOTOSHOP_NS: &str = "http://ns.adobe.com/photoshop/1.0/";
const DC_NS: &str = "http://purl.org/dc/elements/1.1/";
const XMP_RIGHTS_NS: &str = "http://ns.adobe.com/xap/1.0/rights/";
const RDF_NS: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const JPEG_XMP_HEADER: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

/// Largest XMP packet read, in bytes (inflated, for compressed PNG `iTXt`): real AVM packets are
/// tens of kilobytes.
pub const MAX_XMP_BYTES: usize = 4 << 20;

/// Deepest element nesting accepted in an XMP packet (real packets nest about ten deep); deeper
/// packets are refused before the XML parser sees them.
pub const MAX_XMP_DEPTH: usize = 256;

/// Most XML nodes accepted in an XMP packet.
pub const MAX_XMP_NODES: u32 = 200_000;

/// The deepest element nesting of `xml`, counted by a flat scan of its tags (comments, CDATA,
/// processing instructions and declarations skipped); stops counting once past `limit`.
fn xml_depth(xml: &str, limit: usize) -> usize {
    let b = xml.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while let Some(p) = b.get(i..).and_then(|r| r.iter().position(|&c| c == b'<')) {
        i += p + 1;
        let rest = &b[i..];
        let skip_to = |end: &[u8]| rest.windows(end.len()).position(|w| w == end).map(|q| q + end.len());
        let skip = if rest.starts_with(b"!--") {
            skip_to(b"-->")
        } else if rest.starts_with(b"![CDATA[") {
            skip_to(b"]]>")
        } else if rest.starts_with(b"?") || rest.starts_with(b"!") {
            skip_to(b">")
        } else if rest.starts_with(b"/") {
            depth = depth.saturating_sub(1);
            skip_to(b">")
        } else {
            let end = skip_to(b">");
            let empty = end.is_some_and(|e| e >= 2 && rest[e - 2] == b'/');
            if !empty {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > limit {
                    return deepest;
                }
            }
            end
        };
        match skip {
            Some(n) => i += n,
            None => break,
        }
    }
    deepest
}

/// Find the XMP packet in an image file's bytes: JPEG APP1, PNG `iTXt` (`XML:com.adobe.xmp`), else a raw scan.
pub fn extract_xmp(bytes: &[u8]) -> Option<String> {
    if bytes.starts_with(&[0xFF, 0xD8]) {
        if let Some(x) = jpeg_xmp(bytes) {
            return Some(x);
        }
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        && let Some(x) = png_xmp(bytes)
    {
        return Some(x);
    }
    scan_xmp(bytes)
}

fn jpeg_xmp(bytes: &[u8]) -> Option<String> {
    let mut i = 2;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        if marker == 0xD9 || marker == 0xDA {
            return None; // end of image / start of scan: no more metadata segments
        }
        if (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            i += 2;
            continue;
        }
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        if len < 2 || i + 2 + len > bytes.len() {
            return None;
        }
        let payload = &bytes[i + 4..i + 2 + len];
        if marker == 0xE1 && payload.starts_with(JPEG_XMP_HEADER) {
            return Some(String::from_utf8_lossy(&payload[JPEG_XMP_HEADER.len()..]).into_owned());
        }
        i += 2 + len;
    }
    None
}

fn png_xmp(bytes: &[u8]) -> Option<String> {
    let mut i = 8;
    while i + 12 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[i..i + 4].try_into().ok()?) as usize;
        let kind = &bytes[i + 4..i + 8];
        let data = bytes.get(i + 8..i + 8 + len)?;
        if kind == b"iTXt" {
            let mut parts = data.splitn(2, |b| *b == 0);
            let key = parts.next()?;
            let rest = parts.next()?;
            if key == b"XML:com.adobe.xmp" && rest.len() >= 2 {
                let compressed = rest[0] == 1;
                let rest = &rest[2..];
                // language tag \0 translated keyword \0 text
                let lang_end = rest.iter().position(|b| *b == 0)?;
                let rest = &rest[lang_end + 1..];
                let tk_end = rest.iter().position(|b| *b == 0)?;
                let text = &rest[tk_end + 1..];
                if compressed {
                    // Inflated within a budget: a small PNG must not cost gigabytes.
                    let mut out = Vec::new();
                    let mut inflate = flate2::read::ZlibDecoder::new(text).take(MAX_XMP_BYTES as u64 + 1);
                    inflate.read_to_end(&mut out).ok()?;
                    if out.len() > MAX_XMP_BYTES {
                        tracing::warn!("compressed XMP inflates to more than {MAX_XMP_BYTES} bytes; ignored");
                        return None;
                    }
                    return Some(String::from_utf8_lossy(&out).into_owned());
                }
                return Some(String::from_utf8_lossy(text).into_owned());
            }
        }
        if kind == b"IEND" {
            return None;
        }
        i += 12 + len;
    }
    None
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

fn scan_xmp(bytes: &[u8]) -> Option<String> {
    let (start, end_tag): (usize, &[u8]) = if let Some(s) = find(bytes, b"<?xpacket begin=", 0) {
        (s, b"<?xpacket end=")
    } else {
        (find(bytes, b"<x:xmpmeta", 0)?, b"</x:xmpmeta>")
    };
    let end = find(bytes, end_tag, start)?;
    let close = if end_tag.starts_with(b"<?") { find(bytes, b"?>", end)? + 2 } else { end + end_tag.len() };
    Some(String::from_utf8_lossy(&bytes[start..close]).into_owned())
}

/// The tags of one XMP packet, keyed `prefix:Name` with the AVM, photoshop, dc and xmpRights namespaces
/// mapped to `avm`, `photoshop`, `dc` and `xmpRights`; list values (`rdf:Seq`/`Bag`/`Alt`) keep their order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AvmTags {
    tags: HashMap<String, Vec<String>>,
}

fn ns_prefix(ns: Option<&str>) -> Option<&'static str> {
    match ns? {
        AVM_NS => Some("avm"),
        PHOTOSHOP_NS => Some("photoshop"),
        DC_NS => Some("dc"),
        XMP_RIGHTS_NS => Some("xmpRights"),
        _ => None,
    }
}

impl AvmTags {
    /// Parse an XMP packet; `what` names the image in errors.
    pub fn parse(xmp: &str, what: &str) -> Result<AvmTags> {
        // Strip the xpacket processing instructions' BOM and any trailing padding the parser dislikes.
        let xml = xmp.trim_start_matches('\u{feff}').trim_end_matches(['\0', ' ', '\n', '\r', '\t']);
        if xml.len() > MAX_XMP_BYTES {
            return Err(EsaError::avm(what, format!("XMP packet of {} bytes is above {MAX_XMP_BYTES}", xml.len())));
        }
        if xml_depth(xml, MAX_XMP_DEPTH) > MAX_XMP_DEPTH {
            return Err(EsaError::avm(what, format!("XMP nests elements more than {MAX_XMP_DEPTH} deep")));
        }
        let options = roxmltree::ParsingOptions { nodes_limit: MAX_XMP_NODES, ..Default::default() };
        let doc = roxmltree::Document::parse_with_options(xml, options)
            .map_err(|e| EsaError::avm(what, format!("XMP is not valid XML: {e}")))?;
        let mut tags: HashMap<String, Vec<String>> = HashMap::new();
        for node in doc.descendants().filter(|n| n.is_element()) {
            if node.tag_name().namespace() == Some(RDF_NS) && node.tag_name().name() == "Description" {
                for a in node.attributes() {
                    if let Some(p) = ns_prefix(a.namespace()) {
                        tags.entry(format!("{p}:{}", a.name())).or_default().push(a.value().trim().to_string());
                    }
                }
                continue;
            }
            let Some(prefix) = ns_prefix(node.tag_name().namespace()) else { continue };
            let key = format!("{prefix}:{}", node.tag_name().name());
            let list: Vec<String> = node
                .descendants()
                .filter(|n| n.is_element() && n.tag_name().namespace() == Some(RDF_NS) && n.tag_name().name() == "li")
                .map(|li| li.text().unwrap_or("").trim().to_string())
                .collect();
            let values = if list.is_empty() { vec![node.text().unwrap_or("").trim().to_string()] } else { list };
            tags.entry(key).or_default().extend(values);
        }
        if !tags.keys().any(|k| k.starts_with("avm:")) {
            return Err(EsaError::avm(what, "XMP packet has no AVM (avm:*) tags"));
        }
        Ok(AvmTags { tags })
    }

    /// Read the packet embedded in an image file's bytes.
    pub fn from_image_bytes(bytes: &[u8], what: &str) -> Result<AvmTags> {
        let xmp = extract_xmp(bytes).ok_or_else(|| EsaError::avm(what, "no XMP packet in the file"))?;
        AvmTags::parse(&xmp, what)
    }

    /// All values of a tag (`"avm:Spatial.Scale"`), empty strings dropped.
    pub fn values(&self, key: &str) -> Vec<&str> {
        self.tags.get(key).map(|v| v.iter().map(String::as_str).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
    }

    /// The first value of a tag.
    pub fn first(&self, key: &str) -> Option<&str> {
        self.values(key).into_iter().next()
    }

    fn numbers(&self, key: &str, what: &str) -> Result<Vec<f64>> {
        let mut out = Vec::new();
        for v in self.values(key) {
            // Some writers put "a b" or "a;b" in a single value.
            for p in v.split([';', ',', ' ']).filter(|p| !p.is_empty()) {
                let x: f64 = p
                    .parse()
                    .ok()
                    .filter(|x: &f64| x.is_finite())
                    .ok_or_else(|| EsaError::avm(what, format!("{key} has non-numeric value {p:?}")))?;
                out.push(x);
            }
        }
        Ok(out)
    }

    fn pair(&self, key: &str, what: &str) -> Result<Option<[f64; 2]>> {
        let n = self.numbers(key, what)?;
        match n.len() {
            0 => Ok(None),
            2 => Ok(Some([n[0], n[1]])),
            k => Err(EsaError::avm(what, format!("{key} has {k} values, expected 2"))),
        }
    }

    /// The `Spatial.*` tags as geometry, validated (finite, |Dec| ≤ 90°, non-zero scale, positive dimensions).
    pub fn geometry(&self, what: &str) -> Result<SkyGeometry> {
        let rotation = self.numbers("avm:Spatial.Rotation", what)?;
        let g = SkyGeometry {
            reference_value: self.pair("avm:Spatial.ReferenceValue", what)?,
            reference_pixel: self.pair("avm:Spatial.ReferencePixel", what)?,
            reference_dimension: self.pair("avm:Spatial.ReferenceDimension", what)?,
            scale: self.pair("avm:Spatial.Scale", what)?,
            rotation_deg: rotation.first().copied(),
            coordinate_frame: self.first("avm:Spatial.CoordinateFrame").map(String::from),
            equinox: self.first("avm:Spatial.Equinox").map(String::from),
            projection: self.first("avm:Spatial.CoordsystemProjection").map(String::from),
            quality: self
                .first("avm:Spatial.Quality")
                .map(parse_quality)
                .transpose()
                .map_err(|e| EsaError::avm(what, e.to_string()))?,
            field_of_view_deg: None,
        };
        validate_geometry(&g, what)?;
        Ok(g)
    }

    /// `Spectral.*` tags zipped into one band per exposure.
    pub fn spectral(&self, what: &str) -> Result<Vec<SpectralBand>> {
        let colors = self.values("avm:Spectral.ColorAssignment");
        let bands = self.values("avm:Spectral.Band");
        let passes = self.values("avm:Spectral.Bandpass");
        let waves = self.numbers("avm:Spectral.CentralWavelength", what)?;
        let n = colors.len().max(bands.len()).max(passes.len()).max(waves.len());
        Ok((0..n)
            .map(|i| SpectralBand {
                color_assignment: colors.get(i).map(|s| s.to_string()),
                band: bands.get(i).map(|s| s.to_string()),
                bandpass: passes.get(i).map(|s| s.to_string()),
                central_wavelength_nm: waves.get(i).copied(),
                facility: None,
            })
            .collect())
    }

    /// `photoshop:Credit`.
    pub fn credit(&self) -> Option<String> {
        self.first("photoshop:Credit").map(crate::values::normalise_ws)
    }

    /// `dc:title`.
    pub fn title(&self) -> Option<String> {
        self.first("dc:title").map(String::from)
    }

    /// `avm:ID`.
    pub fn id(&self) -> Option<String> {
        self.first("avm:ID").map(String::from)
    }

    /// `avm:Type` (Observation, Artwork, …).
    pub fn image_type(&self) -> Option<String> {
        self.first("avm:Type").map(String::from)
    }

    /// `avm:Facility` list.
    pub fn facility(&self) -> Vec<String> {
        self.values("avm:Facility").into_iter().map(String::from).collect()
    }

    /// `avm:Instrument` list.
    pub fn instrument(&self) -> Vec<String> {
        self.values("avm:Instrument").into_iter().map(String::from).collect()
    }

    /// `avm:Subject.Category` list (taxonomy codes).
    pub fn categories(&self) -> Vec<String> {
        self.values("avm:Subject.Category").into_iter().map(String::from).collect()
    }
}

/// `Spatial.Quality` text → enum.
pub fn parse_quality(text: &str) -> Result<SpatialQuality> {
    match text.trim().to_ascii_lowercase().as_str() {
        "full" => Ok(SpatialQuality::Full),
        "position" => Ok(SpatialQuality::Position),
        _ => Err(EsaError::value("Spatial.Quality", text, "expected Full or Position")),
    }
}

/// Reject geometry whose values cannot describe a sky image: non-finite, |RA| > 360°, |Dec| > 90°,
/// zero scale, an image size outside 1…`MAX_SIDE`, a reference pixel beyond `MAX_REFERENCE_PIXEL`.
pub fn validate_geometry(g: &SkyGeometry, what: &str) -> Result<()> {
    let bad = |m: String| Err(EsaError::avm(what, m));
    if let Some([ra, dec]) = g.reference_value
        && !(ra.abs() <= sky_geometry::MAX_RA_DEG && dec.abs() <= 90.0)
    {
        return bad(format!("Spatial.ReferenceValue [{ra}, {dec}] is not a sky position"));
    }
    if let Some(s) = g.scale
        && s.iter().any(|v| !v.is_finite() || *v == 0.0 || v.abs() > 180.0)
    {
        return bad(format!("Spatial.Scale {s:?} is not a usable pixel scale"));
    }
    if let Some(d) = g.reference_dimension
        && !d.iter().all(|v| (1.0..=sky_geometry::MAX_SIDE as f64).contains(v))
    {
        return bad(format!("Spatial.ReferenceDimension {d:?} is not an image size"));
    }
    if let Some(p) = g.reference_pixel
        && !p.iter().all(|v| v.abs() <= sky_geometry::MAX_REFERENCE_PIXEL)
    {
        return bad(format!(
            "Spatial.ReferencePixel {p:?} is not within ±{} pixels",
            sky_geometry::MAX_REFERENCE_PIXEL
        ));
    }
    if let Some(r) = g.rotation_deg
        && !r.is_finite()
    {
        return bad(format!("Spatial.Rotation {r} is not finite"));
    }
    Ok(())
}

/// Build an XMP packet with AVM tags for `g` (and credit/title/id): used to write fixtures and round-trip tests.
pub fn write_xmp(id: &str, title: &str, credit: &str, g: &SkyGeometry) -> String {
    let mut body = String::new();
    let seq = |name: &str, v: [f64; 2]| {
        format!("<avm:{name}><rdf:Seq><rdf:li>{}</rdf:li><rdf:li>{}</rdf:li></rdf:Seq></avm:{name}>\n", v[0], v[1])
    };
    if let Some(v) = g.reference_value {
        body += &seq("Spatial.ReferenceValue", v);
    }
    if let Some(v) = g.reference_pixel {
        body += &seq("Spatial.ReferencePixel", v);
    }
    if let Some(v) = g.reference_dimension {
        body += &seq("Spatial.ReferenceDimension", v);
    }
    if let Some(v) = g.scale {
        body += &seq("Spatial.Scale", v);
    }
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut attrs = format!(" avm:ID=\"{}\"", esc(id));
    if let Some(r) = g.rotation_deg {
        attrs += &format!(" avm:Spatial.Rotation=\"{r}\"");
    }
    for (k, v) in [
        ("Spatial.CoordinateFrame", &g.coordinate_frame),
        ("Spatial.Equinox", &g.equinox),
        ("Spatial.CoordsystemProjection", &g.projection),
    ] {
        if let Some(v) = v {
            attrs += &format!(" avm:{k}=\"{}\"", esc(v));
        }
    }
    if let Some(q) = g.quality {
        attrs += &format!(" avm:Spatial.Quality=\"{q:?}\"");
    }
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n\
         <rdf:RDF xmlns:rdf=\"{RDF_NS}\">\n<rdf:Description rdf:about=\"\" xmlns:avm=\"{AVM_NS}\" \
         xmlns:photoshop=\"{PHOTOSHOP_NS}\" xmlns:dc=\"{DC_NS}\" photoshop:Credit=\"{}\" avm:Type=\"Observation\"{attrs}>\n\
         <dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></dc:title>\n{body}</rdf:Description>\n\
         </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>",
        esc(credit),
        esc(title)
    )
}

/// Insert an XMP packet as an APP1 segment right after the SOI marker of a JPEG.
pub fn embed_xmp_in_jpeg(jpeg: &[u8], xmp: &str) -> Result<Vec<u8>> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return Err(EsaError::avm("jpeg", "not a JPEG (no SOI marker)"));
    }
    let len = JPEG_XMP_HEADER.len() + xmp.len() + 2;
    if len > u16::MAX as usize {
        return Err(EsaError::avm("jpeg", "XMP packet too large for one APP1 segment"));
    }
    let mut out = Vec::with_capacity(jpeg.len() + len + 2);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(JPEG_XMP_HEADER);
    out.extend_from_slice(xmp.as_bytes());
    out.extend_from_slice(&jpeg[2..]);
    Ok(out)
}
