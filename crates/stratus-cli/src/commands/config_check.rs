//! `stratus config check FILE [--profile P]`: validates a file and its profiles against
//! the linked providers, without side effects, and reports every error found.

use stratus::{Config, ConfigError, Registry, check_profile};

use crate::cli::ConfigCheckArgs;
use crate::commands::CliError;

/// Checks the file, prints every error to stderr (exit 1) or an ok line to stdout.
pub fn run(args: &ConfigCheckArgs) -> Result<(), CliError> {
    let registry = stratus_providers::registry();
    let config = match Config::load(&args.file) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return Err(CliError::Failed);
        }
    };
    let (names, errors) = check(&config, args.profile.as_deref(), &registry);
    if errors.is_empty() {
        println!(
            "{}: ok ({} checked: {})",
            config.file(),
            plural(names.len(), "profile"),
            names.join(", ")
        );
        return Ok(());
    }
    for e in &errors {
        eprintln!("{e}");
    }
    eprintln!("{}: {}", config.file(), plural(errors.len(), "error"));
    Err(CliError::Failed)
}

/// Checks `only` (or every profile and the default `profile:` key): the profiles
/// checked and every error found, at most one per profile.
pub fn check(
    config: &Config,
    only: Option<&str>,
    registry: &Registry,
) -> (Vec<String>, Vec<ConfigError>) {
    let mut errors = Vec::new();
    let names = match only {
        Some(name) => vec![name.to_owned()],
        None => {
            let names = config.profile_names();
            match config.default_profile() {
                Ok(Some(default)) if !names.contains(&default) => {
                    errors.extend(config.profile(&default).err());
                }
                Ok(_) => {}
                Err(e) => errors.push(e),
            }
            names
        }
    };
    for name in &names {
        let checked = config
            .profile(name)
            .and_then(|profile| check_profile(&profile, registry));
        errors.extend(checked.err());
    }
    (names, errors)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
