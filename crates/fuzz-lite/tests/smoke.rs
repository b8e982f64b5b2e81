//! CI smoke pass: every fuzz target runs its seeds and a few thousand mutations without a panic.

#[test]
fn every_target_survives_a_short_mutation_run() {
    let runs: u64 = std::env::var("FUZZ_SMOKE_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let mut failures = Vec::new();
    for t in fuzz_lite::TARGETS {
        assert!(!fuzz_lite::seeds(t.name)[0].is_empty(), "{}: empty corpus", t.name);
        let crash_dir = std::env::temp_dir().join("fuzz-lite-smoke");
        let r = fuzz_lite::campaign(t, runs, 0x5EED, Some(&crash_dir), |_| {});
        eprintln!("{}: {} execs, {} crashes, slowest {:?}", t.name, r.execs, r.crashes, r.slowest);
        if r.crashes > 0 {
            failures.push(format!("{}: {} crashes (inputs in {})", t.name, r.crashes, crash_dir.display()));
        }
        assert!(r.slowest.as_secs() < 10, "{}: an input took {:?}", t.name, r.slowest);
    }
    assert!(failures.is_empty(), "{failures:?}");
}
