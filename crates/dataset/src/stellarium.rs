//! Stellarium's deep-sky image set (Debian `stellarium-data`): the catalogue, the texture list,
//! and a manifest of real images with their objects, coarse classes and credits.
//!
//! `datasets/stellarium/fetch.sh` unpacks the package into a cache directory; [`StellariumSet::locate`]
//! finds it. `catalog.dat` is a gzip'ed Qt data stream (big-endian, f64 floats, UTF-16BE strings);
//! `textures.json` is near-JSON with numbers such as `-.9794`.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{DatasetError, Result};

/// Environment variable naming the cache directory `fetch.sh` unpacked into.
pub const DATA_DIR_ENV: &str = "PRETTIER_STELLARIUM_DIR";

/// Where the unpacked Stellarium data lives.
#[derive(Debug, Clone)]
pub struct StellariumSet {
    /// `…/usr/share/stellarium/nebulae/default`: the deep-sky PNGs, `textures.json`, `catalog.dat`.
    pub nebulae_dir: PathBuf,
    /// `…/usr/share/stellarium/textures`: planet maps (mars.png, jupiter.png, …).
    pub textures_dir: PathBuf,
}

impl StellariumSet {
    /// Find the data unpacked by `datasets/stellarium/fetch.sh` ($PRETTIER_STELLARIUM_DIR or
    /// `~/.cache/prettier-space/stellarium`).
    pub fn locate() -> Result<StellariumSet> {
        let cache = match std::env::var_os(DATA_DIR_ENV) {
            Some(dir) => PathBuf::from(dir),
            None => {
                let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
                home.join(".cache/prettier-space/stellarium")
            }
        };
        StellariumSet::at(&cache)
    }

    /// Use the data unpacked under `cache_dir` (the directory given to `fetch.sh`).
    pub fn at(cache_dir: &Path) -> Result<StellariumSet> {
        let share = cache_dir.join("root/usr/share/stellarium");
        let set = StellariumSet { nebulae_dir: share.join("nebulae/default"), textures_dir: share.join("textures") };
        if !set.nebulae_dir.join("textures.json").is_file() || !set.nebulae_dir.join("catalog.dat").is_file() {
            return Err(DatasetError::MissingData { path: set.nebulae_dir });
        }
        Ok(set)
    }

    /// Path of a planet texture such as `"mars"` or `"jupiter"`.
    pub fn planet_texture(&self, name: &str) -> PathBuf {
        self.textures_dir.join(format!("{name}.png"))
    }

    /// Read and parse `catalog.dat`.
    pub fn catalog(&self) -> Result<Vec<DsoRecord>> {
        read_catalog(&self.nebulae_dir.join("catalog.dat"))
    }

    /// Read and parse `textures.json`.
    pub fn textures(&self) -> Result<Vec<TextureEntry>> {
        let path = self.nebulae_dir.join("textures.json");
        let text = std::fs::read_to_string(&path).map_err(|source| DatasetError::Io { path: path.clone(), source })?;
        parse_textures_json(&text).map_err(|reason| DatasetError::Catalog { path, reason })
    }

    /// Every deep-sky image matched to its catalogue object, with class and credit.
    pub fn manifest(&self) -> Result<Vec<DsoImage>> {
        let catalog = self.catalog()?;
        let textures = self.textures()?;
        Ok(build_manifest(&self.nebulae_dir, &textures, &catalog))
    }
}

/// Stellarium's object type codes (the `type` field of catalog.dat), in code order.
pub const TYPE_NAMES: [&str; 37] = [
    "galaxy",
    "active galaxy",
    "radio galaxy",
    "interacting galaxy",
    "quasar",
    "star cluster",
    "open cluster",
    "globular cluster",
    "stellar association",
    "star cloud",
    "nebula",
    "planetary nebula",
    "dark nebula",
    "reflection nebula",
    "bipolar nebula",
    "emission nebula",
    "cluster with nebulosity",
    "HII region",
    "supernova remnant",
    "interstellar matter",
    "emission object",
    "BL Lac object",
    "blazar",
    "molecular cloud",
    "young stellar object",
    "possible quasar",
    "possible planetary nebula",
    "protoplanetary nebula",
    "star",
    "symbiotic star",
    "emission-line star",
    "supernova candidate",
    "supernova remnant candidate",
    "cluster of galaxies",
    "part of a galaxy",
    "region of the sky",
    "unknown",
];

/// The coarse class a classifier learns: what a deep-sky image mostly shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoarseClass {
    /// Galaxies of every kind, galaxy clusters and parts of galaxies.
    Galaxy,
    /// Emission, reflection, dark and planetary nebulae, HII regions, supernova remnants.
    Nebula,
    /// Open and globular clusters, associations and star clouds.
    StarCluster,
    /// Stars, regions of the sky and unknown types.
    Other,
}

impl CoarseClass {
    /// The coarse class of a Stellarium type code.
    pub fn from_type_code(code: u32) -> CoarseClass {
        match code {
            0..=4 | 21 | 22 | 25 | 33 | 34 => CoarseClass::Galaxy,
            5..=9 => CoarseClass::StarCluster,
            10..=20 | 23 | 24 | 26 | 27 | 32 => CoarseClass::Nebula,
            _ => CoarseClass::Other,
        }
    }

    /// All four classes in index order.
    pub const ALL: [CoarseClass; 4] =
        [CoarseClass::Galaxy, CoarseClass::Nebula, CoarseClass::StarCluster, CoarseClass::Other];
}

impl fmt::Display for CoarseClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CoarseClass::Galaxy => "galaxy",
            CoarseClass::Nebula => "nebula",
            CoarseClass::StarCluster => "star_cluster",
            CoarseClass::Other => "other",
        })
    }
}

/// One object of `catalog.dat` with all 45 fields (0 or empty = not in that catalogue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[allow(missing_docs)]
pub struct DsoRecord {
    pub id: u32,
    /// Right ascension, radians (J2000).
    pub ra: f64,
    /// Declination, radians (J2000).
    pub dec: f64,
    pub b_mag: f64,
    /// Visual magnitude (99 = unknown).
    pub v_mag: f64,
    /// Stellarium type code, see [`TYPE_NAMES`].
    pub type_code: u32,
    pub morph_type: Option<String>,
    /// Major axis, degrees.
    pub major_axis: f64,
    /// Minor axis, degrees.
    pub minor_axis: f64,
    pub orientation: i32,
    pub redshift: f64,
    pub redshift_err: f64,
    pub parallax: f64,
    pub parallax_err: f64,
    pub dist: f64,
    pub dist_err: f64,
    pub ngc: u32,
    pub ic: u32,
    pub m: u32,
    pub c: u32,
    pub b: u32,
    pub sh2: u32,
    pub vdb: u32,
    pub rcw: u32,
    pub ldn: u32,
    pub lbn: u32,
    pub cr: u32,
    pub mel: u32,
    pub pgc: u32,
    pub ugc: u32,
    pub ced: Option<String>,
    pub arp: u32,
    pub vv: u32,
    pub pk: Option<String>,
    pub png: Option<String>,
    pub snrg: Option<String>,
    pub aco: Option<String>,
    pub hcg: Option<String>,
    pub eso: Option<String>,
    pub vdbh: Option<String>,
    pub dwb: u32,
    pub tr: u32,
    pub st: u32,
    pub ru: u32,
    pub vdbha: u32,
}

impl DsoRecord {
    /// Right ascension in degrees.
    pub fn ra_deg(&self) -> f64 {
        self.ra.to_degrees()
    }

    /// Declination in degrees.
    pub fn dec_deg(&self) -> f64 {
        self.dec.to_degrees()
    }

    /// Human-readable type name.
    pub fn type_name(&self) -> &'static str {
        TYPE_NAMES.get(self.type_code as usize).copied().unwrap_or("unknown")
    }

    /// Catalogue designations, most familiar first (`"M 31"`, `"NGC 224"`, `"UGC 454"` …).
    pub fn designations(&self) -> Vec<String> {
        let numbered = [
            ("M", self.m),
            ("NGC", self.ngc),
            ("IC", self.ic),
            ("C", self.c),
            ("B", self.b),
            ("Sh2", self.sh2),
            ("vdB", self.vdb),
            ("RCW", self.rcw),
            ("LDN", self.ldn),
            ("LBN", self.lbn),
            ("Cr", self.cr),
            ("Mel", self.mel),
            ("PGC", self.pgc),
            ("UGC", self.ugc),
            ("Arp", self.arp),
            ("VV", self.vv),
            ("DWB", self.dwb),
            ("Tr", self.tr),
            ("St", self.st),
            ("Ru", self.ru),
            ("vdB-Ha", self.vdbha),
        ];
        let mut out: Vec<String> =
            numbered.iter().filter(|(_, n)| *n != 0).map(|(cat, n)| format!("{cat} {n}")).collect();
        let named = [
            ("Ced", &self.ced),
            ("PK", &self.pk),
            ("PN G", &self.png),
            ("SNR G", &self.snrg),
            ("ACO", &self.aco),
            ("HCG", &self.hcg),
            ("ESO", &self.eso),
            ("vdBH", &self.vdbh),
        ];
        out.extend(
            named.iter().filter_map(|(cat, s)| s.as_deref().filter(|s| !s.is_empty()).map(|s| format!("{cat} {s}"))),
        );
        if out.is_empty() {
            out.push(format!("DSO {}", self.id));
        }
        out
    }
}

/// Big-endian Qt `QDataStream` reader over an in-memory buffer.
struct QtStream<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> QtStream<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let end =
            self.pos.checked_add(n).filter(|&e| e <= self.buf.len()).ok_or_else(|| {
                format!("truncated at byte {} (wanted {n} more bytes of {})", self.pos, self.buf.len())
            })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self) -> std::result::Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i32(&mut self) -> std::result::Result<i32, String> {
        Ok(self.u32()? as i32)
    }
    fn f64(&mut self) -> std::result::Result<f64, String> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_be_bytes(a))
    }
    /// `QString`: u32 byte length (0xFFFFFFFF = null) then UTF-16BE.
    fn string(&mut self) -> std::result::Result<Option<String>, String> {
        let n = self.u32()?;
        if n == u32::MAX {
            return Ok(None);
        }
        if n % 2 != 0 {
            return Err(format!("odd UTF-16 string length {n} at byte {}", self.pos));
        }
        let b = self.take(n as usize)?;
        let units: Vec<u16> = b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        String::from_utf16(&units).map(Some).map_err(|e| format!("bad UTF-16 at byte {}: {e}", self.pos))
    }
    fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }
}

/// Read Stellarium's gzip'ed `catalog.dat` (format version 3.16).
pub fn read_catalog(path: &Path) -> Result<Vec<DsoRecord>> {
    let file = std::fs::File::open(path).map_err(|source| DatasetError::Io { path: path.to_path_buf(), source })?;
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut raw)
        .map_err(|e| DatasetError::Catalog { path: path.to_path_buf(), reason: format!("not a gzip stream: {e}") })?;
    parse_catalog(&raw).map_err(|reason| DatasetError::Catalog { path: path.to_path_buf(), reason })
}

/// Parse the unzipped Qt data stream of `catalog.dat`.
pub fn parse_catalog(raw: &[u8]) -> std::result::Result<Vec<DsoRecord>, String> {
    let mut s = QtStream { buf: raw, pos: 0 };
    let version = s.string()?.unwrap_or_default();
    let edition = s.string()?.unwrap_or_default();
    if !version.starts_with("3.") {
        return Err(format!("unsupported catalog version '{version}' (edition '{edition}'), expected 3.x"));
    }
    let mut out = Vec::with_capacity(100_000);
    while !s.at_end() {
        let r = DsoRecord {
            id: s.u32()?,
            ra: s.f64()?,
            dec: s.f64()?,
            b_mag: s.f64()?,
            v_mag: s.f64()?,
            type_code: s.u32()?,
            morph_type: s.string()?,
            major_axis: s.f64()?,
            minor_axis: s.f64()?,
            orientation: s.i32()?,
            redshift: s.f64()?,
            redshift_err: s.f64()?,
            parallax: s.f64()?,
            parallax_err: s.f64()?,
            dist: s.f64()?,
            dist_err: s.f64()?,
            ngc: s.u32()?,
            ic: s.u32()?,
            m: s.u32()?,
            c: s.u32()?,
            b: s.u32()?,
            sh2: s.u32()?,
            vdb: s.u32()?,
            rcw: s.u32()?,
            ldn: s.u32()?,
            lbn: s.u32()?,
            cr: s.u32()?,
            mel: s.u32()?,
            pgc: s.u32()?,
            ugc: s.u32()?,
            ced: s.string()?,
            arp: s.u32()?,
            vv: s.u32()?,
            pk: s.string()?,
            png: s.string()?,
            snrg: s.string()?,
            aco: s.string()?,
            hcg: s.string()?,
            eso: s.string()?,
            vdbh: s.string()?,
            dwb: s.u32()?,
            tr: s.u32()?,
            st: s.u32()?,
            ru: s.u32()?,
            vdbha: s.u32()?,
        };
        out.push(r);
    }
    Ok(out)
}

/// One entry of `textures.json`: an image and where it sits on the sky.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextureEntry {
    /// Image file name relative to the nebulae directory.
    pub image_url: String,
    /// The four corners (RA, Dec) in degrees.
    pub corners: Vec<[f64; 2]>,
    /// Short credit line (may be empty when the file gives none).
    pub credit: String,
    /// Credit URL when given.
    pub info_url: Option<String>,
}

impl TextureEntry {
    /// Image centre (RA, Dec) in degrees: the normalised mean of the corner unit vectors.
    pub fn center(&self) -> (f64, f64) {
        let mut v = [0.0f64; 3];
        for c in &self.corners {
            let u = unit_vector(c[0], c[1]);
            for i in 0..3 {
                v[i] += u[i];
            }
        }
        let ra = v[1].atan2(v[0]).to_degrees().rem_euclid(360.0);
        let dec = v[2].atan2((v[0] * v[0] + v[1] * v[1]).sqrt()).to_degrees();
        (ra, dec)
    }

    /// Field size in degrees: the mean of the two side lengths.
    pub fn field_deg(&self) -> f64 {
        if self.corners.len() < 4 {
            return 0.0;
        }
        let side = |a: [f64; 2], b: [f64; 2]| angular_distance(a[0], a[1], b[0], b[1]);
        let c = &self.corners;
        (side(c[0], c[1]) + side(c[1], c[2]) + side(c[2], c[3]) + side(c[3], c[0])) / 4.0
    }
}

fn unit_vector(ra_deg: f64, dec_deg: f64) -> [f64; 3] {
    let (ra, dec) = (ra_deg.to_radians(), dec_deg.to_radians());
    [dec.cos() * ra.cos(), dec.cos() * ra.sin(), dec.sin()]
}

/// Great-circle distance in degrees between two (RA, Dec) positions given in degrees.
pub fn angular_distance(ra1: f64, dec1: f64, ra2: f64, dec2: f64) -> f64 {
    let (a, b) = (unit_vector(ra1, dec1), unit_vector(ra2, dec2));
    let dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let cross = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
    let cn = (cross[0] * cross[0] + cross[1] * cross[1] + cross[2] * cross[2]).sqrt();
    cn.atan2(dot).to_degrees()
}

/// Make Stellarium's near-JSON strict: add the leading zero to numbers like `-.9794` or `.5`.
pub fn strict_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut in_string = false;
    let mut escaped = false;
    let mut prev = ' ';
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c == '.' && !prev.is_ascii_digit() && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            out.push('0');
        }
        out.push(c);
        prev = c;
    }
    out
}

/// Parse `textures.json` (tolerating its non-strict numbers and `Short`/`short` credit keys).
pub fn parse_textures_json(text: &str) -> std::result::Result<Vec<TextureEntry>, String> {
    let value: serde_json::Value = serde_json::from_str(&strict_json(text)).map_err(|e| format!("bad JSON: {e}"))?;
    let tiles = value.get("subTiles").and_then(|t| t.as_array()).ok_or("no subTiles array")?;
    let mut out = Vec::with_capacity(tiles.len());
    for (i, tile) in tiles.iter().enumerate() {
        let image_url = tile
            .get("imageUrl")
            .and_then(|u| u.as_str())
            .ok_or_else(|| format!("subTiles[{i}] has no imageUrl"))?
            .to_string();
        let corners: Vec<[f64; 2]> = tile
            .get("worldCoords")
            .and_then(|w| w.get(0))
            .and_then(|w| w.as_array())
            .ok_or_else(|| format!("subTiles[{i}] ({image_url}) has no worldCoords"))?
            .iter()
            .map(|p| match (p.get(0).and_then(|v| v.as_f64()), p.get(1).and_then(|v| v.as_f64())) {
                (Some(ra), Some(dec)) => Ok([ra, dec]),
                _ => Err(format!("subTiles[{i}] ({image_url}) has a non-numeric corner")),
            })
            .collect::<std::result::Result<_, _>>()?;
        if corners.len() != 4 {
            return Err(format!("subTiles[{i}] ({image_url}) has {} corners, expected 4", corners.len()));
        }
        let credits = tile.get("imageCredits");
        let field = |k: &str| -> Option<String> {
            credits.and_then(|c| c.as_object()).and_then(|o| {
                o.iter().find(|(key, _)| key.eq_ignore_ascii_case(k)).and_then(|(_, v)| v.as_str()).map(str::to_string)
            })
        };
        out.push(TextureEntry {
            image_url,
            corners,
            credit: field("short").unwrap_or_default(),
            info_url: field("infoUrl"),
        });
    }
    Ok(out)
}

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
fn named_region(stem: &str) -> Option<(&'static str, u32)> {
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
fn nearest_object(catalog: &[DsoRecord], ra: f64, dec: f64, fov: f64) -> Option<&DsoRecord> {
    let radius = (fov / 2.0).max(0.01);
    catalog
        .iter()
        .filter(|r| (r.dec_deg() - dec).abs() <= radius)
        .filter_map(|r| {
            let d = angular_distance(ra, dec, r.ra_deg(), r.dec_deg());
            (d <= radius).then_some((r, d))
        })
        .max_by(|(a, da), (b, db)| {
            // Prefer large objects; among similar sizes, the one nearest the centre.
            let score = |r: &DsoRecord, d: f64| r.major_axis.max(0.0) - 0.5 * d;
            score(a, *da).total_cmp(&score(b, *db))
        })
        .map(|(r, _)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_json_adds_leading_zeros_outside_strings_only() {
        let fixed = strict_json(r#"{"a": [-.9794, .5, 1.25], "s": "x .5 -.1"}"#);
        assert_eq!(fixed, r#"{"a": [-0.9794, 0.5, 1.25], "s": "x .5 -.1"}"#);
        let v: serde_json::Value = serde_json::from_str(&fixed).unwrap();
        assert_eq!(v["a"][0].as_f64(), Some(-0.9794));
    }

    #[test]
    fn file_names_give_designations() {
        assert_eq!(designation_from_file_name("m31.png"), Some(("M", "31".into())));
        assert_eq!(designation_from_file_name("m57dumont.png"), Some(("M", "57".into())));
        assert_eq!(designation_from_file_name("n4038-9.png"), Some(("NGC", "4038".into())));
        assert_eq!(designation_from_file_name("ic2118-1.png"), Some(("IC", "2118".into())));
        assert_eq!(designation_from_file_name("sh2-101-vasey.png"), Some(("Sh2", "101".into())));
        assert_eq!(designation_from_file_name("barnard142-vasey.png"), Some(("B", "142".into())));
        assert_eq!(designation_from_file_name("u10214.png"), Some(("UGC", "10214".into())));
        assert_eq!(designation_from_file_name("lmc_01.png"), None);
        assert_eq!(designation_from_file_name("Medusa-vasey.png"), None);
    }

    #[test]
    fn texture_centre_and_field_from_corners() {
        let t = TextureEntry {
            image_url: "x.png".into(),
            corners: vec![[10.5, -0.5], [9.5, -0.5], [9.5, 0.5], [10.5, 0.5]],
            credit: String::new(),
            info_url: None,
        };
        let (ra, dec) = t.center();
        assert!((ra - 10.0).abs() < 1e-9 && dec.abs() < 1e-9, "{ra} {dec}");
        assert!((t.field_deg() - 1.0).abs() < 1e-3, "{}", t.field_deg());
        // Across RA = 0 the centre must not jump to 180°.
        let t0 = TextureEntry { corners: vec![[0.5, 0.0], [359.5, 0.0], [359.5, 1.0], [0.5, 1.0]], ..t };
        let (ra0, _) = t0.center();
        assert!(!(1e-6..=359.999).contains(&ra0), "{ra0}");
    }

    #[test]
    fn truncated_catalog_is_an_error_not_a_panic() {
        let mut raw = Vec::new();
        for s in ["3.16", "standard"] {
            let units: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
            raw.extend((units.len() as u32).to_be_bytes());
            raw.extend(units);
        }
        raw.extend(7u32.to_be_bytes());
        raw.extend(1.0f64.to_be_bytes());
        let err = parse_catalog(&raw).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
        let ok = parse_catalog(&raw[..raw.len() - 12]).unwrap();
        assert!(ok.is_empty());
    }

    #[test]
    fn survey_images_are_known_by_credit_or_file_name() {
        assert_eq!(SurveyOrigin::of("n185-dss.png", ""), Some(SurveyOrigin::Dss));
        assert_eq!(SurveyOrigin::of("n2419-sdss.png", ""), Some(SurveyOrigin::Sdss));
        assert_eq!(SurveyOrigin::of("p47847-sdss2.png", ""), Some(SurveyOrigin::Sdss));
        assert_eq!(SurveyOrigin::of("n6441-2mass.png", ""), Some(SurveyOrigin::TwoMass));
        assert_eq!(SurveyOrigin::of("n45.png", "DSS"), Some(SurveyOrigin::Dss));
        assert_eq!(SurveyOrigin::of("m8.png", "ESO/Digitized Sky Survey 2"), Some(SurveyOrigin::Dss));
        assert_eq!(SurveyOrigin::of("n6445.png", "The Pan-STARRS1 Surveys (PS1) and …"), Some(SurveyOrigin::PanStarrs));
        assert_eq!(SurveyOrigin::of("m2.png", "Starhopper"), None);
        assert_eq!(SurveyOrigin::of("m57dumont.png", "Stephane Dumont"), None);
        assert_eq!(SurveyOrigin::of("m31.png", "Stellarium default nebula set"), None);
    }
}
