//! `catalog.dat`: Stellarium's deep-sky catalogue (a gzip'ed Qt data stream), its object types
//! and the coarse classes.

use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{DatasetError, Result};

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
pub(crate) struct QtStream<'a> {
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
