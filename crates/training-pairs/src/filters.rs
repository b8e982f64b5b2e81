//! Training pairs: an observation image and its survey counterparts on the same pixel grid, with
//! validation filters that each record a verdict and a reason.
//!
//! Filters: grey-only observations (R = G = B), black masked boxes/borders in the observation
//! (a mask is exported when the usable area is still large enough), survey cutouts that are
//! empty/black (outside the footprint) or saturated, too small an image, and misalignment (residual
//! shift between survey cutout and observation measured by phase correlation on luminance).

use serde::{Deserialize, Serialize};

use hips_client::{CutoutRequest, Hips2FitsClient};
use hips_client::{HipsError, HipsTileClient, ImageFormat, Planes, Result, Sampling, Survey, Wcs};
use hips_client::{Shift, phase_correlation};

/// Thresholds of the validation filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterConfig {
    /// Smallest accepted side of the pair images, pixels.
    pub min_side: usize,
    /// Smallest usable (unmasked) fraction of the observation.
    pub min_usable: f64,
    /// Largest accepted residual shift, pixels of the pair images.
    pub max_shift_px: f64,
    /// Smallest correlation peak for a shift measurement to count.
    pub min_peak: f64,
    /// A survey cutout with less coverage than this is "empty".
    pub min_coverage: f64,
    /// Mean luminance below which a cutout is "black".
    pub black_level: f64,
    /// Fraction of near-white pixels above which a cutout is "saturated".
    pub max_saturated: f64,
}

impl Default for FilterConfig {
    fn default() -> Self {
        FilterConfig {
            min_side: 64,
            min_usable: 0.5,
            max_shift_px: 2.0,
            min_peak: 0.05,
            min_coverage: 0.95,
            black_level: 0.01,
            max_saturated: 0.3,
        }
    }
}

/// The outcome of one filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Filter name (`grey-only`, `masked-area`, `too-small`, `survey-empty:<key>`, …).
    pub filter: String,
    /// Whether the pair passes this filter.
    pub passed: bool,
    /// The measured value the decision was made on; NaN when it could not be measured (a failed
    /// fetch, an alignment without a peak), written as JSON `null` and read back as NaN.
    #[serde(with = "finite_or_null")]
    pub value: f64,
    /// Human-readable reason.
    pub reason: String,
}

/// A measured value in `pair.json`: finite values as numbers, NaN (not measured) as `null`, and
/// `null` read back as NaN. JSON has no NaN, and serde_json writes it as `null` but refuses `null`
/// for an `f64` on reading, so without this a pair with an unmeasured value could be written but
/// never read again (issue #29 item 2).
mod finite_or_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> std::result::Result<S::Ok, S::Error> {
        if v.is_finite() { s.serialize_f64(*v) } else { s.serialize_none() }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// Result of checking one survey cutout against the observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyCheck {
    /// Survey key (`dss`, `sdss`…).
    pub key: String,
    /// Fraction of the cutout with data.
    #[serde(with = "finite_or_null")]
    pub coverage: f64,
    /// Mean luminance.
    #[serde(with = "finite_or_null")]
    pub mean: f64,
    /// Fraction of near-white pixels.
    #[serde(with = "finite_or_null")]
    pub saturated: f64,
    /// Residual shift against the observation, if measurable.
    pub shift: Option<Shift>,
}

/// `true` when every pixel has R = G = B within one 8-bit step (or the image is single-channel).
pub fn is_grey(img: &Planes) -> bool {
    if img.channels == 1 {
        return true;
    }
    let n = img.pixels();
    let tol = 1.0 / 255.0 + 1e-6;
    let coloured = (0..n)
        .filter(|&i| {
            let (r, g, b) = (img.data[i], img.data[n + i], img.data[2 * n + i]);
            (r - g).abs() > tol || (g - b).abs() > tol
        })
        .count();
    coloured as f64 <= 0.001 * n as f64
}

/// Mask of flat black areas (masked boxes, borders of mosaics): pixels that are black (all
/// channels ≤ 1/255) together with their whole 5×5 neighbourhood, grown back by 2 px. Real sky
/// noise is almost never exactly black over 25 pixels.
pub fn black_mask(img: &Planes) -> Vec<bool> {
    let (w, h, n) = (img.width, img.height, img.pixels());
    let black: Vec<bool> = (0..n)
        .map(|i| (0..img.channels).all(|c| img.data[c * n + i].is_nan() || img.data[c * n + i] <= 1.0 / 255.0))
        .collect();
    let r = 2isize;
    let window = |src: &[bool], need_all: bool| -> Vec<bool> {
        let mut out = vec![false; n];
        for y in 0..h as isize {
            for x in 0..w as isize {
                let mut all = true;
                let mut any = false;
                for dy in -r..=r {
                    for dx in -r..=r {
                        let (xx, yy) = (x + dx, y + dy);
                        let v = if xx < 0 || yy < 0 || xx >= w as isize || yy >= h as isize {
                            need_all // outside counts as black for erosion, as not-black for dilation
                        } else {
                            src[yy as usize * w + xx as usize]
                        };
                        all &= v;
                        any |= v;
                    }
                }
                out[y as usize * w + x as usize] = if need_all { all } else { any };
            }
        }
        out
    };
    let core = window(&black, true);
    let grown = window(&core, false);
    grown.iter().zip(&black).map(|(g, b)| *g && *b).collect()
}

/// Statistics and alignment of a survey cutout against the observation (same grid).
pub fn check_survey(key: &str, obs: &Planes, cutout: &Planes) -> SurveyCheck {
    let lum = hips_client::luminance(cutout);
    let n = lum.len().max(1) as f64;
    let mean = lum.iter().map(|&v| v as f64).sum::<f64>() / n;
    let saturated = lum.iter().filter(|&&v| v >= 0.98).count() as f64 / n;
    SurveyCheck {
        key: key.to_string(),
        coverage: cutout.coverage(),
        mean,
        saturated,
        shift: phase_correlation(obs, cutout, 256),
    }
}

/// Apply every filter; the pair is kept when all verdicts pass.
pub fn judge(obs: &Planes, mask: &[bool], checks: &[SurveyCheck], cfg: &FilterConfig) -> Vec<Verdict> {
    let mut v = Vec::new();
    let side = obs.width.min(obs.height);
    v.push(Verdict {
        filter: "too-small".into(),
        passed: side >= cfg.min_side,
        value: side as f64,
        reason: format!("smallest side {side} px (minimum {})", cfg.min_side),
    });
    let grey = is_grey(obs);
    v.push(Verdict {
        filter: "grey-only".into(),
        passed: !grey,
        value: if grey { 1.0 } else { 0.0 },
        reason: if grey { "observation is grey (R = G = B)".into() } else { "observation has colour".into() },
    });
    let usable = 1.0 - mask.iter().filter(|&&m| m).count() as f64 / mask.len().max(1) as f64;
    v.push(Verdict {
        filter: "masked-area".into(),
        passed: usable >= cfg.min_usable,
        value: usable,
        reason: format!(
            "{:.1}% usable after masking black boxes/borders (minimum {:.0}%)",
            usable * 100.0,
            cfg.min_usable * 100.0
        ),
    });
    for c in checks {
        let empty = c.coverage < cfg.min_coverage || c.mean < cfg.black_level;
        v.push(Verdict {
            filter: format!("survey-empty:{}", c.key),
            passed: !empty,
            value: c.coverage.min(c.mean / cfg.black_level.max(1e-9)),
            reason: format!("coverage {:.1}%, mean luminance {:.4}", c.coverage * 100.0, c.mean),
        });
        v.push(Verdict {
            filter: format!("survey-saturated:{}", c.key),
            passed: c.saturated <= cfg.max_saturated,
            value: c.saturated,
            reason: format!(
                "{:.1}% near-white pixels (maximum {:.0}%)",
                c.saturated * 100.0,
                cfg.max_saturated * 100.0
            ),
        });
        if !empty {
            let (passed, value, reason) = match c.shift {
                Some(s) if s.peak >= cfg.min_peak => (
                    s.magnitude() <= cfg.max_shift_px,
                    s.magnitude(),
                    format!("residual shift ({:+.2}, {:+.2}) px, peak {:.3}", s.dx, s.dy, s.peak),
                ),
                Some(s) => (false, f64::NAN, format!("alignment not measurable (correlation peak {:.3})", s.peak)),
                None => (false, f64::NAN, "alignment not measurable (image too small)".into()),
            };
            v.push(Verdict { filter: format!("misaligned:{}", c.key), passed, value, reason });
        }
    }
    v
}

/// Where survey cutouts come from.
pub enum CutoutSource<'a> {
    /// Server-side cutouts.
    Hips2Fits(&'a Hips2FitsClient),
    /// Native tiles (one client per survey, same order as the survey list) and local reprojection.
    Tiles(&'a [HipsTileClient], Sampling),
}

impl CutoutSource<'_> {
    /// The cutout of survey number `index` (`survey`) on `wcs`, as an image in `[0, 1]`.
    pub fn cutout(&self, index: usize, survey: &Survey, wcs: &Wcs) -> Result<Planes> {
        match self {
            CutoutSource::Hips2Fits(c) => {
                let format = if survey.colour { ImageFormat::Jpg } else { ImageFormat::Png };
                c.fetch(&CutoutRequest::from_wcs(survey.id, wcs.clone(), format))
            }
            CutoutSource::Tiles(clients, sampling) => {
                let client = clients
                    .get(index)
                    .ok_or_else(|| HipsError::InvalidRequest(format!("no tile client for survey {}", survey.key)))?;
                let img = client.reproject(wcs, *sampling)?;
                Ok(if client.format() == ImageFormat::Fits { img.stretched_linear(0.5, 99.5) } else { img })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(channels: usize, h: usize, w: usize) -> Planes {
        let mut img = Planes::no_data(channels, h, w);
        let mut s = 7u64;
        for v in &mut img.data {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            *v = 0.05 + 0.5 * ((s >> 40) as f32 / (1u64 << 24) as f32);
        }
        img
    }

    #[test]
    fn grey_and_colour_are_told_apart() {
        let colour = noise(3, 20, 20);
        assert!(!is_grey(&colour));
        let mut grey = colour.clone();
        let n = grey.pixels();
        let (r, rest) = grey.data.split_at_mut(n);
        rest[..n].copy_from_slice(r);
        rest[n..].copy_from_slice(r);
        assert!(is_grey(&grey));
    }

    #[test]
    fn black_boxes_and_borders_are_masked_but_dark_sky_pixels_are_not() {
        let mut img = noise(3, 60, 80);
        let n = img.pixels();
        // A few isolated black pixels (dark sky) must not be masked.
        for i in [100, 777, 2000] {
            for c in 0..3 {
                img.data[c * n + i] = 0.0;
            }
        }
        assert!(black_mask(&img).iter().all(|m| !m));
        // A 20-px black border on the left and a 10×10 box.
        for y in 0..60 {
            for x in 0..80 {
                if x < 20 || ((30..40).contains(&x) && (25..35).contains(&y)) {
                    for c in 0..3 {
                        img.data[c * n + y * 80 + x] = 0.0;
                    }
                }
            }
        }
        let mask = black_mask(&img);
        let masked = mask.iter().filter(|&&m| m).count();
        assert_eq!(masked, 20 * 60 + 100, "exactly the border and the box");
        let verdicts = judge(&img, &mask, &[], &FilterConfig::default());
        let area = verdicts.iter().find(|v| v.filter == "masked-area").unwrap();
        assert!(area.passed && (area.value - (1.0 - 1300.0 / 4800.0)).abs() < 1e-9, "{area:?}");
    }

    #[test]
    fn empty_saturated_and_misaligned_cutouts_are_rejected_with_reasons() {
        let obs = noise(3, 64, 64);
        let cfg = FilterConfig::default();
        let good = check_survey("dss", &obs, &obs);
        let mut black = Planes::no_data(3, 64, 64);
        black.data.iter_mut().for_each(|v| *v = 0.0);
        let black = check_survey("sdss", &obs, &black);
        let mut white = obs.clone();
        white.data.iter_mut().for_each(|v| *v = 1.0);
        let white = check_survey("2mass", &obs, &white);
        let mut shifted = Planes::no_data(3, 64, 64);
        for c in 0..3 {
            for y in 0..64 {
                for x in 0..64 {
                    shifted.data[(c * 64 + y) * 64 + x] = obs.get(c, (y + 60) % 64, (x + 5) % 64);
                }
            }
        }
        let moved = check_survey("panstarrs", &obs, &shifted);
        let mask = vec![false; 64 * 64];
        let v = judge(&obs, &mask, &[good, black, white, moved], &cfg);
        let get = |f: &str| v.iter().find(|x| x.filter == f).unwrap_or_else(|| panic!("{f} missing: {v:?}"));
        assert!(get("misaligned:dss").passed && get("survey-empty:dss").passed);
        assert!(!get("survey-empty:sdss").passed);
        assert!(!get("survey-saturated:2mass").passed);
        let m = get("misaligned:panstarrs");
        assert!(!m.passed && (m.value - (5f64.hypot(4.0))).abs() < 0.5, "{m:?}");
        assert!(get("grey-only").passed && get("too-small").passed);
    }
}

/// One survey counterpart stored in a pair directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairSurvey {
    /// Survey key (`dss`, `sdss`…), also the file stem.
    pub key: String,
    /// Full HiPS id.
    pub hips_id: String,
    /// File name inside the pair directory (e.g. `dss.jpg`); `None` when the fetch failed.
    pub file: Option<String>,
    /// Acknowledgement the survey asks for.
    pub acknowledgement: String,
    /// Statistics and alignment, when fetched.
    pub check: Option<SurveyCheck>,
    /// Error message when the cutout could not be fetched.
    pub error: Option<String>,
}

/// `pair.json`: everything about one training pair (also one line of the top-level manifest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairRecord {
    /// Observation id (archive id).
    pub id: String,
    /// Archive site name (`esahubble`, `esawebb`…).
    pub site: String,
    /// Title of the observation.
    pub title: String,
    /// Credit line of the observation (showing it is mandatory).
    pub credit: String,
    /// Licence of the observation.
    pub licence: String,
    /// Web page of the observation.
    pub reference_url: Option<String>,
    /// The downloaded source image the pair was made from.
    pub source_image: String,
    /// WCS shared by every image of the pair (`obs` and the survey cutouts).
    pub wcs: Wcs,
    /// Observation file name (`obs.png`).
    pub obs_file: String,
    /// Mask of unusable (black) observation pixels, when there are any (`mask.png`, white = masked).
    pub mask_file: Option<String>,
    /// Survey counterparts.
    pub surveys: Vec<PairSurvey>,
    /// Every filter's verdict.
    pub verdicts: Vec<Verdict>,
    /// `true` when every verdict passed.
    pub kept: bool,
}

impl PairRecord {
    /// The failed verdicts' filter names (without the `:survey` suffix), for summaries.
    pub fn reject_reasons(&self) -> Vec<String> {
        self.verdicts
            .iter()
            .filter(|v| !v.passed)
            .map(|v| v.filter.split(':').next().unwrap_or(&v.filter).to_string())
            .collect()
    }
}
