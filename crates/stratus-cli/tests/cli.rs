//! Runs the built `stratus` binary against files written into a temporary folder.

use std::path::Path;
use std::process::{Command, Output};

use stratus::ServiceKind;

const BIN: &str = env!("CARGO_BIN_EXE_stratus");

/// Runs `stratus args...` in `dir` with the test variable unset.
fn stratus(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("STRATUS_TEST_UNSET_VAR")
        .env_remove("STRATUS_PROFILE")
        .output()
        .expect("the stratus binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A temporary folder holding `stratus.yaml` with `text`.
fn config(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("stratus.yaml"), text).expect("config written");
    dir
}

const GOOD: &str = "\
profile: ${STRATUS_PROFILE:-local}
profiles:
  memory:
    blob: { provider: memory }
    kv: { provider: memory }
    queue: { provider: memory, visibility_timeout: 30s, max_attempts: 3 }
    compute: { provider: memory }
  local:
    blob: { provider: local, root: ./data/blob }
    kv: { provider: local, path: ./data/stratus.redb }
    queue: { provider: local, path: ./data/stratus.redb, visibility_timeout: 30s, max_attempts: 3 }
    compute:
      provider: local
      functions:
        echo: { command: [cat] }
";

#[test]
fn config_check_accepts_a_good_file_without_side_effects() {
    let dir = config(GOOD);
    let out = stratus(dir.path(), &["config", "check", "stratus.yaml"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "stratus.yaml: ok (2 profiles checked: memory, local)\n"
    );
    assert_eq!(stderr(&out), "");
    assert!(
        !dir.path().join("data").exists(),
        "config check must not create files"
    );

    let out = stratus(
        dir.path(),
        &["config", "check", "stratus.yaml", "--profile", "memory"],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "stratus.yaml: ok (1 profile checked: memory)\n"
    );
}

#[test]
fn config_check_names_file_line_column_and_path_of_an_unknown_key() {
    let dir = config("profiles:\n  memory:\n    kv:\n      provider: memory\n      colour: blue\n");
    let out = stratus(dir.path(), &["config", "check", "stratus.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    let first = err.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("stratus.yaml:5:7: profiles.memory.kv.colour: unknown key `colour`"),
        "stderr: {err}"
    );
}

#[test]
fn config_check_reports_a_wrong_type() {
    let dir = config(
        "profiles:\n  memory:\n    queue:\n      provider: memory\n      max_attempts: lots\n",
    );
    let out = stratus(dir.path(), &["config", "check", "stratus.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "stratus.yaml:5:21: profiles.memory.queue.max_attempts: expected a non-negative integer, found \"lots\"\n"
        ),
        "stderr: {err}"
    );
}

#[test]
fn config_check_reports_a_missing_environment_variable() {
    let dir = config(
        "profiles:\n  local:\n    blob:\n      provider: local\n      root: ${STRATUS_TEST_UNSET_VAR}/blob\n",
    );
    let out = stratus(dir.path(), &["config", "check", "stratus.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "stratus.yaml:5:13: profiles.local.blob.root: environment variable STRATUS_TEST_UNSET_VAR is not set"
        ),
        "stderr: {err}"
    );
}

#[test]
fn config_check_lists_linked_providers_for_an_unknown_one() {
    let dir = config("profiles:\n  cloudy:\n    blob: { provider: nimbus }\n");
    let out = stratus(dir.path(), &["config", "check", "stratus.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "stratus.yaml:3:23: profiles.cloudy.blob.provider: unknown provider \"nimbus\" \
             (providers linked for blob: local, memory)\n"
        ),
        "stderr: {err}"
    );
}

#[test]
fn config_check_locates_bad_yaml_syntax() {
    let dir = config("profiles:\n  memory:\n    kv: { provider: memory\n  local: {}\n");
    let out = stratus(dir.path(), &["config", "check", "stratus.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("stratus.yaml:4:8: while parsing a flow mapping"),
        "stderr: {err}"
    );
}

#[test]
fn config_check_reports_every_broken_profile() {
    let text = "profiles:\n  one:\n    kv: { provider: nimbus }\n  two:\n    blob: { provider: memory, colour: blue }\n  three:\n    kv: { provider: memory }\n";
    let dir = config(text);
    let out = stratus(dir.path(), &["config", "check", "stratus.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "stderr: {err}");
    assert!(
        lines[0].starts_with("stratus.yaml:3:21: profiles.one.kv.provider: unknown provider"),
        "{err}"
    );
    assert!(
        lines[1].starts_with("stratus.yaml:5:31: profiles.two.blob.colour: unknown key `colour`"),
        "{err}"
    );
    assert_eq!(lines[2], "stratus.yaml: 2 errors");
}

#[test]
fn providers_lists_memory_and_local_as_table_and_json() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = stratus(dir.path(), &["providers"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let table = stdout(&out);
    assert!(
        table.contains("\nlocal: ") || table.starts_with("local: "),
        "{table}"
    );
    assert!(table.contains("\nmemory: "), "{table}");
    assert!(
        table.contains("services: blob, kv, queue, compute"),
        "{table}"
    );
    assert!(table.contains("blob.presign"), "{table}");

    let out = stratus(dir.path(), &["providers", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("providers JSON");
    let names: Vec<&str> = json
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        names.contains(&"memory") && names.contains(&"local"),
        "{names:?}"
    );
    for provider in json.as_array().expect("an array") {
        assert!(provider["description"].is_string());
        assert!(provider["services"].is_array());
        for cap in provider["capabilities"].as_array().expect("capabilities") {
            assert!(
                cap["name"].is_string() && cap["declared"].is_boolean(),
                "{cap}"
            );
        }
    }
}

#[test]
fn conformance_compute_on_memory_as_json_has_no_failures() {
    let dir = config(GOOD);
    let out = stratus(
        dir.path(),
        &[
            "conformance",
            "--config",
            "stratus.yaml",
            "--profile",
            "memory",
            "--service",
            "compute",
            "--format",
            "json",
        ],
    );
    let text = stdout(&out);
    assert!(
        !text.trim().is_empty(),
        "no results; stderr: {}",
        stderr(&out)
    );
    for line in text.lines() {
        let case: serde_json::Value = serde_json::from_str(line).expect("every line is JSON");
        assert_eq!(case["profile"], "memory", "{line}");
        assert_eq!(case["service"], "compute", "{line}");
        assert_eq!(case["provider"], "memory", "{line}");
        assert!(
            case["case"].is_string() && case["ms"].is_u64() && case["detail"].is_string(),
            "{line}"
        );
        let outcome = case["outcome"].as_str().expect("an outcome");
        assert!(outcome == "pass" || outcome == "unsupported", "{line}");
    }
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
}

#[test]
fn conformance_reports_usage_errors_with_exit_code_2() {
    let dir = config("profiles:\n  memory:\n    kv: { provider: memory }\n");
    let out = stratus(
        dir.path(),
        &[
            "conformance",
            "--config",
            "stratus.yaml",
            "--profile",
            "nope",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no profile named \"nope\""),
        "{}",
        stderr(&out)
    );
    let out = stratus(
        dir.path(),
        &[
            "conformance",
            "--config",
            "stratus.yaml",
            "--profile",
            "memory",
            "--service",
            "blob",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("configures no blob service"),
        "{}",
        stderr(&out)
    );
}

/// One result line as `stratus conformance --format json` writes it.
fn result(profile: &str, service: ServiceKind, case: &str, outcome: &str, ms: u64) -> String {
    format!(
        "{{\"profile\":\"{profile}\",\"service\":\"{service}\",\"provider\":\"{profile}\",\"case\":\"{case}\",\
         \"outcome\":\"{outcome}\",\"ms\":{ms},\"detail\":\"\"}}\n"
    )
}

#[test]
fn matrix_is_deterministic_and_replaces_the_readme_block() {
    let needs_async = stratus_conformance::all_cases()
        .into_iter()
        .find(|c| c.requires == Some(stratus::Capability::ComputeAsync))
        .map(|c| c.name);
    let async_case = needs_async.unwrap_or("submit_case");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let one = [
        result("alpha", ServiceKind::Kv, "put_get", "pass", 3),
        result("alpha", ServiceKind::Kv, "query", "pass", 9),
        result("alpha", ServiceKind::Compute, async_case, "pass", 1),
    ]
    .concat();
    let two = [
        result("beta", ServiceKind::Kv, "put_get", "pass", 5),
        result("beta", ServiceKind::Kv, "query", "fail", 7),
        "\n".to_owned(),
        result("beta", ServiceKind::Compute, async_case, "unsupported", 2),
    ]
    .concat();
    std::fs::write(dir.path().join("alpha.jsonl"), one).expect("written");
    std::fs::write(dir.path().join("beta.jsonl"), &two).expect("written");
    let first = stratus(dir.path(), &["matrix", "alpha.jsonl", "beta.jsonl"]);
    assert_eq!(first.status.code(), Some(0), "stderr: {}", stderr(&first));
    let matrix = stdout(&first);
    let lines: Vec<&str> = matrix.lines().collect();
    assert_eq!(
        lines[0],
        "| service / capability | alpha (alpha) | beta (beta) |"
    );
    assert_eq!(lines[1], "| --- | --- | --- |");
    assert_eq!(lines[2], "| blob | not run | not run |");
    assert_eq!(lines[3], "| kv | 2/2 pass | 1/2 pass, 1 FAIL |");
    assert_eq!(lines[4], "| queue | not run | not run |");
    assert!(
        lines[5].starts_with("| compute | 1/1 pass | 0/1 pass, 1 unsupported |"),
        "{matrix}"
    );
    assert!(
        lines.contains(&"| `blob.presign` | not run | not run |"),
        "{matrix}"
    );
    if needs_async.is_some() {
        assert!(
            lines.contains(&"| `compute.async` | yes | no (refused) |"),
            "{matrix}"
        );
    }
    assert_eq!(
        lines.len(),
        2 + ServiceKind::ALL.len() + stratus::Capability::ALL.len(),
        "{matrix}"
    );
    assert!(!matrix.contains("ms"), "no timings in the matrix: {matrix}");

    // The same results with other timings give the same matrix.
    std::fs::write(
        dir.path().join("beta.jsonl"),
        two.replace("\"ms\":5", "\"ms\":500"),
    )
    .expect("written");
    let again = stratus(dir.path(), &["matrix", "alpha.jsonl", "beta.jsonl"]);
    assert_eq!(stdout(&again), matrix);

    let readme = dir.path().join("README.md");
    std::fs::write(
        &readme,
        "# T\n\nbefore\n<!-- matrix:start -->\nold text\n<!-- matrix:end -->\nafter\n",
    )
    .expect("written");
    let out = stratus(
        dir.path(),
        &[
            "matrix",
            "alpha.jsonl",
            "beta.jsonl",
            "--readme",
            "README.md",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = std::fs::read_to_string(&readme).expect("README read");
    assert_eq!(
        text,
        format!("# T\n\nbefore\n<!-- matrix:start -->\n{matrix}<!-- matrix:end -->\nafter\n")
    );
    let out = stratus(
        dir.path(),
        &[
            "matrix",
            "alpha.jsonl",
            "beta.jsonl",
            "--readme",
            "README.md",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&readme).expect("README read"),
        text,
        "regenerating changes nothing"
    );
    assert!(stderr(&out).contains("unchanged"), "{}", stderr(&out));
}

#[test]
fn matrix_rejects_bad_input() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("bad.jsonl"), "{\"profile\": 1}\n").expect("written");
    let out = stratus(dir.path(), &["matrix", "bad.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("bad.jsonl:1: not a conformance result"),
        "{}",
        stderr(&out)
    );

    std::fs::write(
        dir.path().join("ok.jsonl"),
        result("alpha", ServiceKind::Kv, "put_get", "pass", 1),
    )
    .expect("written");
    std::fs::write(dir.path().join("README.md"), "no markers\n").expect("written");
    let out = stratus(dir.path(), &["matrix", "ok.jsonl", "--readme", "README.md"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("<!-- matrix:start -->"),
        "{}",
        stderr(&out)
    );
}
