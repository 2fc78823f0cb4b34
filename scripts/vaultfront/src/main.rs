//! `vaultfront`: the deploy tool. Its subcommands (build, check, deploy,
//! destroy, verify) arrive with the template; this skeleton fixes its place
//! in the workspace and its command-line contract.

use std::process::ExitCode;

const USAGE: &str = "usage: vaultfront <build|check|deploy|destroy|verify> [options]";

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        None | Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("vaultfront: `{other}` is not available yet\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
