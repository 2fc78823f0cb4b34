//! `--local`: the stack in moto on loopback. The engine is the `cfn-local`
//! crate (shared with the end-to-end tests); the tool finds its programs.

use std::path::PathBuf;

pub use cfn_local::{
    destroy, load, refuse_unsupported, sdk_text, up, Clients, Error as LocalError, LocalOptions,
    Toolchain, ACCOUNT,
};

use crate::tools::{Part, ToolError, Tools};

/// The engine's programs where the tool cache has them, installing them
/// first when `install` (a deploy or destroy; verify only reads state).
pub fn toolchain(
    root: &std::path::Path,
    tools: &Tools,
    install: bool,
) -> Result<Toolchain, ToolError> {
    if install {
        tools.venv_python(root)?;
        tools.ensure(root, Part::Local, &["cargo-lambda"])?;
    }
    Ok(Toolchain {
        python: tools
            .find("python")
            .unwrap_or_else(|| PathBuf::from("python3")),
        cargo_lambda: tools
            .find("cargo-lambda")
            .unwrap_or_else(|| PathBuf::from("cargo-lambda")),
        path: tools.path(),
    })
}
