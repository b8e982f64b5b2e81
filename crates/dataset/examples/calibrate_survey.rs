//! Calibrate the survey degradation against the real survey images of the Stellarium set.
//!
//! Measures [`SurveyLook`] on every survey-credited image (DSS, SDSS, 2MASS), then fits the
//! `dss` preset's knobs so that the validation split's *outreach* images, degraded at ×2, have the
//! DSS images' median look. Writes the fitted configuration (JSON) and a markdown table.
//!
//! ```sh
//! cargo run --release -p dataset --example calibrate_survey -- \
//!     crates/dataset/presets/survey-calibrated.json docs/survey-calibration.md
//! ```

use std::collections::BTreeMap;

use astro_image::image_io::{ImageLimits, load_image};
use astro_image::{ColorMode, Planes};
use dataset::degrade::DegradationConfig;
use dataset::stellarium::{StellariumSet, SurveyOrigin};
use dataset::stellarium_split;
use dataset::survey_look::{STATISTICS, SurveyLook, calibrate};
use rayon::prelude::*;

/// Side of the centre crop of each outreach image (HR pixels; ×2 degraded to half).
const CROP: usize = 512;
/// Scale the prettify model works at.
const SCALE: usize = 2;

fn centre_crop(p: &Planes, side: usize) -> Planes {
    let (w, h) = (p.width.min(side), p.height.min(side));
    p.crop((p.width - w) / 2, (p.height - h) / 2, w, h).expect("crop inside the image")
}

fn fmt(v: f64) -> String {
    if v.is_nan() {
        "—".into()
    } else if v.abs() >= 0.1 {
        format!("{v:.3}")
    } else {
        format!("{v:.4}")
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json_out = args.first().cloned().unwrap_or_else(|| "survey-calibrated.json".into());
    let md_out = args.get(1).cloned();
    let set = StellariumSet::locate()?;
    let manifest = set.manifest()?;
    let limits = ImageLimits::default();

    let surveys: Vec<_> = manifest.iter().filter(|m| m.survey().is_some()).collect();
    eprintln!("{} survey images, measuring", surveys.len());
    let looks: Vec<(SurveyOrigin, SurveyLook)> = surveys
        .par_iter()
        .filter_map(|m| {
            let p = load_image(&m.path, ColorMode::Rgb, limits).ok()?;
            Some((m.survey()?, SurveyLook::measure(&p)))
        })
        .collect();
    let mut by_survey: BTreeMap<SurveyOrigin, Vec<SurveyLook>> = BTreeMap::new();
    for (s, l) in &looks {
        by_survey.entry(*s).or_default().push(*l);
    }
    let dss = SurveyLook::median_of(&by_survey[&SurveyOrigin::Dss]);

    let split = stellarium_split(&manifest, 0);
    let outreach: Vec<_> = split.validation.iter().filter(|m| m.survey().is_none()).collect();
    eprintln!("{} outreach validation images, degrading at ×{SCALE}", outreach.len());
    let images: Vec<Planes> = outreach
        .par_iter()
        .filter_map(|m| load_image(&m.path, ColorMode::Rgb, limits).ok().map(|p| centre_crop(&p, CROP)))
        .filter(|p| p.width >= 2 * 64 && p.height >= 2 * 64)
        .collect();
    let clean = SurveyLook::median_of(&images.iter().map(SurveyLook::measure).collect::<Vec<_>>());
    // The dss preset without its saturation step (see `survey_look::KNOBS`).
    let start = DegradationConfig { saturation: None, ..DegradationConfig::dss() };
    let t = std::time::Instant::now();
    let cal = calibrate(&images, &dss, &start, SCALE, 3, 11, |m| eprintln!("{m}"))?;
    eprintln!("calibrated in {:.0} s", t.elapsed().as_secs_f64());
    let text = serde_json::to_string_pretty(&cal.config)?;
    astro_image::image_io::write_atomic(std::path::Path::new(&json_out), text.as_bytes())?;

    let mut md = String::new();
    let names: Vec<String> = by_survey.iter().map(|(s, v)| format!("real {} ({})", s.name(), v.len())).collect();
    md.push_str(&format!(
        "| statistic | {} | outreach, clean ({n}) | outreach, `dss` ×2 (before) | outreach, calibrated ×2 (after) |\n|---|{}---|---|---|\n",
        names.join(" | "),
        "---|".repeat(names.len()),
        n = images.len()
    ));
    let medians: Vec<SurveyLook> = by_survey.values().map(|v| SurveyLook::median_of(v)).collect();
    for (k, name) in STATISTICS.iter().enumerate() {
        let real: Vec<String> = medians.iter().map(|m| fmt(m.values()[k])).collect();
        md.push_str(&format!(
            "| {name} | {} | {} | {} | {} |\n",
            real.join(" | "),
            fmt(clean.values()[k]),
            fmt(cal.before.values()[k]),
            fmt(cal.after.values()[k])
        ));
    }
    md.push_str(&format!(
        "| distance to real DSS | {} | {} | {:.3} | {:.3} |\n",
        medians.iter().map(|m| format!("{:.3}", m.distance(&dss))).collect::<Vec<_>>().join(" | "),
        format_args!("{:.3}", clean.distance(&dss)),
        cal.distance.0,
        cal.distance.1
    ));
    md.push_str("\n| knob | `dss` preset | calibrated |\n|---|---|---|\n");
    for (k, a, b) in &cal.knobs {
        md.push_str(&format!("| {} | {} | {} |\n", k.name(), fmt(*a), fmt(*b)));
    }
    println!("{md}");
    if let Some(p) = md_out {
        astro_image::image_io::write_atomic(std::path::Path::new(&p), md.as_bytes())?;
    }
    Ok(())
}
