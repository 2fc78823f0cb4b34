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
