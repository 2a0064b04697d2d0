//! `scripts/smoke.sh` (curl and jq, as an operator runs it after `pulumi up`) against the
//! AWS profile on moto behind the edge stand-in derived from `Pulumi.yaml`: Cognito
//! sign-up and sign-in of two users, photos straight to S3, embeddings, masks, objects,
//! GLBs, and neither user seeing the other's session. `tests/smoke-local.sh` runs the
//! same script against `gen3d serve`.

use gen3d_tests::aws::{AwsOptions, AwsStack};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_smoke_script_passes_through_the_deployed_shape() {
    let Some(moto) = gen3d_tests::moto_url() else { return };
    let stack = AwsStack::start(&moto, AwsOptions::default()).await;
    let edge = stack.edge().await;
    let (url, script) = (edge.web_url.clone(), gen3d_tests::repo().join("scripts/smoke.sh"));
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .arg(&script)
            .arg(&url)
            // moto confirms a sign-up with any code.
            .env("SMOKE_CONFIRM_CODE", "123456")
            .output()
            .expect("bash runs")
    })
    .await
    .expect("join");
    edge.stop();
    stack.stop().await;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "scripts/smoke.sh failed through the edge:\n{text}");
    assert!(text.contains("users are isolated") && text.contains("sign-in: cognito"), "{text}");
}
