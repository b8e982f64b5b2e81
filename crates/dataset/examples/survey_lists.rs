//! Write the documented lists that keep survey images out of prettify's training data:
//! `survey-images.txt` (every survey-credited or survey-named image: evaluation inputs only) and
//! `outreach-{train,validation,test}.txt` (the non-survey images of each split: targets).
//!
//! ```sh
//! cargo run --release -p dataset --example survey_lists -- datasets/stellarium
//! ```

use dataset::stellarium::StellariumSet;
use dataset::stellarium_split;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    let manifest = StellariumSet::locate()?.manifest()?;
    let split = stellarium_split(&manifest, 0);
    let mut surveys: Vec<String> = manifest
        .iter()
        .filter_map(|m| {
            m.survey().map(|s| format!("{}\t{}\t{}", m.file, s.name(), m.credit.lines().next().unwrap_or("")))
        })
        .collect();
    surveys.sort();
    let header = "# file\tsurvey\tcredit — survey images: never prettify training data (calibration statistics, evaluation, gallery)\n";
    astro_image::image_io::write_atomic(
        &dir.join("survey-images.txt"),
        (header.to_string() + &surveys.join("\n") + "\n").as_bytes(),
    )?;
    for (name, part) in [("train", &split.train), ("validation", &split.validation), ("test", &split.test)] {
        let mut files: Vec<&str> = part.iter().filter(|m| m.survey().is_none()).map(|m| m.file.as_str()).collect();
        files.sort();
        let text = format!("# outreach (non-survey) images of the {name} split, seed 0\n{}\n", files.join("\n"));
        astro_image::image_io::write_atomic(&dir.join(format!("outreach-{name}.txt")), text.as_bytes())?;
        println!("{name}: {} outreach of {}", files.len(), part.len());
    }
    println!("survey images: {}", surveys.len());
    Ok(())
}
