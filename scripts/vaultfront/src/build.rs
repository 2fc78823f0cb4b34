//! `vaultfront build`: `sam build` (cargo-lambda, release, arm64) and a
//! check that each function's `bootstrap` is an aarch64 ELF, with its size.

use crate::artifacts::{self, human_size, Artifact};
use crate::error::Error;
use crate::project::{self, Project};
use crate::tools::{Part, Tools};

/// The tools a build needs: sam, and cargo-lambda for BuildMethod rust-cargolambda.
pub const BUILD_TOOLS: &[&str] = &["sam", "cargo-lambda"];

pub fn build(project: &Project, tools: &Tools) -> Result<Vec<Artifact>, Error> {
    tools.ensure(&project.root, Part::Deploy, BUILD_TOOLS)?;
    // samconfig.toml's [default.build.parameters] names infra/template.yaml;
    // the output goes to .aws-sam/build, where `sam deploy` takes it from.
    let mut sam = tools.command("sam");
    sam.arg("build");
    project::run(sam, &project.root)?;
    let built = artifacts::check(&project.root.join(".aws-sam/build"))?;
    print_artifacts(&built);
    Ok(built)
}

pub fn print_artifacts(built: &[Artifact]) {
    println!("\nvaultfront: built (aarch64 ELF executables):");
    for artifact in built {
        println!(
            "  {:22} {:>9}  {}",
            artifact.function,
            human_size(artifact.bytes),
            artifact.path.display()
        );
    }
}
