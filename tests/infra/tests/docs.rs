//! The documents that describe the deployment agree with it (issue 20): the system
//! diagram in docs/architecture.md names exactly the program's queues, functions,
//! buckets, topics, table and endpoint; every link into docs/api.md lands on a heading;
//! every queue message type a diagram names exists; docs/cost.md prices the instance
//! types the stacks deploy; every decision record is listed and well formed.

mod common;

use std::collections::BTreeSet;

use gen3d_infra::evaluate;

fn read(path: &str) -> String {
    std::fs::read_to_string(common::repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fenced ```mermaid blocks of a Markdown file.
fn mermaid_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in md.lines() {
        match (&mut current, line.trim()) {
            (None, "```mermaid") => current = Some(String::new()),
            (Some(block), "```") => {
                out.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

/// Node ids declared in a flowchart: `id[label]`, `id[(label)]`, `id[[label]]`,
/// `id{{label}}`, `id([label])`.
fn flowchart_nodes(block: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in block.lines() {
        let line = line.trim();
        if line.starts_with("subgraph") || line.starts_with("flowchart") {
            continue;
        }
        let id: String = line.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if !id.is_empty() && line[id.len()..].starts_with(['[', '{', '(']) {
            out.insert(id);
        }
    }
    out
}

/// The program's resources a reader of the system diagram must find there.
const DRAWN_TYPES: &[&str] = &[
    "aws:sqs:Queue",
    "aws:lambda:Function",
    "aws:s3:Bucket",
    "aws:sns:Topic",
    "aws:dynamodb:Table",
    "aws:sagemaker:Endpoint",
    "aws:cloudfront:Distribution",
    "aws:apigatewayv2:Api",
    "aws:cognito:UserPool",
    "aws:cognito:IdentityPool",
    "aws:cloudwatch:EventRule",
];

/// Nodes of the diagram that are not resources of the program.
const NOT_RESOURCES: &[&str] = &["browser", "ses"];

#[test]
fn the_system_diagram_names_exactly_the_deployed_resources() {
    let doc = read("docs/architecture.md");
    let blocks = mermaid_blocks(&doc);
    let system = blocks.iter().find(|b| b.trim_start().starts_with("flowchart")).expect("a flowchart in docs/architecture.md");
    let nodes = flowchart_nodes(system);
    let program = common::program();
    for node in &nodes {
        if NOT_RESOURCES.contains(&node.as_str()) {
            continue;
        }
        assert!(program.resources.contains_key(node), "docs/architecture.md draws {node}, which Pulumi.yaml does not declare");
    }
    for (name, resource) in &program.resources {
        if DRAWN_TYPES.contains(&resource.type_.as_str()) {
            assert!(nodes.contains(name), "docs/architecture.md does not draw {name} ({})", resource.type_);
        }
    }
    // The SES identity node stands for the sender identity the program declares.
    assert!(program.resources.contains_key("senderIdentity"));
}

#[test]
fn the_system_diagram_draws_each_topic_subscription_filter() {
    let doc = read("docs/architecture.md");
    let program = common::program();
    let text = serde_json::to_string(&program.resources["embeddingResults"].properties).unwrap()
        + &serde_json::to_string(&program.resources["reconstructionResults"].properties).unwrap()
        + &serde_json::to_string(&program.resources["meshingResults"].properties).unwrap();
    for suffix in ["embed.request.json", "reconstruct.request.json", "mesh.request.json"] {
        assert!(text.contains(suffix), "Pulumi.yaml's subscriptions do not filter on {suffix}");
        assert!(doc.contains(&format!("filter {suffix}")), "docs/architecture.md does not draw the {suffix} filter");
    }
    let max_receive: Vec<String> = ["embeddingQueue", "reconstructionQueue", "meshingQueue", "notifyQueue"]
        .iter()
        .map(|q| serde_json::to_string(&program.resources[*q].properties).unwrap())
        .collect();
    for q in &max_receive {
        assert!(q.contains("maxReceiveCount") && q.contains('5'), "a queue's redrive policy changed: {q}");
    }
    assert!(doc.contains("5 receives"));
}

/// GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn links_into_the_api_reference_land_on_headings() {
    let api = read("docs/api.md");
    let anchors: BTreeSet<String> = api.lines().filter(|l| l.starts_with('#')).map(|l| anchor(l.trim_start_matches('#'))).collect();
    let mut checked = 0;
    for doc in ["docs/architecture.md", "docs/user-guide.md", "docs/cost.md"] {
        let text = read(doc);
        for (i, _) in text.match_indices("api.md#") {
            let rest = &text[i + "api.md#".len()..];
            let fragment: String = rest.chars().take_while(|c| *c != ')' && !c.is_whitespace()).collect();
            assert!(anchors.contains(&fragment), "{doc} links to api.md#{fragment}, which is not a heading of docs/api.md");
            checked += 1;
        }
    }
    let decisions = std::fs::read_dir(common::repo().join("docs/decisions")).unwrap();
    for entry in decisions {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, _) in text.match_indices("api.md#") {
            let rest = &text[i + "api.md#".len()..];
            let fragment: String = rest.chars().take_while(|c| *c != ')' && !c.is_whitespace()).collect();
            assert!(anchors.contains(&fragment), "{} links to api.md#{fragment}, not a heading", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} links checked");
}

#[test]
fn the_diagrams_name_only_real_queue_messages_and_routes() {
    let doc = read("docs/architecture.md");
    let messages = read("shared/domain/src/messages.rs");
    // Message variants in CamelCase and their wire tags in snake_case.
    let variants = ["EmbedRequested", "ReconstructRequested", "MeshRequested", "NotifyRequested", "SessionNotifyRequested"];
    for v in variants {
        assert!(messages.contains(&format!("    {v}({v}),")), "QueueMessage has no variant {v}");
    }
    let snake = |v: &str| {
        let mut s = String::new();
        for (i, c) in v.chars().enumerate() {
            if c.is_uppercase() && i > 0 {
                s.push('_');
            }
            s.push(c.to_ascii_lowercase());
        }
        s
    };
    for word in doc.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.ends_with("_requested") {
            assert!(variants.iter().any(|v| snake(v) == word), "docs/architecture.md names a queue message {word} that does not exist");
        }
        if word.ends_with("Requested") {
            assert!(variants.contains(&word), "docs/architecture.md names a queue message {word} that does not exist");
        }
    }
    // Every API route the flows call is documented in docs/api.md.
    let api = read("docs/api.md");
    for line in doc.lines() {
        for method in ["GET ", "POST ", "PUT "] {
            if let Some(i) = line.find(&format!("{method}/v1/")) {
                let route: String = line[i..].chars().take_while(|c| !c.is_whitespace() || *c == ' ').collect();
                let path: String = route.split_whitespace().nth(1).unwrap().chars().take_while(|c| *c != '?').collect();
                assert!(api.contains(&format!("{method}{path}")), "docs/architecture.md calls {method}{path}, which docs/api.md does not document");
            }
        }
    }
}

#[test]
fn the_cost_page_prices_the_deployed_instance_types() {
    let cost = read("docs/cost.md");
    let program = common::program();
    for stack in common::stacks() {
        let ev = evaluate(&program, &stack);
        for (_, config) in ev.of_type("aws:sagemaker:EndpointConfiguration") {
            for variant in config.properties["productionVariants"].as_array().unwrap() {
                let instance = variant["instanceType"].as_str().unwrap();
                let row = format!("| {} | `{instance}` |", stack.name);
                assert!(cost.contains(&row), "docs/cost.md has no row `{row}` for the {} stack's endpoint", stack.name);
            }
        }
        let max = stack.config.get("gen3d:maxInstances").and_then(|v| v.as_u64()).unwrap_or(1);
        assert!(
            cost.contains(&format!("{} stack: at most {max} instance", stack.name)),
            "docs/cost.md does not state the {} stack's maxInstances ({max})",
            stack.name
        );
    }
}

#[test]
fn every_decision_record_is_well_formed_and_listed() {
    let dir = common::repo().join("docs/decisions");
    let index = read("docs/decisions/README.md");
    let mut numbers = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "README.md" {
            continue;
        }
        let number: u32 = name[..4].parse().unwrap_or_else(|_| panic!("{name}: not NNNN-title.md"));
        numbers.push(number);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(&format!("# {:04}. ", number)), "{name}: the title must be `# {number:04}. …`");
        for section in ["Status:", "## Context", "## Options", "## Decision", "## Consequences"] {
            assert!(text.contains(section), "{name} has no {section:?}");
        }
        assert!(index.contains(&format!("]({name})")), "docs/decisions/README.md does not list {name}");
    }
    numbers.sort();
    assert_eq!(numbers, (1..=numbers.len() as u32).collect::<Vec<_>>(), "decision records are not numbered 1..N without gaps");
    assert!(numbers.len() >= 10, "issue 20 asks for 9 records besides 0001");
}
