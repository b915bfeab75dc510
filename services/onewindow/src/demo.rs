//! The demo: two organisations (modelled on KazNU and KazNMU), a student and the staff of the certificate of
//! study's route in each, and the seeds' catalog.
//!
//! Every demo account gets its own random password on first start, written to `<data dir>/demo-accounts.txt`
//! (never a shared default password: one of our source systems gave every student "123456").

use std::path::Path;

use anyhow::Context;
use onewindow_eventlog::{EventStore, OrgId};
use onewindow_identity::{AccountError, NewAccount, RegisterError, register_account, roles};
use rand::{Rng, distributions::Alphanumeric};

#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub org: &'static str,
    pub login: &'static str,
    pub full_name: &'static str,
    pub roles: &'static [&'static str],
    pub department: &'static str,
    pub position: &'static str,
}

pub fn demo_accounts() -> Vec<DemoAccount> {
    let mut accounts = Vec::new();
    for (org, student, dean, registrar) in [
        ("kaznu", "Aruzhan Serikqyzy Nurlanova", "Gauhar Qairatqyzy Abenova", "Yerlan Bolatuly Sadykov"),
        ("kaznmu", "Dias Muratuly Ospanov", "Aigerim Sabitqyzy Zhumabaeva", "Marat Nurlanuly Tulegenov"),
    ] {
        accounts.push(DemoAccount {
            org,
            login: "student",
            full_name: student,
            roles: &["applicant"],
            department: "",
            position: "",
        });
        accounts.push(DemoAccount {
            org,
            login: "dean",
            full_name: dean,
            roles: &["approver"],
            department: "deans-office",
            position: "dean",
        });
        accounts.push(DemoAccount {
            org,
            login: "registrar",
            full_name: registrar,
            roles: &["approver", "executor"],
            department: "registrar",
            position: "registrar",
        });
        accounts.push(DemoAccount {
            org,
            login: "admin",
            full_name: "Service Centre Administrator",
            roles: &["admin", "executor"],
            department: "service-centre",
            position: "administrator",
        });
    }
    accounts
}

fn random_password() -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(16).map(char::from).collect()
}

/// Seeds what is missing and prints where the demo passwords are.
pub async fn seed_demo(data_dir: &Path, identity: &dyn EventStore, catalog: &dyn EventStore) -> anyhow::Result<()> {
    let credentials = data_dir.join("demo-accounts.txt");
    let mut lines = Vec::new();
    for account in demo_accounts() {
        let org = OrgId::parse(account.org)?;
        let password = random_password();
        let new = NewAccount {
            org: org.clone(),
            login: account.login.into(),
            password: password.clone(),
            full_name: account.full_name.into(),
            roles: roles(account.roles),
            department: account.department.into(),
            position: account.position.into(),
            email: format!("{}@{}.example.kz", account.login, account.org),
        };
        match register_account(identity, new).await {
            Ok(_) => lines.push(format!("{}\t{}\t{}", account.org, account.login, password)),
            Err(RegisterError::Rejected(AccountError::LoginTaken(_))) => {}
            Err(other) => return Err(other.into()),
        }
    }
    for org in ["kaznu", "kaznmu"] {
        onewindow_catalog::seed_catalog(catalog, &OrgId::parse(org)?).await?;
    }
    if !lines.is_empty() {
        let mut text = String::from("# organisation\tlogin\tpassword (demo accounts, generated on first start)\n");
        text.push_str(&lines.join("\n"));
        text.push('\n');
        tokio::fs::write(&credentials, text).await.with_context(|| format!("writing {}", credentials.display()))?;
    }
    tracing::info!(file = %credentials.display(), "demo accounts are listed here");
    Ok(())
}
