//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use stratus::ServiceKind;

/// Provider-neutral Blob, KV, Queue and Compute: configuration checks, provider
/// listing, conformance runs and the provider matrix.
#[derive(Debug, Parser)]
#[command(name = "stratus", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with configuration files.
    Config {
        /// What to do with the file.
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// List the linked providers, their services, capabilities and limits.
    Providers(ProvidersArgs),
    /// Run the conformance suite against one profile.
    Conformance(ConformanceArgs),
    /// Build the provider matrix (Markdown) from JSON-lines conformance results.
    Matrix(MatrixArgs),
    /// Create the cloud resources a profile needs (buckets, containers, tables, queues).
    Provision(ProvisionArgs),
}

/// `stratus config ...` commands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a configuration file and its profiles without side effects.
    Check(ConfigCheckArgs),
}

/// Arguments of `stratus config check`.
#[derive(Debug, Args)]
pub struct ConfigCheckArgs {
    /// The YAML configuration file.
    pub file: PathBuf,
    /// Check only this profile (default: every profile in the file).
    #[arg(long, short)]
    pub profile: Option<String>,
}

/// Output formats of `stratus providers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProvidersFormat {
    /// Human-readable blocks.
    Table,
    /// One JSON document (an array of providers).
    Json,
}

/// Arguments of `stratus providers`.
#[derive(Debug, Args)]
pub struct ProvidersArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ProvidersFormat::Table)]
    pub format: ProvidersFormat,
}

/// A service named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceArg {
    /// Object storage.
    Blob,
    /// Key-value items.
    Kv,
    /// Work queues.
    Queue,
    /// Functions.
    Compute,
}

impl From<ServiceArg> for ServiceKind {
    fn from(arg: ServiceArg) -> Self {
        match arg {
            ServiceArg::Blob => ServiceKind::Blob,
            ServiceArg::Kv => ServiceKind::Kv,
            ServiceArg::Queue => ServiceKind::Queue,
            ServiceArg::Compute => ServiceKind::Compute,
        }
    }
}

/// Output formats of `stratus conformance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A table with one row per case and a summary per service.
    Table,
    /// One JSON object per case per line.
    Json,
    /// A JUnit XML document.
    Junit,
}

/// Arguments of `stratus conformance`.
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// The YAML configuration file.
    #[arg(long, short)]
    pub config: PathBuf,
    /// The profile to test.
    #[arg(long, short)]
    pub profile: String,
    /// Run only these services (repeatable; default: every service the profile configures).
    #[arg(long, value_enum)]
    pub service: Vec<ServiceArg>,
    /// Run only cases whose name contains this text.
    #[arg(long)]
    pub case: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// The emulator gap ledger (`conformance/ledger.toml`): listed cases that fail against
    /// an active emulator are reported `ledgered` instead of `fail`.
    #[arg(long, value_name = "FILE")]
    pub ledger: Option<PathBuf>,
    /// An emulator this run talks to (repeatable): ledger entries for it apply.
    #[arg(long, value_name = "NAME", requires = "ledger")]
    pub emulator: Vec<String>,
}

/// Arguments of `stratus provision`.
#[derive(Debug, Args)]
pub struct ProvisionArgs {
    /// The YAML configuration file.
    #[arg(long, short)]
    pub config: PathBuf,
    /// The profile to provision (default: the file's `profile:` key).
    #[arg(long, short)]
    pub profile: Option<String>,
}

/// Arguments of `stratus matrix`.
#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// JSON-lines results of `stratus conformance --format json`, one file per profile run.
    #[arg(required = true)]
    pub results: Vec<PathBuf>,
    /// Also replace the text between `<!-- matrix:start -->` and `<!-- matrix:end -->` in
    /// this file.
    #[arg(long)]
    pub readme: Option<PathBuf>,
}
