//! `gen3d jobs` and `gen3d replay`: the queues and job records of the local data directory
//! or, with `--profile aws` (feature `aws`), of a deployed stack.

use super::*;

/// The queues and job records `replay` and `jobs` act on.
pub(super) async fn ops(cli: &Cli, data: PathBuf) -> anyhow::Result<(Arc<dyn Queue>, Arc<dyn JobStore>)> {
    match cli.profile {
        Profile::Local => {
            let stack = LocalStack::open(LocalConfig::new(data))?;
            Ok((stack.ports.queue.clone(), stack.ports.jobs.clone()))
        }
        #[cfg(feature = "aws")]
        Profile::Aws => {
            let names = gen3d_config::ResourceNames::for_stack("gen3d", &cli.stack).map_err(|e| anyhow::anyhow!("--stack: {e}"))?;
            let sdk = gen3d_aws::sdk_config(cli.aws_endpoint_url.as_deref(), cli.region.as_deref()).await;
            let (queue, jobs) =
                gen3d_aws::stack_ops(&sdk, &names, cli.job_ttl_days).await.map_err(|e| anyhow::anyhow!("stack {}: {e}", cli.stack))?;
            Ok((Arc::new(queue), Arc::new(jobs)))
        }
        #[cfg(not(feature = "aws"))]
        Profile::Aws => bail!("this gen3d was built without the AWS profile: build it with `cargo build --release -p gen3d --features aws`"),
    }
}

pub(super) async fn replay(queues: &dyn Queue, queue: &str, max: Option<u64>, dry_run: bool) -> anyhow::Result<()> {
    let name = QueueName::parse(queue).map_err(|e| anyhow::anyhow!("--queue: {e}"))?;
    let dlq = if name.is_dead_letter() { name } else { name.dead_letter() };
    let waiting = queues.depth(&dlq).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if dry_run {
        let would = max.map_or(waiting, |m| m.min(waiting));
        println!("{dlq}: {waiting} message(s) waiting; would move {would} to {}", dlq.source().map(|s| s.to_string()).unwrap_or_default());
        return Ok(());
    }
    let moved = queues.replay(&dlq, max).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("moved {moved} message(s) from {dlq} to {}", dlq.source().map(|s| s.to_string()).unwrap_or_default());
    Ok(())
}

pub(super) async fn jobs(queues: &dyn Queue, records: &dyn JobStore, limit: usize, endpoint_queue: Option<&str>) -> anyhow::Result<()> {
    let names = QueueName::PIPELINE.iter().copied().chain(endpoint_queue);
    for q in names {
        let name = QueueName::parse(q).map_err(|e| anyhow::anyhow!("{e}"))?;
        let depth = queues.depth(&name).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let dead = queues.depth(&name.dead_letter()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        println!("queue {q:<15} waiting {depth:>4}   dead-lettered {dead:>4}");
    }
    let failed = records.failed_objects(limit).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if failed.is_empty() {
        println!("no failed jobs");
    }
    for f in failed {
        let (stage, reason) = f.failure.as_ref().map(|x| (x.stage.as_str(), x.reason.as_str())).unwrap_or(("?", "?"));
        println!("failed  user {}  session {}  object {}  at {stage}: {reason}", f.user, f.session, f.object);
    }
    Ok(())
}
