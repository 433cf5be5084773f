use super::*;

fn env(name: &str) -> Option<String> {
    match name {
        "DATA" => Some("/srv/data".into()),
        "PORT" => Some("8080".into()),
        _ => None,
    }
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(
        "stratus.yaml",
        text,
        Path::new("/etc/stratus"),
        Arc::new(env),
    )
}

const GOOD: &str = "\
profile: ${STRATUS_PROFILE:-local}
profiles:
  local:
    blob: { provider: local, root: ./blob }
    kv:
      provider: local
      path: ${DATA}/kv.redb
    queue: { provider: local, path: q.redb, visibility_timeout: 30s, max_attempts: 4 }
";

#[test]
fn reads_profile_services_and_typed_values() {
    let config = parse(GOOD).unwrap();
    assert_eq!(config.default_profile().unwrap().as_deref(), Some("local"));
    let profile = config.select_profile(None).unwrap();
    let kinds: Vec<_> = profile.services.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [ServiceKind::Blob, ServiceKind::Kv, ServiceKind::Queue]
    );
    let blob = &profile.service(ServiceKind::Blob).unwrap().options;
    assert_eq!(
        blob.path_value("root").unwrap().unwrap(),
        Path::new("/etc/stratus/./blob")
    );
    let kv = &profile.service(ServiceKind::Kv).unwrap().options;
    assert_eq!(kv.string("path").unwrap().unwrap(), "/srv/data/kv.redb");
    let queue = &profile.service(ServiceKind::Queue).unwrap().options;
    assert_eq!(
        queue.duration("visibility_timeout").unwrap(),
        Some(Duration::from_secs(30))
    );
    assert_eq!(queue.u64("max_attempts").unwrap(), Some(4));
    queue.string("path").unwrap();
    queue.finish().unwrap();
}

#[test]
fn unknown_key_names_line_column_and_path() {
    let config = parse(GOOD).unwrap();
    let profile = config.profile("local").unwrap();
    let blob = &profile.service(ServiceKind::Blob).unwrap().options;
    let e = blob.finish().unwrap_err();
    assert_eq!(
        e.to_string(),
        "stratus.yaml:4:30: profiles.local.blob.root: unknown key `root` (known keys here: provider, resources)"
    );
}

#[test]
fn wrong_type_is_precise() {
    let config = parse(
        GOOD.replace("max_attempts: 4", "max_attempts: four")
            .as_str(),
    )
    .unwrap();
    let profile = config.profile("local").unwrap();
    let queue = &profile.service(ServiceKind::Queue).unwrap().options;
    let e = queue.u64("max_attempts").unwrap_err();
    assert_eq!(e.path, "profiles.local.queue.max_attempts");
    assert_eq!(
        (e.line, e.message.as_str()),
        (8, "expected a non-negative integer, found \"four\"")
    );
}

#[test]
fn missing_env_var_is_located() {
    let config = parse(&GOOD.replace("${DATA}", "${NO_SUCH_VAR}")).unwrap();
    let profile = config.profile("local").unwrap();
    let e = profile
        .service(ServiceKind::Kv)
        .unwrap()
        .options
        .string("path")
        .unwrap_err();
    assert_eq!(e.path, "profiles.local.kv.path");
    assert_eq!((e.line, e.col), (7, 13));
    assert!(e.message.contains("NO_SUCH_VAR is not set"));
}

#[test]
fn structural_errors() {
    let e = parse("profiles: {}\nextra: 1\n").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("stratus.yaml:2:1: extra: unknown key `extra`"),
        "{e}"
    );
    let e = parse("profile: x\n").unwrap_err();
    assert!(e.message.contains("missing required key `profiles`"));
    let e = parse(GOOD).unwrap().profile("nope").unwrap_err();
    assert!(
        e.message
            .contains("no profile named \"nope\" (profiles: local)")
    );
    let e = parse("profiles:\n  p:\n    kv: { path: x }\n")
        .unwrap()
        .profile("p")
        .unwrap_err();
    assert_eq!(e.path, "profiles.p.kv.provider");
    let e = parse("profiles:\n  p:\n    cache: { provider: x }\n")
        .unwrap()
        .profile("p")
        .unwrap_err();
    assert!(e.message.contains("unknown key `cache`"));
    let e = parse("profiles:\n  p: [1]\n")
        .unwrap()
        .profile("p")
        .unwrap_err();
    assert!(e.message.contains("expected a mapping, found a sequence"));
    let e = parse("profiles:\n  p:\n    kv: {provider: local\n").unwrap_err();
    assert_eq!(e.line, 4);
}

#[test]
fn durations() {
    assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
    assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
    assert_eq!(parse_duration("10"), None);
    assert_eq!(parse_duration("1d"), None);
}

#[test]
fn missing_env_var_in_a_quoted_scalar_points_at_the_dollar() {
    let text = "profiles:\n  p:\n    kv: { provider: local, path: \"${NOPE}/kv\" }\n";
    let config = parse(text).unwrap();
    let profile = config.profile("p").unwrap();
    let e = profile
        .service(ServiceKind::Kv)
        .unwrap()
        .options
        .string("path")
        .unwrap_err();
    assert_eq!((e.line, e.col), (3, 35));
}

#[test]
fn resources_are_read_by_the_core_and_validated() {
    let text =
        "profiles:\n  p:\n    kv: { provider: local, path: x, resources: [messages, users] }\n";
    let profile = parse(text).unwrap().profile("p").unwrap();
    let kv = profile.service(ServiceKind::Kv).unwrap();
    assert_eq!(kv.resources, ["messages", "users"]);
    kv.options.string("path").unwrap();
    kv.options.finish().unwrap();
    let bad = "profiles:\n  p:\n    kv: { provider: local, resources: [Bad_Name] }\n";
    let e = parse(bad).unwrap().profile("p").unwrap_err();
    assert_eq!(e.path, "profiles.p.kv.resources");
    assert!(e.message.contains("item 0"), "{e}");
}
