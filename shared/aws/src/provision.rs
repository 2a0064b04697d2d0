//! Creates the resources a stack's program would, on an emulator (moto) or a scratch
//! account: the pipeline queues with their dead-letter queues, the job table, a bucket,
//! a verified sender. Used by tests and by the local AWS-profile runs; production
//! resources come from `Pulumi.yaml`.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use gen3d_config::{ResourceNames, job_table};
use gen3d_ports::{PortError, QueueName};

use crate::error::classify;

/// Each pipeline queue and its `-dlq`, with a redrive policy of `max_receives`.
pub async fn create_queues(sdk: &aws_config::SdkConfig, names: &ResourceNames, max_receives: u32, visibility_s: u32) -> Result<(), PortError> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    for q in QueueName::PIPELINE {
        let dlq_name = names.queue(QueueName::pipeline(q).dead_letter().as_str());
        let dlq = sqs
            .create_queue()
            .queue_name(&dlq_name)
            .attributes(QueueAttributeName::MessageRetentionPeriod, "1209600")
            .send()
            .await
            .map_err(|e| classify(&format!("create {dlq_name}"), e))?;
        let dlq_url = dlq.queue_url().unwrap_or_default().to_owned();
        let arn = crate::sqs::queue_attribute(&sqs, &dlq_url, QueueAttributeName::QueueArn).await?.unwrap_or_default();
        let redrive = serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": max_receives}).to_string();
        let name = names.queue(q);
        sqs.create_queue()
            .queue_name(&name)
            .attributes(QueueAttributeName::RedrivePolicy, redrive)
            .attributes(QueueAttributeName::VisibilityTimeout, visibility_s.to_string())
            .send()
            .await
            .map_err(|e| classify(&format!("create {name}"), e))?;
    }
    Ok(())
}

/// The job table with the key schema of `gen3d_config::job_table`.
pub async fn create_job_table(sdk: &aws_config::SdkConfig, table: &str) -> Result<(), PortError> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let key = |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
    let build_err = |e: aws_sdk_dynamodb::error::BuildError| PortError::Internal(format!("table definition: {e}"));
    let mut req = ddb.create_table().table_name(table).billing_mode(BillingMode::PayPerRequest);
    for (name, kind) in job_table::KEY_ATTRIBUTES {
        let t = if kind == "N" { ScalarAttributeType::N } else { ScalarAttributeType::S };
        req = req.attribute_definitions(AttributeDefinition::builder().attribute_name(name).attribute_type(t).build().map_err(build_err)?);
    }
    let gsi = GlobalSecondaryIndex::builder()
        .index_name(job_table::BY_USER_INDEX)
        .key_schema(key(job_table::BY_USER_PARTITION, KeyType::Hash).map_err(build_err)?)
        .key_schema(key(job_table::BY_USER_SORT, KeyType::Range).map_err(build_err)?)
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .map_err(build_err)?;
    req.key_schema(key(job_table::PARTITION_KEY, KeyType::Hash).map_err(build_err)?)
        .key_schema(key(job_table::SORT_KEY, KeyType::Range).map_err(build_err)?)
        .global_secondary_indexes(gsi)
        .send()
        .await
        .map_err(|e| classify(&format!("create table {table}"), e))?;
    Ok(())
}

pub async fn create_bucket(sdk: &aws_config::SdkConfig, bucket: &str, path_style: bool) -> Result<(), PortError> {
    crate::s3::client(sdk, path_style).create_bucket().bucket(bucket).send().await.map_err(|e| classify(&format!("create bucket {bucket}"), e))?;
    Ok(())
}

/// Registers a sender identity (moto accepts it as verified at once).
pub async fn create_email_identity(sdk: &aws_config::SdkConfig, address: &str) -> Result<(), PortError> {
    aws_sdk_sesv2::Client::new(sdk)
        .create_email_identity()
        .email_identity(address)
        .send()
        .await
        .map_err(|e| classify(&format!("create identity {address}"), e))?;
    Ok(())
}

/// S3 → SQS: a photo uploaded under `users/…/image` (through its presigned URL) sends an
/// `ObjectCreated` event to the embedding queue, as `dataBucketNotifications` in
/// `Pulumi.yaml` does.
pub async fn notify_photo_uploads(sdk: &aws_config::SdkConfig, bucket: &str, names: &ResourceNames, path_style: bool) -> Result<(), PortError> {
    use aws_sdk_s3::types::{
        Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter,
    };
    let arn = crate::sqs::queue_arn(&aws_sdk_sqs::Client::new(sdk), &names.queue(QueueName::EMBEDDING)).await?;
    let rule = |name: FilterRuleName, value: &str| FilterRule::builder().name(name).value(value).build();
    let filter = NotificationConfigurationFilter::builder()
        .key(S3KeyFilter::builder().filter_rules(rule(FilterRuleName::Prefix, "users/")).filter_rules(rule(FilterRuleName::Suffix, "/image")).build())
        .build();
    let queue = QueueConfiguration::builder()
        .id("photo-uploaded")
        .queue_arn(arn)
        .events(Event::from("s3:ObjectCreated:*"))
        .filter(filter)
        .build()
        .map_err(|e| PortError::Internal(format!("notification: {e}")))?;
    crate::s3::client(sdk, path_style)
        .put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(NotificationConfiguration::builder().queue_configurations(queue).build())
        .send()
        .await
        .map_err(|e| classify(&format!("notifications of {bucket}"), e))?;
    Ok(())
}

/// A bucket CORS rule, as `aws:s3:BucketCorsConfiguration` declares it.
#[derive(Clone, Debug, Default)]
pub struct CorsRule {
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age_seconds: Option<i32>,
}

/// Sets the bucket's CORS rules (the browser's presigned requests meet them).
pub async fn put_bucket_cors(sdk: &aws_config::SdkConfig, bucket: &str, rules: &[CorsRule], path_style: bool) -> Result<(), PortError> {
    use aws_sdk_s3::types::{CorsConfiguration, CorsRule as SdkRule};
    let mut config = CorsConfiguration::builder();
    for r in rules {
        let rule = SdkRule::builder()
            .set_allowed_origins(Some(r.allowed_origins.clone()))
            .set_allowed_methods(Some(r.allowed_methods.clone()))
            .set_allowed_headers(Some(r.allowed_headers.clone()))
            .set_expose_headers(Some(r.expose_headers.clone()))
            .set_max_age_seconds(r.max_age_seconds)
            .build()
            .map_err(|e| PortError::Internal(format!("cors rule: {e}")))?;
        config = config.cors_rules(rule);
    }
    let config = config.build().map_err(|e| PortError::Internal(format!("cors configuration: {e}")))?;
    crate::s3::client(sdk, path_style)
        .put_bucket_cors()
        .bucket(bucket)
        .cors_configuration(config)
        .send()
        .await
        .map_err(|e| classify(&format!("put cors {bucket}"), e))?;
    Ok(())
}

/// Writes one object with its content type (a deployed site's files).
pub async fn put_object(
    sdk: &aws_config::SdkConfig,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    content_type: &str,
    path_style: bool,
) -> Result<(), PortError> {
    crate::s3::client(sdk, path_style)
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .body(body.into())
        .send()
        .await
        .map_err(|e| classify(&format!("put s3://{bucket}/{key}"), e))?;
    Ok(())
}

/// Reads one object and its content type; `None` if there is no such key.
pub async fn get_object(sdk: &aws_config::SdkConfig, bucket: &str, key: &str, path_style: bool) -> Result<Option<(Vec<u8>, String)>, PortError> {
    match crate::s3::client(sdk, path_style).get_object().bucket(bucket).key(key).send().await {
        Ok(out) => {
            let content_type = out.content_type().unwrap_or("binary/octet-stream").to_owned();
            let body = out.body.collect().await.map_err(|e| PortError::Unavailable(format!("read s3://{bucket}/{key}: {e}")))?;
            Ok(Some((body.into_bytes().to_vec(), content_type)))
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
        Err(e) => Err(classify(&format!("get s3://{bucket}/{key}"), e)),
    }
}
