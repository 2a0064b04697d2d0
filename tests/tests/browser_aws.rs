//! The web app in headless Chromium on the AWS profile: the stack on moto, the edge
//! stand-in derived from `Pulumi.yaml` in front of it, and `web/tests/e2e-aws.mjs`
//! driving the same journeys as the local browser test through it. Needs what `make test`
//! installs (Node.js, `web/node_modules`, a built `web/dist`, Debian's Chromium) and moto;
//! set `GEN3D_SKIP=web` to skip it, which it then says. Screenshots land in
//! `web/test-results/aws/`.

use gen3d_tests::aws::{AwsOptions, AwsStack};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_browser_journeys_pass_through_the_deployed_shape() {
    if !gen3d_testkit::runs("web", "the AWS-profile browser journeys") {
        return;
    }
    let Some(moto) = gen3d_tests::moto_url() else { return };
    let web = gen3d_tests::repo().join("web");
    assert!(web.join("dist/index.html").is_file(), "web/dist is not built: run `make web` (or set GEN3D_SKIP=web)");
    let stack = AwsStack::start(&moto, AwsOptions::default()).await;
    let edge = stack.edge().await;
    let out = web.join("test-results/aws");
    let (url, moto_url, dir, results) = (edge.web_url.clone(), moto.clone(), web.clone(), out.clone());
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .current_dir(&dir)
            .arg("tests/e2e-aws.mjs")
            .args(["--url", &url, "--moto", &moto_url])
            .arg("--out")
            .arg(&results)
            .status()
            .expect("node runs (install Node.js, or set GEN3D_SKIP=web)")
    })
    .await
    .expect("join");
    edge.stop();
    stack.stop().await;
    assert!(status.success(), "the AWS-profile browser journeys failed: see the output above and the screenshots in {}", out.display());
}
