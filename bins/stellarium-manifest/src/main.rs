//! Write the manifest of Stellarium's deep-sky images (object, class, credit, split) as JSON lines.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use dataset::stellarium::StellariumSet;
use dataset::stellarium_split;

/// Build the manifest of Stellarium's deep-sky image set.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Output JSON-lines file (one image per line, with its split).
    #[arg(short, long = "output", visible_alias = "out", default_value = "out/stellarium-manifest.jsonl")]
    out: PathBuf,
    /// Directory that datasets/stellarium/fetch.sh unpacked into (default: $PRETTIER_STELLARIUM_DIR or
    /// ~/.cache/prettier-space/stellarium).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Seed of the object-level train/validation/test split.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

fn main() -> std::process::ExitCode {
    cli_args::run(body)
}

fn body() -> anyhow::Result<()> {
    cli_args::init_logs("error");
    let args = Args::parse();
    if let Some(data) = &args.data {
        cli_args::check_outputs(&[data], &[("-o", &args.out)])?;
    }
    let set = match &args.data {
        Some(dir) => StellariumSet::at(dir)?,
        None => StellariumSet::locate()?,
    };
    let manifest = set.manifest()?;
    let split = stellarium_split(&manifest, args.seed);
    let mut text = String::new();
    let mut counts: BTreeMap<(String, &str), usize> = BTreeMap::new();
    for (name, images) in [("train", &split.train), ("validation", &split.validation), ("test", &split.test)] {
        for image in images {
            let mut value = serde_json::to_value(image)?;
            value["split"] = serde_json::Value::from(name);
            text.push_str(&serde_json::to_string(&value)?);
            text.push('\n');
            *counts.entry((image.class.to_string(), name)).or_default() += 1;
        }
    }
    astro_image::image_io::write_atomic(&args.out, text.as_bytes())
        .with_context(|| format!("writing {}", args.out.display()))?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{} images from {} → {}", manifest.len(), set.nebulae_dir.display(), args.out.display())?;
    writeln!(stdout, "{:<14} {:>6} {:>11} {:>6}", "class", "train", "validation", "test")?;
    let classes: std::collections::BTreeSet<String> = counts.keys().map(|(c, _)| c.clone()).collect();
    for class in classes {
        let n = |s: &str| counts.get(&(class.clone(), s)).copied().unwrap_or(0);
        writeln!(stdout, "{:<14} {:>6} {:>11} {:>6}", class, n("train"), n("validation"), n("test"))?;
    }
    Ok(())
}
