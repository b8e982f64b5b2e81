//! The data-parallel flags every trainer shares (`--devices`, `--collective-server`,
//! `--node-rank`, `--nodes`, `--node-address`, `--collective-timeout`) and their translation into
//! a [`ParallelConfig`] and a device list.

use std::time::Duration;

use crate::backend::DeviceKind;
use crate::distributed::{NodeConfig, ParallelConfig, ParallelError};

/// Data-parallel options, flattened into a trainer's flags with `#[command(flatten)]`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ParallelArgs {
    /// Train data-parallel on these devices of this machine, e.g. `cuda:0,cuda:1` (one backend;
    /// the batch size stays the global batch, split between them). Overrides --device.
    #[arg(long, value_delimiter = ',')]
    pub devices: Vec<String>,
    /// host:port of the collective orchestrator of a multi-machine run (node 0 starts it there).
    #[arg(long, requires_all = ["node_rank", "nodes"])]
    pub collective_server: Option<String>,
    /// This machine's index in a multi-machine run, 0..NODES.
    #[arg(long, requires = "collective_server")]
    pub node_rank: Option<u32>,
    /// How many machines (processes) take part in a multi-machine run.
    #[arg(long, requires = "collective_server")]
    pub nodes: Option<u32>,
    /// host:port at which the other machines reach this one's gradient exchange
    /// (default: the orchestrator's host, its port + 1 + NODE_RANK).
    #[arg(long, requires = "collective_server")]
    pub node_address: Option<String>,
    /// Seconds to wait for the other workers at each exchange before failing the run.
    #[arg(long, default_value_t = 600)]
    pub collective_timeout: u64,
}

impl ParallelArgs {
    /// The backend and device indices to train on: `--devices`, or `fallback` (`--device`) alone.
    pub fn device_list(&self, fallback: DeviceKind) -> Result<(DeviceKind, Vec<usize>), ParallelError> {
        if self.devices.is_empty() {
            return Ok((fallback, vec![0]));
        }
        let mut kind = None;
        let mut indices = Vec::new();
        for entry in &self.devices {
            let (name, index) = entry.split_once(':').unwrap_or((entry.as_str(), "0"));
            let this: DeviceKind =
                name.trim().parse().map_err(|e: String| ParallelError::Config(format!("--devices '{entry}': {e}")))?;
            let index: usize = index
                .trim()
                .parse()
                .map_err(|_| ParallelError::Config(format!("--devices '{entry}': '{index}' is not a device index")))?;
            if kind.is_some_and(|k| k != this) {
                return Err(ParallelError::Config(format!(
                    "--devices mixes backends ({} and {this}); one backend per run",
                    kind.unwrap_or(this)
                )));
            }
            if this == DeviceKind::Cuda && indices.contains(&index) {
                return Err(ParallelError::Config(format!("--devices names {entry} twice")));
            }
            kind = Some(this);
            indices.push(index);
        }
        Ok((kind.unwrap_or(fallback), indices))
    }

    /// The run's layout for `local_devices` workers in this process.
    pub fn config(&self, local_devices: usize) -> Result<ParallelConfig, ParallelError> {
        let mut config = ParallelConfig::local(local_devices);
        config.timeout = Duration::from_secs(self.collective_timeout);
        if let (Some(server), Some(node_rank), Some(nodes)) = (&self.collective_server, self.node_rank, self.nodes) {
            let node_address = match &self.node_address {
                Some(a) => a.clone(),
                None => {
                    let port = NodeConfig::port(server, "--collective-server")?;
                    let host = server.rsplit_once(':').map_or(server.as_str(), |(h, _)| h);
                    let own = u32::from(port) + 1 + node_rank;
                    let own = u16::try_from(own).map_err(|_| {
                        ParallelError::Config(format!(
                            "--collective-server port {port} leaves no port for node {node_rank}"
                        ))
                    })?;
                    format!("{host}:{own}")
                }
            };
            config.node = Some(NodeConfig { orchestrator: server.clone(), node_rank, nodes, node_address });
        }
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        p: ParallelArgs,
    }

    fn parse(args: &[&str]) -> Result<ParallelArgs, String> {
        Cli::try_parse_from(std::iter::once("t").chain(args.iter().copied())).map(|c| c.p).map_err(|e| e.to_string())
    }

    #[test]
    fn flags_become_a_layout_and_bad_ones_are_named() {
        let p = parse(&[]).unwrap();
        assert_eq!(p.device_list(DeviceKind::Flex).unwrap(), (DeviceKind::Flex, vec![0]));
        assert!(!p.config(1).unwrap().is_parallel());

        let p = parse(&["--devices", "flex:0,flex:1"]).unwrap();
        assert_eq!(p.device_list(DeviceKind::Flex).unwrap(), (DeviceKind::Flex, vec![0, 1]));
        assert_eq!(p.config(2).unwrap().world(), 2);

        let p = parse(&["--collective-server", "127.0.0.1:7000", "--node-rank", "1", "--nodes", "2"]).unwrap();
        let c = p.config(1).unwrap();
        assert_eq!(c.world(), 2);
        assert_eq!(c.node.unwrap().node_address, "127.0.0.1:7002");

        let e =
            parse(&["--collective-server", "h:1", "--node-rank", "2", "--nodes", "2"]).unwrap().config(1).unwrap_err();
        assert!(e.to_string().contains("--node-rank 2 is not below --nodes 2"), "{e}");
        let e = parse(&["--collective-server", "nowhere", "--node-rank", "0", "--nodes", "2"])
            .unwrap()
            .config(1)
            .unwrap_err();
        assert!(e.to_string().contains("'nowhere' is not host:port"), "{e}");
        assert!(parse(&["--node-rank", "1"]).is_err());
        let e = parse(&["--devices", "flex,tpu:1"]).unwrap().device_list(DeviceKind::Flex).unwrap_err();
        assert!(e.to_string().contains("--devices 'tpu:1'"), "{e}");
        let e = parse(&["--devices", "flex:x"]).unwrap().device_list(DeviceKind::Flex).unwrap_err();
        assert!(e.to_string().contains("'x' is not a device index"), "{e}");
    }
}
