//! Identity: accounts, personal cards and sign-in for every organisation, and the keys that let other services
//! verify tokens.
//!
//! Accounts are event streams keyed by login (so a login is unique by construction), with a second stream per
//! user id. An administrator imports accounts from CSV without passwords: each gets a one-time code for its first
//! access, which sets the password. Passwords and codes are argon2id hashes; refresh tokens rotate on every use and
//! are kept as SHA-256 digests. Failed sign-ins lock an account for a while, and each source network has a budget.
//! The token signing keys live in identity's log too, so replicas share them. Identity's log holds secrets and
//! personal data and is never published: it runs no outbox relay.
//!
//! # Layout
//! - `account`: accounts as events, pure
//! - `card`: the personal card and its checks, pure
//! - `iin`: the Kazakh individual identification number
//! - `contact`: e-mail addresses, phone numbers, languages, dates, notification preferences
//! - `security`: security events and the sign-in lockout, pure
//! - `refresh`: refresh-token families and rotation, pure
//! - `import`: checking a CSV of accounts, pure
//! - `password`: password rules, one-time codes, hashing
//! - `rate_limit`: the in-memory limits per source network and for unknown logins
//! - `keys`: the signing key ring
//! - `convert`: conversions between API messages and the domain
//! - `service`: the gRPC API and account registration
//! - `settings`: what the process reads at start

mod account;
mod card;
mod contact;
mod convert;
mod iin;
mod import;
mod keys;
mod password;
mod rate_limit;
mod refresh;
mod security;
mod service;
pub mod settings;
#[cfg(test)]
mod stored_log;
#[cfg(test)]
mod testing;

use std::sync::Arc;

use onewindow_auth::{Authenticator, KeySource, Role, TokenIssuer};
use onewindow_bus::Worker;
use onewindow_eventlog::EventStore;
use onewindow_proto::identity::v1::identity_service_server::{IdentityServiceServer, SERVICE_NAME};
use onewindow_server::{Grpc, ServiceContext};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use account::AccountError;
pub use iin::{Iin, IinError};
pub use onewindow_server::{Clock, SystemClock};
pub use service::{NewAccount, RegisterError, access_code_ttl, register_account};
pub use settings::{Settings, SignInSettings};

pub const SERVICE: &str = "identity";
pub const DEFAULT_PORT: u16 = 50051;

/// What the API is built with: the budget of credential checks and whether to trust the gateway's address.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub sign_in: SignInSettings,
    pub caller: onewindow_server::CallerSettings,
}

/// Identity opened on its store: the key ring is loaded (or created).
pub struct Identity {
    store: Arc<dyn EventStore>,
    keys: Arc<keys::KeyRing>,
    issuer: Arc<TokenIssuer>,
    clock: Arc<dyn Clock>,
    options: Options,
}

impl Identity {
    /// Opens identity with the system clock and the default options.
    pub async fn open(store: Arc<dyn EventStore>) -> anyhow::Result<Self> {
        let keys = keys::load_or_generate(store.as_ref()).await?;
        let issuer = TokenIssuer::new(keys.signing()?, service::token_ttl())?;
        Ok(Self {
            store,
            keys: Arc::new(keys),
            issuer: Arc::new(issuer),
            clock: Arc::new(SystemClock),
            options: Options::default(),
        })
    }

    /// Decides with `clock` instead of the system's (tests move time).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_options(mut self, options: Options) -> Self {
        self.options = options;
        self
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
            clock: self.clock.clone(),
            limiter: Arc::new(onewindow_server::NetworkLimiter::per_minute(
                self.options.sign_in.sign_in_per_minute.get(),
                "sign-in attempts",
            )),
            unknown_logins: Arc::default(),
            trust_forwarded_for: self.options.caller.trust_forwarded_for,
        };
        grpc.routes.add_service(IdentityServiceServer::new(api));
        grpc.names.push(SERVICE_NAME);
        Vec::new()
    }
}

/// Every role, for reading role names.
const ROLES: [Role; 6] =
    [Role::Applicant, Role::Approver, Role::Executor, Role::Admin, Role::Signatory, Role::Integrator];

/// The role of a name such as `"approver"` (as tokens and imports spell it).
pub fn role_named(name: &str) -> Option<Role> {
    let name = name.trim().to_lowercase();
    ROLES.into_iter().find(|role| role.as_str() == name)
}

/// A role list from names, for seeding; unknown names are skipped.
pub fn roles(names: &[&str]) -> Vec<Role> {
    names.iter().filter_map(|n| role_named(n)).collect()
}

/// Runs identity as its own process (the distributed mode). It needs only its database.
pub async fn run(settings: Settings, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let store = settings.server.open_store(SERVICE).await?;
    let options = Options { sign_in: settings.sign_in, caller: settings.caller };
    serve(Identity::open(store).await?.with_options(options), listener, shutdown).await
}

/// Serves an opened identity alone on `listener` until `shutdown`.
pub async fn serve(identity: Identity, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let ctx = ServiceContext {
        store: identity.store.clone(),
        bus: Arc::new(onewindow_bus::LogTailBus::default()),
        auth: Authenticator::new(identity.key_source()),
        shutdown: shutdown.clone(),
        clock: identity.clock.clone(),
        consumers: Default::default(),
    };
    let mut grpc = Grpc::new(ctx.auth.clone());
    let workers = identity.register(&ctx, &mut grpc);
    onewindow_server::serve(listener, grpc, workers, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_reads_back_from_its_name() {
        for role in ROLES {
            assert_eq!(role_named(role.as_str()), Some(role));
        }
        assert_eq!(role_named(" Signatory "), Some(Role::Signatory));
        assert_eq!(role_named("rector"), None);
        assert_eq!(roles(&["admin", "nobody", "integrator"]), [Role::Admin, Role::Integrator]);
    }
}
