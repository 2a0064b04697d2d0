//! The `Topic` port on SNS.

use async_trait::async_trait;
use gen3d_config::{ResourceNames, Service};
use gen3d_ports::{PortError, QueueName, Topic};

use crate::error::classify;

/// An SNS topic. SageMaker publishes inference results itself in AWS; the local
/// async-endpoint stand-in publishes through this when it runs against SNS (moto).
pub struct SnsTopic {
    client: aws_sdk_sns::Client,
    arn: String,
}

impl SnsTopic {
    pub fn new(client: aws_sdk_sns::Client, arn: &str) -> Self {
        Self { client, arn: arn.to_owned() }
    }

    pub fn from_sdk(sdk: &aws_config::SdkConfig, arn: &str) -> Self {
        Self::new(aws_sdk_sns::Client::new(sdk), arn)
    }
}

#[async_trait]
impl Topic for SnsTopic {
    async fn publish(&self, body: &str) -> Result<(), PortError> {
        self.client.publish().topic_arn(&self.arn).message(body).send().await.map_err(|e| classify(&format!("publish to {}", self.arn), e))?;
        Ok(())
    }
}

/// The inference-results topic and one subscription per inferring service's queue, as
/// `Pulumi.yaml` has them: the filter keeps the results whose request document is that
/// service's (`requestParameters.inputLocation` ends with its file name). Returns the
/// topic's ARN.
pub async fn create_inference_topic(sdk: &aws_config::SdkConfig, names: &ResourceNames) -> Result<String, PortError> {
    let sns = aws_sdk_sns::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let name = names.inference_topic();
    let topic = sns.create_topic().name(&name).send().await.map_err(|e| classify(&format!("create topic {name}"), e))?;
    let arn = topic.topic_arn().unwrap_or_default().to_owned();
    for service in Service::ALL {
        let (Some(queue), Some(file)) = (service.consumes(), service.inference_request_file()) else {
            continue;
        };
        let queue_name = names.queue(QueueName::pipeline(queue).as_str());
        let queue_arn = crate::sqs::queue_arn(&sqs, &queue_name).await?;
        let filter = serde_json::json!({"requestParameters": {"inputLocation": [{"suffix": format!("/{file}")}]}}).to_string();
        sns.subscribe()
            .topic_arn(&arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .attributes("FilterPolicyScope", "MessageBody")
            .attributes("FilterPolicy", filter)
            .send()
            .await
            .map_err(|e| classify(&format!("subscribe {queue_name}"), e))?;
    }
    Ok(arn)
}
