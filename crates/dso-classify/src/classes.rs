//! The two classification tasks and their class labels.

use std::fmt;
use std::str::FromStr;

use dataset::stellarium::CoarseClass;
use serde::{Deserialize, Serialize};

/// Which question the classifier answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Galaxy vs nebula (the reference tool's task).
    GalaxyNebula,
    /// Galaxy vs nebula vs star cluster.
    ThreeClass,
}

impl Task {
    /// Both tasks, in the order the tools list them.
    pub const ALL: [Task; 2] = [Task::GalaxyNebula, Task::ThreeClass];

    /// Class labels in output order.
    pub fn classes(self) -> &'static [&'static str] {
        match self {
            Task::GalaxyNebula => &["galaxy", "nebula"],
            Task::ThreeClass => &["galaxy", "nebula", "star cluster"],
        }
    }

    /// Number of output classes.
    pub fn num_classes(self) -> usize {
        self.classes().len()
    }

    /// The label index of a coarse Stellarium class, or `None` when the task leaves it out.
    pub fn label_of(self, class: CoarseClass) -> Option<usize> {
        match (self, class) {
            (_, CoarseClass::Galaxy) => Some(0),
            (_, CoarseClass::Nebula) => Some(1),
            (Task::ThreeClass, CoarseClass::StarCluster) => Some(2),
            _ => None,
        }
    }

    /// Short file-friendly name (`galaxy-nebula`, `three-class`).
    pub fn slug(self) -> &'static str {
        match self {
            Task::GalaxyNebula => "galaxy-nebula",
            Task::ThreeClass => "three-class",
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl FromStr for Task {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "galaxy-nebula" | "2" | "two" | "binary" => Ok(Task::GalaxyNebula),
            "three-class" | "3" | "three" => Ok(Task::ThreeClass),
            other => Err(format!("unknown task '{other}' (expected galaxy-nebula or three-class)")),
        }
    }
}
