//! The program's HTTP API as API Gateway would run it: its routes (route keys, the most
//! specific match wins, `{proxy+}` greedy, `$default` last), each route's authorization
//! (a JWT authorizer's issuer and audiences, or none), CORS and stage throttling. Read
//! from an evaluated program, so tests and the edge stand-in meet the deployed shape, not
//! a copy of it. Rules: `../shared/contracts.md` section 11.

use serde_json::Value;

use crate::Evaluated;
use crate::checks::target;
use crate::eval::lookup;

/// One segment of a route's path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{name}`: exactly one segment.
    Variable,
    /// `{name+}`: one or more segments, last only.
    Greedy,
}

/// A route key: `METHOD /path`, `ANY /path` or `$default`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteKey {
    raw: String,
    /// `None` for `ANY` and `$default`.
    method: Option<String>,
    /// `None` for `$default`.
    segments: Option<Vec<Segment>>,
}

impl RouteKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw == "$default" {
            return Ok(Self { raw: raw.to_owned(), method: None, segments: None });
        }
        let (method, path) = raw.split_once(' ').ok_or_else(|| format!("route key {raw:?} is not `METHOD /path`"))?;
        if !path.starts_with('/') {
            return Err(format!("route key {raw:?}: the path must start with /"));
        }
        let parts: Vec<&str> = path[1..].split('/').filter(|s| !s.is_empty()).collect();
        let mut segments = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let seg = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if name.ends_with('+') => {
                    if i + 1 != parts.len() {
                        return Err(format!("route key {raw:?}: a greedy variable must be the last segment"));
                    }
                    Segment::Greedy
                }
                Some(_) => Segment::Variable,
                None => Segment::Literal((*part).to_owned()),
            };
            segments.push(seg);
        }
        let method = (method != "ANY").then(|| method.to_ascii_uppercase());
        Ok(Self { raw: raw.to_owned(), method, segments: Some(segments) })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn is_default(&self) -> bool {
        self.segments.is_none()
    }

    /// Whether a request `method path` (path without the query) takes this route.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        let Some(segments) = &self.segments else { return true };
        if self.method.as_deref().is_some_and(|m| !m.eq_ignore_ascii_case(method)) {
            return false;
        }
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').filter(|s| !s.is_empty()).collect();
        for (i, seg) in segments.iter().enumerate() {
            match seg {
                Segment::Greedy => return parts.len() > i,
                Segment::Variable if i < parts.len() => {}
                Segment::Literal(l) if parts.get(i) == Some(&l.as_str()) => {}
                _ => return false,
            }
        }
        parts.len() == segments.len()
    }

    /// Higher is more specific: no greedy variable, then fewer variables, then more
    /// segments, then an explicit method over `ANY`; `$default` is lowest.
    fn specificity(&self) -> (u8, u8, i64, usize, u8) {
        let Some(segments) = &self.segments else { return (0, 0, 0, 0, 0) };
        let greedy = segments.contains(&Segment::Greedy);
        let vars = segments.iter().filter(|s| **s == Segment::Variable).count() as i64;
        (1, u8::from(!greedy), -vars, segments.len(), u8::from(self.method.is_some()))
    }
}

/// How a route authorises a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authorization {
    None,
    /// A JWT authorizer: the token from `Authorization`, signed by the issuer's JWKS, with
    /// an `aud` (or `client_id`) among the audiences.
    Jwt {
        authorizer: String,
        issuer: String,
        audiences: Vec<String>,
    },
}

#[derive(Clone, Debug)]
pub struct Route {
    /// The route's resource name in the program.
    pub resource: String,
    pub key: RouteKey,
    pub authorization: Authorization,
    /// The integration's resource name.
    pub integration: String,
}

/// `corsConfiguration` of the API.
#[derive(Clone, Debug, Default)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<u64>,
    pub allow_credentials: bool,
}

impl Cors {
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allow_origins.iter().any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
    }
    pub fn allows_method(&self, method: &str) -> bool {
        self.allow_methods.iter().any(|m| m == "*" || m.eq_ignore_ascii_case(method))
    }
    pub fn allows_header(&self, header: &str) -> bool {
        self.allow_headers.iter().any(|h| h == "*" || h.eq_ignore_ascii_case(header.trim()))
    }
}

/// One HTTP API of the program with its routes, CORS and default stage throttling.
#[derive(Clone, Debug)]
pub struct HttpApi {
    pub resource: String,
    pub routes: Vec<Route>,
    pub cors: Option<Cors>,
    /// `(rate per second, burst)` from the `$default` stage's `defaultRouteSettings`.
    pub throttle: Option<(f64, u64)>,
}

/// A list of strings (or one string) as owned strings; anything else is empty.
pub(crate) fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

impl HttpApi {
    /// Every `aws:apigatewayv2:Api` of protocol HTTP in the program.
    pub fn all(ev: &Evaluated) -> Result<Vec<HttpApi>, String> {
        ev.of_type("aws:apigatewayv2:Api")
            .filter(|(_, a)| a.properties.get("protocolType").and_then(Value::as_str) == Some("HTTP"))
            .map(|(name, _)| Self::of(ev, name))
            .collect()
    }

    /// The API declared as resource `api`.
    pub fn of(ev: &Evaluated, api: &str) -> Result<HttpApi, String> {
        let decl = ev.resources.get(api).ok_or_else(|| format!("no resource {api}"))?;
        let belongs = |props: &Value| target(props.get("apiId"), "id").as_deref() == Some(api);
        let mut routes = Vec::new();
        for (name, r) in ev.of_type("aws:apigatewayv2:Route").filter(|(_, r)| belongs(&r.properties)) {
            let p = &r.properties;
            let key = RouteKey::parse(p.get("routeKey").and_then(Value::as_str).unwrap_or_default()).map_err(|e| format!("{name}: {e}"))?;
            let route_target = p.get("target").and_then(Value::as_str).unwrap_or_default();
            let integration = crate::placeholder_refs(route_target)
                .into_iter()
                .find(|(r, _)| ev.resources.get(r).is_some_and(|i| i.type_ == "aws:apigatewayv2:Integration"))
                .map(|(r, _)| r)
                .ok_or_else(|| format!("{name}: target {route_target:?} names no integration"))?;
            let authorization = match p.get("authorizationType").and_then(Value::as_str).unwrap_or("NONE") {
                "NONE" => Authorization::None,
                "JWT" => {
                    let authorizer = target(p.get("authorizerId"), "id").ok_or_else(|| format!("{name}: JWT without an authorizerId"))?;
                    let a = ev.resources.get(&authorizer).ok_or_else(|| format!("{name}: no authorizer {authorizer}"))?;
                    if a.properties.get("authorizerType").and_then(Value::as_str) != Some("JWT") {
                        return Err(format!("{name}: authorizer {authorizer} is not a JWT authorizer"));
                    }
                    let issuer = lookup(&a.properties, "jwtConfiguration.issuer").and_then(Value::as_str).unwrap_or_default().to_owned();
                    let audiences = strings(lookup(&a.properties, "jwtConfiguration.audiences"));
                    Authorization::Jwt { authorizer, issuer, audiences }
                }
                other => return Err(format!("{name}: authorizationType {other} is not emulated")),
            };
            routes.push(Route { resource: name.clone(), key, authorization, integration });
        }
        let cors = decl.properties.get("corsConfiguration").filter(|c| c.is_object()).map(|c| Cors {
            allow_origins: strings(c.get("allowOrigins")),
            allow_methods: strings(c.get("allowMethods")),
            allow_headers: strings(c.get("allowHeaders")),
            expose_headers: strings(c.get("exposeHeaders")),
            max_age: c.get("maxAge").and_then(Value::as_u64),
            allow_credentials: c.get("allowCredentials").and_then(Value::as_bool).unwrap_or(false),
        });
        let throttle = ev
            .of_type("aws:apigatewayv2:Stage")
            .filter(|(_, s)| belongs(&s.properties) && s.properties.get("name").and_then(Value::as_str) == Some("$default"))
            .find_map(|(_, s)| {
                let rate = lookup(&s.properties, "defaultRouteSettings.throttlingRateLimit")?.as_f64()?;
                let burst = lookup(&s.properties, "defaultRouteSettings.throttlingBurstLimit")?.as_u64()?;
                Some((rate, burst))
            });
        Ok(HttpApi { resource: api.to_owned(), routes, cors, throttle })
    }

    /// The route API Gateway picks for `method path`: the most specific match.
    pub fn route(&self, method: &str, path: &str) -> Option<&Route> {
        self.routes.iter().filter(|r| r.key.matches(method, path)).max_by_key(|r| r.key.specificity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick<'a>(keys: &'a [&'a str], method: &str, path: &str) -> Option<&'a str> {
        let parsed: Vec<RouteKey> = keys.iter().map(|k| RouteKey::parse(k).unwrap()).collect();
        parsed.iter().filter(|k| k.matches(method, path)).max_by_key(|k| k.specificity()).map(|k| keys[parsed.iter().position(|p| p == k).unwrap()])
    }

    #[test]
    fn the_most_specific_route_wins() {
        let keys =
            ["$default", "ANY /v1/{proxy+}", "GET /v1/sessions/{id}", "POST /v1/sessions/{id}", "GET /v1/sessions/mine", "ANY /v1/sessions/{id}"];
        assert_eq!(pick(&keys, "GET", "/v1/sessions/abc"), Some("GET /v1/sessions/{id}"));
        assert_eq!(pick(&keys, "PUT", "/v1/sessions/abc"), Some("ANY /v1/sessions/{id}"));
        assert_eq!(pick(&keys, "GET", "/v1/sessions/mine"), Some("GET /v1/sessions/mine"));
        assert_eq!(pick(&keys, "GET", "/v1/sessions/abc/objects/x"), Some("ANY /v1/{proxy+}"));
        assert_eq!(pick(&keys, "GET", "/api/v1/sessions"), Some("$default"));
        assert_eq!(pick(&keys[1..], "GET", "/api/v1/sessions"), None);
        // A greedy variable takes one segment or more, never none.
        assert_eq!(pick(&keys[1..2], "GET", "/v1"), None);
        assert_eq!(pick(&keys[1..2], "GET", "/v1/"), None);
    }

    #[test]
    fn bad_route_keys_are_refused() {
        assert!(RouteKey::parse("GET v1").is_err());
        assert!(RouteKey::parse("/v1").is_err());
        assert!(RouteKey::parse("ANY /{proxy+}/x").is_err());
    }
}
