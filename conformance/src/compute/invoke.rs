//! Synchronous invokes.

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::json;
use stratus::ErrorKind;
use stratus::compute::InvokeOptions;

use super::{case, json, parse};
use crate::case::{Case, Failure, ensure, ensure_eq, expect_kind};

/// The conformance `fail` function's message; providers must pass it on.
const FAIL_MESSAGE: &str = "conformance failure requested";

fn within(ms: u64) -> InvokeOptions {
    InvokeOptions {
        timeout: Some(Duration::from_millis(ms)),
    }
}

/// Invoke cases.
pub fn cases() -> Vec<Case> {
    vec![
        case("invoke_echo", None, |cx| async move {
            let compute = cx.compute()?;
            let payload =
                json!({"hello": "world", "n": 42, "list": [1, 2, 3], "nested": {"ok": true}});
            let out = compute
                .invoke("echo", json(payload.clone()), InvokeOptions::default())
                .await?;
            ensure_eq("echo result", parse("echo", &out)?, payload)
        }),
        case("invoke_echo_json_documents", None, |cx| async move {
            let compute = cx.compute()?;
            let documents = [
                json!(null),
                json!(true),
                json!(0),
                json!(-12.5),
                json!("a string"),
                json!([]),
                json!({}),
                json!({"unicode": "日本語 😀 e\u{301}", "escapes": "quote \" backslash \\ newline \n"}),
                json!([[[[{"deep": [1, {"er": null}]}]]]]),
            ];
            for doc in documents {
                let out = compute
                    .invoke("echo", json(doc.clone()), InvokeOptions::default())
                    .await?;
                ensure_eq(&format!("echo of {doc}"), parse("echo", &out)?, doc)?;
            }
            Ok(())
        }),
        case("payload_size_limit", None, |cx| async move {
            let compute = cx.compute()?;
            let max = compute.capabilities().max_payload_bytes;
            // A JSON string of exactly `max` bytes: two quotes around max - 2 letters.
            let text = "p".repeat(max - 2);
            let payload = Bytes::from(format!("\"{text}\""));
            ensure_eq("prepared payload size", payload.len(), max)?;
            let out = compute
                .invoke("echo", payload, InvokeOptions::default())
                .await?;
            let back = parse("echo of the largest payload", &out)?;
            ensure(
                back.as_str() == Some(text.as_str()),
                format!(
                    "echo of a {max}-byte payload came back different ({} bytes)",
                    out.len()
                ),
            )?;
            let over = Bytes::from(format!("\"{text}p\""));
            let r = compute.invoke("echo", over, InvokeOptions::default()).await;
            expect_kind(
                &format!("invoke with a {}-byte payload (1 over the limit)", max + 1),
                r,
                ErrorKind::InvalidArgument,
            )?;
            Ok(())
        }),
        case("non_json_payload_is_invalid", None, |cx| async move {
            let compute = cx.compute()?;
            let bad: [&[u8]; 5] = [b"not json", b"{\"open\": ", b"", b"{} {}", &[0xff, 0xfe]];
            for payload in bad {
                let r = compute
                    .invoke(
                        "echo",
                        Bytes::copy_from_slice(payload),
                        InvokeOptions::default(),
                    )
                    .await;
                expect_kind(
                    &format!("invoke with payload {:?}", String::from_utf8_lossy(payload)),
                    r,
                    ErrorKind::InvalidArgument,
                )?;
            }
            Ok(())
        }),
        case("function_error_is_function_failed", None, |cx| async move {
            let compute = cx.compute()?;
            let r = compute
                .invoke(
                    "fail",
                    json(json!({"why": "test"})),
                    InvokeOptions::default(),
                )
                .await;
            let e = expect_kind("invoke of fail", r, ErrorKind::FunctionFailed)?;
            ensure(
                e.message().contains(FAIL_MESSAGE),
                format!(
                    "FunctionFailed message {:?} does not include what the function said ({FAIL_MESSAGE:?})",
                    e.message()
                ),
            )
        }),
        case("unknown_function_is_not_found", None, |cx| async move {
            let compute = cx.compute()?;
            let r = compute
                .invoke(
                    "no-such-function",
                    json(json!({})),
                    InvokeOptions::default(),
                )
                .await;
            expect_kind("invoke of an unknown function", r, ErrorKind::NotFound)?;
            Ok(())
        }),
        case("invalid_function_name_is_invalid", None, |cx| async move {
            let compute = cx.compute()?;
            let long = "f".repeat(41);
            for name in [
                "",
                "Echo",
                "1echo",
                "echo_x",
                "echo--x",
                "echo-",
                "ech o",
                long.as_str(),
            ] {
                let r = compute
                    .invoke(name, json(json!({})), InvokeOptions::default())
                    .await;
                expect_kind(
                    &format!("invoke of function name {name:?}"),
                    r,
                    ErrorKind::InvalidArgument,
                )?;
            }
            Ok(())
        }),
        case("timeout_stops_slow_function", None, |cx| async move {
            let compute = cx.compute()?;
            let started = Instant::now();
            let r = compute
                .invoke("sleep", json(json!({"ms": 5000})), within(300))
                .await;
            let took = started.elapsed();
            expect_kind("sleep 5000 ms with a 300 ms timeout", r, ErrorKind::Timeout)?;
            ensure(
                took < Duration::from_millis(3000),
                format!(
                    "the 300 ms timeout was reported after {took:?}; the caller must not wait for the function"
                ),
            )
        }),
        case("function_within_timeout_succeeds", None, |cx| async move {
            let compute = cx.compute()?;
            let out = compute
                .invoke("sleep", json(json!({"ms": 50})), within(10_000))
                .await?;
            ensure_eq(
                "sleep result",
                parse("sleep", &out)?,
                json!({"slept_ms": 50}),
            )
        }),
        case("error_kinds_are_distinct", None, |cx| async move {
            let compute = cx.compute()?;
            let function = compute
                .invoke("fail", json(json!({})), InvokeOptions::default())
                .await;
            let missing = compute
                .invoke(
                    "no-such-function",
                    json(json!({})),
                    InvokeOptions::default(),
                )
                .await;
            let slow = compute
                .invoke("sleep", json(json!({"ms": 5000})), within(200))
                .await;
            let kinds = [function, missing, slow].map(|r| r.err().map(|e| e.kind()));
            // The function's own error is FunctionFailed; the infrastructure's are not.
            ensure_eq(
                "error kinds of (fail, unknown function, timeout)",
                kinds,
                [
                    Some(ErrorKind::FunctionFailed),
                    Some(ErrorKind::NotFound),
                    Some(ErrorKind::Timeout),
                ],
            )
        }),
        case("timeout_option_bounds", None, |cx| async move {
            let compute = cx.compute()?;
            let r = compute
                .invoke(
                    "echo",
                    json(json!({})),
                    InvokeOptions {
                        timeout: Some(Duration::ZERO),
                    },
                )
                .await;
            expect_kind("invoke with timeout 0", r, ErrorKind::InvalidArgument)?;
            let too_long = InvokeOptions {
                timeout: Some(Duration::from_secs(15 * 60 + 1)),
            };
            let r = compute.invoke("echo", json(json!({})), too_long).await;
            expect_kind(
                "invoke with timeout 15 min + 1 s",
                r,
                ErrorKind::InvalidArgument,
            )?;
            let out = compute
                .invoke("echo", json(json!(1)), within(15 * 60 * 1000))
                .await?;
            ensure_eq("echo with timeout 15 min", parse("echo", &out)?, json!(1))
        }),
        case("concurrent_invokes", None, |cx| async move {
            let compute = cx.compute()?;
            let tasks: Vec<_> = (0..16)
                .map(|i| {
                    let compute = compute.clone();
                    tokio::spawn(async move {
                        let payload = json!({"task": i, "pad": "x".repeat(i * 100)});
                        let out = compute
                            .invoke("echo", json(payload.clone()), InvokeOptions::default())
                            .await;
                        (payload, out)
                    })
                })
                .collect();
            for (i, task) in tasks.into_iter().enumerate() {
                let (payload, out) = task
                    .await
                    .map_err(|e| Failure(format!("invoke task {i} panicked: {e}")))?;
                let out = out?;
                ensure_eq(
                    &format!("result of concurrent invoke {i}"),
                    parse("echo", &out)?,
                    payload,
                )?;
            }
            Ok(())
        }),
    ]
}
