//! The local compute service running configured functions as subprocesses.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use stratus::ErrorKind;
use stratus::compute::{Compute, ExecutionState, FunctionError, Handlers, InvokeOptions};
use stratus::config::{Config, ServiceKind};
use stratus_local::{ComputeOptions, LocalCompute};

/// Builds the service from the `compute:` lines of a profile (indented by 6 spaces).
fn compute_with(functions: &str, handlers: Handlers) -> LocalCompute {
    let text = format!(
        "profiles:\n  p:\n    compute:\n      provider: local\n      functions:\n{functions}"
    );
    let config = Config::parse("t.yaml", &text, Path::new("/"), Arc::new(|_: &str| None)).unwrap();
    let profile = config.profile("p").unwrap();
    let options =
        ComputeOptions::parse(&profile.service(ServiceKind::Compute).unwrap().options).unwrap();
    LocalCompute::new(options, handlers)
}

fn compute(functions: &str) -> LocalCompute {
    compute_with(functions, Handlers::new())
}

async fn invoke(c: &LocalCompute, f: &str, payload: &str) -> stratus::Result<Bytes> {
    c.invoke(f, Bytes::from(payload.to_owned()), InvokeOptions::default())
        .await
}

#[tokio::test]
async fn echo_through_cat() {
    let c = compute("        echo:\n          command: [cat]\n");
    assert_eq!(
        invoke(&c, "echo", r#"{"a":[1,2,"x"]}"#).await.unwrap(),
        r#"{"a":[1,2,"x"]}"#
    );
}

#[tokio::test]
async fn large_payload_passes_through_the_pipes() {
    let c = compute("        echo:\n          command: [cat]\n");
    let payload = format!("\"{}\"", "x".repeat(256 * 1024 - 2));
    assert_eq!(invoke(&c, "echo", &payload).await.unwrap(), payload);
}

#[tokio::test]
async fn function_that_ignores_stdin_still_succeeds() {
    let c = compute("        f:\n          command: [sh, -c, 'echo {}']\n");
    let payload = format!("\"{}\"", "x".repeat(200 * 1024));
    assert_eq!(invoke(&c, "f", &payload).await.unwrap(), "{}\n");
}

#[tokio::test]
async fn non_zero_exit_is_function_failed_with_stderr() {
    let c = compute("        fail:\n          command: [sh, -c, 'echo boom >&2; exit 3']\n");
    let e = invoke(&c, "fail", "{}").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::FunctionFailed);
    assert!(e.message().contains("boom"), "{e}");
    assert!(e.message().contains("status 3"), "{e}");
}

#[tokio::test]
async fn only_the_last_kib_of_stderr_is_kept() {
    let c = compute(
        "        fail:\n          command: [sh, -c, 'i=0; while [ $i -lt 300 ]; do echo line$i >&2; i=$((i+1)); done; exit 1']\n",
    );
    let e = invoke(&c, "fail", "{}").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::FunctionFailed);
    assert!(e.message().contains("line299"), "{e}");
    assert!(!e.message().contains("line0\n"), "{e}");
    assert!(e.message().len() < 1200, "{}", e.message().len());
}

#[tokio::test]
async fn invalid_json_output_is_function_failed() {
    let c = compute("        f:\n          command: [sh, -c, 'echo not json']\n");
    let e = invoke(&c, "f", "{}").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::FunctionFailed);
    assert!(e.message().contains("JSON"), "{e}");
    let c = compute("        f:\n          command: ['true']\n");
    assert_eq!(
        invoke(&c, "f", "{}").await.unwrap_err().kind(),
        ErrorKind::FunctionFailed
    );
}

/// Processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(marker) {
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            found.push(stat);
        }
    }
    found
}

fn unique_sleep_arg() -> String {
    // `sleep` accepts fractional seconds; the digits make the command line unique.
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("30.{}{n:03}", std::process::id())
}

#[tokio::test]
async fn timeout_kills_and_reaps_the_process() {
    let arg = unique_sleep_arg();
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    // `$$$$` is `$$` after config expansion: the shell writes its pid, then becomes sleep.
    let c = compute(&format!(
        "        slow:\n          command: [sh, -c, 'echo $$$$ > \"$PIDFILE\"; exec sleep {arg}']\n          timeout: 300ms\n          env: {{ PIDFILE: '{}' }}\n",
        pidfile.display()
    ));
    let e = invoke(&c, "slow", "{}").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    // Killed and reaped before invoke returned: no process, not even a zombie, is left.
    assert_eq!(
        processes_with(&format!("sleep\0{arg}")),
        Vec::<String>::new()
    );
    if let Ok(pid) = std::fs::read_to_string(&pidfile) {
        let proc_dir = Path::new("/proc").join(pid.trim());
        assert!(
            !proc_dir.exists(),
            "process {} still exists (not reaped)",
            pid.trim()
        );
    }
}

#[tokio::test]
async fn call_timeout_overrides_and_kills_the_whole_group() {
    let arg = unique_sleep_arg();
    // The shell forks `sleep` as a grandchild; the group kill must get it too.
    let c = compute(&format!(
        "        slow:\n          command: [sh, -c, 'sleep {arg}; echo done']\n"
    ));
    let opts = InvokeOptions {
        timeout: Some(Duration::from_millis(300)),
    };
    let e = c
        .invoke("slow", Bytes::from_static(b"{}"), opts)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    // The grandchild is reaped by init, not by us: wait (bounded) until it is gone or a zombie.
    let marker = format!("sleep\0{arg}");
    for _ in 0..100 {
        let alive: Vec<_> = processes_with(&marker)
            .into_iter()
            .filter(|stat| !stat.contains(") Z "))
            .collect();
        if alive.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the grandchild sleep survived the timeout");
}

#[tokio::test]
async fn environment_is_cleared_except_path_and_configured_entries() {
    let c = compute(
        "        env:
          command: [sh, -c, 'printf \"{\\\"home\\\":\\\"%s\\\",\\\"greeting\\\":\\\"%s\\\",\\\"has_path\\\":%s}\" \"$HOME\" \"$GREETING\" \"$([ -n \"$PATH\" ] && echo true || echo false)\"']
          env: { GREETING: hi }
",
    );
    let out = invoke(&c, "env", "{}").await.unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"home": "", "greeting": "hi", "has_path": true})
    );
}

#[tokio::test]
async fn runs_in_the_configured_folder() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().canonicalize().unwrap();
    let c = compute(&format!(
        "        pwd:\n          command: [sh, -c, 'printf \"\\\"%s\\\"\" \"$(pwd -P)\"']\n          dir: '{}'\n",
        real.display()
    ));
    let out = invoke(&c, "pwd", "{}").await.unwrap();
    assert_eq!(
        serde_json::from_slice::<String>(&out).unwrap(),
        real.display().to_string()
    );
}

#[tokio::test]
async fn unknown_function_is_not_found() {
    let c = compute("        echo:\n          command: [cat]\n");
    assert_eq!(
        invoke(&c, "nope", "{}").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let e = c
        .submit("nope", Bytes::from_static(b"{}"), InvokeOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn spawn_failure_is_internal() {
    let c = compute("        ghost:\n          command: [/nonexistent/program]\n");
    let e = invoke(&c, "ghost", "{}").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Internal);
    assert!(e.to_string().contains("/nonexistent/program"), "{e}");
}

#[tokio::test]
async fn in_process_handlers_serve_names_not_configured() {
    let mut handlers = Handlers::new();
    handlers.register(
        "hello",
        |_| async move { Ok(Bytes::from_static(b"\"hi\"")) },
    );
    handlers.register(
        "echo",
        |_| async move { Ok(Bytes::from_static(b"\"handler\"")) },
    );
    handlers.register("fail", |_| async move { Err(FunctionError("nope".into())) });
    handlers.register("slow", |_| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(Bytes::from_static(b"{}"))
    });
    let c = compute_with("        echo:\n          command: [cat]\n", handlers);
    assert_eq!(invoke(&c, "hello", "{}").await.unwrap(), "\"hi\"");
    // The configured subprocess wins over a handler of the same name.
    assert_eq!(invoke(&c, "echo", "[1]").await.unwrap(), "[1]");
    let e = invoke(&c, "fail", "{}").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::FunctionFailed);
    assert!(e.message().contains("nope"));
    let opts = InvokeOptions {
        timeout: Some(Duration::from_millis(50)),
    };
    let e = c
        .invoke("slow", Bytes::from_static(b"{}"), opts)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
}

async fn settle(c: &LocalCompute, id: &str) -> ExecutionState {
    loop {
        match c.execution(id).await.unwrap() {
            ExecutionState::Running => tokio::time::sleep(Duration::from_millis(10)).await,
            done => return done,
        }
    }
}

#[tokio::test]
async fn submit_runs_subprocesses_in_the_background() {
    let c = compute(
        "        echo:\n          command: [cat]\n        fail:\n          command: [sh, -c, 'echo boom >&2; exit 3']\n",
    );
    let ok = c
        .submit(
            "echo",
            Bytes::from_static(b"{\"n\":1}"),
            InvokeOptions::default(),
        )
        .await
        .unwrap();
    let bad = c
        .submit("fail", Bytes::from_static(b"{}"), InvokeOptions::default())
        .await
        .unwrap();
    assert_ne!(ok, bad);
    assert_eq!(
        settle(&c, &ok).await,
        ExecutionState::Succeeded(Bytes::from_static(b"{\"n\":1}"))
    );
    match settle(&c, &bad).await {
        ExecutionState::Failed { kind, message } => {
            assert_eq!(kind, "function_failed");
            assert!(message.contains("boom"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        c.execution("exec-0-999999").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn submit_timeout_is_reported_as_timeout() {
    let arg = unique_sleep_arg();
    let c = compute(&format!(
        "        slow:\n          command: [sleep, '{arg}']\n"
    ));
    let opts = InvokeOptions {
        timeout: Some(Duration::from_millis(200)),
    };
    let id = c
        .submit("slow", Bytes::from_static(b"{}"), opts)
        .await
        .unwrap();
    match settle(&c, &id).await {
        ExecutionState::Failed { kind, .. } => assert_eq!(kind, "timeout"),
        other => panic!("unexpected {other:?}"),
    }
}
