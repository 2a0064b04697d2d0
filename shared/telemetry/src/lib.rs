//! The one logging init every Gen3D binary calls: the Lambdas, the inference container
//! and the `gen3d` command. What to log and how comes from
//! [`gen3d_config::LogSettings`] (JSON in a Lambda, honouring `AWS_LAMBDA_LOG_FORMAT` and
//! `AWS_LAMBDA_LOG_LEVEL`, and in the container; text locally).
//!
//! JSON lines carry the current span's fields and the list of spans, so every line
//! logged while a message is handled names its job (`gen3d_pipeline::job_span`: user,
//! session, object).

use gen3d_config::LogSettings;
use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

/// The subscriber [`init`] installs, writing to `writer`: JSON or text as `settings`
/// say, filtered by `settings.filter` (a directive that does not parse falls back to
/// `info`, so a typo in `RUST_LOG` never silences a service).
pub fn subscriber<W>(settings: &LogSettings, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&settings.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    if settings.json {
        Box::new(builder.json().with_current_span(true).with_span_list(true).with_ansi(false).finish())
    } else {
        Box::new(builder.finish())
    }
}

/// Installs the process's subscriber (and the `log` bridge, for dependencies that log
/// through `log`): JSON on stdout (CloudWatch Logs), text on stderr (stdout stays the
/// command's output). A second call changes nothing.
pub fn init(settings: &LogSettings) {
    let installed = if settings.json { subscriber(settings, std::io::stdout) } else { subscriber(settings, std::io::stderr) };
    let _ = installed.try_init();
}
