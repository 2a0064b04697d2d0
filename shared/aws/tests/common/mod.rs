//! moto server for the AWS-side tests. `make test` (and `.ci/run`) start one and set
//! `GEN3D_MOTO_URL`; without it these tests fail, unless `GEN3D_SKIP=moto` asks to skip
//! them (they then say so and check nothing).
#![allow(dead_code)]

use gen3d_config::ResourceNames;

pub struct Moto {
    pub url: String,
    pub sdk: aws_config::SdkConfig,
}

pub async fn moto() -> Option<Moto> {
    let url = gen3d_testkit::moto_url("the AWS adapters' check against moto")?;
    let sdk = gen3d_aws::sdk_config(Some(&url), Some("us-east-1")).await;
    Some(Moto { url, sdk })
}

/// A fresh resource prefix per test, so tests share one moto without meeting.
pub fn fresh_names() -> ResourceNames {
    ResourceNames::new(&format!("t{:012x}", rand_u64() & 0xffff_ffff_ffff)).expect("valid prefix")
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.finish()
}

/// Mails moto's SES has accepted: (subject, text, html, recipients).
pub fn moto_sent_mail(url: &str) -> Vec<(String, String, String, Vec<String>)> {
    // moto's state dump can fail for a moment while a Cognito call is under way: retry.
    let read = || ureq::get(&format!("{url}/moto-api/data.json")).call().ok()?.body_mut().with_config().limit(1 << 30).read_json().ok();
    let mut data: Option<serde_json::Value> = None;
    for _ in 0..50 {
        data = read();
        if data.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let data = data.expect("moto's data.json answered");
    let mut out = Vec::new();
    for m in data["ses"]["Message"].as_array().cloned().unwrap_or_default() {
        let subject = m["subject"].as_str().unwrap_or_default().to_owned();
        // moto keeps one body: the HTML part when there is one.
        let body = m["body"].as_str().unwrap_or_default().to_owned();
        let (text, html) = (body.clone(), body);
        let to = m["destinations"]["ToAddresses"]
            .as_array()
            .or(m["destinations"].as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        out.push((subject, text, html, to));
    }
    out
}
