//! What `sam build` must have produced: one `bootstrap` per function, an
//! aarch64 Linux ELF executable (the functions run on arm64, and a host
//! binary would fail at the first invocation, not at deploy time).

use std::io::Read;
use std::path::{Path, PathBuf};

/// The template's functions and the workspace binary each is built from.
pub const FUNCTIONS: &[(&str, &str)] = &[
    ("BucketPolicyFunction", "bucket-policy"),
    ("ObjectLockFunction", "object-lock"),
    ("S3ProxyApiFunction", "s3-proxy-api"),
];

/// ELF `e_machine` for AArch64.
const EM_AARCH64: u16 = 183;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub function: &'static str,
    pub path: PathBuf,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("{path}: missing; did `sam build` run? ({source})")]
    Missing {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {problem}")]
    Wrong { path: String, problem: String },
}

/// Check every function's `bootstrap` under `build_dir` (`.aws-sam/build`).
pub fn check(build_dir: &Path) -> Result<Vec<Artifact>, ArtifactError> {
    FUNCTIONS
        .iter()
        .map(|(function, _)| {
            let path = build_dir.join(function).join("bootstrap");
            let shown = path.display().to_string();
            let mut header = [0u8; 20];
            let read = std::fs::File::open(&path)
                .and_then(|mut file| file.read_exact(&mut header).map(|()| file));
            let file = read.map_err(|source| ArtifactError::Missing {
                path: shown.clone(),
                source,
            })?;
            elf_aarch64(&header).map_err(|problem| ArtifactError::Wrong {
                path: shown.clone(),
                problem,
            })?;
            let metadata = file.metadata().map_err(|source| ArtifactError::Missing {
                path: shown.clone(),
                source,
            })?;
            if !is_executable(&metadata) {
                return Err(ArtifactError::Wrong {
                    path: shown,
                    problem: "is not executable".to_owned(),
                });
            }
            Ok(Artifact {
                function,
                path,
                bytes: metadata.len(),
            })
        })
        .collect()
}

/// A 64-bit little-endian ELF executable for AArch64.
pub fn elf_aarch64(header: &[u8]) -> Result<(), String> {
    if header.len() < 20 || &header[..4] != b"\x7fELF" {
        return Err("is not an ELF binary".to_owned());
    }
    if header[4] != 2 || header[5] != 1 {
        return Err("is not a 64-bit little-endian ELF binary".to_owned());
    }
    let machine = u16::from_le_bytes([header[18], header[19]]);
    if machine != EM_AARCH64 {
        let name = match machine {
            62 => "x86-64",
            _ => "another architecture",
        };
        return Err(format!(
            "is built for {name} (ELF machine {machine}), not aarch64: the functions run on arm64"
        ));
    }
    Ok(())
}

#[cfg(unix)]
fn is_executable(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    true
}

/// 1234567 -> "1.2 MB" (decimal units, as AWS quotes its limits).
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.1} kB", b as f64 / 1e3),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(class: u8, machine: u16) -> Vec<u8> {
        let mut h = b"\x7fELF".to_vec();
        h.extend([class, 1, 1, 0]);
        h.extend([0; 10]);
        h.extend(machine.to_le_bytes());
        h
    }

    #[test]
    fn recognises_aarch64_and_names_the_rest() {
        assert_eq!(elf_aarch64(&header(2, 183)), Ok(()));
        assert!(elf_aarch64(&header(2, 62)).unwrap_err().contains("x86-64"));
        assert!(elf_aarch64(&header(1, 183)).unwrap_err().contains("64-bit"));
        assert!(elf_aarch64(b"#!/bin/sh\necho hello\n")
            .unwrap_err()
            .contains("not an ELF"));
        assert!(elf_aarch64(b"\x7fELF").is_err());
    }

    #[test]
    fn the_running_binary_is_read_correctly() {
        // This test binary is an ELF for the host: the check must say so
        // (or accept it, on an aarch64 host) rather than fail to read it.
        let path = std::env::current_exe().unwrap();
        let mut header = [0u8; 20];
        std::fs::File::open(path)
            .unwrap()
            .read_exact(&mut header)
            .unwrap();
        let verdict = elf_aarch64(&header);
        if cfg!(target_arch = "aarch64") {
            assert_eq!(verdict, Ok(()));
        } else if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            assert!(verdict.unwrap_err().contains("x86-64"));
        }
    }

    #[test]
    fn missing_artifacts_say_so() {
        let err = check(Path::new("/nonexistent/.aws-sam/build"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("BucketPolicyFunction/bootstrap: missing"),
            "{err}"
        );
    }

    #[test]
    fn functions_match_the_template() {
        let template = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml"),
        )
        .unwrap();
        for (function, binary) in FUNCTIONS {
            // The resource's lines: from its name to the next resource.
            let block: Vec<&str> = template
                .lines()
                .skip_while(|line| *line != format!("  {function}:"))
                .skip(1)
                .take_while(|line| line.is_empty() || line.starts_with("   "))
                .collect();
            assert!(
                block.contains(&"    Type: AWS::Serverless::Function"),
                "{function} is not a function in the template"
            );
            assert!(
                block.contains(&format!("        Binary: {binary}").as_str()),
                "{function} should build binary {binary}"
            );
        }
        assert_eq!(
            template.matches("Type: AWS::Serverless::Function").count(),
            FUNCTIONS.len()
        );
        // The local engine builds and runs the same binaries.
        let binaries: Vec<&str> = FUNCTIONS.iter().map(|(_, binary)| *binary).collect();
        assert_eq!(binaries, cfn_local::FUNCTION_BINARIES);
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(4_321), "4.3 kB");
        assert_eq!(human_size(5_600_000), "5.6 MB");
    }
}
