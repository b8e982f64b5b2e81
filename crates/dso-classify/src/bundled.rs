//! The default models shipped inside the binaries (trained with `train-dso`, see docs/dso-classify.md).

use crate::classes::Task;

const GALAXY_NEBULA_WEIGHTS: &[u8] = include_bytes!("../weights/galaxy-nebula.mpk");
const GALAXY_NEBULA_CARD: &[u8] = include_bytes!("../weights/galaxy-nebula.json");
const THREE_CLASS_WEIGHTS: &[u8] = include_bytes!("../weights/three-class.mpk");
const THREE_CLASS_CARD: &[u8] = include_bytes!("../weights/three-class.json");

/// Weight bytes and model-card JSON of the bundled model for `task`.
pub fn bundled_files(task: Task) -> (&'static [u8], &'static [u8]) {
    match task {
        Task::GalaxyNebula => (GALAXY_NEBULA_WEIGHTS, GALAXY_NEBULA_CARD),
        Task::ThreeClass => (THREE_CLASS_WEIGHTS, THREE_CLASS_CARD),
    }
}
