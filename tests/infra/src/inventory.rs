//! The resource inventory: one row per resource with its physical name and the key
//! properties of its type; rendered for insta snapshots and docs/aws-resources.md.

use serde_json::Value;

use crate::eval::lookup;
use crate::{Evaluated, known_type};

/// Properties that hold a resource's physical name, by preference.
const NAME_PROPERTIES: &[&str] = &["name", "bucket", "dashboardName", "emailIdentity", "identityPoolName", "routeKey", "comment"];

pub struct Row {
    pub logical: String,
    pub type_: String,
    pub physical: String,
    pub key_properties: Vec<(String, String)>,
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn rows(ev: &Evaluated) -> Vec<Row> {
    let mut rows: Vec<Row> = ev
        .resources
        .iter()
        .map(|(name, r)| {
            let physical = NAME_PROPERTIES
                .iter()
                .find_map(|p| r.properties.get(*p).and_then(Value::as_str))
                .map(str::to_owned)
                .unwrap_or_else(|| "(generated)".into());
            let key_properties = known_type(&r.type_)
                .map(|t| t.key_properties)
                .unwrap_or_default()
                .iter()
                .filter_map(|p| lookup(&r.properties, p).map(|v| ((*p).to_owned(), show(v))))
                .collect();
            Row { logical: name.clone(), type_: r.type_.clone(), physical, key_properties }
        })
        .collect();
    rows.sort_by(|a, b| (&a.type_, &a.logical).cmp(&(&b.type_, &b.logical)));
    rows
}

/// One line per resource: `type  logical  physical  key=value ...`.
pub fn render_text(ev: &Evaluated) -> String {
    rows(ev)
        .iter()
        .map(|r| {
            let props: Vec<String> = r.key_properties.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{} {} {} {}", r.type_, r.logical, r.physical, props.join(" ")).trim_end().to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The Markdown table of one stack.
pub fn render_markdown(ev: &Evaluated) -> String {
    let mut out = format!("## Stack `{}` ({} resources)\n\n", ev.stack, ev.resources.len());
    out.push_str("| type | resource | name | key properties |\n|---|---|---|---|\n");
    for r in rows(ev) {
        let props: Vec<String> = r.key_properties.iter().map(|(k, v)| format!("`{k}`={}", v.replace('|', "\\|"))).collect();
        out.push_str(&format!("| `{}` | {} | `{}` | {} |\n", r.type_, r.logical, r.physical, props.join(", ")));
    }
    out
}
