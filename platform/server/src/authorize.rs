//! The authorization layer: every call passes the policy table (`onewindow_auth::policy`) before its handler runs.
//!
//! The caller's token is verified once, here; the verified [`Principal`] rides on the request's extensions, where
//! `Authenticator::authenticate` finds it, so handlers only add the checks that depend on data.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use onewindow_auth::Authenticator;

#[derive(Clone)]
pub struct AuthorizeLayer {
    auth: Arc<Authenticator>,
}

impl AuthorizeLayer {
    pub fn new(auth: Arc<Authenticator>) -> Self {
        Self { auth }
    }
}

impl<S> tower::Layer<S> for AuthorizeLayer {
    type Service = Authorize<S>;

    fn layer(&self, inner: S) -> Authorize<S> {
        Authorize { inner, auth: self.auth.clone() }
    }
}

#[derive(Clone)]
pub struct Authorize<S> {
    inner: S,
    auth: Arc<Authenticator>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> tower::Service<http::Request<B>> for Authorize<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The service that was polled ready handles this call; its clone waits for the next one.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let auth = self.auth.clone();
        Box::pin(async move {
            let token = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(onewindow_auth::bearer)
                .map(str::to_owned);
            match auth.authorize(request.uri().path(), token.as_deref()).await {
                Ok(Some(principal)) => {
                    request.extensions_mut().insert(principal);
                    inner.call(request).await
                }
                Ok(None) => inner.call(request).await,
                Err(status) => {
                    tracing::debug!(path = request.uri().path(), code = ?status.code(), "call refused");
                    Ok(status.into_http())
                }
            }
        })
    }
}
