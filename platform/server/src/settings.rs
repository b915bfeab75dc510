//! The settings every service process shares, read once at start from flags or `ONEWINDOW_*` variables (clap with
//! its `env` feature), each checked by its parser: a bad value stops the process before it opens anything, naming
//! the variable and what it accepts. Each service flattens these into its own `Settings` (its `settings.rs`).

use std::{
    ffi::OsString,
    net::{Ipv4Addr, SocketAddr},
};

use clap::{
    ArgAction, Args, CommandFactory, ValueEnum,
    builder::BoolishValueParser,
    error::{ContextKind, ContextValue, ErrorKind},
};

pub use onewindow_eventlog::DEFAULT_POOL_SIZE;

/// Where a service listens and keeps its data.
#[derive(Args, Debug, Clone)]
pub struct ServerSettings {
    /// The gRPC address [default: 0.0.0.0 and the service's own port]
    #[arg(long, env = "ONEWINDOW_LISTEN_ADDR", value_name = "HOST:PORT")]
    pub listen_addr: Option<SocketAddr>,
    /// The service's own database, `postgres://…` or `sqlite:…` [default: sqlite:data/<service>.db]
    #[arg(long, env = "ONEWINDOW_DATABASE_URL", value_name = "URL", value_parser = database_url)]
    pub database_url: Option<String>,
    /// PostgreSQL connections this process keeps at most (SQLite keeps its own few)
    #[arg(long, env = "ONEWINDOW_DATABASE_POOL_SIZE", value_name = "N", default_value_t = DEFAULT_POOL_SIZE,
        value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub database_pool_size: u32,
    #[command(flatten)]
    pub telemetry: TelemetrySettings,
}

impl ServerSettings {
    pub fn listen_addr(&self, default_port: u16) -> SocketAddr {
        self.listen_addr.unwrap_or(SocketAddr::from((Ipv4Addr::UNSPECIFIED, default_port)))
    }

    pub fn database_url(&self, service: &str) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite:data/{service}.db"))
    }

    /// Opens this service's event log (and read models) with the configured pool.
    pub async fn open_store(
        &self,
        service: &str,
    ) -> Result<std::sync::Arc<dyn onewindow_eventlog::EventStore>, onewindow_eventlog::StoreError> {
        let options = onewindow_eventlog::OpenOptions { pool_size: self.database_pool_size };
        onewindow_eventlog::open_with(&self.database_url(service), options).await
    }
}

/// How a process logs and whether it exports traces.
#[derive(Args, Debug, Clone)]
pub struct TelemetrySettings {
    /// Which logs are written, e.g. `info` or `warn,onewindow_routing=debug`
    #[arg(long = "log", env = "RUST_LOG", value_name = "FILTER", default_value = "info", global = true,
        value_parser = onewindow_telemetry::log_filter)]
    pub log_filter: String,
    /// The log lines' format
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Human, global = true)]
    pub log_format: LogFormat,
    /// An OTLP/gRPC collector to export traces to; unset means no export
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", value_name = "URL", value_parser = http_url, global = true)]
    pub otlp_endpoint: Option<String>,
}

impl TelemetrySettings {
    pub fn init(&self, service: &str) -> anyhow::Result<onewindow_telemetry::TelemetryGuard> {
        onewindow_telemetry::init(service, &self.telemetry())
    }

    pub fn telemetry(&self) -> onewindow_telemetry::Settings {
        onewindow_telemetry::Settings {
            json_logs: self.log_format == LogFormat::Json,
            otlp_endpoint: self.otlp_endpoint.clone(),
            log_filter: Some(self.log_filter.clone()),
        }
    }
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One readable line per event
    #[default]
    Human,
    /// One JSON object per line, for a log collector
    Json,
}

/// What a service that talks to the others reads: NATS, and identity for the token signing keys.
#[derive(Args, Debug, Clone)]
pub struct ClusterSettings {
    /// NATS with JetStream
    #[arg(long, env = "ONEWINDOW_NATS_URL", value_name = "URL", default_value = "nats://127.0.0.1:4222",
        value_parser = nats_url)]
    pub nats_url: String,
    /// Copies of each JetStream stream and bucket (3 in a production cluster)
    #[arg(long, env = "ONEWINDOW_NATS_STREAM_REPLICAS", value_name = "N", default_value_t = 1,
        value_parser = clap::value_parser!(u8).range(1..=5))]
    pub nats_stream_replicas: u8,
    /// The identity service, where the token signing keys are fetched
    #[arg(long, env = "ONEWINDOW_IDENTITY_URL", value_name = "URL", default_value = "http://127.0.0.1:50051",
        value_parser = http_url)]
    pub identity_url: String,
}

impl ClusterSettings {
    pub fn stream_replicas(&self) -> usize {
        usize::from(self.nats_stream_replicas)
    }
}

/// Who the caller of a public, rate-limited call is.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct CallerSettings {
    /// Behind a gateway: the caller is the first address of `x-forwarded-for` (off: a client reaching the service
    /// directly could write any address there)
    #[arg(long, env = "ONEWINDOW_TRUST_FORWARDED_FOR", value_name = "BOOL", default_value_t = false,
        action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub trust_forwarded_for: bool,
}

/// Reads `S` from the command line and the environment. `--help` and `--version` print and exit 0; a bad value
/// exits 2 with clap's message, preceded by the variable's name when the value came from the environment.
pub fn parse<S: clap::Parser>() -> S {
    parse_from(std::env::args_os())
}

pub fn parse_from<S: clap::Parser, I, T>(args: I) -> S
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut command = S::command();
    let parsed = command.try_get_matches_from_mut(args).and_then(|mut matches| S::from_arg_matches_mut(&mut matches));
    match parsed {
        Ok(settings) => settings,
        Err(error) => {
            let error = error.with_cmd(&command);
            if let Some(variable) = variable_of(&command, &error) {
                let value = std::env::var_os(&variable).unwrap_or_default();
                eprintln!("error: the environment variable {variable}={} is not valid", value.to_string_lossy());
            }
            error.exit()
        }
    }
}

/// The environment variable behind the argument `error` is about, when the environment set it.
fn variable_of(command: &clap::Command, error: &clap::Error) -> Option<String> {
    if !matches!(error.kind(), ErrorKind::InvalidValue | ErrorKind::ValueValidation) {
        return None;
    }
    let Some(ContextValue::String(shown)) = error.get(ContextKind::InvalidArg) else { return None };
    let variable = arguments(command).into_iter().find(|arg| arg.to_string() == *shown)?.get_env()?.to_owned();
    std::env::var_os(&variable).is_some().then(|| variable.to_string_lossy().into_owned())
}

/// Every environment variable `S` reads, for documentation and for the tests that try each one.
pub fn variables<S: CommandFactory>() -> Vec<String> {
    let mut found: Vec<String> = arguments(&S::command())
        .iter()
        .filter_map(|arg| arg.get_env())
        .map(|variable| variable.to_string_lossy().into_owned())
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Every argument of `command` and its subcommands, built (subcommands included) so that each renders as clap
/// shows it in an error.
fn arguments(command: &clap::Command) -> Vec<clap::Arg> {
    let mut command = command.clone();
    command.build();
    let mut found = Vec::new();
    let mut commands = vec![&command];
    while let Some(command) = commands.pop() {
        commands.extend(command.get_subcommands());
        found.extend(command.get_arguments().cloned());
    }
    found
}

fn database_url(raw: &str) -> Result<String, String> {
    let known = ["postgres://", "postgresql://", "sqlite:"];
    match known.iter().any(|scheme| raw.starts_with(scheme)) && raw.len() > "sqlite:".len() {
        true => Ok(raw.to_owned()),
        false => Err("expected postgres://user@host/database or sqlite:path".into()),
    }
}

fn nats_url(raw: &str) -> Result<String, String> {
    url_with_scheme(raw, &["nats", "tls"])
}

/// An `http://` or `https://` address.
pub fn http_url(raw: &str) -> Result<String, String> {
    url_with_scheme(raw, &["http", "https"])
}

fn url_with_scheme(raw: &str, schemes: &[&str]) -> Result<String, String> {
    let expected = || format!("expected a URL starting with {}", schemes.join("://, ") + "://");
    let uri: http::Uri = raw.parse().map_err(|_| expected())?;
    match (uri.scheme_str(), uri.host()) {
        (Some(scheme), Some(host)) if schemes.contains(&scheme) && !host.is_empty() => Ok(raw.to_owned()),
        _ => Err(expected()),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser, Debug)]
    struct Example {
        #[command(flatten)]
        server: ServerSettings,
        #[command(flatten)]
        cluster: ClusterSettings,
        #[command(flatten)]
        caller: CallerSettings,
    }

    #[test]
    fn defaults_work_on_one_machine() {
        let example = Example::try_parse_from(["example"]).expect("defaults");
        assert_eq!(example.server.listen_addr(50051).to_string(), "0.0.0.0:50051");
        assert_eq!(example.server.database_url("identity"), "sqlite:data/identity.db");
        assert_eq!(example.server.database_pool_size, DEFAULT_POOL_SIZE);
        assert_eq!(example.cluster.stream_replicas(), 1);
        assert!(!example.caller.trust_forwarded_for);
    }

    #[test]
    fn bad_values_are_refused_by_their_parsers() {
        let cases: &[&[&str]] = &[
            &["--listen-addr", "somewhere"],
            &["--database-url", "mysql://x"],
            &["--database-url", "sqlite:"],
            &["--database-pool-size", "0"],
            &["--database-pool-size", "abc"],
            &["--log-format", "xml"],
            &["--log", "info,[bad"],
            &["--otlp-endpoint", "collector:4317"],
            &["--nats-url", "http://127.0.0.1:4222"],
            &["--nats-stream-replicas", "7"],
            &["--identity-url", "127.0.0.1:50051"],
            &["--trust-forwarded-for", "maybe"],
        ];
        for case in cases {
            let args = std::iter::once("example").chain(case.iter().copied());
            let error = Example::try_parse_from(args).expect_err(&format!("{case:?} is refused"));
            let kinds = [ErrorKind::ValueValidation, ErrorKind::InvalidValue];
            assert!(kinds.contains(&error.kind()), "{case:?}: {error}");
        }
        let good = ["example", "--nats-url", "tls://nats.cluster:4222", "--trust-forwarded-for", "yes"];
        let example = Example::try_parse_from(good).expect("valid values");
        assert!(example.caller.trust_forwarded_for);
    }

    #[test]
    fn every_variable_is_listed() {
        let listed = variables::<Example>();
        for variable in ["ONEWINDOW_LISTEN_ADDR", "ONEWINDOW_DATABASE_POOL_SIZE", "LOG_FORMAT", "ONEWINDOW_NATS_URL"] {
            assert!(listed.iter().any(|v| v == variable), "{variable} in {listed:?}");
        }
    }
}
