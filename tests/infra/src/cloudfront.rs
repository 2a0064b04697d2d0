//! The program's CloudFront distribution as a browser meets it: which origin (an S3
//! bucket resource) serves a path (ordered behaviours by `pathPattern`, then the default
//! behaviour), the default root object, the custom error responses and the headers the
//! behaviour's response headers policy adds.

use serde_json::Value;

use crate::Evaluated;
use crate::apigw::strings;
use crate::checks::target;
use crate::eval::lookup;

#[derive(Clone, Debug)]
pub struct Behaviour {
    /// `None` for the default behaviour.
    pub path_pattern: Option<String>,
    /// The bucket resource behind the behaviour's origin.
    pub bucket: String,
    pub allowed_methods: Vec<String>,
    /// Header name and value added to every response (COOP/COEP, nosniff, HSTS).
    pub headers: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct ErrorResponse {
    pub error_code: u16,
    pub response_code: u16,
    pub page: String,
}

#[derive(Clone, Debug)]
pub struct Distribution {
    pub resource: String,
    pub default_root_object: Option<String>,
    /// Ordered behaviours first, the default behaviour last.
    pub behaviours: Vec<Behaviour>,
    pub errors: Vec<ErrorResponse>,
}

/// The headers a response headers policy resource adds.
fn policy_headers(ev: &Evaluated, policy: &str) -> Vec<(String, String)> {
    let Some(p) = ev.resources.get(policy) else { return Vec::new() };
    let mut out: Vec<(String, String)> = lookup(&p.properties, "customHeadersConfig.items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| Some((i.get("header")?.as_str()?.to_owned(), i.get("value")?.as_str()?.to_owned())))
        .collect();
    if lookup(&p.properties, "securityHeadersConfig.contentTypeOptions").is_some() {
        out.push(("X-Content-Type-Options".into(), "nosniff".into()));
    }
    if let Some(hsts) = lookup(&p.properties, "securityHeadersConfig.strictTransportSecurity") {
        let mut v = format!("max-age={}", hsts.get("accessControlMaxAgeSec").and_then(Value::as_u64).unwrap_or(0));
        if hsts.get("includeSubdomains").and_then(Value::as_bool) == Some(true) {
            v.push_str("; includeSubDomains");
        }
        out.push(("Strict-Transport-Security".into(), v));
    }
    out
}

impl Distribution {
    /// The distribution declared as resource `name`.
    pub fn of(ev: &Evaluated, name: &str) -> Result<Distribution, String> {
        let d = ev.resources.get(name).filter(|d| d.type_ == "aws:cloudfront:Distribution").ok_or_else(|| format!("no distribution {name}"))?;
        let p = &d.properties;
        let origin_bucket = |origin_id: &str| -> Result<String, String> {
            let origin = p
                .get("origins")
                .and_then(Value::as_array)
                .and_then(|os| os.iter().find(|o| o.get("originId").and_then(Value::as_str) == Some(origin_id)))
                .ok_or_else(|| format!("{name}: no origin {origin_id}"))?;
            target(origin.get("domainName"), "bucketRegionalDomainName").ok_or_else(|| format!("{name}: origin {origin_id} is not an S3 bucket"))
        };
        let behaviour = |b: &Value, path_pattern: Option<String>| -> Result<Behaviour, String> {
            let origin = b.get("targetOriginId").and_then(Value::as_str).unwrap_or_default();
            let headers = target(b.get("responseHeadersPolicyId"), "id").map(|pol| policy_headers(ev, &pol)).unwrap_or_default();
            Ok(Behaviour { path_pattern, bucket: origin_bucket(origin)?, allowed_methods: strings(b.get("allowedMethods")), headers })
        };
        let mut behaviours = Vec::new();
        for b in p.get("orderedCacheBehaviors").and_then(Value::as_array).into_iter().flatten() {
            let pattern = b.get("pathPattern").and_then(Value::as_str).unwrap_or_default().to_owned();
            behaviours.push(behaviour(b, Some(pattern))?);
        }
        behaviours.push(behaviour(p.get("defaultCacheBehavior").ok_or_else(|| format!("{name}: no defaultCacheBehavior"))?, None)?);
        let errors = p
            .get("customErrorResponses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| {
                Some(ErrorResponse {
                    error_code: u16::try_from(e.get("errorCode")?.as_u64()?).ok()?,
                    response_code: u16::try_from(e.get("responseCode")?.as_u64()?).ok()?,
                    page: e.get("responsePagePath")?.as_str()?.to_owned(),
                })
            })
            .collect();
        let default_root_object = p.get("defaultRootObject").and_then(Value::as_str).map(str::to_owned);
        Ok(Distribution { resource: name.to_owned(), default_root_object, behaviours, errors })
    }

    /// The behaviour serving `path`: the first ordered one whose pattern matches, else the
    /// default.
    pub fn behaviour(&self, path: &str) -> &Behaviour {
        self.behaviours.iter().find(|b| b.path_pattern.as_deref().is_none_or(|p| pattern_matches(p, path))).expect("the default behaviour is last")
    }
}

/// CloudFront path patterns: `*` any run of characters, `?` one character; case-sensitive;
/// a pattern without a leading `/` matches as if it had one.
pub fn pattern_matches(pattern: &str, path: &str) -> bool {
    let pattern = if pattern.starts_with('/') || pattern.starts_with('*') { pattern.to_owned() } else { format!("/{pattern}") };
    fn go(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), path.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::pattern_matches;

    #[test]
    fn path_patterns_match_as_cloudfront_does() {
        assert!(pattern_matches("/models/*", "/models/decoder.onnx"));
        assert!(pattern_matches("models/*", "/models/decoder.onnx"));
        assert!(pattern_matches("*.onnx", "/models/decoder.onnx"));
        assert!(!pattern_matches("/models/*", "/Models/decoder.onnx"));
        assert!(pattern_matches("/a?c", "/abc"));
    }
}
