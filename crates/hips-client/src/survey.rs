//! The sky surveys we pair observations with: ids, HiPS base URLs, pixel scales, footprints and the
//! acknowledgement each one asks for.

use serde::{Deserialize, Serialize};

/// Sky area a survey covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Footprint {
    /// The whole sky (cutouts are never empty).
    AllSky,
    /// Part of the sky: cutouts outside it come back black/empty and must be filtered.
    Partial,
}

/// One HiPS survey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Survey {
    /// Short name used on the command line and in file names (`dss`, `sdss`, …).
    pub key: &'static str,
    /// The full CDS HiPS id (what hips2fits' `hips=` takes).
    pub id: &'static str,
    /// The HiPS root on alasky (tiles and `properties` live under it).
    pub base_url: &'static str,
    /// Native pixel scale in arcseconds (deepest HiPS order), for choosing sensible cutout sizes.
    pub pixel_scale_arcsec: f64,
    /// Colour (3 planes) or a single band.
    pub colour: bool,
    /// Sky coverage.
    pub footprint: Footprint,
    /// Acknowledgement to print with any product that uses the survey.
    pub acknowledgement: &'static str,
}

/// Acknowledgement asked for by the hips2fits service and HiPS at CDS.
pub const CDS_ACKNOWLEDGEMENT: &str =
    "This research made use of hips2fits, a tool developed at CDS, Strasbourg, France, and of HiPS served by CDS.";

const DSS_ACK: &str = "The Digitized Sky Surveys were produced at the Space Telescope Science Institute under U.S. Government grant NAG W-2166. The images of these surveys are based on photographic data obtained using the Oschin Schmidt Telescope on Palomar Mountain and the UK Schmidt Telescope.";
const SDSS_ACK: &str = "Funding for SDSS-III has been provided by the Alfred P. Sloan Foundation, the Participating Institutions, the National Science Foundation, and the U.S. Department of Energy Office of Science. The SDSS-III web site is http://www.sdss3.org/.";
const PS1_ACK: &str = "The Pan-STARRS1 Surveys (PS1) and the PS1 public science archive have been made possible through contributions by the Institute for Astronomy, the University of Hawaii, the Pan-STARRS Project Office, the Max-Planck Society and its participating institutes, and partners listed at https://panstarrs.stsci.edu.";
const TWOMASS_ACK: &str = "This publication makes use of data products from the Two Micron All Sky Survey, which is a joint project of the University of Massachusetts and the Infrared Processing and Analysis Center/California Institute of Technology, funded by NASA and the NSF.";
const LEGACY_ACK: &str = "The Legacy Surveys consist of three individual and complementary projects: DECaLS, BASS and MzLS; see https://www.legacysurvey.org/acknowledgment/.";
const WISE_ACK: &str = "This publication makes use of data products from the Wide-field Infrared Survey Explorer (WISE/NEOWISE), a joint project of UCLA and JPL/Caltech, funded by NASA.";
const GALEX_ACK: &str =
    "Based on observations made with the NASA Galaxy Evolution Explorer (GALEX), operated for NASA by Caltech.";

macro_rules! survey {
    ($key:expr, $id:expr, $url:expr, $scale:expr, $colour:expr, $fp:expr, $ack:expr) => {
        Survey {
            key: $key,
            id: $id,
            base_url: $url,
            pixel_scale_arcsec: $scale,
            colour: $colour,
            footprint: $fp,
            acknowledgement: $ack,
        }
    };
}

/// Every survey this crate knows, in a stable order.
pub fn catalogue() -> Vec<Survey> {
    use Footprint::*;
    vec![
        survey!("dss", "CDS/P/DSS2/color", "https://alasky.cds.unistra.fr/DSS/DSSColor", 1.0, true, AllSky, DSS_ACK),
        survey!(
            "dss-red",
            "CDS/P/DSS2/red",
            "https://alasky.cds.unistra.fr/DSS/DSS2Merged",
            1.0,
            false,
            AllSky,
            DSS_ACK
        ),
        survey!(
            "dss-blue",
            "CDS/P/DSS2/blue",
            "https://alasky.cds.unistra.fr/DSS/DSS2-blue-XJ-S",
            1.0,
            false,
            AllSky,
            DSS_ACK
        ),
        survey!(
            "sdss",
            "CDS/P/SDSS9/color",
            "https://alasky.cds.unistra.fr/SDSS/DR9/color",
            0.4,
            true,
            Partial,
            SDSS_ACK
        ),
        survey!(
            "sdss-u",
            "CDS/P/SDSS9/u",
            "https://alasky.cds.unistra.fr/SDSS/DR9/band-u",
            0.4,
            false,
            Partial,
            SDSS_ACK
        ),
        survey!(
            "sdss-g",
            "CDS/P/SDSS9/g",
            "https://alasky.cds.unistra.fr/SDSS/DR9/band-g",
            0.4,
            false,
            Partial,
            SDSS_ACK
        ),
        survey!(
            "sdss-r",
            "CDS/P/SDSS9/r",
            "https://alasky.cds.unistra.fr/SDSS/DR9/band-r",
            0.4,
            false,
            Partial,
            SDSS_ACK
        ),
        survey!(
            "sdss-i",
            "CDS/P/SDSS9/i",
            "https://alasky.cds.unistra.fr/SDSS/DR9/band-i",
            0.4,
            false,
            Partial,
            SDSS_ACK
        ),
        survey!(
            "sdss-z",
            "CDS/P/SDSS9/z",
            "https://alasky.cds.unistra.fr/SDSS/DR9/band-z",
            0.4,
            false,
            Partial,
            SDSS_ACK
        ),
        survey!(
            "panstarrs",
            "CDS/P/PanSTARRS/DR1/color-z-zg-g",
            "https://alasky.cds.unistra.fr/Pan-STARRS/DR1/color-z-zg-g",
            0.25,
            true,
            Partial,
            PS1_ACK
        ),
        survey!(
            "panstarrs-irg",
            "CDS/P/PanSTARRS/DR1/color-i-r-g",
            "https://alasky.cds.unistra.fr/Pan-STARRS/DR1/color-i-r-g",
            0.25,
            true,
            Partial,
            PS1_ACK
        ),
        survey!(
            "2mass",
            "CDS/P/2MASS/color",
            "https://alasky.cds.unistra.fr/2MASS/Color",
            1.0,
            true,
            AllSky,
            TWOMASS_ACK
        ),
        survey!(
            "legacy",
            "CDS/P/DESI-Legacy-Surveys/DR10/color",
            "https://alasky.cds.unistra.fr/DESI-Legacy-Surveys/DR10/CDS_P_DESI-Legacy-Surveys_DR10_color",
            0.25,
            true,
            Partial,
            LEGACY_ACK
        ),
        survey!(
            "wise",
            "CDS/P/allWISE/color",
            "https://alasky.cds.unistra.fr/AllWISE/RGB-W4-W2-W1",
            1.4,
            true,
            AllSky,
            WISE_ACK
        ),
        survey!(
            "galex",
            "CDS/P/GALEXGR6/AIS/color",
            "https://alasky.cds.unistra.fr/GALEX/GR6-03-2014/AIS-Color",
            1.5,
            true,
            Partial,
            GALEX_ACK
        ),
    ]
}

/// Find a survey by short key (`dss`) or full HiPS id (`CDS/P/DSS2/color`), case-insensitively.
pub fn find(name: &str) -> Option<Survey> {
    let n = name.trim();
    catalogue().into_iter().find(|s| s.key.eq_ignore_ascii_case(n) || s.id.eq_ignore_ascii_case(n))
}

/// The default survey pair used to build training pairs: DSS2 colour and SDSS9 colour.
pub fn default_pair() -> Vec<Survey> {
    ["dss", "sdss"].iter().filter_map(|k| find(k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_key_and_id_and_defaults() {
        assert_eq!(find("DSS").unwrap().id, "CDS/P/DSS2/color");
        assert_eq!(find("cds/p/sdss9/color").unwrap().key, "sdss");
        assert!(find("nope").is_none());
        let keys: Vec<_> = default_pair().iter().map(|s| s.key).collect();
        assert_eq!(keys, ["dss", "sdss"]);
        let all = catalogue();
        let mut ids: Vec<_> = all.iter().map(|s| s.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "duplicate ids");
        assert!(all.iter().all(|s| s.base_url.starts_with("https://") && !s.acknowledgement.is_empty()));
        assert_eq!(find("sdss").unwrap().footprint, Footprint::Partial);
        assert_eq!(find("dss").unwrap().footprint, Footprint::AllSky);
    }
}
