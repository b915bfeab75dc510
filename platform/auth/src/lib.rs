//! Who is calling: signed access tokens, issued by identity and verified by every service on its own.
//!
//! Tokens are EdDSA (Ed25519) JWTs: asymmetric, so a service needs only identity's public keys, which it fetches
//! once and caches ([`Authenticator`]), refreshing when it meets a key id it does not know (key rotation).
//!
//! # Layout
//! - `principal`: [`Principal`] and [`Role`], what a verified token says
//! - `keys`: key pairs, the [`TokenIssuer`] and where public keys come from ([`KeySource`])
//! - `authenticator`: [`Authenticator`], turning a gRPC request's bearer token into a [`Principal`]
//! - `policy`: who may call which RPC, one table for all services

mod authenticator;
mod keys;
pub mod policy;
mod principal;

pub use authenticator::{AuthError, Authenticator, bearer, bearer_token};
pub use keys::{IdentityKeySource, KeySource, PublicKey, SigningKeyPair, StaticKeySource, TokenIssuer};
pub use principal::{Principal, Role};
