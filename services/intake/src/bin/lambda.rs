//! `gen3d-lambda-intake`: the HTTP API behind API Gateway, through `lambda_http` with
//! the same axum router as `gen3d serve`, Cognito ID tokens instead of local accounts, and
//! the web bucket's click decoder (the browser's) for server-side masks.

use std::sync::Arc;

use gen3d_config::{Service, ServiceSettings};
use gen3d_intake::{AppState, Auth, CognitoAuth, ServerDecoder};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    gen3d_lambda::init_tracing();
    let gen3d_lambda::Connected { config, ports, sdk, path_style } = gen3d_lambda::connect_sdk(Service::Intake).await?;
    let ServiceSettings::Intake { user_pool_id, user_pool_client_id, limits, web_bucket } = config.settings.clone() else {
        unreachable!("ServiceConfig::from_env(Service::Intake) yields intake settings")
    };
    let region = gen3d_config::aws_region()?;
    let issuer = CognitoAuth::issuer(&region, &user_pool_id);
    let jwks_url = format!("{issuer}/.well-known/jwks.json");
    let auth = tokio::task::spawn_blocking(move || CognitoAuth::fetch(&issuer, &user_pool_client_id, &jwks_url)).await??;
    let decoder = ServerDecoder::web_bucket(Arc::new(gen3d_aws::S3BlobStore::from_sdk(&sdk, &web_bucket, path_style)));
    let state = AppState { ports, decoder, auth: Arc::new(Auth::Cognito(auth)), limits };
    lambda_http::run(gen3d_intake::app(state)).await
}
