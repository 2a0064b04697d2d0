//! Trust boundaries read from `Pulumi.yaml` itself (issue 16): what a signed-in user's
//! browser credentials (the identity pool's authenticated role) can write in the data
//! bucket.

mod common;

use std::collections::BTreeMap;

use gen3d_infra::iam::{allows, role_statements};
use serde_json::Value;

/// The roles the identity pools hand to signed-in users.
fn browser_roles(ev: &gen3d_infra::Evaluated) -> Vec<String> {
    let roles: Vec<String> = ev
        .of_type("aws:cognito:IdentityPoolRoleAttachment")
        .flat_map(|(_, r)| r.properties.get("roles").and_then(Value::as_object).cloned().unwrap_or_default().into_values())
        .filter_map(|v| v.as_str().and_then(|s| s.strip_prefix('⟨')).and_then(|s| s.split('.').next()).map(str::to_owned))
        .collect();
    assert!(!roles.is_empty(), "no identity pool role found");
    roles
}

#[test]
fn browser_credentials_write_nothing_but_their_own_photos() {
    for stack in ["dev", "prod"] {
        let ev = common::evaluated(stack);
        let bucket = "⟨dataBucket.arn⟩";
        for role in browser_roles(&ev) {
            let statements = role_statements(&ev, &role).unwrap();
            let vars = BTreeMap::from([("aws:PrincipalTag/sub", "user-a")]);
            let can = |action: &str, key: &str| allows(&statements, action, &format!("{bucket}/{key}"), &vars);
            let own = "users/user-a/sessions/s1";
            assert!(can("s3:PutObject", &format!("{own}/image")), "{stack}/{role}: a user uploads their photo");
            assert!(can("s3:GetObject", &format!("{own}/objects/o1/mesh.glb")), "{stack}/{role}: a user reads their mesh");
            let never = [
                format!("{own}/embed.request.json"),
                format!("{own}/embeddings.g3e"),
                format!("{own}/objects/o1/reconstruct.request.json"),
                format!("{own}/objects/o1/mesh.request.json"),
                format!("{own}/objects/o1/mask.png"),
                format!("{own}/objects/o1/splat.ply"),
                format!("{own}/objects/o1/mesh.glb"),
                "users/user-b/sessions/s1/image".to_owned(),
                "users/user-a-x/sessions/s1/image".to_owned(),
                "inference/output/x.out".to_owned(),
                "accounts/x.json".to_owned(),
            ];
            for key in &never {
                for action in ["s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl"] {
                    assert!(!can(action, key), "{stack}/{role}: browser credentials may {action} {key}");
                }
            }
            assert!(!can("s3:GetObject", "users/user-b/sessions/s1/image"), "{stack}/{role}: reads another user's photo");
        }
    }
}
