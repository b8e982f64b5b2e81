//! Data-parallel `train-ranker --kind cnn` (issue #30): two processes on 127.0.0.1 through
//! burn-collective's orchestrator train the RankNet with each batch split between them, and the
//! leader's model ranks the frames as one process's model does (RankNet has no BatchNorm, so the
//! two runs are the same sums in another order); the other node writes nothing.

use std::process::{Child, Command, Output, Stdio};

fn spawn(bin: &str, args: &[String]) -> Child {
    Command::new(bin).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

fn check(out: Output, what: &str) {
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what}:\n{text}");
}

fn scores(csv: &str) -> Vec<f64> {
    std::fs::read_to_string(csv)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn two_processes_train_the_same_cnn_ranker_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = |p: &str| dir.path().join(p).to_string_lossy().into_owned();
    let sim =
        ["-o", &d("sim"), "--frames", "48", "--size", "96", "--radius", "30", "--pupil", "24", "--d-over-r0", "5"];
    check(Command::new(env!("CARGO_BIN_EXE_frame-sim")).args(sim).output().unwrap(), "frame-sim");
    let ser = d("sim/frames.ser");
    let train = |out: &str, extra: &[String]| -> Vec<String> {
        let mut v: Vec<String> = [&ser, "--kind", "cnn", "--teacher", "disc-laplace", "--epochs", "3", "-o", out]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.extend_from_slice(extra);
        v
    };
    let bin = env!("CARGO_BIN_EXE_train-ranker");
    check(spawn(bin, &train(&d("one.json"), &[])).wait_with_output().unwrap(), "one process");

    let port = test_servers::free_port_run(2);
    let n0 = spawn(bin, &train(&d("two.json"), &test_servers::two_node_flags(port, 0, 120)));
    let n1 = spawn(bin, &train(&d("two-b.json"), &test_servers::two_node_flags(port, 1, 120)));
    check(n0.wait_with_output().unwrap(), "node 0");
    check(n1.wait_with_output().unwrap(), "node 1");
    assert!(!dir.path().join("two-b.json").exists(), "the non-leader wrote a model");

    let rank = env!("CARGO_BIN_EXE_rank-frames");
    for (model, csv) in [("one.json", "one.csv"), ("two.json", "two.csv")] {
        let args = [ser.clone(), "--model".into(), d(model), "--csv".into(), d(csv)];
        check(Command::new(rank).args(args).output().unwrap(), model);
    }
    let (one, two) = (scores(&d("one.csv")), scores(&d("two.csv")));
    assert_eq!(one.len(), 48);
    let spread = one.iter().cloned().fold(f64::MIN, f64::max) - one.iter().cloned().fold(f64::MAX, f64::min);
    let diff = one.iter().zip(&two).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    eprintln!("max score difference {diff:.3e} over a spread of {spread:.3e}");
    assert!(spread > 0.0 && diff <= 1e-3 * spread, "two processes rank differently: {diff} of {spread}");
}
