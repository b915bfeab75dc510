//! The HTTP adapter of the webhook sender (reqwest over rustls: no OpenSSL on the machines).

use std::time::Duration;

use async_trait::async_trait;

use crate::webhook_sender::{PostError, SignedPost, WebhookTransport};

/// What one POST may take before it counts as a failed attempt.
const TIMEOUT: Duration = Duration::from_secs(15);

pub struct Http {
    client: reqwest::Client,
}

impl Http {
    pub fn new() -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            // A receiver that moved says so by registering again: following redirects would send signed events
            // wherever a compromised receiver points.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("onewindow-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client })
    }
}

#[async_trait]
impl WebhookTransport for Http {
    async fn post(&self, request: &SignedPost) -> Result<u16, PostError> {
        let mut post = self.client.post(&request.url).body(request.body.clone());
        for (name, value) in &request.headers {
            post = post.header(*name, value);
        }
        match post.send().await {
            Ok(response) if response.status().is_success() => Ok(response.status().as_u16()),
            Ok(response) => Err(PostError::Status(response.status().as_u16())),
            Err(error) => Err(PostError::Transport(format!("{:#}", anyhow::Error::from(error)))),
        }
    }
}
