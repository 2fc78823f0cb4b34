//! `vaultfront check`: the deploy parameters in samconfig.toml, then every
//! static check of the template (scripts/check-template). No AWS access.

use std::process::Command;

use crate::deploy;
use crate::error::Error;
use crate::project::{self, Project};

pub fn check(project: &Project) -> Result<(), Error> {
    let parameters = deploy::parameters(project, &[])?;
    let summary = parameters.check().map_err(Error::Parameters)?;
    println!(
        "vaultfront: samconfig.toml parameters are valid (retention {})",
        summary.retention
    );
    project::run(
        Command::new(project.root.join("scripts/check-template")),
        &project.root,
    )
}
