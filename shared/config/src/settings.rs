//! Each service's deployed configuration, read from its environment here and nowhere
//! else; a missing or bad variable fails naming it.

use std::fmt;

use gen3d_domain::EmailAddress;

use crate::service::env;
use crate::{ResourceNames, Service};

/// A service's deployed configuration, read from its environment in one place.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    pub service: Service,
    pub stack: String,
    pub names: ResourceNames,
    pub bucket: String,
    pub table: String,
    pub metrics_namespace: String,
    /// Days after its last update a job record expires (stack config `jobTtlDays`).
    pub job_ttl_days: u32,
    pub settings: ServiceSettings,
}

/// How much one user may ask of the GPU, per stack (stack config
/// `objectsInFlightPerUser`, `objectsPerUserPerDay`, `photosPerUserPerHour`). The API
/// answers 429 with `Retry-After` past them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserLimits {
    /// Objects submitted and not yet done or failed.
    pub objects_in_flight: u32,
    /// Objects submitted in the last 24 hours.
    pub objects_per_day: u32,
    /// Sessions (one photo each) started in the last hour.
    pub photos_per_hour: u32,
}

impl UserLimits {
    /// `gen3d serve|run` on one's own machine: generous, but still a bound.
    pub const LOCAL: UserLimits = UserLimits { objects_in_flight: 20, objects_per_day: 2_000, photos_per_hour: 200 };
}

/// What only some services read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceSettings {
    Intake {
        user_pool_id: String,
        user_pool_client_id: String,
        limits: UserLimits,
        /// The web app's bucket: the server-side decode runs its `models/decoder.onnx`.
        web_bucket: String,
    },
    /// Embedding, reconstruction and meshing: the SageMaker endpoint they invoke.
    Inference { endpoint_name: String },
    Notify {
        from: EmailAddress,
        admin: EmailAddress,
        app_url: String,
        /// The API's base URL (`GET /v1/links/{token}` is under it).
        api_url: String,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl ServiceConfig {
    /// Reads `service.env_vars()` through `lookup` (`std::env::var` in a Lambda, a map in
    /// tests). Fails on the first missing or malformed variable.
    pub fn from_lookup(service: Service, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| -> Result<String, ConfigError> {
            match lookup(name) {
                Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
                _ => Err(ConfigError::Missing(name)),
            }
        };
        let invalid = |name: &'static str, reason: String| ConfigError::Invalid { name, reason };
        let email =
            |name: &'static str| -> Result<EmailAddress, ConfigError> { EmailAddress::parse(&get(name)?).map_err(|e| invalid(name, e.to_string())) };
        let names = ResourceNames::new(&get(env::RESOURCE_PREFIX)?).map_err(|e| invalid(env::RESOURCE_PREFIX, e.to_string()))?;
        let settings = match service {
            Service::Intake => {
                let count = |name: &'static str| -> Result<u32, ConfigError> {
                    match get(name)?.parse::<u32>() {
                        Ok(n) if n >= 1 => Ok(n),
                        _ => Err(invalid(name, "must be a whole number of at least 1".into())),
                    }
                };
                let limits = UserLimits {
                    objects_in_flight: count(env::LIMIT_OBJECTS_IN_FLIGHT)?,
                    objects_per_day: count(env::LIMIT_OBJECTS_PER_DAY)?,
                    photos_per_hour: count(env::LIMIT_PHOTOS_PER_HOUR)?,
                };
                ServiceSettings::Intake {
                    user_pool_id: get(env::USER_POOL_ID)?,
                    user_pool_client_id: get(env::USER_POOL_CLIENT_ID)?,
                    limits,
                    web_bucket: get(env::WEB_BUCKET)?,
                }
            }
            Service::Embedding | Service::Reconstruction | Service::Meshing => ServiceSettings::Inference { endpoint_name: get(env::ENDPOINT_NAME)? },
            Service::Notify => {
                let url = |name: &'static str| {
                    let value = get(name)?;
                    if !(value.starts_with("https://") || value.starts_with("http://")) {
                        return Err(invalid(name, format!("{value:?} is not an http(s) URL")));
                    }
                    Ok(value)
                };
                ServiceSettings::Notify {
                    from: email(env::MAIL_FROM)?,
                    admin: email(env::ADMIN_EMAIL)?,
                    app_url: url(env::APP_URL)?,
                    api_url: url(env::API_URL)?,
                }
            }
        };
        Ok(Self {
            service,
            stack: get(env::STACK)?,
            names,
            bucket: get(env::BUCKET)?,
            table: get(env::TABLE)?,
            metrics_namespace: get(env::METRICS_NAMESPACE)?,
            job_ttl_days: match get(env::JOB_TTL_DAYS)?.parse::<u32>() {
                Ok(days) if (1..=36_500).contains(&days) => days,
                _ => return Err(invalid(env::JOB_TTL_DAYS, "must be a whole number of days from 1 to 36500".into())),
            },
            settings,
        })
    }

    pub fn from_env(service: Service) -> Result<Self, ConfigError> {
        Self::from_lookup(service, |name| std::env::var(name).ok())
    }
}

/// Logged at start-up; nothing here is secret, addresses included (they are the
/// operator's own).
impl fmt::Debug for ServiceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceConfig")
            .field("service", &self.service)
            .field("stack", &self.stack)
            .field("prefix", &self.names.prefix())
            .field("bucket", &self.bucket)
            .field("table", &self.table)
            .field("metrics_namespace", &self.metrics_namespace)
            .field("job_ttl_days", &self.job_ttl_days)
            .field("settings", &self.settings)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |k| map.get(k).cloned()
    }

    const COMMON: [(&str, &str); 6] = [
        ("GEN3D_STACK", "dev"),
        ("GEN3D_RESOURCE_PREFIX", "gen3d-dev"),
        ("GEN3D_BUCKET", "gen3d-dev-data-1"),
        ("GEN3D_TABLE", "gen3d-dev-jobs"),
        ("GEN3D_METRICS_NAMESPACE", "Gen3D"),
        ("GEN3D_JOB_TTL_DAYS", "30"),
    ];

    #[test]
    fn notify_reads_its_addresses() {
        let mut pairs = COMMON.to_vec();
        pairs.extend([
            ("GEN3D_MAIL_FROM", "no-reply@x.example"),
            ("GEN3D_ADMIN_EMAIL", "Admin@X.example"),
            ("GEN3D_APP_URL", "https://x.example"),
            ("GEN3D_API_URL", "https://api.x.example"),
        ]);
        let c = ServiceConfig::from_lookup(Service::Notify, lookup(&pairs)).unwrap();
        match c.settings {
            ServiceSettings::Notify { admin, .. } => assert_eq!(admin.as_str(), "admin@x.example"),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(c.names.queue("notify"), "gen3d-dev-notify");
        assert_eq!(c.job_ttl_days, 30);
    }

    #[test]
    fn missing_and_bad_values_name_the_variable() {
        let err = ServiceConfig::from_lookup(Service::Embedding, lookup(&COMMON)).unwrap_err();
        assert_eq!(err, ConfigError::Missing("GEN3D_ENDPOINT_NAME"));
        let mut pairs = COMMON.to_vec();
        pairs.extend([
            ("GEN3D_MAIL_FROM", "nobody"),
            ("GEN3D_ADMIN_EMAIL", "a@b.example"),
            ("GEN3D_APP_URL", "https://x.example"),
            ("GEN3D_API_URL", "https://api.x.example"),
        ]);
        let err = ServiceConfig::from_lookup(Service::Notify, lookup(&pairs)).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { name: "GEN3D_MAIL_FROM", .. }), "{err}");
        let mut pairs = COMMON.to_vec();
        pairs[1] = ("GEN3D_RESOURCE_PREFIX", "Gen3D Dev");
        pairs.push(("GEN3D_ENDPOINT_NAME", "ep"));
        assert!(ServiceConfig::from_lookup(Service::Meshing, lookup(&pairs)).is_err());
        let mut pairs = COMMON.to_vec();
        pairs[5] = ("GEN3D_JOB_TTL_DAYS", "0");
        pairs.push(("GEN3D_ENDPOINT_NAME", "ep"));
        let err = ServiceConfig::from_lookup(Service::Meshing, lookup(&pairs)).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { name: "GEN3D_JOB_TTL_DAYS", .. }), "{err}");
    }
}
