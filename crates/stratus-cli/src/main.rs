//! `stratus`: check configuration files, list providers, run the conformance suite,
//! build the provider matrix and provision a profile's resources.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, ConfigCommand};
use crate::commands::CliError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Config {
            command: ConfigCommand::Check(args),
        } => commands::config_check::run(&args),
        Command::Providers(args) => commands::providers::run(&args),
        Command::Conformance(args) => commands::conformance::run(&args),
        Command::Matrix(args) => commands::matrix::run(&args),
        Command::Provision(args) => commands::provision::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Failed) => ExitCode::from(1),
        Err(CliError::Usage(message)) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}
