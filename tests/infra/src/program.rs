//! Loading `Pulumi.yaml` and a stack's config into a resource inventory.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} is not valid YAML: {source}")]
    Yaml { path: String, source: serde_norway::Error },
    #[error("{path}: {reason}")]
    Shape { path: String, reason: String },
}

/// One resource declaration: `type`, `properties`, `options`.
#[derive(Clone, Debug)]
pub struct Resource {
    pub type_: String,
    pub properties: Value,
    pub options: Value,
}

/// A Pulumi YAML program (`Pulumi.yaml`).
#[derive(Clone, Debug)]
pub struct Program {
    pub name: String,
    pub runtime: String,
    /// Declared config keys: their `type` and optional `default`.
    pub config: BTreeMap<String, Value>,
    pub variables: BTreeMap<String, Value>,
    pub resources: BTreeMap<String, Resource>,
    pub outputs: BTreeMap<String, Value>,
}

/// A stack's settings (`Pulumi.<stack>.yaml`): namespaced config keys such as
/// `gen3d:adminEmail` or `aws:region`.
#[derive(Clone, Debug)]
pub struct Stack {
    pub name: String,
    pub config: BTreeMap<String, Value>,
}

fn read_yaml(path: &Path) -> Result<Value, LoadError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read { path: shown.clone(), source })?;
    serde_norway::from_str(&text).map_err(|source| LoadError::Yaml { path: shown, source })
}

fn object(value: Option<&Value>, what: &str, path: &str) -> Result<serde_json::Map<String, Value>, LoadError> {
    match value {
        None | Some(Value::Null) => Ok(serde_json::Map::new()),
        Some(Value::Object(map)) => Ok(map.clone()),
        Some(_) => Err(LoadError::Shape { path: path.to_owned(), reason: format!("`{what}` must be a mapping") }),
    }
}

impl Program {
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let root = read_yaml(path)?;
        Self::from_value(&root, &path.display().to_string())
    }

    pub fn from_value(root: &Value, path: &str) -> Result<Self, LoadError> {
        let shape = |reason: String| LoadError::Shape { path: path.to_owned(), reason };
        let name = root.get("name").and_then(Value::as_str).ok_or_else(|| shape("missing `name`".into()))?.to_owned();
        let runtime = root.get("runtime").and_then(Value::as_str).unwrap_or_default().to_owned();
        if runtime != "yaml" {
            return Err(shape(format!("`runtime` must be yaml, found {runtime:?}")));
        }
        let mut resources = BTreeMap::new();
        for (key, decl) in object(root.get("resources"), "resources", path)? {
            let type_ = decl.get("type").and_then(Value::as_str).ok_or_else(|| shape(format!("resource {key} has no `type`")))?.to_owned();
            let properties = decl.get("properties").cloned().unwrap_or(Value::Object(Default::default()));
            let options = decl.get("options").cloned().unwrap_or(Value::Object(Default::default()));
            resources.insert(key, Resource { type_, properties, options });
        }
        Ok(Self {
            name,
            runtime,
            config: object(root.get("config"), "config", path)?.into_iter().collect(),
            variables: object(root.get("variables"), "variables", path)?.into_iter().collect(),
            resources,
            outputs: object(root.get("outputs"), "outputs", path)?.into_iter().collect(),
        })
    }

    /// The stack files beside `Pulumi.yaml`, by stack name.
    pub fn stack_files(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>, LoadError> {
        let entries = std::fs::read_dir(dir).map_err(|source| LoadError::Read { path: dir.display().to_string(), source })?;
        let mut stacks: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter_map(|p| {
                let file = p.file_name()?.to_str()?.to_owned();
                let stack = file.strip_prefix("Pulumi.")?.strip_suffix(".yaml")?.to_owned();
                (!stack.is_empty()).then_some((stack, p))
            })
            .collect();
        stacks.sort();
        Ok(stacks)
    }
}

impl Stack {
    pub fn load(name: &str, path: &Path) -> Result<Self, LoadError> {
        let root = read_yaml(path)?;
        let config = object(root.get("config"), "config", &path.display().to_string())?.into_iter().collect();
        Ok(Self { name: name.to_owned(), config })
    }
}
