//! Settings come from the environment (twelve-factor), each with a default that works on one machine.

use std::str::FromStr;

use anyhow::Context;

pub fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

pub fn env_required(name: &str) -> anyhow::Result<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty()).with_context(|| format!("{name} must be set"))
}

pub fn env_parse<T: FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name).ok().filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(raw) => raw.parse().map_err(|e| anyhow::anyhow!("{name}={raw:?} is not valid: {e}")),
    }
}

/// The settings every service reads in the distributed mode, from `ONEWINDOW_*` variables.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// `ONEWINDOW_LISTEN_ADDR`, default `0.0.0.0:<default port>`.
    pub listen_addr: String,
    /// `ONEWINDOW_DATABASE_URL`: this service's own database (`postgres://…` or `sqlite:…`).
    pub database_url: String,
    /// `ONEWINDOW_NATS_URL`, default `nats://127.0.0.1:4222`.
    pub nats_url: String,
    /// `ONEWINDOW_NATS_STREAM_REPLICAS`, default 1 (3 in a production cluster).
    pub stream_replicas: usize,
    /// `ONEWINDOW_IDENTITY_URL`: where the token signing keys are fetched from.
    pub identity_url: String,
}

impl ServiceConfig {
    pub fn from_env(service: &str, default_port: u16) -> anyhow::Result<Self> {
        Ok(Self {
            listen_addr: env_or("ONEWINDOW_LISTEN_ADDR", &format!("0.0.0.0:{default_port}")),
            database_url: env_or("ONEWINDOW_DATABASE_URL", &format!("sqlite:data/{service}.db")),
            nats_url: env_or("ONEWINDOW_NATS_URL", "nats://127.0.0.1:4222"),
            stream_replicas: env_parse("ONEWINDOW_NATS_STREAM_REPLICAS", 1)?,
            identity_url: env_or("ONEWINDOW_IDENTITY_URL", "http://127.0.0.1:50051"),
        })
    }
}
