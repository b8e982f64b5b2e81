//! Command-line support shared by every binary: validated argument types, the logging set-up
//! ([`init_logs`]), progress bars ([`progress_bar`], [`spinner`]) and the one-line error exit
//! ([`run`], [`run_with_status`]). A bin's `main.rs` parses, reports and calls libraries; the how lives here.
//!
//! Each parser is a clap `value_parser`: a bad value is refused while the arguments are parsed,
//! before any work or allocation, with clap's message naming the flag and the value
//! (`error: invalid value 'NaN' for '--lr <LR>': not a finite number`).
//!
//! [`run`] turns `main`'s `anyhow::Result` into one line on stderr and exit code 1, whatever
//! `RUST_BACKTRACE` says: users get the message, not a stack trace.
#![warn(missing_docs)]

use std::process::ExitCode;

pub mod outputs;
pub use outputs::{check_given_outputs, check_outputs, require_extension};

fn number<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.trim().parse::<T>().map_err(|_| format!("'{s}' is not a number"))
}

/// A finite `f64` (NaN and ±infinity refused).
pub fn finite_f64(s: &str) -> Result<f64, String> {
    let v: f64 = number(s)?;
    if v.is_finite() { Ok(v) } else { Err("not a finite number".into()) }
}

/// A finite `f32` (NaN and ±infinity refused).
pub fn finite_f32(s: &str) -> Result<f32, String> {
    let v: f32 = number(s)?;
    if v.is_finite() { Ok(v) } else { Err("not a finite number".into()) }
}

/// A finite `f64` > 0.
pub fn positive_f64(s: &str) -> Result<f64, String> {
    let v = finite_f64(s)?;
    if v > 0.0 { Ok(v) } else { Err("must be greater than 0".into()) }
}

/// A finite `f32` > 0.
pub fn positive_f32(s: &str) -> Result<f32, String> {
    let v = finite_f32(s)?;
    if v > 0.0 { Ok(v) } else { Err("must be greater than 0".into()) }
}

/// A finite `f32` ≥ 0.
pub fn non_negative_f32(s: &str) -> Result<f32, String> {
    let v = finite_f32(s)?;
    if v >= 0.0 { Ok(v) } else { Err("must be 0 or more".into()) }
}

/// A finite `f32` in [0, 1] (a blend strength, a fraction).
pub fn unit_f32(s: &str) -> Result<f32, String> {
    let v = finite_f32(s)?;
    if (0.0..=1.0).contains(&v) { Ok(v) } else { Err("must be between 0 and 1".into()) }
}

/// A finite `f64` in (0, `max`]: `value_parser = |s: &str| cli_args::positive_at_most(s, 5.0)`.
pub fn positive_at_most(s: &str, max: f64) -> Result<f64, String> {
    let v = positive_f64(s)?;
    if v <= max { Ok(v) } else { Err(format!("must be at most {max}")) }
}

/// One of the listed whole numbers (`--scale 1|2|4`).
pub fn one_of(s: &str, allowed: &[usize]) -> Result<usize, String> {
    let v: usize = number(s)?;
    let list = allowed.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ");
    if allowed.contains(&v) { Ok(v) } else { Err(format!("must be one of {list}")) }
}

/// A finite `f64` ≥ 0.
pub fn non_negative_f64(s: &str) -> Result<f64, String> {
    let v = finite_f64(s)?;
    if v >= 0.0 { Ok(v) } else { Err("must be 0 or more".into()) }
}

/// A declination in degrees, [−90, 90].
pub fn declination(s: &str) -> Result<f64, String> {
    let v = finite_f64(s)?;
    if (-90.0..=90.0).contains(&v) { Ok(v) } else { Err("declination must be within [-90, 90] degrees".into()) }
}

/// A right ascension in degrees, [0, 360).
pub fn right_ascension(s: &str) -> Result<f64, String> {
    let v = finite_f64(s)?;
    if (0.0..360.0).contains(&v) { Ok(v) } else { Err("right ascension must be within [0, 360) degrees".into()) }
}

/// An integer ≥ 1.
pub fn positive_usize(s: &str) -> Result<usize, String> {
    let v: usize = number(s)?;
    if v >= 1 { Ok(v) } else { Err("must be at least 1".into()) }
}

/// An integer ≥ 1.
pub fn positive_u32(s: &str) -> Result<u32, String> {
    let v: u32 = number(s)?;
    if v >= 1 { Ok(v) } else { Err("must be at least 1".into()) }
}

/// An integer in [`lo`, `hi`]: `value_parser = |s: &str| cli_args::usize_in(s, 1, 4096)`. Sizes
/// that size allocations (features, batch, image sides) get an upper bound as well as a lower one.
pub fn usize_in(s: &str, lo: usize, hi: usize) -> Result<usize, String> {
    let v: usize = number(s)?;
    if (lo..=hi).contains(&v) { Ok(v) } else { Err(format!("must be between {lo} and {hi}")) }
}

/// A finite `f64` in [`lo`, `hi`].
pub fn f64_in(s: &str, lo: f64, hi: f64) -> Result<f64, String> {
    let v = finite_f64(s)?;
    if (lo..=hi).contains(&v) { Ok(v) } else { Err(format!("must be between {} and {}", short(lo), short(hi))) }
}

/// A finite `f32` in [`lo`, `hi`].
pub fn f32_in(s: &str, lo: f32, hi: f32) -> Result<f32, String> {
    f64_in(s, lo as f64, hi as f64).map(|v| v as f32)
}

/// The largest loss weight accepted ([`loss_weight`]): far above any useful value, far below
/// where `f32` training overflows.
pub const MAX_LOSS_WEIGHT: f64 = 1e4;

/// A loss weight: finite, in [0, [`MAX_LOSS_WEIGHT`]] (`--l1`, `--ssim`, `--gan-weight`).
pub fn loss_weight(s: &str) -> Result<f64, String> {
    f64_in(s, 0.0, MAX_LOSS_WEIGHT)
}

/// A number as people read it: plain for ordinary magnitudes, scientific notation otherwise
/// (`1e-300`, not 300 digits).
pub fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() || (1e-4..1e9).contains(&v.abs()) { format!("{v}") } else { format!("{v:e}") }
}

/// The error as one line: the context chain joined by ": ", newlines folded.
pub fn one_line(e: &anyhow::Error) -> String {
    // A cause whose text the message above it already contains is not repeated
    // ("x.png: No such file (os error 2)" over "No such file (os error 2)").
    // A cause that starts with what the line ends with ("writing x.png" over "x.png: disk full")
    // continues it instead of repeating the path.
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            let overlap =
                text.match_indices(": ").map(|(i, _)| i).filter(|&i| i >= 3 && line.ends_with(&text[..i])).last();
            match overlap {
                Some(i) => line.push_str(&text[i..]),
                None => {
                    if !line.is_empty() {
                        line.push_str(": ");
                    }
                    line.push_str(&text);
                }
            }
        }
    }
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Run `main`'s body: `Ok` → exit 0; `Err` → `error: …` as one line on stderr and exit 1.
pub fn run(body: impl FnOnce() -> anyhow::Result<()>) -> ExitCode {
    run_with_status(1, || body().map(|()| ExitCode::SUCCESS))
}

/// [`run`] for a tool whose body picks its own status (esa-scrape: 1 when some images failed):
/// `Ok(code)` → `code`; `Err` → the same `error: …` line and exit `error_code` (≠ 0).
pub fn run_with_status(error_code: u8, body: impl FnOnce() -> anyhow::Result<ExitCode>) -> ExitCode {
    match body() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(error_code.max(1))
        }
    }
}

/// Initialise `tracing` logs on stderr: `RUST_LOG` when set, else `default` (e.g. `"warn"`,
/// `"info"`, `"error,fitsrs=off"`). Calling it twice is harmless (tests run bins in-process).
pub fn init_logs(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour codes only on a terminal: a redirected log is plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}

/// A progress bar over `len` items drawn with the indicatif `template` (a plain bar if the template
/// does not parse).
pub fn progress_bar(len: u64, template: &str) -> indicatif::ProgressBar {
    indicatif::ProgressBar::new(len).with_style(progress_style(template))
}

/// The bar style of the indicatif `template` (a plain bar if the template does not parse).
pub fn progress_style(template: &str) -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(template).unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
}

/// A spinner for work of unknown length, drawn with the indicatif `template`.
pub fn spinner(template: &str) -> indicatif::ProgressBar {
    let style = indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
    indicatif::ProgressBar::new_spinner().with_style(style)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_joins_causes_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file (os error 2)");
        let e = anyhow::Error::new(io).context("x.png: No such file (os error 2)").context("loading\nthe  input");
        assert_eq!(one_line(&e), "loading the input: x.png: No such file (os error 2)");
        assert!(unit_f32("1.5").is_err() && unit_f32("-0.1").is_err() && unit_f32("0.25").unwrap() == 0.25);
    }

    #[test]
    fn parsers_refuse_non_finite_and_out_of_range_values() {
        for bad in ["NaN", "nan", "inf", "-inf", "1e400", "x", ""] {
            assert!(finite_f64(bad).is_err(), "{bad}");
            assert!(positive_f32(bad).is_err(), "{bad}");
        }
        assert_eq!(finite_f64(" 2.5 ").unwrap(), 2.5);
        assert!(positive_f32("0").is_err() && positive_f32("-1").is_err());
        assert!(non_negative_f32("-0.1").is_err() && non_negative_f32("0").is_ok());
        assert!(declination("90.5").is_err() && declination("-90").is_ok());
        assert!(right_ascension("360").is_err() && right_ascension("0").is_ok());
        assert!(positive_usize("0").is_err() && positive_usize("-3").is_err() && positive_usize("3").is_ok());
    }

    #[test]
    fn range_validators_bound_both_ends_and_numbers_print_short() {
        for bad in ["0", "100000", "-1", "NaN", "1e3"] {
            assert!(usize_in(bad, 1, 4096).is_err(), "{bad}");
        }
        assert_eq!(usize_in("64", 1, 4096).unwrap(), 64);
        assert_eq!(usize_in("0", 1, 4096).unwrap_err(), "must be between 1 and 4096");
        for bad in ["NaN", "inf", "-inf", "1e39", "-0.5", "1e5"] {
            assert!(loss_weight(bad).is_err(), "{bad}");
        }
        assert_eq!(loss_weight("0").unwrap(), 0.0);
        assert!(f32_in("1e-300", 1e-6, 180.0).is_err() && f32_in("2.5", 1e-6, 180.0).unwrap() == 2.5);
        assert_eq!(short(1e-300), "1e-300");
        assert_eq!(short(0.25), "0.25");
        assert_eq!(short(1.5e12), "1.5e12");
    }

    #[test]
    fn a_path_at_the_end_of_a_context_is_not_printed_twice() {
        let io = std::io::Error::other("No space left on device");
        let inner = anyhow::Error::new(io).context("out/cam.png: No space left on device");
        let e = inner.context("writing out/cam.png");
        assert_eq!(one_line(&e), "writing out/cam.png: No space left on device");
        let e = anyhow::anyhow!("m.srmodel: truncated").context("model m.srmodel");
        assert_eq!(one_line(&e), "model m.srmodel: truncated");
    }

    #[test]
    fn errors_become_one_line() {
        let e = anyhow::anyhow!("inner\nsecond line").context("outer");
        assert_eq!(one_line(&e), "outer: inner second line");
    }
}
