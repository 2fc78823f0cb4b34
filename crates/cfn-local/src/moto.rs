//! A moto server on a free loopback port, started through
//! `tests/emulators/moto_server.py`, which fixes a GetBucketVersioning
//! answer the Rust SDK cannot parse (see that file).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::process::{free_port, Service};
use crate::Error;

pub struct Moto {
    pub service: Service,
    pub port: u16,
}

impl Moto {
    /// `python` must have moto installed; `root` is the workspace root.
    pub fn start(python: &Path, root: &Path, log: &Path) -> Result<Moto, Error> {
        let port = free_port()?;
        let mut command = Command::new(python);
        command
            .arg(root.join("tests/emulators/moto_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let service = Service::start("moto", command, log, port, Duration::from_secs(60))?;
        Ok(Moto { service, port })
    }

    pub fn endpoint(&self) -> String {
        endpoint(self.port)
    }
}

/// `localhost`, not `127.0.0.1`: moto routes S3 by host name.
pub fn endpoint(port: u16) -> String {
    format!("http://localhost:{port}")
}
