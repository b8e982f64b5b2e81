//! `fuzz TARGET|all [--runs N] [--seed S] [--crashes DIR]`: a mutation campaign (see the crate docs).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut runs = 100_000u64;
    let mut seed = 1u64;
    let mut crashes = std::path::PathBuf::from("fuzz-crashes");
    let mut names = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
        let parsed = match a.as_str() {
            "--runs" => value("--runs").and_then(|v| v.parse().map(|n| runs = n).map_err(|e| format!("--runs: {e}"))),
            "--seed" => value("--seed").and_then(|v| v.parse().map(|n| seed = n).map_err(|e| format!("--seed: {e}"))),
            "--crashes" => value("--crashes").map(|v| crashes = v.into()),
            "all" => {
                names.extend(fuzz_lite::TARGETS.iter().map(|t| t.name.to_string()));
                Ok(())
            }
            name => {
                names.push(name.to_string());
                Ok(())
            }
        };
        if let Err(e) = parsed {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    if names.is_empty() {
        eprintln!("usage: fuzz TARGET|all [--runs N] [--seed S] [--crashes DIR]; targets:");
        for t in fuzz_lite::TARGETS {
            eprintln!("  {:<16} {}", t.name, t.what);
        }
        return ExitCode::FAILURE;
    }
    let mut failed = false;
    for name in names {
        let Some(target) = fuzz_lite::target(&name) else {
            eprintln!("error: unknown target {name:?}");
            return ExitCode::FAILURE;
        };
        let r = fuzz_lite::campaign(target, runs, seed, Some(&crashes), |r| {
            if r.execs % 100_000 == 0 {
                eprintln!("{name}: {} execs, {} crashes, {:.0} s", r.execs, r.crashes, r.elapsed.as_secs_f64());
            }
        });
        println!(
            "{name}: {} executions, {} crashes, slowest {:.1} ms, {:.0} s ({:.0} exec/s)",
            r.execs,
            r.crashes,
            r.slowest.as_secs_f64() * 1e3,
            r.elapsed.as_secs_f64(),
            r.execs as f64 / r.elapsed.as_secs_f64().max(1e-9)
        );
        failed |= r.crashes > 0;
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
