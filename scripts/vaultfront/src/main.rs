//! `vaultfront`: build, check, deploy and tear down the vaultfront stack.
//! `scripts/deploy` is its entry point; `vaultfront --help` lists the
//! commands. It drives `sam` and the project's scripts, and does its own
//! checking first, without the network, so that mistakes cost milliseconds
//! rather than a half-created stack.

mod artifacts;
mod build;
mod cdn_key;
mod check;
mod cli;
mod cp;
mod deploy;
mod destroy;
mod error;
mod https;
mod local;
mod local_stack;
mod outputs;
mod parameters;
mod preflight;
mod project;
mod samconfig;
mod signed_url;
mod signing;
mod stack_status;
mod tools;
mod verify;

use std::process::ExitCode;

use cli::Command;
use error::Error;
use preflight::Environment;
use project::Project;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("vaultfront: error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

fn run() -> Result<(), Error> {
    let args = std::env::args_os()
        .skip(1)
        .map(|arg| arg.into_string().map_err(Error::Argument))
        .collect::<Result<Vec<String>, Error>>()?;
    let command = match cli::parse(&args) {
        // Help on stdout with status 0; a mistake, with the usage, on stderr with 2.
        Err(cli::UsageError::Clap(err)) => err.exit(),
        other => other?,
    };
    // Need no checkout: a script may sign with any key, and cp talks to a
    // deployed stack's API.
    match &command {
        Command::SignUrl(args) => return signed_url::sign_url(args),
        Command::SignCookies(args) => return signed_url::sign_cookies(args),
        Command::Cp(args) => return cp::run(args).map_err(Error::Cp),
        _ => {}
    }
    let project = Project::open(Environment::from_process())?;
    match command {
        Command::Build => {
            let tools = tools::Tools::from_env(&project.env);
            build::build(&project, &tools).map(|_| ())
        }
        Command::Check => check::check(&project),
        Command::Deploy(args) if args.local.enabled => local_stack::up(&project, &args),
        Command::Deploy(args) => deploy::deploy(&project, &args),
        Command::Destroy(args) if args.local.enabled => local_stack::destroy(&project, &args),
        Command::Destroy(args) => destroy::destroy(&project, &args),
        Command::Verify(args) => verify::verify(&project, &args),
        Command::Url(args) => signed_url::url(&project, &args),
        Command::SignUrl(args) => signed_url::sign_url(&args),
        Command::SignCookies(args) => signed_url::sign_cookies(&args),
        Command::Cp(args) => cp::run(&args).map_err(Error::Cp),
    }
}
