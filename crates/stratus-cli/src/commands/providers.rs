//! `stratus providers`: every linked provider, its services, capabilities and limits.

use std::fmt::Write;

use serde::Serialize;
use stratus::registry::Declared;
use stratus::{Capability, ServiceKind};

use crate::cli::{ProvidersArgs, ProvidersFormat};
use crate::commands::CliError;

/// One provider as `--format json` prints it.
#[derive(Debug, Serialize)]
pub struct ProviderInfo {
    /// The name profiles use.
    pub name: &'static str,
    /// One line about the provider.
    pub description: &'static str,
    /// Services it offers, in the usual order.
    pub services: Vec<ServiceKind>,
    /// Every capability of an offered service (`blob.presign`), declared or not.
    pub capabilities: Vec<CapabilityInfo>,
    /// Numeric limits and properties (`blob.max_object_bytes`, ...).
    pub limits: Vec<Limit>,
}

/// Whether a capability is declared.
#[derive(Debug, Serialize)]
pub struct CapabilityInfo {
    /// Dotted capability name.
    pub name: &'static str,
    /// Declared or not.
    pub declared: bool,
}

/// A limit or property of a store.
#[derive(Debug, Serialize)]
pub struct Limit {
    /// Dotted name.
    pub name: &'static str,
    /// The value.
    pub value: serde_json::Value,
}

fn service_of(cap: Capability) -> ServiceKind {
    let name = cap.name();
    let service = name.split('.').next().unwrap_or(name);
    ServiceKind::parse(service).expect("capability names start with a service name")
}

/// Describes what `declared` offers.
pub fn describe(
    name: &'static str,
    description: &'static str,
    declared: &Declared,
) -> ProviderInfo {
    let services: Vec<ServiceKind> = ServiceKind::ALL
        .into_iter()
        .filter(|s| declared.offers(*s))
        .collect();
    let capabilities = Capability::ALL
        .into_iter()
        .filter(|cap| services.contains(&service_of(*cap)))
        .map(|cap| CapabilityInfo {
            name: cap.name(),
            declared: declared.declares(cap),
        })
        .collect();
    let mut limits = Vec::new();
    if let Some(blob) = &declared.blob {
        limits.push(Limit {
            name: "blob.max_object_bytes",
            value: blob.max_object_bytes.into(),
        });
    }
    if let Some(kv) = &declared.kv {
        limits.push(Limit {
            name: "kv.native_increment",
            value: kv.native_increment.into(),
        });
    }
    if let Some(compute) = &declared.compute {
        limits.push(Limit {
            name: "compute.max_payload_bytes",
            value: compute.max_payload_bytes.into(),
        });
    }
    ProviderInfo {
        name,
        description,
        services,
        capabilities,
        limits,
    }
}

/// Prints every provider of the registry.
pub fn run(args: &ProvidersArgs) -> Result<(), CliError> {
    let registry = stratus_providers::registry();
    let infos: Vec<ProviderInfo> = registry
        .providers()
        .map(|p| describe(p.name(), p.description(), &p.declared()))
        .collect();
    match args.format {
        ProvidersFormat::Json => {
            let text = serde_json::to_string_pretty(&infos).map_err(CliError::usage)?;
            println!("{text}");
        }
        ProvidersFormat::Table => print!("{}", table(&infos)),
    }
    Ok(())
}

/// The human-readable listing: one block per provider.
pub fn table(infos: &[ProviderInfo]) -> String {
    let mut out = String::new();
    for (i, info) in infos.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "{}: {}", info.name, info.description);
        let services: Vec<&str> = info.services.iter().map(|s| s.name()).collect();
        let _ = writeln!(out, "  services: {}", services.join(", "));
        let width = info
            .capabilities
            .iter()
            .map(|c| c.name.len())
            .chain(info.limits.iter().map(|l| l.name.len()));
        let width = width.max().unwrap_or(0);
        for cap in &info.capabilities {
            let _ = writeln!(
                out,
                "  {:<width$}  {}",
                cap.name,
                if cap.declared { "yes" } else { "no" }
            );
        }
        for limit in &info.limits {
            let value = match &limit.value {
                serde_json::Value::Bool(b) => (if *b { "yes" } else { "no" }).to_owned(),
                other => other.to_string(),
            };
            let _ = writeln!(out, "  {:<width$}  {value}", limit.name);
        }
    }
    out
}
