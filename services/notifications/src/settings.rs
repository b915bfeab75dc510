//! What notifications reads at start (`onewindow-notifications --help` lists it): its database and listener, NATS,
//! identity's keys, and the SMTP relay e-mail goes through.

use clap::{Args, Parser};
use onewindow_server::{ClusterSettings, ServerSettings};

/// The notifications process.
#[derive(Parser, Debug, Clone)]
#[command(name = "onewindow-notifications", version, about = "onewindow notifications: inbox, e-mail, webhooks")]
pub struct Settings {
    #[command(flatten)]
    pub server: ServerSettings,
    #[command(flatten)]
    pub cluster: ClusterSettings,
    #[command(flatten)]
    pub mail: MailSettings,
}

/// Where e-mail goes, also read by the embedded mode.
#[derive(Args, Debug, Clone)]
pub struct MailSettings {
    /// The plain SMTP relay e-mail is sent through, `smtp://host:port`; unset means e-mail is off (notifications
    /// stay in the inbox)
    #[arg(long, env = "ONEWINDOW_SMTP_URL", value_name = "URL", value_parser = smtp_url)]
    pub smtp_url: Option<String>,
    /// The sender of e-mails, a mailbox such as `Name <address>`
    #[arg(long, env = "ONEWINDOW_MAIL_FROM", value_name = "MAILBOX", default_value = DEFAULT_MAIL_FROM,
        value_parser = mailbox)]
    pub mail_from: String,
}

/// A sender that says it is a placeholder; a deployment names its own.
pub const DEFAULT_MAIL_FROM: &str = "onewindow <noreply@onewindow.invalid>";

impl Default for MailSettings {
    fn default() -> Self {
        Self { smtp_url: None, mail_from: DEFAULT_MAIL_FROM.into() }
    }
}

fn smtp_url(raw: &str) -> Result<String, String> {
    crate::smtp::parse_url(raw).map(|_| raw.trim().to_owned()).map_err(|_| "expected smtp://host:port".into())
}

fn mailbox(raw: &str) -> Result<String, String> {
    raw.parse::<lettre::message::Mailbox>()
        .map(|_| raw.to_owned())
        .map_err(|e| format!("expected a mailbox such as `onewindow <noreply@example.kz>`: {e}"))
}

impl onewindow_server::ProcessSettings for Settings {
    fn server(&self) -> &ServerSettings {
        &self.server
    }
}
