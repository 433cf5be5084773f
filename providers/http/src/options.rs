//! The `compute:` section of an `http` profile.

use std::time::Duration;

use reqwest::Url;
use stratus::compute::{DEFAULT_TIMEOUT, timeout_option};
use stratus::config::{ConfigError, Section};

use crate::auth::Auth;

/// The placeholder `path_template` must contain.
pub const FUNCTION_PLACEHOLDER: &str = "{function}";
/// The path of a function when no `path_template` is configured (Azure Functions' layout).
pub const DEFAULT_PATH_TEMPLATE: &str = "/api/{function}";

/// Parsed options: `base_url` (required), `key`, `path_template`, `default_timeout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// Scheme, host and optional path prefix of the function app, without a trailing `/`.
    pub base_url: String,
    /// Path appended to `base_url`; `{function}` is replaced by the function name.
    pub path_template: String,
    /// Credentials sent with every request.
    pub auth: Auth,
    /// Deadline of calls that pass no timeout.
    pub default_timeout: Duration,
}

impl HttpOptions {
    /// Parses and validates the section (no side effects, no network).
    pub fn parse(section: &Section) -> Result<Self, ConfigError> {
        let base_url = section.required_string("base_url")?;
        let base_url =
            parse_base_url(&base_url).map_err(|message| section.key_error("base_url", message))?;
        let auth = match section.string("key")? {
            None => Auth::None,
            Some(key) if key.trim().is_empty() => {
                return Err(section.key_error(
                    "key",
                    "must not be empty (leave `key` out for an anonymous trigger)",
                ));
            }
            Some(key) => Auth::FunctionKey(key),
        };
        let path_template = section
            .string("path_template")?
            .unwrap_or_else(|| DEFAULT_PATH_TEMPLATE.to_owned());
        check_template(&base_url, &path_template)
            .map_err(|message| section.key_error("path_template", message))?;
        let default_timeout =
            timeout_option(section, "default_timeout")?.unwrap_or(DEFAULT_TIMEOUT);
        section.finish()?;
        Ok(Self {
            base_url,
            path_template,
            auth,
            default_timeout,
        })
    }

    /// The URL of `function` (a name the validation layer accepted: `a-z 0-9 -`).
    pub fn url(&self, function: &str) -> String {
        format!(
            "{}{}",
            self.base_url,
            self.path_template.replace(FUNCTION_PLACEHOLDER, function)
        )
    }
}

/// Checks `text` is an absolute http(s) URL without query or fragment; returns it
/// without trailing slashes.
fn parse_base_url(text: &str) -> Result<String, String> {
    let url =
        Url::parse(text).map_err(|e| format!("expected an http(s) URL, found {text:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "expected an http:// or https:// URL, found scheme {:?}",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("URL {text:?} has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "URL {text:?} must not have a query or fragment (put the path in path_template)"
        ));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

fn check_template(base_url: &str, template: &str) -> Result<(), String> {
    if !template.contains(FUNCTION_PLACEHOLDER) {
        return Err(format!(
            "must contain {FUNCTION_PLACEHOLDER} (for example {DEFAULT_PATH_TEMPLATE:?}), found {template:?}"
        ));
    }
    if !template.starts_with('/') {
        return Err(format!("must start with `/`, found {template:?}"));
    }
    let sample = format!(
        "{base_url}{}",
        template.replace(FUNCTION_PLACEHOLDER, "function-name")
    );
    Url::parse(&sample)
        .map(drop)
        .map_err(|e| format!("does not give a valid URL ({sample:?}: {e})"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use stratus::config::{Config, ServiceKind};

    use super::*;

    fn parse(body: &str) -> Result<HttpOptions, String> {
        let yaml = format!("profiles:\n  p:\n    compute:\n      provider: http\n{body}");
        let config = Config::parse("t.yaml", &yaml, Path::new("."), Arc::new(|_| None))
            .map_err(|e| e.to_string())?;
        let profile = config.profile("p").map_err(|e| e.to_string())?;
        let section = &profile
            .service(ServiceKind::Compute)
            .expect("compute section")
            .options;
        HttpOptions::parse(section).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_url() {
        let o = parse("      base_url: http://127.0.0.1:8093/\n").unwrap();
        assert_eq!(o.base_url, "http://127.0.0.1:8093");
        assert_eq!(o.auth, Auth::None);
        assert_eq!(o.default_timeout, DEFAULT_TIMEOUT);
        assert_eq!(o.url("echo"), "http://127.0.0.1:8093/api/echo");
    }

    #[test]
    fn key_template_and_timeout() {
        let o = parse(
            "      base_url: https://app.example.net/prefix\n      key: k1\n      path_template: /fn/{function}/run\n      default_timeout: 5s\n",
        )
        .unwrap();
        assert_eq!(o.auth, Auth::FunctionKey("k1".into()));
        assert_eq!(o.default_timeout, Duration::from_secs(5));
        assert_eq!(o.url("echo"), "https://app.example.net/prefix/fn/echo/run");
    }

    #[test]
    fn refuses_bad_options() {
        for (body, needle) in [
            ("", "missing required key `base_url`"),
            ("      base_url: ftp://x\n", "http://"),
            ("      base_url: not a url\n", "expected an http(s) URL"),
            ("      base_url: http://x?a=1\n", "query"),
            (
                "      base_url: http://x\n      key: \"\"\n",
                "must not be empty",
            ),
            (
                "      base_url: http://x\n      path_template: /api/echo\n",
                "{function}",
            ),
            (
                "      base_url: http://x\n      path_template: api/{function}\n",
                "start with",
            ),
            (
                "      base_url: http://x\n      default_timeout: 0s\n",
                "1ms",
            ),
            (
                "      base_url: http://x\n      region: west\n",
                "unknown key",
            ),
        ] {
            let e = parse(body).expect_err(body);
            assert!(e.contains(needle), "{body:?}: {e}");
        }
    }
}
