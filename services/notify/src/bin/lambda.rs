//! `gen3d-lambda-notify`: the notify service (mail the owner and the admin when an
//! object ends) as an SQS-fed Lambda, sending through SES v2.

use std::sync::Arc;

use gen3d_config::Service;
use gen3d_notify::{NotifyConfig, NotifyService};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    gen3d_lambda::run_queue_service(Service::Notify, |ports, config| {
        let notify = NotifyConfig::from_settings(&config.settings).expect("ServiceConfig::from_env(Service::Notify) yields notify settings");
        Arc::new(NotifyService::new(ports, notify))
    })
    .await
}
