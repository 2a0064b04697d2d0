//! Trust boundaries read from `Pulumi.yaml` itself (issue 16, decision 0012): a signed-in
//! user's browser holds no AWS credentials. No identity pool hands it any, and no IAM role
//! trusts Cognito identities; the browser reaches S3 only through the API's presigned URLs,
//! each for one key of its own.

mod common;

#[test]
fn browsers_get_no_aws_credentials() {
    for stack in ["dev", "prod"] {
        let ev = common::evaluated(stack);
        for kind in ["aws:cognito:IdentityPool", "aws:cognito:IdentityPoolRoleAttachment", "aws:cognito:IdentityPoolProviderPrincipalTag"] {
            let found: Vec<&String> = ev.of_type(kind).map(|(name, _)| name).collect();
            assert!(found.is_empty(), "{stack}: {kind} {found:?} would hand browsers AWS credentials (decision 0012)");
        }
        for (name, role) in ev.of_type("aws:iam:Role") {
            let trust = role.properties.get("assumeRolePolicy").map(|p| p.to_string()).unwrap_or_default();
            assert!(!trust.contains("cognito-identity.amazonaws.com"), "{stack}: role {name} trusts Cognito identities: {trust}");
            assert!(trust.contains("Service"), "{stack}: role {name} is assumed by something other than an AWS service: {trust}");
        }
    }
}

/// The intake reads the browser's click decoder from the web bucket for its server-side
/// masks (`GEN3D_WEB_BUCKET`), and nothing else there: the web bucket is the app.
#[test]
fn the_intake_reads_the_web_buckets_decoder_and_nothing_else_there() {
    use gen3d_infra::iam::{allows, role_statements};
    for stack in ["dev", "prod"] {
        let ev = common::evaluated(stack);
        let statements = role_statements(&ev, "intakeRole").unwrap();
        let vars = std::collections::BTreeMap::new();
        let can = |action: &str, key: &str| allows(&statements, action, &format!("⟨webBucket.arn⟩/{key}"), &vars);
        assert!(can("s3:GetObject", "models/decoder.onnx"), "{stack}: the intake reads models/decoder.onnx");
        for key in ["index.html", "config.json", "assets/index.js"] {
            assert!(!can("s3:GetObject", key), "{stack}: the intake reads the web bucket's {key}");
        }
        for action in ["s3:PutObject", "s3:DeleteObject"] {
            assert!(!can(action, "models/decoder.onnx"), "{stack}: the intake may {action} the decoder");
        }
    }
}

/// The done mail's download links (`links/` of the data bucket): notify writes them, the
/// intake reads them, neither does more there, and notify still cannot touch user files
/// beyond reading them.
#[test]
fn download_link_records_are_written_by_notify_and_read_by_the_intake_only() {
    use gen3d_infra::iam::{allows, role_statements};
    for stack in ["dev", "prod"] {
        let ev = common::evaluated(stack);
        let vars = std::collections::BTreeMap::new();
        let notify = role_statements(&ev, "notifyRole").unwrap();
        let intake = role_statements(&ev, "intakeRole").unwrap();
        let link = "⟨dataBucket.arn⟩/links/0123abcd.json";
        assert!(allows(&notify, "s3:PutObject", link, &vars), "{stack}: notify writes link records");
        assert!(!allows(&notify, "s3:GetObject", link, &vars), "{stack}: notify has no need to read them");
        assert!(!allows(&notify, "s3:PutObject", "⟨dataBucket.arn⟩/users/u/sessions/s/image", &vars), "{stack}: notify writes no user file");
        assert!(allows(&intake, "s3:GetObject", link, &vars), "{stack}: the intake resolves links");
        for action in ["s3:PutObject", "s3:DeleteObject"] {
            assert!(!allows(&intake, action, link, &vars), "{stack}: the intake may {action} link records");
        }
        for (name, role) in [
            ("embedding", "embeddingRole"),
            ("reconstruction", "reconstructionRole"),
            ("meshing", "meshingRole"),
            ("the GPU container", "sagemakerRole"),
        ] {
            let statements = role_statements(&ev, role).unwrap();
            assert!(!allows(&statements, "s3:GetObject", link, &vars), "{stack}: {name} reads link records");
        }
    }
}
