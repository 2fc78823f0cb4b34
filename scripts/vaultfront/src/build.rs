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
    // The three built first in one cargo run, with cargo's progress on
    // screen (`sam build` prints nothing through the minutes a release build
    // takes) and their LTO links side by side. `sam build` then runs the same
    // command per function (`--bin X`) and finds each up to date, because
    // each function alone builds every dependency as the three together do
    // (functions/s3-proxy-api/Cargo.toml; checked by a test below).
    let mut cargo_lambda = tools.command("cargo-lambda");
    cargo_lambda.args(["lambda", "build", "--release", "--arm64"]);
    for binary in cfn_local::FUNCTION_BINARIES {
        cargo_lambda.args(["--bin", binary]);
    }
    project::run(cargo_lambda, &project.root)?;
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
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;
    use std::process::Command;

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

    /// What `cargo ARGS` prints, run in the workspace root.
    fn cargo(args: &[&str]) -> Vec<u8> {
        let output = Command::new(env!("CARGO"))
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
            .args(args)
            .output()
            .expect("run cargo");
        assert!(
            output.status.success(),
            "cargo {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }

    /// Each package's features, as `cargo tree` resolves them for the
    /// packages selected, on the architecture the functions ship for.
    fn resolved_features(packages: &[&str]) -> BTreeMap<String, String> {
        let mut args = vec!["tree", "--locked", "--target", "aarch64-unknown-linux-gnu"];
        args.extend(["--edges", "normal,build", "--prefix", "none"]);
        args.extend(["--format", "{p} [{f}]"]);
        for package in packages {
            args.extend(["--package", package]);
        }
        String::from_utf8_lossy(&cargo(&args))
            .lines()
            .filter_map(|line| {
                let (package, features) = line.trim_end_matches(" (*)").rsplit_once(" [")?;
                Some((
                    package.to_owned(),
                    features.trim_end_matches(']').to_owned(),
                ))
            })
            .collect()
    }

    /// The parts of `cargo metadata`'s output read here.
    #[derive(serde::Deserialize)]
    struct Metadata {
        packages: Vec<Package>,
    }

    #[derive(serde::Deserialize)]
    struct Package {
        name: String,
        version: String,
        targets: Vec<Target>,
    }

    #[derive(serde::Deserialize)]
    struct Target {
        crate_types: Vec<String>,
    }

    /// The packages (as `cargo tree` names them: "name vX.Y.Z") whose
    /// library is also a cdylib or staticlib: cargo then builds object code,
    /// not only LTO bitcode, for every crate under them, and those crates'
    /// build hashes change with it.
    fn object_code_packages() -> BTreeSet<String> {
        let stdout = cargo(&[
            "metadata",
            "--locked",
            "--format-version",
            "1",
            "--filter-platform",
            "aarch64-unknown-linux-gnu",
        ]);
        let metadata: Metadata =
            serde_json::from_slice(&stdout).expect("cargo metadata prints its JSON");
        metadata
            .packages
            .into_iter()
            .filter(|package| {
                package.targets.iter().any(|target| {
                    target
                        .crate_types
                        .iter()
                        .any(|kind| kind == "cdylib" || kind == "staticlib")
                })
            })
            .map(|package| format!("{} v{}", package.name, package.version))
            .collect()
    }

    /// `sam build` builds each function alone (`--bin X`); `vaultfront
    /// build` builds the three in one run first. Cargo reuses that run only
    /// if a function alone builds every dependency as the three together
    /// do: with the same features, and as object code where a cdylib above
    /// it asks for that.
    #[test]
    fn each_function_alone_resolves_like_the_three_together() {
        let binaries = cfn_local::FUNCTION_BINARIES;
        let together = resolved_features(&binaries);
        let object_code: Vec<String> = object_code_packages()
            .into_iter()
            .filter(|package| together.contains_key(package))
            .collect();
        for binary in binaries {
            let alone = resolved_features(&[binary]);
            assert!(!alone.is_empty(), "cargo tree listed nothing for {binary}");
            let moved: Vec<String> = alone
                .iter()
                .filter(|(package, features)| together.get(*package) != Some(*features))
                .map(|(package, features)| {
                    let wanted = together.get(package).map_or("(absent)", String::as_str);
                    format!("{package}: [{features}] alone, [{wanted}] together")
                })
                .chain(
                    object_code
                        .iter()
                        .filter(|package| !alone.contains_key(*package))
                        .map(|package| format!("{package}: a cdylib, absent alone")),
                )
                .collect();
            assert!(
                moved.is_empty(),
                "{binary} alone builds its dependencies other than the three together, \
                 so `sam build` would build them again; make \
                 functions/{binary}/Cargo.toml depend on what the others do:\n{}",
                moved.join("\n")
            );
        }
    }
}
