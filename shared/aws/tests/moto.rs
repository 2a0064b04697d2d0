//! The AWS adapters against moto server, through the same suites as the embedded ones.

mod common;
mod conformance;

use gen3d_aws::{DynamoJobStore, S3BlobStore, SesMailer, SqsQueue, provision};

/// A new bucket on moto and the store on it.
async fn fresh_bucket(moto: &common::Moto) -> (String, S3BlobStore) {
    let bucket = format!("{}-data", common::fresh_names().prefix());
    provision::create_bucket(&moto.sdk, &bucket, true).await.unwrap();
    let store = S3BlobStore::from_sdk(&moto.sdk, &bucket, true);
    (bucket, store)
}

#[tokio::test]
async fn s3_blob_store() {
    let Some(moto) = common::moto().await else {
        return;
    };
    let (bucket, store) = fresh_bucket(&moto).await;
    conformance::blob::suite(&store, &format!("s3://{bucket}/")).await;
}

#[tokio::test]
async fn s3_delete_removes_every_version_in_a_versioned_bucket() {
    // The data bucket is versioned (Pulumi `dataBucketVersioning`): a plain delete would
    // keep the bytes as a noncurrent version, which a user's delete must not.
    let Some(moto) = common::moto().await else {
        return;
    };
    let (bucket, store) = fresh_bucket(&moto).await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&moto.sdk).force_path_style(true).build());
    let enabled = aws_sdk_s3::types::VersioningConfiguration::builder().status(aws_sdk_s3::types::BucketVersioningStatus::Enabled).build();
    s3.put_bucket_versioning().bucket(&bucket).versioning_configuration(enabled).send().await.unwrap();
    let key = gen3d_domain::ObjectKey::parse("users/u1/sessions/s1/objects/o1/mesh.glb").unwrap();
    let next_door = gen3d_domain::ObjectKey::parse("users/u1/sessions/s1/objects/o1/mesh.obj").unwrap();
    use gen3d_ports::BlobStore;
    for bytes in [&b"one"[..], b"two"] {
        store.put(&key, bytes::Bytes::copy_from_slice(bytes), "model/gltf-binary").await.unwrap();
    }
    store.put(&next_door, bytes::Bytes::from_static(b"stays"), "text/plain").await.unwrap();
    let versions = |s3: aws_sdk_s3::Client, bucket: String| async move {
        let out = s3.list_object_versions().bucket(bucket).prefix("users/u1/").send().await.unwrap();
        let mut keys: Vec<String> = out.versions().iter().filter_map(|v| v.key().map(str::to_owned)).collect();
        keys.extend(out.delete_markers().iter().filter_map(|m| m.key().map(|k| format!("{k} (marker)"))));
        keys.sort();
        keys
    };
    assert_eq!(versions(s3.clone(), bucket.clone()).await.iter().filter(|k| k.ends_with("mesh.glb")).count(), 2, "two versions before");
    store.delete(&key).await.unwrap();
    let left = versions(s3.clone(), bucket.clone()).await;
    assert_eq!(left, [next_door.as_str().to_owned()], "no version or marker of the deleted key is left");
    store.delete(&key).await.unwrap();
}

#[tokio::test]
async fn s3_presigned_urls_upload_and_download_one_key() {
    let Some(moto) = common::moto().await else {
        return;
    };
    let (_, store) = fresh_bucket(&moto).await;
    let key = gen3d_domain::ObjectKey::parse("users/u1/sessions/s1/image").unwrap();
    let put = store.presigned_put(&key, Some("image/jpeg"), std::time::Duration::from_secs(3600)).await.unwrap();
    assert!(put.contains("X-Amz-Expires=900"), "expiry is capped at 15 minutes: {put}");
    assert!(put.contains("/users/u1/sessions/s1/image"), "{put}");
    ureq::put(&put).header("content-type", "image/jpeg").send(&b"photo"[..]).expect("upload through the URL");
    let get = store.presigned_get(&key, std::time::Duration::from_secs(60)).await.unwrap();
    let body = ureq::get(&get).call().expect("download").body_mut().read_to_vec().unwrap();
    assert_eq!(body, b"photo");
}

#[tokio::test]
async fn sqs_queue() {
    let Some(moto) = common::moto().await else {
        return;
    };
    let names = common::fresh_names();
    provision::create_queues(&moto.sdk, &names, 3, 30).await.unwrap();
    let queue = SqsQueue::connect(aws_sdk_sqs::Client::new(&moto.sdk), names).await.unwrap();
    assert_eq!(gen3d_ports::Queue::max_receives(&queue, &gen3d_ports::QueueName::pipeline("meshing")), 3, "read from the redrive policy");
    conformance::queue::suite(&queue).await;
}

#[tokio::test]
async fn sqs_queue_needs_its_queues() {
    let Some(moto) = common::moto().await else {
        return;
    };
    let err = SqsQueue::connect(aws_sdk_sqs::Client::new(&moto.sdk), common::fresh_names()).await.err().expect("no queues, no connection");
    assert!(matches!(err, gen3d_ports::PortError::NotFound(_)), "{err}");
}

#[tokio::test]
async fn dynamodb_job_store() {
    let Some(moto) = common::moto().await else {
        return;
    };
    let names = common::fresh_names();
    provision::create_job_table(&moto.sdk, &names.job_table()).await.unwrap();
    let store = DynamoJobStore::new(aws_sdk_dynamodb::Client::new(&moto.sdk), &names.job_table(), 7);
    conformance::jobs::suite(&store).await;
    // Every item expires `ttl_days` after its last update (the stack's `jobTtlDays`).
    let items = aws_sdk_dynamodb::Client::new(&moto.sdk).scan().table_name(names.job_table()).send().await.unwrap();
    let items = items.items();
    assert!(!items.is_empty());
    for item in items {
        let expires: u64 = item[gen3d_config::job_table::TTL_ATTRIBUTE].as_n().unwrap().parse().unwrap();
        let updated_ms: u64 = item[gen3d_config::job_table::BY_USER_SORT].as_n().unwrap().parse().unwrap();
        assert_eq!(expires, updated_ms / 1000 + 7 * 86_400);
    }
}

/// SES's refusal of an unverified sender (moto checks the sender only, as SES outside its
/// sandbox does) names the sender: the operator's to fix, so not `Invalid` (which would
/// record the owner's mail as undeliverable) but an error the message is retried on.
#[tokio::test]
async fn sesv2_an_unverified_sender_is_not_an_undeliverable_owner() {
    let Some(moto) = common::moto().await else {
        return;
    };
    let mailer = SesMailer::new(aws_sdk_sesv2::Client::new(&moto.sdk));
    let key = common::fresh_names().prefix().to_owned();
    let mail = gen3d_ports::Email {
        from: gen3d_domain::EmailAddress::parse(&format!("{key}@unverified.gen3d.example")).unwrap(),
        ..conformance::mail::email(&key)
    };
    match gen3d_ports::Mailer::send(&mailer, &mail).await {
        Err(gen3d_ports::PortError::Invalid(m)) => panic!("a sender's problem taken for the recipient's: {m}"),
        Err(e) => assert!(e.to_string().contains("not verified"), "{e}"),
        Ok(()) => panic!("moto sent mail from an unverified sender"),
    }
}

#[tokio::test]
async fn sesv2_mailer() {
    let Some(moto) = common::moto().await else {
        return;
    };
    provision::create_email_identity(&moto.sdk, "no-reply@gen3d.example").await.unwrap();
    let mailer = SesMailer::new(aws_sdk_sesv2::Client::new(&moto.sdk));
    let key = common::fresh_names().prefix().to_owned();
    let url = moto.url.clone();
    conformance::mail::suite(&mailer, &key, || {
        let url = url.clone();
        async move { tokio::task::spawn_blocking(move || common::moto_sent_mail(&url)).await.unwrap() }
    })
    .await;
}
