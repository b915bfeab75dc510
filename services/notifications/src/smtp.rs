//! The SMTP adapter of the e-mail sender (lettre over tokio), plain SMTP to a local relay.

use std::time::Duration;

use async_trait::async_trait;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
};

use crate::{
    mail::EmailQueued,
    sender::{MailTransport, SendError},
};

/// What one SMTP conversation may take before it counts as a transient failure.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SmtpConfigError {
    #[error("ONEWINDOW_SMTP_URL must look like smtp://host:port (plain SMTP), not {0:?}")]
    Url(String),
    #[error("the sender address {0:?} is not a mailbox: {1}")]
    From(String, String),
}

pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Smtp {
    /// `url` is `smtp://host[:port]` (port 25 by default); `from` a mailbox such as `onewindow <noreply@x.kz>`.
    pub fn new(url: &str, from: &str) -> Result<Self, SmtpConfigError> {
        let (host, port) = parse_url(url)?;
        let from = from
            .parse()
            .map_err(|e: lettre::address::AddressError| SmtpConfigError::From(from.into(), e.to_string()))?;
        let transport =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port).timeout(Some(TIMEOUT)).build();
        Ok(Self { transport, from })
    }
}

pub(crate) fn parse_url(url: &str) -> Result<(String, u16), SmtpConfigError> {
    let invalid = || SmtpConfigError::Url(url.to_owned());
    let authority = url.trim().strip_prefix("smtp://").ok_or_else(invalid)?.trim_end_matches('/');
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().map_err(|_| invalid())?),
        None => (authority, 25),
    };
    if host.is_empty() || host.contains(['/', '@', '?']) {
        return Err(invalid());
    }
    Ok((host.to_owned(), port))
}

#[async_trait]
impl MailTransport for Smtp {
    async fn send(&self, email: &EmailQueued) -> Result<(), SendError> {
        let to: Mailbox =
            email.to.parse().map_err(|e| SendError::Permanent(format!("bad address {:?}: {e}", email.to)))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&email.subject)
            // The same e-mail keeps its Message-ID, so a resend after a crash can be recognised by the receiver.
            .message_id(Some(format!("<{}@onewindow>", email.email_id)))
            .multipart(MultiPart::alternative_plain_html(email.text.clone(), email.html.clone()))
            .map_err(|e| SendError::Permanent(e.to_string()))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_permanent() => Err(SendError::Permanent(error.to_string())),
            Err(error) => Err(SendError::Transient(error.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{path::Path, process::Stdio, sync::Arc};

    use tokio::process::{Child, Command};

    use super::*;
    use crate::sender::{CHECKPOINT, EmailSender, Retry, tests::queued_email};

    /// Reads back the one message in a maildir with Python's e-mail parser: decoded headers and both parts.
    const READ_MAILDIR: &str = r#"
import json, mailbox, sys
from email import policy
from email.parser import BytesParser
box = mailbox.Maildir(sys.argv[1], factory=None, create=False)
messages = [BytesParser(policy=policy.default).parse(box.get_file(key)) for key in box.keys()]
print(json.dumps([{
    "to": str(m["To"]), "from": str(m["From"]), "subject": str(m["Subject"]),
    "message_id": str(m["Message-ID"]), "content_type": m.get_content_type(),
    "text": m.get_body(preferencelist=("plain",)).get_content(),
    "html": m.get_body(preferencelist=("html",)).get_content(),
} for m in messages]))
"#;

    /// aiosmtpd on a free port, saving what it receives to `maildir`; killed when dropped.
    async fn smtp_server(maildir: &Path) -> (Child, u16) {
        let found = std::process::Command::new("python3").args(["-c", "import aiosmtpd"]).output();
        match found {
            Ok(output) if output.status.success() => {}
            Ok(output) => panic!(
                "the e-mail test needs aiosmtpd (run scripts/test-prepare.sh): {}",
                String::from_utf8_lossy(&output.stderr)
            ),
            Err(error) => panic!("the e-mail test needs python3 with aiosmtpd (run scripts/test-prepare.sh): {error}"),
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
        let mut server = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 -m aiosmtpd starts");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return (server, port);
            }
            if let Some(status) = server.try_wait().expect("server status") {
                let output = server.wait_with_output().await.expect("output");
                panic!("aiosmtpd exited with {status}: {}", String::from_utf8_lossy(&output.stderr));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("aiosmtpd did not listen on 127.0.0.1:{port} within 10 s");
    }

    #[tokio::test]
    async fn a_kazakh_submission_reaches_a_real_smtp_server_in_kazakh() {
        let maildir = std::env::temp_dir().join(format!("onewindow-maildir-{}", uuid::Uuid::now_v7()));
        let (mut server, port) = smtp_server(&maildir).await;
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let stream = queued_email(&store).await;

        let smtp =
            Smtp::new(&format!("smtp://127.0.0.1:{port}"), "onewindow <noreply@onewindow.invalid>").expect("smtp");
        let sender = EmailSender::new(store.clone(), Arc::new(smtp), Retry::EMAIL);
        assert_eq!(sender.send_pending().await.expect("sent"), 1);
        let outcome: Vec<_> =
            store.read_stream(&stream).await.expect("stream").into_iter().map(|e| e.event_type).collect();
        assert_eq!(outcome, ["email.queued", "email.sent"]);
        assert_ne!(store.load_checkpoint(CHECKPOINT).await.expect("checkpoint"), onewindow_eventlog::Position::START);

        let read = Command::new("python3").args(["-c", READ_MAILDIR]).arg(&maildir).output().await.expect("python3");
        assert!(read.status.success(), "reading the maildir: {}", String::from_utf8_lossy(&read.stderr));
        let received: serde_json::Value = serde_json::from_slice(&read.stdout).expect("json");
        let messages = received.as_array().expect("list");
        assert_eq!(messages.len(), 1, "{received:#}");
        let message = &messages[0];
        assert_eq!(message["to"], "a@example.kz");
        assert_eq!(message["from"], "onewindow <noreply@onewindow.invalid>");
        assert_eq!(message["subject"], "Өтінішіңіз өңдеуге қабылданды");
        assert_eq!(message["content_type"], "multipart/alternative");
        assert_eq!(message["message_id"], format!("<{}@onewindow>", stream.stream_id));
        let text = message["text"].as_str().expect("text");
        assert!(text.contains("Өтінішіңіз өңдеуге қабылданды") && text.contains("KAZNU-2026-000123"), "{text}");
        let html = message["html"].as_str().expect("html");
        assert!(html.contains("<h1>Өтінішіңіз өңдеуге қабылданды</h1>") && html.contains("lang=\"kk\""), "{html}");

        server.kill().await.expect("aiosmtpd stopped");
        let _ = std::fs::remove_dir_all(maildir);
    }

    #[tokio::test]
    async fn an_english_refusal_reaches_a_real_smtp_server_in_english_with_its_reason() {
        use onewindow_bus::EventHandler;
        use onewindow_contracts::applications::ApplicationEvent;
        use onewindow_eventlog::OrgId;

        use crate::{
            consumers::{NotifyFromApplications, tests::submitted},
            public::tests::application_event,
        };

        let maildir = std::env::temp_dir().join(format!("onewindow-maildir-{}", uuid::Uuid::now_v7()));
        let (mut server, port) = smtp_server(&maildir).await;
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let kaznu = OrgId::parse("kaznu").expect("org");
        let handler = NotifyFromApplications::new(store.clone());
        let submission = submitted(&kaznu, uuid::Uuid::now_v7(), "en");
        handler.handle(&submission).await.expect("submitted");
        let refused = ApplicationEvent::Refused {
            application_id: crate::consumers::tests::APP_ID.parse().expect("an application id"),
            reason: "the certificate <needs> a valid student card".into(),
            refused_by_id: None,
            refused_by_name: String::new(),
        };
        let refused =
            application_event(crate::consumers::tests::APP_ID.parse().expect("an application id"), 3, &refused);
        handler.handle(&refused).await.expect("refused");

        let smtp =
            Smtp::new(&format!("smtp://127.0.0.1:{port}"), "onewindow <noreply@onewindow.invalid>").expect("smtp");
        let sender = EmailSender::new(store.clone(), Arc::new(smtp), Retry::EMAIL);
        assert_eq!(sender.send_pending().await.expect("sent"), 2);

        let read = Command::new("python3").args(["-c", READ_MAILDIR]).arg(&maildir).output().await.expect("python3");
        assert!(read.status.success(), "reading the maildir: {}", String::from_utf8_lossy(&read.stderr));
        let received: serde_json::Value = serde_json::from_slice(&read.stdout).expect("json");
        let messages = received.as_array().expect("list");
        assert_eq!(messages.len(), 2, "{received:#}");
        let refusal = messages
            .iter()
            .find(|m| m["subject"] == "Your application has been refused")
            .unwrap_or_else(|| panic!("no refusal among {received:#}"));
        let text = refusal["text"].as_str().expect("text");
        assert!(
            text.contains("KAZNU-2026-000123") && text.contains("Reason: the certificate <needs> a valid student card"),
            "{text}"
        );
        let html = refusal["html"].as_str().expect("html");
        assert!(
            html.contains("lang=\"en\"") && html.contains("the certificate &lt;needs&gt; a valid student card"),
            "{html}"
        );

        server.kill().await.expect("aiosmtpd stopped");
        let _ = std::fs::remove_dir_all(maildir);
    }

    #[test]
    fn urls_name_a_host_and_a_port() {
        assert_eq!(parse_url("smtp://127.0.0.1:2525").expect("url"), ("127.0.0.1".into(), 2525));
        assert_eq!(parse_url("smtp://mail.kaznu.kz").expect("url"), ("mail.kaznu.kz".into(), 25));
        assert!(parse_url("smtps://mail.kaznu.kz:465").is_err());
        assert!(parse_url("smtp://:25").is_err());
        assert!(parse_url("smtp://host:port").is_err());
        assert!(Smtp::new("smtp://127.0.0.1:2525", "not a mailbox").is_err());
        assert!(Smtp::new("smtp://127.0.0.1:2525", "onewindow <noreply@onewindow.invalid>").is_ok());
    }
}
