//! Structured logs: JSON lines under Lambda (CloudWatch adds the timestamp),
//! plain text in a terminal. The level comes from `AWS_LAMBDA_LOG_LEVEL` or
//! `RUST_LOG` (a bare level such as `debug`), INFO by default.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Crates whose INFO lines are noise in a handler's log.
const QUIET: [&str; 4] = [
    "aws_config",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "hyper_util",
];

pub fn init() {
    let level = ["AWS_LAMBDA_LOG_LEVEL", "RUST_LOG"]
        .iter()
        .find_map(|name| std::env::var(name).ok()?.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let filter = QUIET
        .iter()
        .fold(Targets::new().with_default(level), |targets, name| {
            targets.with_target(*name, LevelFilter::WARN.min(level))
        });
    let registry = tracing_subscriber::registry().with(filter);
    let layer = tracing_subscriber::fmt::layer()
        .without_time()
        .with_target(false)
        .with_ansi(false);
    // A second init (tests, or a handler that set up its own) is not an error.
    let _ = if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        registry
            .with(
                layer
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(false),
            )
            .try_init()
    } else {
        registry.with(layer.with_writer(std::io::stderr)).try_init()
    };
}
