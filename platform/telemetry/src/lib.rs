//! Logs and traces for every onewindow process: one `init` per process, W3C trace context across gRPC calls and
//! NATS messages.
//!
//! Logs go to stderr (human-readable, or JSON with `LOG_FORMAT=json`), filtered by `RUST_LOG` (default `info`).
//! Spans always get OpenTelemetry trace ids, so a `traceparent` can be handed on even when nothing is exported;
//! spans are exported over OTLP/gRPC when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//!
//! # Layout
//! - [`init`] and [`TelemetryGuard`]: set-up and flush-on-drop
//! - [`current_traceparent`], [`continue_trace`]: carrying a trace through the event log and the bus
//! - [`grpc_request_span`], [`inject_into_metadata`]: the same over gRPC, server and client side

use std::collections::HashMap;

use opentelemetry::{
    global,
    propagation::{Extractor, Injector},
    trace::TracerProvider as _,
};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, Layer, filter::LevelFilter, layer::SubscriberExt, util::SubscriberInitExt};

/// Flushes and shuts the exporter down when dropped: keep it alive until the process ends.
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            // Nothing useful can be done with a failed flush at exit; the exporter logs its own errors.
            let _ = provider.shutdown();
        }
    }
}

/// How a process logs and exports traces (the service's settings fill it from `LOG_FORMAT` and
/// `OTEL_EXPORTER_OTLP_ENDPOINT`).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// One JSON object per log line instead of a readable line.
    pub json_logs: bool,
    /// The OTLP/gRPC collector traces are exported to; none means no export.
    pub otlp_endpoint: Option<String>,
    /// Which logs are written (`RUST_LOG` syntax, checked by [`log_filter`]); none means the default.
    pub log_filter: Option<String>,
}

/// A log filter such as `info,onewindow_routing=debug`, checked: a typo is refused instead of logging nothing.
pub fn log_filter(raw: &str) -> Result<String, String> {
    EnvFilter::try_new(raw)
        .map(|_| raw.to_owned())
        .map_err(|e| format!("expected a filter such as `info` or `warn,onewindow_routing=debug`: {e}"))
}

/// Installs the global subscriber, logging at `info` unless the settings' filter says otherwise.
pub fn init(service_name: &str, settings: &Settings) -> anyhow::Result<TelemetryGuard> {
    init_with(service_name, "info", settings)
}

/// Like [`init`] with another default log filter (tests pass "off": traces still work, logs stay quiet).
/// Safe to call more than once: later calls keep the first set-up.
pub fn init_with(service_name: &str, default_log_filter: &str, settings: &Settings) -> anyhow::Result<TelemetryGuard> {
    global::set_text_map_propagator(TraceContextPropagator::new());

    let resource = Resource::builder().with_service_name(service_name.to_owned()).build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    let exporting = settings.otlp_endpoint.is_some();
    if let Some(endpoint) = &settings.otlp_endpoint {
        let exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic().with_endpoint(endpoint).build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    let tracer = provider.tracer(service_name.to_owned());

    // Logs follow RUST_LOG; spans for tracing are kept at INFO whatever the log level, so a trace crosses a
    // service even when its logs are quiet.
    let log_filter = EnvFilter::new(settings.log_filter.as_deref().unwrap_or(default_log_filter));
    let otel = tracing_opentelemetry::layer().with_tracer(tracer).with_filter(LevelFilter::INFO);
    let json = settings.json_logs;
    let registry = tracing_subscriber::registry().with(otel);
    let installed = if json {
        registry
            .with(tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr).with_filter(log_filter))
            .try_init()
    } else {
        registry.with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(log_filter)).try_init()
    };
    // A second init in the same process (tests start many servers) keeps the first set-up untouched.
    if installed.is_err() {
        return Ok(TelemetryGuard { provider: None });
    }
    global::set_tracer_provider(provider.clone());
    tracing::debug!(service = service_name, exporting, "telemetry initialised");
    Ok(TelemetryGuard { provider: Some(provider) })
}

/// The W3C `traceparent` of the current span, to store beside an event or send in a header.
pub fn current_traceparent() -> Option<String> {
    let context = tracing::Span::current().context();
    let mut carrier = HashMap::new();
    global::get_text_map_propagator(|propagator| propagator.inject_context(&context, &mut carrier));
    carrier.remove("traceparent")
}

/// Makes `span` a child of the trace named by `traceparent` (from an event or a message header).
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent else { return };
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let context = global::get_text_map_propagator(|propagator| propagator.extract(&carrier));
    // Fails only when the span is disabled by the filter; then there is nothing to link.
    let _ = span.set_parent(context);
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// The span of one incoming gRPC call, continuing the caller's trace (for `tonic::transport::Server::trace_fn`).
pub fn grpc_request_span(request: &http::Request<()>) -> tracing::Span {
    let span = tracing::info_span!("grpc", rpc = %request.uri().path(), otel.kind = "server");
    let context = global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(request.headers())));
    let _ = span.set_parent(context);
    span
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (tonic::metadata::MetadataKey::from_bytes(key.as_bytes()), value.parse()) {
            self.0.insert(key, value);
        }
    }
}

/// Adds the current trace context to an outgoing gRPC call's metadata.
pub fn inject_into_metadata(metadata: &mut tonic::metadata::MetadataMap) {
    let context = tracing::Span::current().context();
    global::get_text_map_propagator(|p| p.inject_context(&context, &mut MetadataInjector(metadata)));
}
