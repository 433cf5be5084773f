use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use stratus::config::{Config, ConfigError, ServiceKind};

use super::*;

fn parse(compute: &str) -> Result<ComputeOptions, ConfigError> {
    let text = format!("profiles:\n  p:\n    compute:\n      provider: local\n{compute}");
    let config =
        Config::parse("s.yaml", &text, Path::new("/cfg"), Arc::new(|_: &str| None)).unwrap();
    let profile = config.profile("p").unwrap();
    ComputeOptions::parse(&profile.service(ServiceKind::Compute).unwrap().options)
}

#[test]
fn parses_functions_with_defaults() {
    let options = parse(
        "      default_timeout: 5s
      functions:
        resize:
          command: [python3, resize.py]
          timeout: 250ms
          env: { MODE: fast, EMPTY: '' }
          dir: ./fns
        plain:
          command: [cat]
",
    )
    .unwrap();
    assert_eq!(options.default_timeout, Duration::from_secs(5));
    let resize = &options.functions["resize"];
    assert_eq!(resize.command, ["python3", "resize.py"]);
    assert_eq!(resize.timeout, Some(Duration::from_millis(250)));
    assert_eq!(resize.env["MODE"], "fast");
    assert_eq!(resize.env["EMPTY"], "");
    assert_eq!(resize.dir.as_deref(), Some(Path::new("/cfg/./fns")));
    assert_eq!(options.functions["plain"], FunctionSpec::new(["cat"]));
}

#[test]
fn empty_section_uses_defaults() {
    assert_eq!(parse("").unwrap(), ComputeOptions::default());
}

#[test]
fn bad_function_name_is_reported_at_its_key() {
    let e = parse("      functions:\n        Bad_Name:\n          command: [cat]\n").unwrap_err();
    assert_eq!(e.path, "profiles.p.compute.functions.Bad_Name");
    assert!(e.message.contains("lowercase"), "{e}");
}

#[test]
fn command_is_required_and_non_empty() {
    let e = parse("      functions:\n        f:\n          timeout: 1s\n").unwrap_err();
    assert_eq!(e.path, "profiles.p.compute.functions.f.command");
    let e = parse("      functions:\n        f:\n          command: []\n").unwrap_err();
    assert_eq!(e.path, "profiles.p.compute.functions.f.command");
}

#[test]
fn unknown_keys_and_zero_timeouts_are_errors() {
    let e = parse("      functions:\n        f:\n          command: [cat]\n          shell: yes\n")
        .unwrap_err();
    assert_eq!(e.path, "profiles.p.compute.functions.f.shell");
    let e = parse("      nope: 1\n").unwrap_err();
    assert_eq!(e.path, "profiles.p.compute.nope");
    let e = parse("      default_timeout: 0s\n").unwrap_err();
    assert_eq!(e.path, "profiles.p.compute.default_timeout");
}

#[tokio::test]
async fn configured_timeout_applies_unless_the_call_sets_one() {
    let mut options = ComputeOptions::default();
    let mut spec = FunctionSpec::new(["cat"]);
    spec.timeout = Some(Duration::from_secs(7));
    options.functions.insert("f".into(), spec);
    let compute = LocalCompute::new(options, Handlers::new());
    let target = compute.functions.resolve("f").unwrap();
    assert_eq!(
        compute
            .functions
            .timeout(&target, &InvokeOptions::default()),
        Duration::from_secs(7)
    );
    let call = InvokeOptions {
        timeout: Some(Duration::from_secs(2)),
    };
    assert_eq!(
        compute.functions.timeout(&target, &call),
        Duration::from_secs(2)
    );
    let mut handlers = Handlers::new();
    handlers.register("h", |b| async move { Ok(b) });
    let compute = LocalCompute::new(ComputeOptions::default(), handlers);
    let target = compute.functions.resolve("h").unwrap();
    assert_eq!(
        compute
            .functions
            .timeout(&target, &InvokeOptions::default()),
        stratus::compute::DEFAULT_TIMEOUT
    );
}
