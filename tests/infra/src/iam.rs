//! What an identity-based IAM policy lets its holder do, evaluated as IAM does for the
//! parts Gen3D's policies use: explicit `Deny` wins, then any `Allow` whose `Action` and
//! `Resource` patterns match (`*` any run of characters, `?` one), policy variables
//! (`${aws:PrincipalTag/sub}`) replaced by the caller's values first. Conditions are
//! taken as met, so the answer over-approximates what is allowed: a "no" is a proof.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::eval::Evaluated;

/// IAM's wildcard match (case-sensitive, as for resources; actions are compared in
/// lower case by the caller).
pub fn wildcard_matches(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

fn substitute(pattern: &str, vars: &BTreeMap<&str, &str>) -> String {
    vars.iter().fold(pattern.to_owned(), |acc, (k, v)| acc.replace(&format!("${{{k}}}"), v))
}

/// Whether `statements` allow `action` on `resource` for a caller with `vars`.
pub fn allows(statements: &[Value], action: &str, resource: &str, vars: &BTreeMap<&str, &str>) -> bool {
    let matches = |s: &Value| {
        list(s.get("Action")).iter().any(|a| wildcard_matches(&a.to_lowercase(), &action.to_lowercase()))
            && list(s.get("Resource")).iter().any(|r| wildcard_matches(&substitute(r, vars), resource))
    };
    let effect = |s: &Value| s.get("Effect").and_then(Value::as_str).unwrap_or_default().to_owned();
    if statements.iter().any(|s| effect(s) == "Deny" && matches(s)) {
        return false;
    }
    statements.iter().any(|s| effect(s) == "Allow" && matches(s))
}

/// Every statement of every inline policy and managed policy attachment of the role
/// resource `role` (a managed policy attached by ARN is reported as an error, since its
/// statements are not in the program).
pub fn role_statements(ev: &Evaluated, role: &str) -> Result<Vec<Value>, String> {
    let refers = |v: Option<&Value>| v.and_then(Value::as_str).is_some_and(|s| s.starts_with(&format!("⟨{role}.")));
    let mut out = Vec::new();
    for (name, r) in &ev.resources {
        match r.type_.as_str() {
            "aws:iam:RolePolicy" if refers(r.properties.get("role")) => {
                let doc = crate::checks::json_doc(r.properties.get("policy")).ok_or_else(|| format!("{name}: policy is not a document"))?;
                out.extend(doc.get("Statement").and_then(Value::as_array).cloned().unwrap_or_default());
            }
            "aws:iam:RolePolicyAttachment" if refers(r.properties.get("role")) => {
                return Err(format!("{name} attaches a managed policy to {role}: its statements cannot be checked here"));
            }
            _ => {}
        }
    }
    if let Some(inline) = ev.resources.get(role).and_then(|r| r.properties.get("inlinePolicies")).and_then(Value::as_array) {
        for p in inline {
            let doc = crate::checks::json_doc(p.get("policy")).ok_or_else(|| format!("{role}: an inline policy is not a document"))?;
            out.extend(doc.get("Statement").and_then(Value::as_array).cloned().unwrap_or_default());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_iam_does() {
        assert!(wildcard_matches("arn:b/users/u/*", "arn:b/users/u/sessions/s/image"));
        assert!(wildcard_matches("arn:b/users/u/sessions/*/image", "arn:b/users/u/sessions/s/image"));
        assert!(!wildcard_matches("arn:b/users/u/sessions/*/image", "arn:b/users/u/sessions/s/embed.request.json"));
        assert!(!wildcard_matches("arn:b/users/u/*", "arn:b/users/v/x"));
        assert!(wildcard_matches("s3:*", "s3:putobject"));
        assert!(wildcard_matches("s3:get?bject", "s3:getobject"));
        assert!(!wildcard_matches("", "x"));
    }
}
