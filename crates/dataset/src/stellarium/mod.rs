//! Stellarium's deep-sky image set (Debian `stellarium-data`): the catalogue, the texture list,
//! and a manifest of real images with their objects, coarse classes and credits.
//!
//! `datasets/stellarium/fetch.sh` unpacks the package into a cache directory; [`StellariumSet::locate`]
//! finds it. `catalog.dat` is a gzip'ed Qt data stream (big-endian, f64 floats, UTF-16BE strings);
//! `textures.json` is near-JSON with numbers such as `-.9794`.

mod catalog;
mod manifest;
mod textures;

pub use catalog::*;
pub use manifest::*;
pub use textures::*;

use std::path::{Path, PathBuf};

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
