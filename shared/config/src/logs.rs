//! How a process logs, read from its environment: JSON in a Lambda (honouring the
//! function's `AWS_LAMBDA_LOG_FORMAT` and `AWS_LAMBDA_LOG_LEVEL`) and in the inference
//! container (CloudWatch Logs parse it), readable text on one's own machine. `RUST_LOG`,
//! when set, overrides the level everywhere.

/// Where the process runs, which decides the defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogTarget {
    /// A Gen3D Lambda: JSON unless the function's log format is `Text`.
    Lambda,
    /// The inference container: JSON.
    Container,
    /// The `gen3d` command: text on stderr, at `default_level` (`info` for `serve`,
    /// `warn` for one-shot commands, whose output is their result).
    Local { default_level: &'static str },
}

/// What the one telemetry init (`gen3d_telemetry::init`) needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSettings {
    pub json: bool,
    /// An `EnvFilter` directive: `info`, `gen3d_pipeline=debug,warn`, ...
    pub filter: String,
}

/// Lambda's application log levels -> `tracing`'s (there is no `fatal`).
fn lambda_level(raw: &str) -> Option<&'static str> {
    match raw.trim().to_ascii_uppercase().as_str() {
        "TRACE" => Some("trace"),
        "DEBUG" => Some("debug"),
        "INFO" => Some("info"),
        "WARN" => Some("warn"),
        "ERROR" | "FATAL" => Some("error"),
        _ => None,
    }
}

impl LogSettings {
    /// Reads `RUST_LOG`, `AWS_LAMBDA_LOG_FORMAT` and `AWS_LAMBDA_LOG_LEVEL` through
    /// `lookup`. A value Lambda would not set is ignored for the default (a log setting
    /// never stops a service from starting).
    pub fn from_lookup(target: LogTarget, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let rust_log = lookup("RUST_LOG").filter(|v| !v.trim().is_empty());
        let (json, default_level) = match target {
            LogTarget::Lambda => {
                let text = lookup("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.trim().eq_ignore_ascii_case("text"));
                let level = lookup("AWS_LAMBDA_LOG_LEVEL").as_deref().and_then(lambda_level).unwrap_or("info");
                (!text, level)
            }
            LogTarget::Container => (true, "info"),
            LogTarget::Local { default_level } => (false, default_level),
        };
        Self { json, filter: rust_log.unwrap_or_else(|| default_level.to_owned()) }
    }

    pub fn from_env(target: LogTarget) -> Self {
        Self::from_lookup(target, |name| std::env::var(name).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(target: LogTarget, vars: &[(&str, &str)]) -> LogSettings {
        LogSettings::from_lookup(target, |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn a_lambda_logs_json_at_info_unless_its_function_says_otherwise() {
        assert_eq!(settings(LogTarget::Lambda, &[]), LogSettings { json: true, filter: "info".into() });
        let text = settings(LogTarget::Lambda, &[("AWS_LAMBDA_LOG_FORMAT", "Text"), ("AWS_LAMBDA_LOG_LEVEL", "DEBUG")]);
        assert_eq!(text, LogSettings { json: false, filter: "debug".into() });
        assert_eq!(settings(LogTarget::Lambda, &[("AWS_LAMBDA_LOG_FORMAT", "JSON"), ("AWS_LAMBDA_LOG_LEVEL", "FATAL")]).filter, "error");
        assert_eq!(settings(LogTarget::Lambda, &[("AWS_LAMBDA_LOG_LEVEL", "loud")]).filter, "info", "an unknown level keeps the default");
    }

    #[test]
    fn rust_log_overrides_the_level_everywhere() {
        for target in [LogTarget::Lambda, LogTarget::Container, LogTarget::Local { default_level: "warn" }] {
            let s = settings(target, &[("RUST_LOG", "gen3d_pipeline=debug"), ("AWS_LAMBDA_LOG_LEVEL", "ERROR")]);
            assert_eq!(s.filter, "gen3d_pipeline=debug", "{target:?}");
        }
    }

    #[test]
    fn the_container_logs_json_and_the_command_text() {
        assert!(settings(LogTarget::Container, &[("AWS_LAMBDA_LOG_FORMAT", "Text")]).json, "Lambda's variable is not the container's");
        let local = settings(LogTarget::Local { default_level: "warn" }, &[("AWS_LAMBDA_LOG_FORMAT", "JSON")]);
        assert_eq!(local, LogSettings { json: false, filter: "warn".into() });
    }
}
