//! `stratus provision --config FILE [--profile P]`: creates what a profile needs before
//! an application uses it. For each configured service it asks the provider to ensure
//! what the options name (`Provider::provision`: an S3 bucket, an Azure container), then
//! opens every logical name of the service's `resources:` list (opening creates tables
//! and queues). Idempotent: running it again changes nothing and succeeds.

use stratus::config::{Profile, ServiceConfig};
use stratus::{BuildContext, Config, Error, Registry, ServiceKind, Stratus, check_profile};

use crate::cli::ProvisionArgs;
use crate::commands::CliError;

/// Provisions the profile, printing one line per step; exit 1 if anything failed, exit 2
/// on configuration errors.
pub fn run(args: &ProvisionArgs) -> Result<(), CliError> {
    let registry = stratus_providers::registry();
    let config = Config::load(&args.config).map_err(CliError::usage)?;
    let profile = config
        .select_profile(args.profile.as_deref())
        .map_err(CliError::usage)?;
    check_profile(&profile, &registry).map_err(CliError::usage)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start the async runtime: {e}")))?;
    let tally = runtime.block_on(provision(&config, &profile, &registry));
    let resources = plural(tally.ready, "resource");
    if tally.failed == 0 {
        println!(
            "profile {}: provisioned ({} ready)",
            profile.name, resources
        );
        Ok(())
    } else {
        eprintln!(
            "profile {}: {} failed ({} ready)",
            profile.name,
            plural(tally.failed, "step"),
            resources
        );
        Err(CliError::Failed)
    }
}

/// What a run did.
#[derive(Debug, Default)]
struct Tally {
    /// Logical resources opened.
    ready: usize,
    /// Steps that failed (already reported).
    failed: usize,
}

async fn provision(config: &Config, profile: &Profile, registry: &Registry) -> Tally {
    let mut tally = Tally::default();
    // First the provider-level resources, which opening a service may need.
    let mut provisioned: Vec<ServiceKind> = Vec::new();
    for service in &profile.services {
        match provision_service(service, registry).await {
            Ok(lines) => {
                for line in lines {
                    println!("{} {}: {line}", service.kind, service.provider);
                }
                provisioned.push(service.kind);
            }
            Err(e) => {
                eprintln!(
                    "error: {} ({}): provisioning failed: {e}",
                    service.kind, service.provider
                );
                tally.failed += 1;
            }
        }
    }
    if provisioned.is_empty() {
        return tally;
    }
    let ctx = BuildContext {
        handlers: stratus_conformance::functions::handlers(),
    };
    let stratus = match Stratus::open(config, Some(&profile.name), registry, ctx).await {
        Ok(stratus) => stratus,
        Err(e) => {
            eprintln!("error: cannot open profile {:?}: {e}", profile.name);
            tally.failed += 1;
            return tally;
        }
    };
    for service in profile
        .services
        .iter()
        .filter(|s| provisioned.contains(&s.kind))
    {
        for name in &service.resources {
            match open(&stratus, service.kind, name).await {
                Ok(Some(())) => {
                    println!("{} {name}: ready", service.kind);
                    tally.ready += 1;
                }
                Ok(None) => println!(
                    "{} {name}: nothing to create (functions are deployed outside stratus)",
                    service.kind
                ),
                Err(e) => {
                    eprintln!("error: {} {name} ({}): {e}", service.kind, service.provider);
                    tally.failed += 1;
                }
            }
        }
    }
    tally
}

/// Asks the service's provider to ensure what its options name.
async fn provision_service(
    service: &ServiceConfig,
    registry: &Registry,
) -> Result<Vec<String>, Error> {
    let provider = registry.resolve(service.kind, &service.provider, &service.options)?;
    provider.provision(service.kind, &service.options).await
}

/// Opens logical resource `name` of `kind`, which creates it if missing; `None` for a
/// service without resources to open (compute).
async fn open(stratus: &Stratus, kind: ServiceKind, name: &str) -> Result<Option<()>, Error> {
    match kind {
        ServiceKind::Blob => stratus.blob(name).await.map(|_| Some(())),
        ServiceKind::Kv => stratus.kv(name).await.map(|_| Some(())),
        ServiceKind::Queue => stratus.queue(name).await.map(|_| Some(())),
        ServiceKind::Compute => Ok(None),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
