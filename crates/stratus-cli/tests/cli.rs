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
    // Builds with `--features clouds` link more blob providers (listed sorted).
    let first = err.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(
            "stratus.yaml:3:23: profiles.cloudy.blob.provider: unknown provider \"nimbus\" \
             (providers linked for blob: "
        ),
        "stderr: {err}"
    );
    if cfg!(feature = "clouds") {
        assert!(first.contains("local, memory"), "stderr: {err}");
    } else {
        assert!(
            first.ends_with("(providers linked for blob: local, memory)"),
            "stderr: {err}"
        );
    }
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
fn matrix_counts_a_ledgered_case_the_same_whether_it_failed_or_passed() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let ledgered = "{\"profile\":\"p\",\"service\":\"kv\",\"provider\":\"p\",\"case\":\"flaky\",\"outcome\":\"ledgered\",\"ms\":1,\"detail\":\"ledgered (moto): ...\"}\n";
    let stale = format!(
        "{{\"profile\":\"p\",\"service\":\"kv\",\"provider\":\"p\",\"case\":\"flaky\",\"outcome\":\"pass\",\"ms\":1,\"detail\":\"{}\"}}\n",
        stratus_conformance::ledger::stale_note("moto")
    );
    let mut tables = Vec::new();
    for (name, line) in [
        ("failed.jsonl", ledgered.to_owned()),
        ("passed.jsonl", stale),
    ] {
        std::fs::write(dir.path().join(name), line).expect("written");
        let out = stratus(dir.path(), &["matrix", name]);
        assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
        tables.push(stdout(&out));
    }
    assert_eq!(tables[0], tables[1]);
    assert!(tables[0].contains("0/1 pass, 1 ledgered"), "{}", tables[0]);
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

/// A ledger with one entry for the memory provider's `compute.invoke_echo` case.
const LEDGER: &str = "\
[[gap]]
provider = \"memory\"
emulator = \"moto\"
case = \"compute.invoke_echo\"
reason = \"pretend moto cannot echo\"
upstream = \"https://example.org/moto/1\"
";

/// `stratus conformance` on the memory profile's `invoke_echo*` compute cases, with extra
/// arguments.
fn conformance_on_echo(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "conformance",
        "--config",
        "stratus.yaml",
        "--profile",
        "memory",
        "--service",
        "compute",
        "--case",
        "invoke_echo",
    ];
    args.extend_from_slice(extra);
    stratus(dir, &args)
}

#[test]
fn conformance_rejects_a_ledger_with_an_unknown_case_or_a_missing_field() {
    let dir = config(GOOD);
    std::fs::write(
        dir.path().join("ledger.toml"),
        LEDGER.replace("compute.invoke_echo", "compute.no_such_case"),
    )
    .expect("written");
    let out = conformance_on_echo(
        dir.path(),
        &["--ledger", "ledger.toml", "--emulator", "moto"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "ledger.toml:1: [[gap]] entry 1: unknown case \"compute.no_such_case\": \
         the suite has no compute case named \"no_such_case\"\n"
    );

    std::fs::write(
        dir.path().join("ledger.toml"),
        format!(
            "{LEDGER}\n[[gap]]\nprovider = \"memory\"\ncase = \"kv.put_get\"\nreason = \"r\"\n"
        ),
    )
    .expect("written");
    let out = conformance_on_echo(
        dir.path(),
        &["--ledger", "ledger.toml", "--emulator", "moto"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("ledger.toml:8: [[gap]] entry 2: missing field `emulator`"),
        "{err}"
    );

    let out = conformance_on_echo(dir.path(), &["--ledger", "missing.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("missing.toml: cannot read the ledger"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn conformance_emulator_needs_a_ledger() {
    let dir = config(GOOD);
    let out = conformance_on_echo(dir.path(), &["--emulator", "moto"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--ledger"), "{}", stderr(&out));
}

#[test]
fn conformance_reports_a_passing_ledgered_case_as_pass_with_a_stale_note() {
    let dir = config(GOOD);
    std::fs::write(dir.path().join("ledger.toml"), LEDGER).expect("written");
    let out = conformance_on_echo(
        dir.path(),
        &[
            "--ledger",
            "ledger.toml",
            "--emulator",
            "moto",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    let echo = lines
        .iter()
        .find(|c| c["case"] == "invoke_echo")
        .expect("invoke_echo ran");
    assert_eq!(echo["outcome"], "pass", "{text}");
    assert_eq!(
        echo["detail"], "ledger entry for moto is stale: the case passes",
        "{text}"
    );
    for other in lines.iter().filter(|c| c["case"] != "invoke_echo") {
        assert_eq!(other["outcome"], "pass", "{text}");
        assert_eq!(other["detail"], "", "{text}");
    }

    // The table shows the note; no case was ledgered, so the summary has no ledgered count.
    let out = conformance_on_echo(
        dir.path(),
        &["--ledger", "ledger.toml", "--emulator", "moto"],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let table = stdout(&out);
    assert!(
        table.contains("ledger entry for moto is stale: the case passes"),
        "{table}"
    );
    let last = table.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        format!("{} passed, 0 failed, 0 unsupported", lines.len()),
        "{table}"
    );

    // An entry for an emulator the run does not use is ignored.
    let out = conformance_on_echo(
        dir.path(),
        &[
            "--ledger",
            "ledger.toml",
            "--emulator",
            "azurite",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(
        !stdout(&out).contains("stale"),
        "inactive entry applied: {}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("the ledger has no entry for emulator \"azurite\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn matrix_shows_ledgered_counts_and_capabilities() {
    let cases = stratus_conformance::all_cases();
    let presign: Vec<&str> = cases
        .iter()
        .filter(|c| c.requires == Some(stratus::Capability::BlobPresign))
        .map(|c| c.name)
        .collect();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut lines = vec![
        result("aws", ServiceKind::Kv, "put_get", "pass", 1),
        result("aws", ServiceKind::Kv, "query", "ledgered", 1),
        result("aws", ServiceKind::Kv, "batch", "unsupported", 1),
        result("aws", ServiceKind::Kv, "ttl", "ledgered", 1),
    ];
    for (i, case) in presign.iter().enumerate() {
        let outcome = if i == 0 { "ledgered" } else { "pass" };
        lines.push(result("aws", ServiceKind::Blob, case, outcome, 1));
    }
    std::fs::write(dir.path().join("aws.jsonl"), lines.concat()).expect("written");
    let out = stratus(dir.path(), &["matrix", "aws.jsonl"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let matrix = stdout(&out);
    assert!(
        matrix.contains("| kv | 1/4 pass, 1 unsupported, 2 ledgered |"),
        "{matrix}"
    );
    if !presign.is_empty() {
        assert!(
            matrix.contains(&format!(
                "| blob | {}/{} pass, 1 ledgered |",
                presign.len() - 1,
                presign.len()
            )),
            "{matrix}"
        );
        assert!(
            matrix.contains("| `blob.presign` | yes (1 ledgered) |"),
            "{matrix}"
        );
    }
    let again = stratus(dir.path(), &["matrix", "aws.jsonl"]);
    assert_eq!(stdout(&again), matrix, "deterministic");
}

const PROVISION: &str = "\
profiles:
  local:
    blob: { provider: local, root: ./data/blob, resources: [media] }
    kv: { provider: local, path: ./data/stratus.redb, resources: [messages, sessions] }
    queue: { provider: local, path: ./data/stratus.redb, resources: [messages] }
  broken:
    kv: { provider: local, path: ./not-a-folder/stratus.redb, resources: [messages] }
";

#[test]
fn provision_creates_the_resources_of_a_local_profile_idempotently() {
    let dir = config(PROVISION);
    let expected = "\
blob media: ready
kv messages: ready
kv sessions: ready
queue messages: ready
profile local: provisioned (4 resources ready)
";
    for run in ["first", "second"] {
        let out = stratus(
            dir.path(),
            &[
                "provision",
                "--config",
                "stratus.yaml",
                "--profile",
                "local",
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{run} run; stderr: {}",
            stderr(&out)
        );
        assert_eq!(stdout(&out), expected, "{run} run");
        assert_eq!(stderr(&out), "", "{run} run");
        assert!(dir.path().join("data/stratus.redb").is_file(), "{run} run");
    }
}

#[test]
fn provision_reports_failures_with_exit_code_1_and_bad_config_with_2() {
    let dir = config(PROVISION);
    std::fs::write(dir.path().join("not-a-folder"), "a file").expect("written");
    let out = stratus(
        dir.path(),
        &[
            "provision",
            "--config",
            "stratus.yaml",
            "--profile",
            "broken",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "stdout: {}", stdout(&out));
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.ends_with("profile broken: 1 step failed (0 resources ready)\n"),
        "{err}"
    );

    let out = stratus(
        dir.path(),
        &["provision", "--config", "stratus.yaml", "--profile", "nope"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no profile named \"nope\""),
        "{}",
        stderr(&out)
    );
}
