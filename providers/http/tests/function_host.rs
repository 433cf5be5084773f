//! Adapter behaviour against the function host (`conformance/emulators/function_host.py`,
//! standing in for Azure Functions): key handling, status mapping, deadlines, result
//! checks. Needs `STRATUS_FUNCTIONS_URL` and `STRATUS_FUNCTIONS_KEY`; fails when unset.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use stratus::compute::{Compute, InvokeOptions};
use stratus::limits::MAX_COMPUTE_PAYLOAD_BYTES;
use stratus::{BuildContext, Config, ErrorKind, Registry, Stratus};
use stratus_http::{Auth, HttpCompute, HttpOptions, HttpProvider};

/// The function host's URL and key from the environment, or a failure that says how to
/// start it.
fn host() -> (String, String) {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!(
                "{name} is not set: start the function host with \
                 `conformance/emulators/emulators up functions` and load its variables with \
                 `eval \"$(conformance/emulators/emulators env functions)\"`"
            )
        })
    };
    (var("STRATUS_FUNCTIONS_URL"), var("STRATUS_FUNCTIONS_KEY"))
}

/// The compute service of an `http` profile (through the validation layer) with
/// `extra` lines appended to its section.
async fn open(key: Option<&str>, extra: &str) -> Arc<dyn Compute> {
    let (url, _) = host();
    let key_line = key.map(|k| format!("      key: {k}\n")).unwrap_or_default();
    let yaml = format!(
        "profiles:\n  h:\n    compute:\n      provider: http\n      base_url: {url}\n{key_line}{extra}"
    );
    let config = Config::parse("test.yaml", &yaml, Path::new("."), Arc::new(|_| None))
        .expect("test profile parses");
    let mut registry = Registry::new();
    registry.register(Arc::new(HttpProvider));
    let stratus = Stratus::open(&config, Some("h"), &registry, BuildContext::default())
        .await
        .expect("open the http profile");
    stratus.compute().expect("compute service")
}

/// The service without the validation layer, to provoke answers the layer would prevent.
fn raw() -> HttpCompute {
    let (url, key) = host();
    HttpCompute::new(HttpOptions {
        base_url: url,
        path_template: "/api/{function}".into(),
        auth: Auth::FunctionKey(key),
        default_timeout: Duration::from_secs(30),
    })
    .expect("client")
}

fn within(ms: u64) -> InvokeOptions {
    InvokeOptions {
        timeout: Some(Duration::from_millis(ms)),
    }
}

fn expect_kind(what: &str, r: stratus::Result<Bytes>, kind: ErrorKind) -> stratus::Error {
    match r {
        Ok(out) => panic!(
            "{what}: expected {kind}, got a result of {} bytes",
            out.len()
        ),
        Err(e) => {
            assert_eq!(e.kind(), kind, "{what}: {e}");
            e
        }
    }
}

#[tokio::test]
async fn the_configured_key_is_sent() {
    let (_, key) = host();
    let compute = open(Some(&key), "").await;
    let out = compute
        .invoke(
            "echo",
            Bytes::from_static(b"{\"k\":1}"),
            InvokeOptions::default(),
        )
        .await
        .expect("echo with the right key");
    assert_eq!(out, Bytes::from_static(b"{\"k\":1}"));
}

#[tokio::test]
async fn wrong_or_missing_key_is_unauthenticated() {
    for key in [Some("not-the-key"), None] {
        let compute = open(key, "").await;
        let r = compute
            .invoke("echo", Bytes::from_static(b"{}"), InvokeOptions::default())
            .await;
        let e = expect_kind(
            &format!("echo with key {key:?}"),
            r,
            ErrorKind::Unauthenticated,
        );
        assert!(e.message().contains("401"), "{e}");
        assert!(!e.is_retryable(), "{e}");
    }
}

#[tokio::test]
async fn unknown_function_and_path_are_not_found() {
    let (_, key) = host();
    let compute = open(Some(&key), "").await;
    let r = compute
        .invoke(
            "no-such-function",
            Bytes::from_static(b"{}"),
            InvokeOptions::default(),
        )
        .await;
    let e = expect_kind("unknown function", r, ErrorKind::NotFound);
    assert!(e.message().contains("no-such-function"), "{e}");

    // A path template the host does not serve gives its 404 too.
    let compute = open(Some(&key), "      path_template: /other/{function}\n").await;
    let r = compute
        .invoke("echo", Bytes::from_static(b"{}"), InvokeOptions::default())
        .await;
    expect_kind("echo under /other/", r, ErrorKind::NotFound);
}

#[tokio::test]
async fn function_error_passes_the_message_on() {
    let (_, key) = host();
    let compute = open(Some(&key), "").await;
    let r = compute
        .invoke("fail", Bytes::from_static(b"{}"), InvokeOptions::default())
        .await;
    let e = expect_kind("fail", r, ErrorKind::FunctionFailed);
    assert!(e.message().contains("conformance failure requested"), "{e}");
    // sleep without `ms` is a function error too (500 from the host).
    let r = compute
        .invoke("sleep", Bytes::from_static(b"{}"), InvokeOptions::default())
        .await;
    let e = expect_kind("sleep without ms", r, ErrorKind::FunctionFailed);
    assert!(e.message().contains("sleep expects"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn deadlines_give_timeout() {
    let (_, key) = host();
    let slow = Bytes::from_static(b"{\"ms\":3000}");
    // The call's own timeout.
    let compute = open(Some(&key), "").await;
    let r = compute.invoke("sleep", slow.clone(), within(1000)).await;
    let e = expect_kind("sleep 3s within 1s", r, ErrorKind::Timeout);
    assert!(e.is_retryable(), "{e}");
    // The configured default when the call names none.
    let compute = open(Some(&key), "      default_timeout: 1s\n").await;
    let r = compute
        .invoke("sleep", slow, InvokeOptions::default())
        .await;
    expect_kind("sleep 3s with default_timeout 1s", r, ErrorKind::Timeout);
    // A call's own timeout overrides a short default.
    let out = compute
        .invoke("sleep", Bytes::from_static(b"{\"ms\":10}"), within(10_000))
        .await
        .expect("sleep 10ms");
    assert_eq!(out, Bytes::from_static(b"{\"slept_ms\": 10}"));
}

#[tokio::test]
async fn largest_payload_round_trips() {
    let (_, key) = host();
    let compute = open(Some(&key), "").await;
    let text = "x".repeat(MAX_COMPUTE_PAYLOAD_BYTES - 2);
    let payload = Bytes::from(format!("\"{text}\""));
    assert_eq!(payload.len(), MAX_COMPUTE_PAYLOAD_BYTES);
    let out = compute
        .invoke("echo", payload.clone(), InvokeOptions::default())
        .await
        .expect("echo of a 256 KiB payload");
    assert_eq!(out, payload);
}

#[tokio::test]
async fn oversize_result_is_function_failed() {
    // 270 KiB: over the result limit, under the host's 300 KiB body limit. Sent without
    // the layer (which would refuse such a payload) so that echo returns it.
    let text = "y".repeat(270 * 1024);
    let r = raw()
        .invoke(
            "echo",
            Bytes::from(format!("\"{text}\"")),
            InvokeOptions::default(),
        )
        .await;
    let e = expect_kind("echo of 270 KiB", r, ErrorKind::FunctionFailed);
    assert!(e.message().contains("limit"), "{e}");
}

#[tokio::test]
async fn non_json_result_is_function_failed() {
    let r = raw()
        .invoke(
            "echo",
            Bytes::from_static(b"plain text"),
            InvokeOptions::default(),
        )
        .await;
    let e = expect_kind("echo of plain text", r, ErrorKind::FunctionFailed);
    assert!(e.message().contains("not a JSON document"), "{e}");
}

#[tokio::test]
async fn unreachable_host_is_unavailable() {
    // Needs no emulator: nothing listens on port 1.
    let compute = HttpCompute::new(HttpOptions {
        base_url: "http://127.0.0.1:1".into(),
        path_template: "/api/{function}".into(),
        auth: Auth::None,
        default_timeout: Duration::from_secs(30),
    })
    .expect("client");
    let r = compute
        .invoke("echo", Bytes::from_static(b"{}"), InvokeOptions::default())
        .await;
    let e = expect_kind("echo on a closed port", r, ErrorKind::Unavailable);
    assert!(e.is_retryable(), "{e}");
    assert!(e.message().contains("cannot connect"), "{e}");
}
