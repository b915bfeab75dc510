//! Identity: accounts and sign-in for every organisation, and the keys that let other services verify tokens.
//!
//! Accounts are event streams keyed by login (so a login is unique by construction), with a second stream per
//! user id. Passwords are argon2id hashes. The token signing keys live in identity's log too, so replicas share
//! them. Identity's log holds secrets and is never published: it runs no outbox relay.
//!
//! # Layout
//! - `domain`: accounts as events, pure
//! - `keys`: the signing key ring
//! - `service`: the gRPC API and account registration

mod domain;
mod keys;
mod service;

use std::sync::Arc;

use onewindow_auth::{Authenticator, KeySource, Role, TokenIssuer};
use onewindow_bus::Worker;
use onewindow_eventlog::EventStore;
use onewindow_proto::identity::v1::identity_service_server::{IdentityServiceServer, SERVICE_NAME};
use onewindow_server::{Grpc, ServiceConfig, ServiceContext};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use domain::AccountError;
pub use service::{NewAccount, RegisterError, register_account};

pub const SERVICE: &str = "identity";
pub const DEFAULT_PORT: u16 = 50051;

/// Identity opened on its store: the key ring is loaded (or created).
pub struct Identity {
    store: Arc<dyn EventStore>,
    keys: Arc<keys::KeyRing>,
    issuer: Arc<TokenIssuer>,
}

impl Identity {
    pub async fn open(store: Arc<dyn EventStore>) -> anyhow::Result<Self> {
        let keys = keys::load_or_generate(store.as_ref()).await?;
        let issuer = TokenIssuer::new(keys.signing()?, service::token_ttl())?;
        Ok(Self { store, keys: Arc::new(keys), issuer: Arc::new(issuer) })
    }

    /// The public keys, for services in the same process.
    pub fn key_source(&self) -> Arc<dyn KeySource> {
        self.keys.key_source()
    }

    /// Adds the API to `grpc`. Identity consumes and publishes nothing, so it has no workers.
    pub fn register(&self, ctx: &ServiceContext, grpc: &mut Grpc) -> Vec<Worker> {
        let api = service::IdentityApi {
            store: self.store.clone(),
            keys: self.keys.clone(),
            issuer: self.issuer.clone(),
            auth: ctx.auth.clone(),
        };
        grpc.routes.add_service(IdentityServiceServer::new(api));
        grpc.names.push(SERVICE_NAME);
        Vec::new()
    }
}

/// A role list from names, for seeding and imports.
pub fn roles(names: &[&str]) -> Vec<Role> {
    names
        .iter()
        .filter_map(|n| match *n {
            "applicant" => Some(Role::Applicant),
            "approver" => Some(Role::Approver),
            "executor" => Some(Role::Executor),
            "admin" => Some(Role::Admin),
            _ => None,
        })
        .collect()
}

/// Runs identity as its own process (the distributed mode). It needs only its database.
pub async fn run(config: ServiceConfig, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let store = onewindow_eventlog::open(&config.database_url).await?;
    let identity = Identity::open(store.clone()).await?;
    let ctx = ServiceContext {
        store,
        bus: Arc::new(onewindow_bus::LogTailBus::default()),
        auth: Authenticator::new(identity.key_source()),
        shutdown: shutdown.clone(),
    };
    let mut grpc = Grpc::new(ctx.auth.clone());
    let workers = identity.register(&ctx, &mut grpc);
    onewindow_server::serve(listener, grpc, workers, shutdown).await
}
