//! The `compute` options of a local profile:
//!
//! ```yaml
//! compute:
//!   provider: local
//!   default_timeout: 30s
//!   functions:
//!     resize:
//!       command: [python3, resize.py]
//!       timeout: 10s
//!       env: { MODE: fast }
//!       dir: ./functions
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use stratus::compute::{DEFAULT_TIMEOUT, timeout_option};
use stratus::config::{ConfigError, Section};
use stratus::names::validate_resource_name;

/// Options of the local compute service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputeOptions {
    /// Deadline of calls that set none and whose function sets none.
    pub default_timeout: Duration,
    /// Subprocess functions by name.
    pub functions: BTreeMap<String, FunctionSpec>,
}

impl Default for ComputeOptions {
    fn default() -> Self {
        Self {
            default_timeout: DEFAULT_TIMEOUT,
            functions: BTreeMap::new(),
        }
    }
}

/// One subprocess function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    /// Program and arguments (no shell).
    pub command: Vec<String>,
    /// This function's deadline, if it has its own.
    pub timeout: Option<Duration>,
    /// Environment variables given to the process besides `PATH`.
    pub env: BTreeMap<String, String>,
    /// Working folder (relative paths resolve against the config file's folder).
    pub dir: Option<PathBuf>,
}

impl FunctionSpec {
    /// A function running `command` with no timeout, env or folder of its own.
    pub fn new<S: Into<String>>(command: impl IntoIterator<Item = S>) -> Self {
        Self {
            command: command.into_iter().map(Into::into).collect(),
            timeout: None,
            env: BTreeMap::new(),
            dir: None,
        }
    }
}

impl ComputeOptions {
    /// Reads `default_timeout` and `functions`; unknown keys are errors. No side effects.
    pub fn parse(section: &Section) -> Result<Self, ConfigError> {
        let default_timeout =
            timeout_option(section, "default_timeout")?.unwrap_or(DEFAULT_TIMEOUT);
        let mut functions = BTreeMap::new();
        if let Some(list) = section.section("functions")? {
            for (name, function) in list.child_sections()? {
                validate_resource_name("function", &name)
                    .map_err(|e| list.key_error(&name, e.message()))?;
                functions.insert(name, parse_function(&function)?);
            }
            list.finish()?;
        }
        section.finish()?;
        Ok(Self {
            default_timeout,
            functions,
        })
    }
}

fn parse_function(section: &Section) -> Result<FunctionSpec, ConfigError> {
    let command = section
        .string_list("command")?
        .ok_or_else(|| section.key_error("command", "missing required key `command`"))?;
    if command.is_empty() || command[0].is_empty() {
        return Err(section.key_error(
            "command",
            "must name a program: a non-empty list such as [python3, f.py]",
        ));
    }
    let timeout = timeout_option(section, "timeout")?;
    let mut env = BTreeMap::new();
    if let Some(vars) = section.section("env")? {
        for name in vars.keys() {
            if name.is_empty() || name.contains('=') || name.contains('\0') {
                return Err(vars.key_error(&name, "not a valid environment variable name"));
            }
            let value = vars.string(&name)?.unwrap_or_default();
            env.insert(name, value);
        }
        vars.finish()?;
    }
    let dir = section.path_value("dir")?;
    section.finish()?;
    Ok(FunctionSpec {
        command,
        timeout,
        env,
        dir,
    })
}
