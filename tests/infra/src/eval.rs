//! Evaluation of a program for one stack, following Pulumi YAML's rules: `${name}`,
//! `${name.attr[0].field}` and `$${` (a literal `${`) in strings; a string that is one
//! whole `${...}` keeps the referenced value's type; `fn::` calls as one-key mappings.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::types::{KNOWN_INVOKES, known_type};
use crate::{Program, Stack};

/// A resource after evaluation.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub type_: String,
    pub properties: Value,
    pub options: Value,
    /// The resources it depends on (references, also through variables, and `dependsOn`).
    pub deps: BTreeSet<String>,
}

#[derive(Clone, Debug)]
pub struct Evaluated {
    pub project: String,
    pub stack: String,
    pub resources: BTreeMap<String, Resolved>,
    pub outputs: BTreeMap<String, Value>,
    /// Unresolvable references, unknown attributes or functions, config problems.
    pub errors: Vec<String>,
}

impl Evaluated {
    pub fn of_type<'a>(&'a self, token: &'a str) -> impl Iterator<Item = (&'a String, &'a Resolved)> + 'a {
        self.resources.iter().filter(move |(_, r)| r.type_ == token)
    }

    /// The string at a dot-separated property path, if it is one.
    pub fn prop<'a>(&'a self, resource: &str, path: &str) -> Option<&'a Value> {
        lookup(&self.resources.get(resource)?.properties, path)
    }
}

/// The value at a dot-separated path inside `value`.
pub fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

/// The `⟨resource.attr⟩` placeholders in a string: `(resource, attr)`.
pub fn placeholder_refs(s: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find('⟨') {
        let after = &rest[start + '⟨'.len_utf8()..];
        let Some(end) = after.find('⟩') else { break };
        let inner = &after[..end];
        match inner.split_once('.') {
            Some((r, a)) => out.push((r.to_owned(), Some(a.to_owned()))),
            None => out.push((inner.to_owned(), None)),
        }
        rest = &after[end + '⟩'.len_utf8()..];
    }
    out
}

#[derive(Clone, Debug, PartialEq)]
enum Access {
    Key(String),
    Index(usize),
}

enum Part {
    Lit(String),
    Ref(String),
}

fn split_interpolation(s: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            lit.push(c);
            continue;
        }
        match chars.peek() {
            Some((_, '$')) => {
                chars.next();
                lit.push('$');
            }
            Some((_, '{')) => {
                let body_start = i + 2;
                let end = s[body_start..].find('}').ok_or_else(|| format!("unterminated ${{ in {s:?}"))?;
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                parts.push(Part::Ref(s[body_start..body_start + end].trim().to_owned()));
                while let Some((j, _)) = chars.peek() {
                    if *j > body_start + end {
                        break;
                    }
                    chars.next();
                }
            }
            _ => lit.push('$'),
        }
    }
    if !lit.is_empty() {
        parts.push(Part::Lit(lit));
    }
    Ok(parts)
}

fn parse_path(expr: &str) -> Result<(String, Vec<Access>), String> {
    let bad = || format!("malformed reference ${{{expr}}}");
    let root_end = expr.find(['.', '[']).unwrap_or(expr.len());
    let root = &expr[..root_end];
    if root.is_empty() || !root.chars().all(|c| c.is_ascii_alphanumeric() || "_-:".contains(c)) {
        return Err(bad());
    }
    let mut accesses = Vec::new();
    let mut rest = &expr[root_end..];
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return Err(bad());
            }
            accesses.push(Access::Key(r[..end].to_owned()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or_else(bad)?;
            let inner = &r[..end];
            if let Some(q) = inner.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
                accesses.push(Access::Key(q.to_owned()));
            } else {
                accesses.push(Access::Index(inner.parse().map_err(|_| bad())?));
            }
            rest = &r[end + 1..];
        } else {
            return Err(bad());
        }
    }
    Ok((root.to_owned(), accesses))
}

fn walk(value: Value, accesses: &[Access], expr: &str) -> Result<Value, String> {
    let mut v = value;
    for a in accesses {
        v = match (a, &v) {
            (Access::Key(k), Value::Object(m)) => m.get(k).cloned(),
            (Access::Index(i), Value::Array(items)) => items.get(*i).cloned(),
            (_, Value::String(s)) if s.contains('⟨') => {
                // Inside a cloud-only value: keep a placeholder for the path.
                let suffix = match a {
                    Access::Key(k) => format!(".{k}"),
                    Access::Index(i) => format!("[{i}]"),
                };
                Some(Value::String(format!("{}{suffix}⟩", s.trim_end_matches('⟩'))))
            }
            _ => None,
        }
        .ok_or_else(|| format!("${{{expr}}}: no {a:?} in the referenced value"))?;
    }
    Ok(v)
}

fn placeholder(name: &str) -> Value {
    Value::String(format!("⟨{name}⟩"))
}

struct Ctx<'a> {
    program: &'a Program,
    stack: &'a Stack,
    variables: BTreeMap<String, (Value, BTreeSet<String>)>,
    resources: BTreeMap<String, (Value, BTreeSet<String>)>,
    in_progress: Vec<String>,
    errors: Vec<String>,
}

impl Ctx<'_> {
    fn error(&mut self, at: &str, message: String) -> Value {
        let line = format!("{at}: {message}");
        if !self.errors.contains(&line) {
            self.errors.push(line);
        }
        Value::Null
    }

    fn value(&mut self, v: &Value, deps: &mut BTreeSet<String>, at: &str) -> Value {
        match v {
            Value::String(s) => self.interpolate(s, deps, at),
            Value::Array(items) => Value::Array(items.iter().map(|i| self.value(i, deps, at)).collect()),
            Value::Object(map) => {
                if map.len() == 1 {
                    let (k, arg) = map.iter().next().expect("one entry");
                    if let Some(name) = k.strip_prefix("fn::") {
                        return self.function(name, arg, deps, at);
                    }
                }
                Value::Object(map.iter().map(|(k, v)| (k.clone(), self.value(v, deps, at))).collect())
            }
            other => other.clone(),
        }
    }

    fn interpolate(&mut self, s: &str, deps: &mut BTreeSet<String>, at: &str) -> Value {
        let parts = match split_interpolation(s) {
            Ok(p) => p,
            Err(e) => return self.error(at, e),
        };
        if let [Part::Ref(expr)] = parts.as_slice() {
            return self.resolve(expr, deps, at);
        }
        let mut out = String::new();
        for part in parts {
            match part {
                Part::Lit(l) => out.push_str(&l),
                Part::Ref(expr) => match self.resolve(&expr, deps, at) {
                    Value::String(v) => out.push_str(&v),
                    Value::Number(n) => out.push_str(&n.to_string()),
                    Value::Bool(b) => out.push_str(&b.to_string()),
                    Value::Null => {} // already reported
                    _ => {
                        return self.error(at, format!("${{{expr}}} is not a scalar and cannot be part of a string"));
                    }
                },
            }
        }
        Value::String(out)
    }

    fn resolve(&mut self, expr: &str, deps: &mut BTreeSet<String>, at: &str) -> Value {
        let (root, accesses) = match parse_path(expr) {
            Ok(p) => p,
            Err(e) => return self.error(at, e),
        };
        let walked = |ctx: &mut Self, v: Value, acc: &[Access]| match walk(v, acc, expr) {
            Ok(v) => v,
            Err(e) => ctx.error(at, e),
        };
        if root == "pulumi" {
            return match accesses.as_slice() {
                [Access::Key(k)] if k == "stack" => Value::String(self.stack.name.clone()),
                [Access::Key(k)] if k == "project" => Value::String(self.program.name.clone()),
                [Access::Key(k)] if k == "organization" => Value::String("organization".into()),
                _ => self.error(at, format!("unknown ${{{expr}}}")),
            };
        }
        if self.program.variables.contains_key(&root) {
            let (v, var_deps) = self.variable(&root);
            deps.extend(var_deps);
            return walked(self, v, &accesses);
        }
        if self.program.resources.contains_key(&root) {
            deps.insert(root.clone());
            let Some((first, rest)) = accesses.split_first() else {
                return placeholder(&root);
            };
            let Access::Key(attr) = first else {
                return self.error(at, format!("${{{expr}}}: a resource has no index"));
            };
            let props = self.resource(&root);
            if let Some(v) = props.get(attr) {
                return walked(self, v.clone(), rest);
            }
            let type_ = &self.program.resources[&root].type_;
            let is_output = attr == "id" || known_type(type_).is_some_and(|t| t.outputs.contains(&attr.as_str()));
            if !is_output {
                return self.error(at, format!("${{{expr}}}: {type_} {root} has no attribute {attr:?}"));
            }
            return walked(self, placeholder(&format!("{root}.{attr}")), rest);
        }
        if let Some(v) = self.config(&root, at) {
            return walked(self, v, &accesses);
        }
        self.error(at, format!("${{{expr}}} names no variable, resource or config key"))
    }

    fn config(&mut self, key: &str, at: &str) -> Option<Value> {
        let full = if key.contains(':') { key.to_owned() } else { format!("{}:{key}", self.program.name) };
        let decl = self.program.config.get(key);
        if decl.is_none() && !key.contains(':') {
            return None;
        }
        let value = self.stack.config.get(&full).cloned().or_else(|| decl.and_then(|d| d.get("default").cloned()));
        let Some(value) = value else {
            self.error(at, format!("config {full} is not set in stack {} and has no default", self.stack.name));
            return Some(Value::Null);
        };
        let declared = decl.and_then(|d| d.get("type")).and_then(Value::as_str).unwrap_or("any");
        let ok = match declared {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "boolean" => value.is_boolean(),
            _ => true,
        };
        if !ok {
            self.error(at, format!("config {full} must be of type {declared}, found {value}"));
        }
        Some(value)
    }

    fn variable(&mut self, name: &str) -> (Value, BTreeSet<String>) {
        if let Some(done) = self.variables.get(name) {
            return done.clone();
        }
        let key = format!("variable {name}");
        if self.in_progress.contains(&key) {
            self.error(&key, "refers to itself".into());
            return (Value::Null, BTreeSet::new());
        }
        self.in_progress.push(key.clone());
        let mut deps = BTreeSet::new();
        let raw = self.program.variables[name].clone();
        let v = self.value(&raw, &mut deps, &key);
        self.in_progress.pop();
        self.variables.insert(name.to_owned(), (v.clone(), deps.clone()));
        (v, deps)
    }

    fn resource(&mut self, name: &str) -> Value {
        if let Some((v, _)) = self.resources.get(name) {
            return v.clone();
        }
        let key = format!("resource {name}");
        if self.in_progress.contains(&key) {
            // A property refers back to a resource being evaluated: a cycle the graph
            // check reports; evaluation goes on with outputs only.
            return Value::Object(Default::default());
        }
        self.in_progress.push(key.clone());
        let mut deps = BTreeSet::new();
        let raw = self.program.resources[name].properties.clone();
        let v = self.value(&raw, &mut deps, &key);
        self.in_progress.pop();
        self.resources.insert(name.to_owned(), (v.clone(), deps));
        v
    }

    fn function(&mut self, name: &str, arg: &Value, deps: &mut BTreeSet<String>, at: &str) -> Value {
        match name {
            "toJSON" => {
                let v = self.value(arg, deps, at);
                Value::String(serde_json::to_string(&v).unwrap_or_default())
            }
            "secret" => self.value(arg, deps, at),
            "join" => match self.value(arg, deps, at) {
                Value::Array(a) if a.len() == 2 => match (&a[0], &a[1]) {
                    (Value::String(d), Value::Array(items)) => {
                        let parts: Option<Vec<String>> = items.iter().map(|i| i.as_str().map(str::to_owned)).collect();
                        match parts {
                            Some(p) => Value::String(p.join(d)),
                            None => self.error(at, "fn::join items must be strings".into()),
                        }
                    }
                    _ => self.error(at, "fn::join takes [delimiter, [items]]".into()),
                },
                _ => self.error(at, "fn::join takes [delimiter, [items]]".into()),
            },
            "split" => match self.value(arg, deps, at) {
                Value::Array(a) if a.len() == 2 => match (&a[0], &a[1]) {
                    (Value::String(d), Value::String(s)) => Value::Array(s.split(d.as_str()).map(|p| Value::String(p.to_owned())).collect()),
                    _ => self.error(at, "fn::split takes [delimiter, string]".into()),
                },
                _ => self.error(at, "fn::split takes [delimiter, string]".into()),
            },
            "select" => match self.value(arg, deps, at) {
                Value::Array(a) if a.len() == 2 => match (a[0].as_u64(), &a[1]) {
                    (Some(i), Value::Array(items)) => match items.get(i as usize) {
                        Some(v) => v.clone(),
                        None => self.error(at, format!("fn::select index {i} out of range")),
                    },
                    _ => self.error(at, "fn::select takes [index, [items]]".into()),
                },
                _ => self.error(at, "fn::select takes [index, [items]]".into()),
            },
            "fileArchive" | "fileAsset" | "stringAsset" => {
                let v = self.value(arg, deps, at);
                if !v.is_string() {
                    return self.error(at, format!("fn::{name} takes a string"));
                }
                let mut m = serde_json::Map::new();
                m.insert(format!("fn::{name}"), v);
                Value::Object(m)
            }
            "invoke" => self.invoke(arg, deps, at),
            other => self.error(at, format!("unknown function fn::{other}")),
        }
    }

    fn invoke(&mut self, arg: &Value, deps: &mut BTreeSet<String>, at: &str) -> Value {
        let Some(function) = arg.get("function").and_then(Value::as_str) else {
            return self.error(at, "fn::invoke needs a `function`".into());
        };
        let Some((_, fields)) = KNOWN_INVOKES.iter().find(|(f, _)| *f == function) else {
            return self.error(at, format!("fn::invoke of unknown function {function}"));
        };
        if let Some(a) = arg.get("arguments") {
            self.value(a, deps, at);
        }
        let field_value = |ctx: &Self, field: &str| match (function, field) {
            ("aws:getRegion", "region" | "name") => ctx.stack.config.get("aws:region").cloned().unwrap_or_else(|| placeholder("region")),
            ("aws:getCallerIdentity", "accountId") => placeholder("account-id"),
            _ => placeholder(&format!("{function}.{field}")),
        };
        match arg.get("return").and_then(Value::as_str) {
            Some(field) if fields.contains(&field) => field_value(self, field),
            Some(field) => self.error(at, format!("fn::invoke {function} returns no field {field:?}")),
            None => Value::Object(fields.iter().map(|f| ((*f).to_owned(), field_value(self, f))).collect()),
        }
    }
}

/// Evaluates `program` with `stack`'s config.
pub fn evaluate(program: &Program, stack: &Stack) -> Evaluated {
    let mut ctx = Ctx { program, stack, variables: BTreeMap::new(), resources: BTreeMap::new(), in_progress: Vec::new(), errors: Vec::new() };
    let own_prefix = format!("{}:", program.name);
    for key in stack.config.keys() {
        if let Some(k) = key.strip_prefix(&own_prefix)
            && !program.config.contains_key(k)
        {
            ctx.error(&format!("stack {}", stack.name), format!("config {key} is not declared in Pulumi.yaml"));
        }
    }
    for (key, decl) in &program.config {
        let full = format!("{own_prefix}{key}");
        if decl.get("default").is_none() && !stack.config.contains_key(&full) {
            ctx.error(&format!("stack {}", stack.name), format!("required config {full} is not set"));
        }
    }
    let mut resources = BTreeMap::new();
    for (name, decl) in &program.resources {
        let properties = ctx.resource(name);
        let mut deps = ctx.resources.get(name).map(|(_, d)| d.clone()).unwrap_or_default();
        let at = format!("resource {name} options");
        let options = ctx.value(&decl.options, &mut deps, &at);
        deps.remove(name);
        resources.insert(name.clone(), Resolved { type_: decl.type_.clone(), properties, options, deps });
    }
    let mut outputs = BTreeMap::new();
    for (name, raw) in &program.outputs {
        let mut deps = BTreeSet::new();
        let v = ctx.value(raw, &mut deps, &format!("output {name}"));
        outputs.insert(name.clone(), v);
    }
    Evaluated { project: program.name.clone(), stack: stack.name.clone(), resources, outputs, errors: ctx.errors }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_splits_and_escapes() {
        let parts = split_interpolation("a-${x.y}-$${literal}-$$").unwrap();
        let shown: Vec<String> = parts
            .iter()
            .map(|p| match p {
                Part::Lit(l) => format!("L({l})"),
                Part::Ref(r) => format!("R({r})"),
            })
            .collect();
        assert_eq!(shown, ["L(a-)", "R(x.y)", "L(-${literal}-$)"]);
        assert!(split_interpolation("${open").is_err());
    }

    #[test]
    fn paths_parse() {
        let (root, acc) = parse_path("res.list[2][\"k\"].f").unwrap();
        assert_eq!(root, "res");
        assert_eq!(acc, [Access::Key("list".into()), Access::Index(2), Access::Key("k".into()), Access::Key("f".into())]);
        assert_eq!(parse_path("aws:region").unwrap().0, "aws:region");
        assert!(parse_path("res..x").is_err());
        assert!(parse_path("a b").is_err());
    }

    #[test]
    fn placeholders_are_found() {
        assert_eq!(placeholder_refs("x ⟨q.arn⟩/y ⟨b⟩"), [("q".to_owned(), Some("arn".to_owned())), ("b".to_owned(), None)]);
    }
}
