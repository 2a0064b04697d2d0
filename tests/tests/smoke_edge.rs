//! `scripts/smoke.sh` (curl and jq, as an operator runs it after `pulumi up`) against the
//! AWS profile on moto behind the edge stand-in derived from `Pulumi.yaml`: two users made
//! as an administrator (Cognito AdminCreateUser), signed in; photos, embeddings, masks,
//! objects, GLBs and splats; the owner's mail and the admin's copy from moto's SES; what
//! must be refused. `tests/smoke-local.sh` runs the same script against `gen3d serve`.

use gen3d_tests::aws::{AwsOptions, AwsStack};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_smoke_script_passes_through_the_deployed_shape() {
    let Some(moto) = gen3d_tests::moto_url() else { return };
    let stack = AwsStack::start(&moto, AwsOptions::default()).await;
    let edge = stack.edge().await;
    let (url, script) = (edge.web_url.clone(), gen3d_tests::repo().join("scripts/smoke.sh"));
    let (pool, mailbox) = (stack.user.pool_id.clone(), moto.clone());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .arg(&script)
            .arg(&url)
            // The users made as an administrator would (AdminCreateUser, signed with
            // these credentials, which moto accepts), the mail read back from moto's SES.
            .env("SMOKE_USER_POOL_ID", pool)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_SESSION_TOKEN")
            .env("SMOKE_MOTO", mailbox)
            .output()
            .expect("bash runs")
    })
    .await
    .expect("join");
    edge.stop();
    stack.stop().await;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "scripts/smoke.sh failed through the edge:\n{text}");
    for step in [
        "sign-in: cognito",
        "(G3DE)",
        "Gaussians",
        "users are isolated",
        "A: mailed",
        "B: mailed",
        "A: the mail's 24-hour link downloads the GLB without signing in",
        "a tampered token (401",
        "a truncated photo",
        "smoke: passed",
    ] {
        assert!(text.contains(step), "the smoke run did not report {step:?}:\n{text}");
    }
}
