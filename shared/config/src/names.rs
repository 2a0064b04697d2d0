//! Physical resource names of one deployment (queues, tables, buckets, functions), all
//! derived from `{project}-{stack}`: the names `Pulumi.yaml` creates and the code looks
//! up.

use gen3d_domain::DomainError;

/// Physical resource names of one deployment, all derived from `{project}-{stack}`
/// (for example `gen3d-dev`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceNames {
    prefix: String,
}

impl ResourceNames {
    pub fn new(prefix: &str) -> Result<Self, DomainError> {
        let ok = !prefix.is_empty()
            && prefix.len() <= 40
            && prefix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !prefix.starts_with('-')
            && !prefix.ends_with('-');
        if !ok {
            return Err(DomainError::Invalid { what: "resource prefix", reason: format!("{prefix:?} is not 1 to 40 of [a-z0-9-]") });
        }
        Ok(Self { prefix: prefix.to_owned() })
    }

    pub fn for_stack(project: &str, stack: &str) -> Result<Self, DomainError> {
        Self::new(&format!("{project}-{stack}"))
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// An SQS queue: `{prefix}-{queue}`; `queue` is a pipeline queue name or its `-dlq`.
    pub fn queue(&self, queue: &str) -> String {
        format!("{}-{queue}", self.prefix)
    }

    pub fn job_table(&self) -> String {
        format!("{}-jobs", self.prefix)
    }

    pub fn function(&self, service: crate::Service) -> String {
        format!("{}-{}", self.prefix, service.name())
    }

    pub fn log_group(&self, service: crate::Service) -> String {
        format!("/aws/lambda/{}", self.function(service))
    }

    /// The SNS topic the inference endpoint announces results on.
    pub fn inference_topic(&self) -> String {
        format!("{}-inference-results", self.prefix)
    }

    pub fn endpoint(&self) -> String {
        format!("{}-sam", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Service;

    #[test]
    fn names_derive_from_the_prefix() {
        let n = ResourceNames::for_stack("gen3d", "dev").unwrap();
        assert_eq!(n.queue("meshing-dlq"), "gen3d-dev-meshing-dlq");
        assert_eq!(n.job_table(), "gen3d-dev-jobs");
        assert_eq!(n.log_group(Service::Notify), "/aws/lambda/gen3d-dev-notify");
        assert_eq!(n.endpoint(), "gen3d-dev-sam");
        assert!(ResourceNames::new("Gen3D Dev").is_err());
        assert!(ResourceNames::new("").is_err());
    }
}
