//! What every onewindow gRPC server has in common: health, reflection, a span per call that continues the
//! caller's trace, one way to report invalid fields, and a life cycle shared with its background workers.
//!
//! # Layout
//! - `serve`: [`serve`] runs the gRPC routes and the workers (relay, consumers) until shutdown, together
//! - `caller`: where a call comes from (its network) and a budget of calls per network
//! - `authorize`: the layer that passes every call through the policy table before its handler
//! - `errors`: [`FieldErrors`] and the mapping of store errors to gRPC statuses
//! - `context`: [`ServiceContext`], what every service is built from, and event metadata for requests and reactions
//! - `config`: reading settings from the environment ([`ServiceConfig`])
//! - `shutdown`: signals, and [`connect`]ing a distributed service to its database, NATS and identity

mod authorize;
mod caller;
mod clock;
mod config;
mod context;
mod errors;
mod serve;
mod shutdown;

pub use caller::{NetworkLimiter, caller_address, network_of, trust_forwarded_for_from_env};
pub use clock::{Clock, SystemClock};
pub use config::{ServiceConfig, env_or, env_parse, env_required};
pub use context::{ServiceContext, reaction_metadata, request_metadata};
pub use errors::{FieldErrors, store_status};
pub use serve::{Grpc, serve};
pub use shutdown::{connect, service_main, shutdown_on_signal};
