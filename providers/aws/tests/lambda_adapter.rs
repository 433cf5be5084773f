//! Adapter behaviour of the `lambda` provider against ministack: function-name prefixes,
//! function errors and their messages, the `default_timeout` option, option checks and
//! the refusal of `compute.async`. Needs `STRATUS_LAMBDA_ENDPOINT` (and the test
//! credentials of `conformance/emulators/emulators env aws`) with the conformance
//! functions deployed under `stratus-conf-` (`conformance/emulators/lambda/deploy.py`,
//! run by `emulators up aws`); fails when unset.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use stratus::compute::{Compute, InvokeOptions};
use stratus::{BuildContext, Config, ErrorKind, Registry, Stratus};
use stratus_aws::LambdaProvider;

/// ministack's endpoint from the environment, or a failure that says how to start it.
fn endpoint() -> String {
    std::env::var("STRATUS_LAMBDA_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "STRATUS_LAMBDA_ENDPOINT is not set: start ministack (and deploy the conformance \
             functions) with `conformance/emulators/emulators up aws` and load its variables \
             with `eval \"$(conformance/emulators/emulators env aws)\"`"
        )
    })
}

fn profile(extra: &str) -> String {
    format!(
        "profiles:\n  l:\n    compute:\n      provider: lambda\n      region: us-east-1\n      \
         endpoint: {}\n{extra}",
        endpoint()
    )
}

async fn try_open(extra: &str) -> stratus::Result<Arc<dyn Compute>> {
    let config = Config::parse(
        "test.yaml",
        &profile(extra),
        Path::new("."),
        Arc::new(|_| None),
    )
    .map_err(|e| stratus::Error::invalid(e.to_string()))?;
    let mut registry = Registry::new();
    registry.register(Arc::new(LambdaProvider));
    let stratus = Stratus::open(&config, Some("l"), &registry, BuildContext::default()).await?;
    stratus.compute()
}

/// The compute service with the conformance prefix and `extra` option lines; fails when
/// the conformance functions are not deployed.
async fn open(extra: &str) -> Arc<dyn Compute> {
    let compute = try_open(&format!("      function_prefix: stratus-conf-\n{extra}"))
        .await
        .expect("open the lambda profile");
    match compute
        .invoke("echo", Bytes::from_static(b"1"), InvokeOptions::default())
        .await
    {
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "stratus-conf-echo is not deployed: run `conformance/emulators/emulators up aws` \
             (or conformance/emulators/lambda/deploy.py): {e}"
        ),
        other => {
            other.expect("echo works");
        }
    }
    compute
}

#[tokio::test]
async fn the_prefix_selects_the_lambda_function() {
    let compute = open("").await;
    let out = compute
        .invoke(
            "echo",
            Bytes::from_static(b"{\"a\":[1,2]}"),
            InvokeOptions::default(),
        )
        .await
        .unwrap();
    let back: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(back, serde_json::json!({"a": [1, 2]}));
    // Without the prefix (or with another one) `echo` names no deployed function.
    let other = try_open("      function_prefix: stratus-none-\n")
        .await
        .unwrap();
    let e = other
        .invoke("echo", Bytes::from_static(b"{}"), InvokeOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

#[tokio::test]
async fn function_errors_carry_the_functions_message_and_type() {
    let compute = open("").await;
    let e = compute
        .invoke("fail", Bytes::from_static(b"{}"), InvokeOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::FunctionFailed, "{e}");
    assert!(!e.is_retryable());
    assert!(
        e.message().contains("conformance failure requested"),
        "{}",
        e.message()
    );
    // A handler that rejects its payload is a function error too, not an infrastructure one.
    let e = compute
        .invoke(
            "sleep",
            Bytes::from_static(b"{\"ms\":\"x\"}"),
            InvokeOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::FunctionFailed, "{e}");
    assert!(e.message().contains("sleep expects"), "{}", e.message());
}

#[tokio::test]
async fn default_timeout_applies_when_the_call_names_none() {
    let compute = open("      default_timeout: 500ms\n").await;
    let e = compute
        .invoke(
            "sleep",
            Bytes::from_static(b"{\"ms\":5000}"),
            InvokeOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.is_retryable());
}

#[tokio::test]
async fn async_executions_are_not_declared() {
    let compute = open("").await;
    assert!(!compute.capabilities().async_submit);
    let e = compute
        .submit("echo", Bytes::from_static(b"{}"), InvokeOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
}

#[tokio::test]
async fn bad_options_are_config_errors() {
    for (extra, key) in [
        ("      default_timeout: 16m\n", "default_timeout"),
        ("      function_prefix: \"a b\"\n", "function_prefix"),
        ("      endpoint_url: x\n", "endpoint_url"),
    ] {
        let e = match try_open(extra).await {
            Ok(_) => panic!("{extra:?} was accepted"),
            Err(e) => e,
        };
        assert!(e.message().contains(key), "{extra:?}: {e}");
    }
}
