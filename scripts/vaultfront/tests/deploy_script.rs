//! `scripts/deploy` on a machine with no AWS credentials at all stops before
//! compiling anything, naming what to set.

use std::path::Path;
use std::process::Command;

#[test]
fn no_credentials_anywhere_stops_at_once_with_the_fix() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let home = std::env::temp_dir().join(format!("vaultfront-empty-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("create an empty HOME");
    for args in [&[][..], &["--destroy"][..]] {
        let output = Command::new(root.join("scripts/deploy"))
            .args(args)
            .env_clear()
            .env("HOME", &home)
            // No cargo on this PATH: reaching the build would fail differently,
            // so this answer proves the check comes before any compile.
            .env("PATH", "/usr/bin:/bin")
            .output()
            .expect("run scripts/deploy");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("no AWS credentials found"), "{stderr}");
        assert!(stderr.contains("export AWS_PROFILE="), "{stderr}");
    }
    let _ = std::fs::remove_dir_all(&home);
}

/// A newcomer's machine: no tools installed (an empty VAULTFRONT_TOOLS) and
/// a `python3` on PATH with no packages. `scripts/deploy --local` must ask
/// scripts/setup for exactly the local part, and never fall back on the
/// system's Python (whatever moto or SAM translator it happens to carry).
/// A stand-in for scripts/setup records the call and installs nothing, so
/// the run must then stop, naming the missing tool and the install command.
#[test]
fn a_machine_with_nothing_installed_bootstraps_the_local_tools() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::temp_dir().join(format!("vaultfront-newcomer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let tools = dir.join("tools");
    std::fs::create_dir_all(&tools).expect("create the empty tool directory");
    let venv = dir.join("bare-venv");
    let made = Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .expect("run python3 -m venv");
    assert!(made.success(), "python3 -m venv --without-pip failed");
    let calls = dir.join("setup-calls");
    let stand_in = dir.join("setup");
    std::fs::write(
        &stand_in,
        format!("#!/bin/sh\necho \"$@\" >> '{}'\n", calls.display()),
    )
    .expect("write the scripts/setup stand-in");
    let mut permissions = std::fs::metadata(&stand_in).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&stand_in, permissions).expect("chmod the stand-in");
    let path = format!(
        "{}:{}",
        venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new(root.join("scripts/deploy"))
        .args(["--local", "--state-dir"])
        .arg(dir.join("state"))
        .env("VAULTFRONT_TOOLS", &tools)
        .env("VAULTFRONT_SETUP", &stand_in)
        .env("PATH", &path)
        .output()
        .expect("run scripts/deploy --local");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let all = format!("{stdout}\n{stderr}");
    assert_eq!(output.status.code(), Some(1), "{all}");
    // The bootstrap was asked for the local part only: by scripts/deploy
    // while it built, then by the tool when it found the tools missing.
    let asked = std::fs::read_to_string(&calls).unwrap_or_default();
    assert!(
        !asked.is_empty() && asked.lines().all(|part| part == "local"),
        "scripts/setup calls:\n{asked}\n{all}"
    );
    assert!(
        all.contains("running `scripts/setup local`"),
        "the bootstrap was not announced:\n{all}"
    );
    // After it, the missing tool and the command that installs it.
    assert!(
        all.contains("still missing after `scripts/setup local`")
            && all.contains("run `scripts/setup local` by hand"),
        "the error names no fix:\n{all}"
    );
    // Nothing ran on the system's Python: no transform, no moto.
    assert!(!all.contains("moto started"), "{all}");
    assert!(!all.contains("Traceback"), "{all}");
    let _ = std::fs::remove_dir_all(&dir);
}
