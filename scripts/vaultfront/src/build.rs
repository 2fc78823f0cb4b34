//! `vaultfront build`: the functions built for arm64 in release, `sam build`
//! to pack them, and a check that each function's `bootstrap` is an aarch64
//! ELF, with its size.

use crate::artifacts::{self, human_size, Artifact};
use crate::error::Error;
use crate::project::{self, Project};
use crate::tools::{Part, Tools};

/// The tools a build needs: sam, and cargo-lambda for BuildMethod rust-cargolambda.
pub const BUILD_TOOLS: &[&str] = &["sam", "cargo-lambda"];

pub fn build(project: &Project, tools: &Tools) -> Result<Vec<Artifact>, Error> {
    tools.ensure(&project.root, Part::Deploy, BUILD_TOOLS)?;
    // Each function built first with the very command `sam build` runs for
    // it, so cargo's progress shows through the minutes a release build
    // takes (`sam build` prints nothing meanwhile) and `sam build` then finds
    // every binary up to date and only packs it. One cargo run for all three
    // would not do: cargo resolves features for the packages a `--bin`
    // selects, so sam's per-function runs would rebuild with their own.
    for (_, binary) in artifacts::FUNCTIONS {
        let mut cargo_lambda = tools.command("cargo-lambda");
        cargo_lambda.args(["lambda", "build", "--release", "--arm64", "--bin", binary]);
        project::run(cargo_lambda, &project.root)?;
    }
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// `cargo lambda build --release` fills in `strip`, `lto`,
    /// `codegen-units` and `panic` (with "abort") where the release profile
    /// is silent. Each must be ours; `panic` above all, since "abort" would
    /// stop a panicking handler before it answers CloudFormation.
    #[test]
    fn the_release_profile_leaves_cargo_lambda_nothing_to_fill_in() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
        let text = std::fs::read_to_string(&path).expect("read the workspace Cargo.toml");
        let manifest: toml::Table = text.parse().expect("parse the workspace Cargo.toml");
        let release = manifest
            .get("profile")
            .and_then(|profile| profile.get("release"))
            .and_then(toml::Value::as_table)
            .expect("Cargo.toml has [profile.release]");
        for key in ["strip", "lto", "codegen-units", "panic"] {
            assert!(
                release.contains_key(key),
                "[profile.release] must set {key}"
            );
        }
        assert_eq!(
            release.get("panic").and_then(toml::Value::as_str),
            Some("unwind")
        );
    }
}
