//! Data-parallel `train-dso` (issue #30): two processes on 127.0.0.1 through burn-collective's
//! orchestrator train the galaxy/nebula classifier on real Stellarium images with a global batch
//! of 8 (4 each); only the leader writes the model, and its weights stay close to one worker's
//! with the whole batch. Not equal: BatchNorm normalises each replica's shard with its own
//! statistics (as PyTorch's DDP without SyncBatchNorm), so the bound is "far closer than another
//! seed", not float rounding (train-srgan's test, with no BatchNorm, checks equality).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use burn::backend::Flex;
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use dso_classify::Classifier;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("train-dso-ddp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn spawn(out: &Path, seed: &str, extra: &[String]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_train-dso"))
        .args(["--task", "galaxy-nebula", "--limit", "80", "--epochs", "2", "--folds", "0", "--batch-size", "8"])
        .args(["--image-size", "32", "--seed", seed, "-o", out.to_str().unwrap()])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> (bool, String) {
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn weights(dir: &Path) -> Vec<f32> {
    struct Flat(Vec<f32>);
    impl ModuleVisitor<Flex> for Flat {
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<Flex, D>>) {
            self.0.extend(p.val().into_data().to_vec::<f32>().unwrap());
        }
    }
    let c = Classifier::<Flex>::load(dir, "galaxy-nebula", &Default::default()).unwrap();
    let mut v = Flat(Vec::new());
    c.model.visit(&mut v);
    v.0
}

fn mean_diff(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| f64::from((x - y).abs())).sum::<f64>() / a.len() as f64
}

#[test]
fn two_processes_train_one_classifier_close_to_one_worker() {
    let dir = scratch("two");
    let (one, seed, two, two_b) = (dir.join("one"), dir.join("seed"), dir.join("two"), dir.join("two-b"));
    let (ok, text) = finish(spawn(&one, "42", &[]));
    assert!(ok, "one worker:\n{text}");
    let (ok, text) = finish(spawn(&seed, "43", &[]));
    assert!(ok, "another seed:\n{text}");

    let port = test_servers::free_port_run(2);
    let n0 = spawn(&two, "42", &test_servers::two_node_flags(port, 0, 120));
    let n1 = spawn(&two_b, "42", &test_servers::two_node_flags(port, 1, 120));
    let ((ok0, t0), (ok1, t1)) = (finish(n0), finish(n1));
    assert!(ok0 && ok1, "node 0:\n{t0}\nnode 1:\n{t1}");
    assert!(!two_b.join("galaxy-nebula.mpk").exists(), "the non-leader wrote a model");

    let want = weights(&one);
    let (parallel, apart) = (mean_diff(&weights(&two), &want), mean_diff(&weights(&seed), &want));
    eprintln!("mean |w| difference: two processes {parallel:.2e}, another seed {apart:.2e}");
    assert!(parallel * 10.0 < apart, "two processes {parallel} vs another seed {apart}");
    let _ = std::fs::remove_dir_all(&dir);
}
