//! What every onewindow gRPC server has in common: health, reflection, a span per call that continues the
//! caller's trace, one way to report invalid fields, and a life cycle shared with its background workers.
//!
//! # Layout
//! - `serve`: [`serve`] runs the gRPC routes and the workers (relay, consumers) until shutdown, together
//! - `caller`: where a call comes from (its network) and a budget of calls per network
//! - `authorize`: the layer that passes every call through the policy table before its handler
//! - `errors`: [`FieldErrors`] and the mapping of store errors to gRPC statuses
//! - `context`: [`ServiceContext`], what every service is built from, and event metadata for requests and reactions
//! - `settings`: what every service reads at start, from flags or the environment ([`ServerSettings`], [`parse`])
//! - `shutdown`: signals, and [`connect`]ing a distributed service to its database, NATS and identity

mod authorize;
mod caller;
mod clock;
mod context;
mod errors;
pub mod parked;
mod serve;
pub mod settings;
mod shutdown;

pub use caller::{NetworkLimiter, caller_address, network_of};
pub use clock::{Clock, ManualClock, SystemClock};
pub use context::{ServiceContext, reaction_metadata, request_metadata};
pub use errors::{FieldErrors, store_status};
pub use serve::{Grpc, serve};
pub use settings::{CallerSettings, ClusterSettings, ServerSettings, parse};
pub use shutdown::{ProcessSettings, connect, service_main, shutdown_on_signal};
