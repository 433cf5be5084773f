//! The YAML configuration: profiles that map each service to a provider and its options.
//! Normative text: `spec/config.md`.
//!
//! Errors name the file, line, column and key path. Unknown keys are errors: every
//! reader of a [`Section`] calls [`Section::finish`] after taking the keys it knows.

mod env;
mod yaml;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use env::{ExpandError, expand};
pub use yaml::{Node, Value};

/// A configuration error at a place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line (0 when the error is about the file as a whole).
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// Dotted key path, such as `profiles.local.kv.path` (empty at the top).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// An error at `line:col` of `file` about the key at `path`.
    pub fn at(file: &str, line: usize, col: usize, path: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line,
            col,
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: ", self.file, self.line, self.col)?;
        } else {
            write!(f, "{}: ", self.file)?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for crate::Error {
    fn from(e: ConfigError) -> Self {
        crate::Error::invalid(e.to_string())
    }
}

/// Looks up environment variables; replaceable in tests.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

struct Document {
    file: String,
    base_dir: PathBuf,
    env: EnvLookup,
}

/// A mapping in the configuration, with typed getters that expand `${VAR}` and report
/// precise errors, and a record of which keys were read.
#[derive(Clone)]
pub struct Section {
    doc: Arc<Document>,
    node: Node,
    path: String,
    used: Arc<Mutex<BTreeSet<String>>>,
}

impl fmt::Debug for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Section").field("path", &self.path).finish()
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

impl Section {
    fn new(doc: Arc<Document>, node: Node, path: String) -> Result<Self, ConfigError> {
        let section = Self {
            doc,
            node,
            path,
            used: Arc::default(),
        };
        match &section.node.value {
            Value::Map(_) => Ok(section),
            Value::Null => Ok(Self {
                node: Node {
                    value: Value::Map(Vec::new()),
                    ..section.node.clone()
                },
                ..section
            }),
            other => Err(section.error_at(
                &section.node,
                &section.path,
                format!("expected a mapping, found {}", other.type_name()),
            )),
        }
    }

    /// The dotted key path of this section.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The file this section came from.
    pub fn file(&self) -> &str {
        &self.doc.file
    }

    /// An error located at this section.
    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        self.error_at(&self.node, &self.path, message)
    }

    /// An error located at the value of `key` (or at the section if the key is absent).
    pub fn key_error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        match self.lookup(key) {
            Some(node) => self.error_at(node, &join(&self.path, key), message),
            None => self.error_at(&self.node, &join(&self.path, key), message),
        }
    }

    fn error_at(&self, node: &Node, path: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::at(&self.doc.file, node.line, node.col, path, message)
    }

    fn entries(&self) -> &[(Node, Node)] {
        match &self.node.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    fn lookup(&self, key: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .find(|(k, _)| yaml::key_text(k) == key)
            .map(|(_, v)| v)
    }

    fn take(&self, key: &str) -> Option<&Node> {
        self.used
            .lock()
            .expect("config section poisoned")
            .insert(key.to_owned());
        self.lookup(key).filter(|n| n.value != Value::Null)
    }

    /// Whether `key` is present (and not null). Does not mark it as read.
    pub fn has(&self, key: &str) -> bool {
        self.lookup(key).is_some_and(|n| n.value != Value::Null)
    }

    /// The keys of this mapping, in file order. Does not mark them as read.
    pub fn keys(&self) -> Vec<String> {
        self.entries()
            .iter()
            .map(|(k, _)| yaml::key_text(k).to_owned())
            .collect()
    }

    fn expand_scalar(&self, node: &Node, path: &str, text: &str) -> Result<String, ConfigError> {
        expand(text, self.doc.env.as_ref()).map_err(|e| {
            ConfigError::at(
                &self.doc.file,
                node.line,
                node.col + usize::from(node.quoted) + e.offset,
                path,
                e.message,
            )
        })
    }

    /// A string value with `${VAR}` expanded; `None` when absent or null.
    pub fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        let Some(node) = self.take(key) else {
            return Ok(None);
        };
        let path = join(&self.path, key);
        match &node.value {
            Value::Scalar(text) => self.expand_scalar(node, &path, text).map(Some),
            other => Err(self.error_at(
                node,
                &path,
                format!("expected a string, found {}", other.type_name()),
            )),
        }
    }

    /// A string value that must be present.
    pub fn required_string(&self, key: &str) -> Result<String, ConfigError> {
        self.string(key)?
            .ok_or_else(|| self.key_error(key, format!("missing required key `{key}`")))
    }

    fn parsed<T>(
        &self,
        key: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ConfigError> {
        let Some(text) = self.string(key)? else {
            return Ok(None);
        };
        parse(text.trim())
            .map(Some)
            .ok_or_else(|| self.key_error(key, format!("expected {expected}, found {text:?}")))
    }

    /// A boolean (`true` or `false`).
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        self.parsed(key, "true or false", |s| match s {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })
    }

    /// A non-negative integer.
    pub fn u64(&self, key: &str) -> Result<Option<u64>, ConfigError> {
        self.parsed(key, "a non-negative integer", |s| s.parse().ok())
    }

    /// A duration: an integer with a unit `ms`, `s`, `m` or `h` (such as `30s`, `250ms`).
    pub fn duration(&self, key: &str) -> Result<Option<Duration>, ConfigError> {
        self.parsed(
            key,
            "a duration such as 250ms, 30s, 5m or 1h",
            parse_duration,
        )
    }

    /// A filesystem path; relative paths are resolved against the config file's folder.
    pub fn path_value(&self, key: &str) -> Result<Option<PathBuf>, ConfigError> {
        let Some(text) = self.string(key)? else {
            return Ok(None);
        };
        if text.is_empty() {
            return Err(self.key_error(key, "expected a path, found an empty string"));
        }
        let path = PathBuf::from(text);
        Ok(Some(if path.is_absolute() {
            path
        } else {
            self.doc.base_dir.join(path)
        }))
    }

    /// A sequence of strings.
    pub fn string_list(&self, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(node) = self.take(key) else {
            return Ok(None);
        };
        let path = join(&self.path, key);
        let Value::Seq(items) = &node.value else {
            return Err(self.error_at(
                node,
                &path,
                format!(
                    "expected a sequence of strings, found {}",
                    node.value.type_name()
                ),
            ));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let item_path = format!("{path}[{i}]");
                match &item.value {
                    Value::Scalar(text) => self.expand_scalar(item, &item_path, text),
                    other => Err(self.error_at(
                        item,
                        &item_path,
                        format!("expected a string, found {}", other.type_name()),
                    )),
                }
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// A nested mapping.
    pub fn section(&self, key: &str) -> Result<Option<Section>, ConfigError> {
        let Some(node) = self.take(key) else {
            return Ok(None);
        };
        Section::new(self.doc.clone(), node.clone(), join(&self.path, key)).map(Some)
    }

    /// Every entry of this mapping as a nested section (for user-named entries such as
    /// functions); marks them all as read.
    pub fn child_sections(&self) -> Result<Vec<(String, Section)>, ConfigError> {
        self.keys()
            .into_iter()
            .map(|key| {
                let node = self.take(&key).cloned().unwrap_or(Node {
                    value: Value::Null,
                    ..self.node.clone()
                });
                let section = Section::new(self.doc.clone(), node, join(&self.path, &key))?;
                Ok((key, section))
            })
            .collect()
    }

    /// Fails on the first key nobody read: unknown keys are errors, never ignored.
    pub fn finish(&self) -> Result<(), ConfigError> {
        let used = self.used.lock().expect("config section poisoned");
        for (key, _) in self.entries() {
            let name = yaml::key_text(key);
            if !used.contains(name) {
                let known: Vec<&str> = used.iter().map(String::as_str).collect();
                return Err(self.error_at(
                    key,
                    &join(&self.path, name),
                    format!(
                        "unknown key `{name}` (known keys here: {})",
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Parses `250ms`, `30s`, `5m`, `1h`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => Some(Duration::from_secs(n.checked_mul(60)?)),
        "h" => Some(Duration::from_secs(n.checked_mul(3600)?)),
        _ => None,
    }
}

/// The four services a profile can configure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// Object storage.
    Blob,
    /// Key-value items.
    Kv,
    /// Work queues.
    Queue,
    /// Functions.
    Compute,
}

impl ServiceKind {
    /// All services in their usual order.
    pub const ALL: [ServiceKind; 4] = [Self::Blob, Self::Kv, Self::Queue, Self::Compute];

    /// The key of the service in a profile (`blob`, `kv`, `queue`, `compute`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Blob => "blob",
            Self::Kv => "kv",
            Self::Queue => "queue",
            Self::Compute => "compute",
        }
    }

    /// Parses a service name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One service of a profile: which provider, and its options.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Which service.
    pub kind: ServiceKind,
    /// The provider name, such as `local`.
    pub provider: String,
    /// The whole service mapping; `provider` and `resources` are already read.
    pub options: Section,
    /// Logical resource names `stratus provision` creates (the optional `resources:` list).
    pub resources: Vec<String>,
}

/// A profile: the services it configures.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The profile's name.
    pub name: String,
    /// Configured services in the order blob, kv, queue, compute.
    pub services: Vec<ServiceConfig>,
}

impl Profile {
    /// The configuration of `kind`, if the profile has one.
    pub fn service(&self, kind: ServiceKind) -> Option<&ServiceConfig> {
        self.services.iter().find(|s| s.kind == kind)
    }
}

/// A loaded configuration file.
#[derive(Clone)]
pub struct Config {
    root: Section,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("file", &self.root.doc.file)
            .finish()
    }
}

impl Config {
    /// Reads and parses `path`; relative paths inside resolve against its folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::at(&file, 0, 0, "", format!("cannot read file: {e}")))?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Self::parse(
            &file,
            &text,
            base,
            Arc::new(|name| std::env::var(name).ok()),
        )
    }

    /// Parses `text` as if read from `file`, with `env` for `${VAR}` lookups.
    pub fn parse(
        file: &str,
        text: &str,
        base_dir: &Path,
        env: EnvLookup,
    ) -> Result<Self, ConfigError> {
        let node = yaml::parse(file, text)?;
        let doc = Arc::new(Document {
            file: file.to_owned(),
            base_dir: base_dir.to_owned(),
            env,
        });
        let root = Section::new(doc, node, String::new())?;
        root.string("profile")?;
        let profiles = root
            .section("profiles")?
            .ok_or_else(|| root.error("missing required key `profiles`"))?;
        root.finish()?;
        if profiles.keys().is_empty() {
            return Err(profiles.error("at least one profile is required"));
        }
        Ok(Self { root })
    }

    /// The file name as given.
    pub fn file(&self) -> &str {
        self.root.file()
    }

    /// The profile named by the top-level `profile:` key, expanded.
    pub fn default_profile(&self) -> Result<Option<String>, ConfigError> {
        self.root.string("profile")
    }

    fn profiles(&self) -> Result<Section, ConfigError> {
        Ok(self.root.section("profiles")?.expect("checked in parse"))
    }

    /// The names of all profiles, in file order.
    pub fn profile_names(&self) -> Vec<String> {
        self.profiles().map(|p| p.keys()).unwrap_or_default()
    }

    /// Reads profile `name` and checks its structure (not the provider options).
    pub fn profile(&self, name: &str) -> Result<Profile, ConfigError> {
        let profiles = self.profiles()?;
        if !profiles.has(name) && !profiles.keys().iter().any(|k| k == name) {
            return Err(profiles.error(format!(
                "no profile named {name:?} (profiles: {})",
                profiles.keys().join(", ")
            )));
        }
        let section = profiles.section(name)?.unwrap_or_else(|| profiles.clone());
        let mut services = Vec::new();
        for kind in ServiceKind::ALL {
            if let Some(options) = section.section(kind.name())? {
                let provider = options.required_string("provider")?;
                let resources = options.string_list("resources")?.unwrap_or_default();
                for (i, name) in resources.iter().enumerate() {
                    crate::names::validate_resource_name(kind.name(), name).map_err(|e| {
                        options.key_error("resources", format!("item {i}: {}", e.message()))
                    })?;
                }
                services.push(ServiceConfig {
                    kind,
                    provider,
                    options,
                    resources,
                });
            }
        }
        section.finish()?;
        if services.is_empty() {
            return Err(
                section.error("a profile must configure at least one of blob, kv, queue, compute")
            );
        }
        Ok(Profile {
            name: name.to_owned(),
            services,
        })
    }

    /// The profile to use: `explicit` if given, else the file's `profile:` key.
    pub fn select_profile(&self, explicit: Option<&str>) -> Result<Profile, ConfigError> {
        match explicit {
            Some(name) => self.profile(name),
            None => match self.default_profile()? {
                Some(name) => self.profile(&name),
                None => Err(self.root.error(
                    "no profile selected: pass --profile or set the top-level `profile:` key",
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests;
