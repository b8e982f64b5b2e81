//! The manifest: every image matched to its catalogue object (file name first, position as
//! fallback), with class, credit and survey origin.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::*;

/// A catalogue designation parsed from an image file name (`m31.png` → `("M", "31")`).
pub fn designation_from_file_name(file: &str) -> Option<(&'static str, String)> {
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s).to_ascii_lowercase();
    let prefixes: [(&str, &str); 15] = [
        ("barnard", "B"),
        ("abell", "ACO"),
        ("sh2-", "Sh2"),
        ("rcw", "RCW"),
        ("ldn", "LDN"),
        ("lbn", "LBN"),
        ("vdb", "vdB"),
        ("ic", "IC"),
        ("m", "M"),
        ("n", "NGC"),
        ("u", "UGC"),
        ("p", "PGC"),
        ("smc", "SMC"),
        ("lmc", "LMC"),
        ("rho", "RHO"),
    ];
    for (prefix, cat) in prefixes {
        if let Some(rest) = stem.strip_prefix(prefix) {
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            if !digits.is_empty() && !matches!(cat, "SMC" | "LMC" | "RHO") {
                return Some((cat, digits.trim_start_matches('0').to_string()));
            }
            return None;
        }
    }
    None
}

/// One real deep-sky image with its object, sky position, class and credit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DsoImage {
    /// Full path of the PNG.
    pub path: PathBuf,
    /// File name inside the nebulae directory.
    pub file: String,
    /// Object key to split by (several images of one object share it).
    pub object: String,
    /// Catalogue designations of the matched object (`"M 31"`, `"NGC 224"` …).
    pub designations: Vec<String>,
    /// Image centre right ascension, degrees.
    pub ra_deg: f64,
    /// Image centre declination, degrees.
    pub dec_deg: f64,
    /// Field size, degrees.
    pub fov_deg: f64,
    /// Stellarium type code of the matched object (None when unmatched).
    pub type_code: Option<u32>,
    /// Type name of the matched object.
    pub type_name: String,
    /// Coarse class for classification.
    pub class: CoarseClass,
    /// How the object was found: `"name"` (file name) or `"position"` (nearest large object).
    pub matched_by: String,
    /// Photographer / source credit from `textures.json`.
    pub credit: String,
}

/// The sky survey an image comes from (by credit or file name); `None` means an outreach,
/// professional or amateur photograph. Survey images are never prettify training data: they are
/// its real inputs for evaluation and the statistics its degradation is calibrated against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SurveyOrigin {
    /// Digitized Sky Survey (POSS/UKST photographic plates), including ESO's DSS2 credits.
    Dss,
    /// Sloan Digital Sky Survey (CCD, gri).
    Sdss,
    /// Two Micron All Sky Survey (near-infrared JHK).
    TwoMass,
    /// Pan-STARRS1.
    PanStarrs,
}

impl SurveyOrigin {
    /// Classify by credit line and file name (`n185-dss.png`, `DSS`, `SDSS`, `2MASS`, `PS1` …).
    pub fn of(file: &str, credit: &str) -> Option<SurveyOrigin> {
        let f = file.to_ascii_lowercase();
        let c = credit.to_ascii_lowercase();
        let has = |needle: &str| f.contains(needle) || c.contains(needle);
        if has("sdss") {
            Some(SurveyOrigin::Sdss)
        } else if has("2mass") {
            Some(SurveyOrigin::TwoMass)
        } else if has("dss") || c.contains("digitized sky survey") {
            Some(SurveyOrigin::Dss)
        } else if c.contains("pan-starrs") || c.contains("(ps1)") {
            Some(SurveyOrigin::PanStarrs)
        } else {
            None
        }
    }

    /// Short name (`DSS`, `SDSS`, `2MASS`, `Pan-STARRS`).
    pub fn name(self) -> &'static str {
        match self {
            SurveyOrigin::Dss => "DSS",
            SurveyOrigin::Sdss => "SDSS",
            SurveyOrigin::TwoMass => "2MASS",
            SurveyOrigin::PanStarrs => "Pan-STARRS",
        }
    }
}

impl DsoImage {
    /// The survey this image comes from, if any (see [`SurveyOrigin::of`]).
    pub fn survey(&self) -> Option<SurveyOrigin> {
        SurveyOrigin::of(&self.file, &self.credit)
    }
}

/// Objects whose file names carry no catalogue number but whose class is known.
pub(crate) fn named_region(stem: &str) -> Option<(&'static str, u32)> {
    let s = stem.to_ascii_lowercase();
    let table: [(&str, &str, u32); 12] = [
        ("lmc", "LMC", 0),
        ("smc", "SMC", 0),
        ("coma_cluster", "Coma Cluster", 33),
        ("fornax_cluster", "Fornax Cluster", 33),
        ("hercules_cluster", "Hercules Cluster", 33),
        ("hydra_cluster", "Hydra Cluster", 33),
        ("leo_cluster", "Leo Cluster", 33),
        ("perseus_cluster", "Perseus Cluster", 33),
        ("virgo_cluster", "Virgo Cluster", 33),
        ("barnard_loop", "Barnard's Loop", 17),
        ("rho-", "Rho Ophiuchi", 23),
        ("velasnr", "Vela SNR", 18),
    ];
    table.iter().find(|(p, _, _)| s.starts_with(p)).map(|(_, name, code)| (*name, *code))
}

/// Match every texture to a catalogue object: file name first, coordinates as fallback.
pub fn build_manifest(nebulae_dir: &Path, textures: &[TextureEntry], catalog: &[DsoRecord]) -> Vec<DsoImage> {
    let mut by_designation: HashMap<(&str, String), &DsoRecord> = HashMap::new();
    for r in catalog {
        let keys: [(&str, u32); 9] = [
            ("M", r.m),
            ("NGC", r.ngc),
            ("IC", r.ic),
            ("B", r.b),
            ("Sh2", r.sh2),
            ("RCW", r.rcw),
            ("LDN", r.ldn),
            ("LBN", r.lbn),
            ("UGC", r.ugc),
        ];
        for (cat, n) in keys {
            if n != 0 {
                by_designation.entry((cat, n.to_string())).or_insert(r);
            }
        }
        for (cat, n) in [("vdB", r.vdb), ("PGC", r.pgc)] {
            if n != 0 {
                by_designation.entry((cat, n.to_string())).or_insert(r);
            }
        }
        if let Some(aco) = r.aco.as_deref().filter(|s| !s.is_empty()) {
            by_designation.entry(("ACO", aco.trim_start_matches('0').to_string())).or_insert(r);
        }
    }
    textures
        .iter()
        .map(|t| {
            let (ra, dec) = t.center();
            let fov = t.field_deg();
            let stem = t.image_url.rsplit_once('.').map_or(t.image_url.as_str(), |(s, _)| s).to_string();
            let by_name = designation_from_file_name(&t.image_url)
                .and_then(|(cat, num)| by_designation.get(&(cat, num)).copied());
            let (record, matched_by) = match by_name {
                Some(r) => (Some(r), "name"),
                None => (nearest_object(catalog, ra, dec, fov), "position"),
            };
            let (object, designations, type_code, matched_by) = match (named_region(&stem), record, matched_by) {
                (Some((name, code)), _, _) if matched_by != "name" => {
                    (name.to_string(), vec![name.to_string()], Some(code), "name")
                }
                (_, Some(r), how) => (r.designations()[0].clone(), r.designations(), Some(r.type_code), how),
                (_, None, _) => (stem.clone(), Vec::new(), None, "none"),
            };
            DsoImage {
                path: nebulae_dir.join(&t.image_url),
                file: t.image_url.clone(),
                object,
                designations,
                ra_deg: ra,
                dec_deg: dec,
                fov_deg: fov,
                type_code,
                type_name: type_code.and_then(|c| TYPE_NAMES.get(c as usize)).copied().unwrap_or("unknown").to_string(),
                class: type_code.map_or(CoarseClass::Other, CoarseClass::from_type_code),
                matched_by: matched_by.to_string(),
                credit: if t.credit.is_empty() { "Stellarium default nebula set".into() } else { t.credit.clone() },
            }
        })
        .collect()
}

/// The largest catalogued object within the image whose size is at least a tenth of the field.
pub(crate) fn nearest_object(catalog: &[DsoRecord], ra: f64, dec: f64, fov: f64) -> Option<&DsoRecord> {
    let radius = (fov / 2.0).max(0.01);
    catalog
        .iter()
        .filter(|r| (r.dec_deg() - dec).abs() <= radius)
        .filter_map(|r| {
            let d = sky_geometry::angular_distance_deg((ra, dec), (r.ra_deg(), r.dec_deg()));
            (d <= radius).then_some((r, d))
        })
        .max_by(|(a, da), (b, db)| {
            // Prefer large objects; among similar sizes, the one nearest the centre.
            let score = |r: &DsoRecord, d: f64| r.major_axis.max(0.0) - 0.5 * d;
            score(a, *da).total_cmp(&score(b, *db))
        })
        .map(|(r, _)| r)
}
