//! One module per command, and the error they share.

pub mod config_check;
pub mod conformance;
pub mod matrix;
pub mod providers;
pub mod provision;

use std::fmt;

/// Why a command did not succeed.
#[derive(Debug)]
pub enum CliError {
    /// The command ran and found failures, already reported: exit code 1.
    Failed,
    /// Bad arguments, configuration or input files: exit code 2 with this message.
    Usage(String),
}

impl CliError {
    /// A usage error from anything printable.
    pub fn usage(message: impl fmt::Display) -> Self {
        CliError::Usage(message.to_string())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Failed => f.write_str("failures were reported"),
            CliError::Usage(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for CliError {}
