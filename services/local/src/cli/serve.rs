//! `gen3d serve`: the API, the web app and every worker on one port (local accounts, or a
//! Cognito pool's ID tokens).

use super::*;

/// A Cognito user pool whose ID tokens `gen3d serve` accepts.
pub(super) struct CognitoPool {
    pub(super) region: String,
    pub(super) pool: String,
    pub(super) client: String,
    pub(super) endpoint: Option<String>,
}

impl CognitoPool {
    /// Cognito's API endpoint, where the web app signs in.
    fn endpoint(&self) -> String {
        self.endpoint.clone().unwrap_or_else(|| format!("https://cognito-idp.{}.amazonaws.com", self.region))
    }

    /// The verifier: the pool's issuer, its JWKS (at the issuer, or under the custom
    /// endpoint as moto serves it) and the app client as audience.
    async fn auth(&self) -> anyhow::Result<gen3d_intake::CognitoAuth> {
        let issuer = gen3d_intake::CognitoAuth::issuer(&self.region, &self.pool);
        let jwks = match &self.endpoint {
            Some(e) => format!("{}/{}/.well-known/jwks.json", e.trim_end_matches('/'), self.pool),
            None => format!("{issuer}/.well-known/jwks.json"),
        };
        let client = self.client.clone();
        tokio::task::spawn_blocking(move || gen3d_intake::CognitoAuth::fetch(&issuer, &client, &jwks)).await?.map_err(anyhow::Error::msg)
    }

    /// What the web app reads from `/config.json` to sign in.
    fn web_config(&self) -> Value {
        json!({"auth": "cognito", "cognito": {"endpoint": self.endpoint(), "region": self.region, "clientId": self.client}})
    }
}

/// Where and how `gen3d serve` listens.
pub(super) struct Listen {
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) header_timeout: Duration,
}

pub(super) async fn serve(mut config: LocalConfig, listen: Listen, web_dir: Option<PathBuf>, cognito: Option<CognitoPool>) -> anyhow::Result<()> {
    let Listen { host, port, header_timeout } = listen;
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await.with_context(|| format!("failed to listen on {host}:{port}"))?;
    let addr = listener.local_addr()?;
    config.app_url = format!("http://{addr}");
    let mut stack = LocalStack::open(config)?;
    let web_config = match &cognito {
        Some(pool) => {
            let auth = pool.auth().await.context("cannot set up Cognito sign-in")?;
            stack.api.auth = Arc::new(gen3d_intake::Auth::Cognito(auth));
            pool.web_config()
        }
        None => json!({"auth": "local"}),
    };
    let workers = stack.start_workers()?;
    println!("gen3d listening on http://{addr} (data in {})", stack.config.data_dir.display());
    // On stderr: callers read the listening line from stdout and may close it.
    match &web_dir {
        Some(dir) => tracing::info!("serving the web app from {}", dir.display()),
        None => tracing::warn!("the web app is not built (run `make web`): serving the API only"),
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let app = crate::web::with_web_app(stack.router(), web_dir, web_config, stack.decoder.clone());
    crate::http::serve(listener, app, header_timeout, shutdown).await;
    workers.stop().await;
    Ok(())
}
