//! The deployable services: one Lambda function each in AWS, one worker each locally,
//! with the queue each consumes.

use std::fmt;

use gen3d_domain::{ObjectFile, SessionFile};

/// A deployable service: one Lambda function each in AWS, one worker each locally.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    Intake,
    Embedding,
    Reconstruction,
    Meshing,
    Notify,
}

/// Variables every service reads.
pub const COMMON_ENV: [&str; 6] = [env::STACK, env::RESOURCE_PREFIX, env::BUCKET, env::TABLE, env::METRICS_NAMESPACE, env::JOB_TTL_DAYS];

/// The environment variable names.
pub mod env {
    pub const STACK: &str = "GEN3D_STACK";
    pub const RESOURCE_PREFIX: &str = "GEN3D_RESOURCE_PREFIX";
    pub const BUCKET: &str = "GEN3D_BUCKET";
    pub const TABLE: &str = "GEN3D_TABLE";
    pub const METRICS_NAMESPACE: &str = "GEN3D_METRICS_NAMESPACE";
    /// Days after its last update a job record expires (the table's TTL attribute).
    pub const JOB_TTL_DAYS: &str = "GEN3D_JOB_TTL_DAYS";
    pub const USER_POOL_ID: &str = "GEN3D_USER_POOL_ID";
    pub const USER_POOL_CLIENT_ID: &str = "GEN3D_USER_POOL_CLIENT_ID";
    pub const LIMIT_OBJECTS_IN_FLIGHT: &str = "GEN3D_LIMIT_OBJECTS_IN_FLIGHT";
    pub const LIMIT_OBJECTS_PER_DAY: &str = "GEN3D_LIMIT_OBJECTS_PER_DAY";
    pub const LIMIT_PHOTOS_PER_HOUR: &str = "GEN3D_LIMIT_PHOTOS_PER_HOUR";
    /// Read by the intake: the web app's bucket, whose `models/decoder.onnx` (the browser's
    /// click decoder) the server-side decode runs too.
    pub const WEB_BUCKET: &str = "GEN3D_WEB_BUCKET";
    pub const ENDPOINT_NAME: &str = "GEN3D_ENDPOINT_NAME";
    pub const MAIL_FROM: &str = "GEN3D_MAIL_FROM";
    pub const ADMIN_EMAIL: &str = "GEN3D_ADMIN_EMAIL";
    pub const APP_URL: &str = "GEN3D_APP_URL";
    /// Read by notify: the API's base URL, under which the done mail's download link lives.
    pub const API_URL: &str = "GEN3D_API_URL";
    /// Read by the inference container: the bucket its task documents point into.
    pub const CONTAINER_BLOB_BUCKET: &str = "GEN3D_BLOB_BUCKET";
    /// Read by the inference container: how many tasks run at once.
    pub const CONTAINER_MAX_CONCURRENCY: &str = "GEN3D_MAX_CONCURRENCY";
}

impl Service {
    pub const ALL: [Service; 5] = [Service::Intake, Service::Embedding, Service::Reconstruction, Service::Meshing, Service::Notify];

    pub fn name(self) -> &'static str {
        match self {
            Service::Intake => "intake",
            Service::Embedding => "embedding",
            Service::Reconstruction => "reconstruction",
            Service::Meshing => "meshing",
            Service::Notify => "notify",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == raw)
    }

    /// The pipeline queue that triggers the service; the intake API is triggered by HTTP.
    pub fn consumes(self) -> Option<&'static str> {
        match self {
            Service::Intake => None,
            Service::Embedding => Some("embedding"),
            Service::Reconstruction => Some("reconstruction"),
            Service::Meshing => Some("meshing"),
            Service::Notify => Some("notify"),
        }
    }

    /// The pipeline queues the service sends to (its IAM policy allows exactly these).
    pub fn sends_to(self) -> &'static [&'static str] {
        match self {
            Service::Intake => &["embedding", "reconstruction"],
            Service::Embedding => &["notify"],
            Service::Reconstruction => &["meshing", "notify"],
            Service::Meshing => &["notify"],
            // The sweep, which runs in the notify Lambda, asks for the mail of the jobs it ends.
            Service::Notify => &["notify"],
        }
    }

    /// The request document whose inference notifications come back to this service's
    /// queue (the SNS subscription filters on this suffix of `inputLocation`).
    pub fn inference_request_file(self) -> Option<&'static str> {
        match self {
            Service::Embedding => Some(SessionFile::EmbedRequest.file_name()),
            Service::Reconstruction => Some(ObjectFile::ReconstructRequest.file_name()),
            Service::Meshing => Some(ObjectFile::MeshRequest.file_name()),
            Service::Intake | Service::Notify => None,
        }
    }

    /// Every variable the service reads, common ones first.
    pub fn env_vars(self) -> Vec<&'static str> {
        let own: &[&str] = match self {
            Service::Intake => &[
                env::USER_POOL_ID,
                env::USER_POOL_CLIENT_ID,
                env::LIMIT_OBJECTS_IN_FLIGHT,
                env::LIMIT_OBJECTS_PER_DAY,
                env::LIMIT_PHOTOS_PER_HOUR,
                env::WEB_BUCKET,
            ],
            Service::Embedding | Service::Reconstruction | Service::Meshing => &[env::ENDPOINT_NAME],
            Service::Notify => &[env::MAIL_FROM, env::ADMIN_EMAIL, env::APP_URL, env::API_URL],
        };
        COMMON_ENV.iter().chain(own).copied().collect()
    }

    /// Where `cargo xtask dist` puts the service's Lambda bundle (a `bootstrap` binary),
    /// relative to the repository root; `Pulumi.yaml` points at the same folder.
    pub fn lambda_bundle_dir(self) -> String {
        format!("dist/lambda/{}", self.name())
    }

    /// The Lambda binary's package and binary name.
    pub fn lambda_binary(self) -> String {
        format!("gen3d-lambda-{}", self.name())
    }

    /// The cargo package whose `lambda` feature builds [`Service::lambda_binary`].
    pub fn crate_name(self) -> &'static str {
        match self {
            Service::Intake => "gen3d-intake",
            Service::Embedding => "gen3d-embedding",
            Service::Reconstruction => "gen3d-reconstruction",
            Service::Meshing => "gen3d-meshing-service",
            Service::Notify => "gen3d-notify",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_queues_are_pipeline_queues() {
        for s in Service::ALL {
            assert_eq!(Service::parse(s.name()), Some(s));
            let env = s.env_vars();
            let mut unique = env.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), env.len(), "{s} lists a variable twice");
        }
        assert_eq!(Service::parse("lambda"), None);
        assert_eq!(Service::Meshing.inference_request_file(), Some("mesh.request.json"));
    }
}
