//! A real identity server on a free port over an in-memory log, with a clock the test moves.

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use chrono::Utc;
use onewindow_auth::Role;
use onewindow_eventlog::{EventStore, OrgId, StreamRef};
use onewindow_identity::{Identity, NewAccount, Options, register_account, serve};
use onewindow_proto::identity::v1::{self as pb, identity_service_client::IdentityServiceClient};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Request, Status, transport::Channel};
use tonic_types::StatusExt;
use tracing_subscriber::{EnvFilter, fmt::MakeWriter};
use uuid::Uuid;

pub const ORG: &str = "kaznu";
pub const ADMIN_PASSWORD: &str = "admin-password-2025";

/// The first row of every import in these tests: a valid student.
pub const HEADER: &str =
    "login,surname,name,patronymic,birth_date,iin,roles,department,position,faculty,specialty,course,group,email,phone";
pub const ARUZHAN: &str = "aruzhan,Nurlanova,Aruzhan,Serikqyzy,2005-07-15,050715603456,applicant,,,Information \
                           Technology,Computer Science,2,CS-23-1,aruzhan@example.kz,+7 701 123 45 67";
pub const DIAS: &str = "dias,Ospanov,Dias,Muratuly,24.05.1995,950524300561,approver;signatory,deans-office,dean,,,,,,";

pub fn csv(rows: &[&str]) -> String {
    [HEADER].iter().chain(rows).copied().collect::<Vec<_>>().join("\n")
}

pub use onewindow_server::ManualClock as TestClock;

pub struct TestApp {
    pub store: Arc<dyn EventStore>,
    pub clock: Arc<TestClock>,
    pub org: OrgId,
    channel: Channel,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl TestApp {
    /// A server whose per-network budget is out of the way.
    pub async fn spawn() -> Self {
        Self::spawn_with(options(10_000, false)).await
    }

    pub async fn spawn_with(options: Options) -> Self {
        capture_logs();
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("in-memory log");
        let clock = Arc::new(TestClock::new(Utc::now()));
        let identity = Identity::open(store.clone())
            .await
            .expect("identity opens")
            .with_clock(clock.clone())
            .with_options(options);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let shutdown = CancellationToken::new();
        tokio::spawn(serve(identity, listener, shutdown.clone()));
        let channel = tonic::transport::Endpoint::from_shared(url)
            .expect("url")
            .timeout(Duration::from_secs(30))
            .connect()
            .await
            .expect("connect");
        Self { store, clock, org: OrgId::parse(ORG).expect("org"), channel, shutdown }
    }

    pub fn client(&self) -> IdentityServiceClient<Channel> {
        IdentityServiceClient::new(self.channel.clone())
    }

    /// Seeds an account with a password, as the operator's demo seeding does.
    pub async fn seed(&self, login: &str, password: &str, roles: &[Role]) -> Uuid {
        register_account(
            self.store.as_ref(),
            NewAccount {
                org: self.org.clone(),
                login: login.into(),
                password: password.into(),
                full_name: format!("{login} of the tests"),
                roles: roles.to_vec(),
                department: String::new(),
                position: String::new(),
                email: format!("{login}@example.kz"),
            },
        )
        .await
        .expect("seeded")
    }

    /// An administrator's access token.
    pub async fn admin(&self) -> String {
        self.seed("admin", ADMIN_PASSWORD, &[Role::Admin]).await;
        self.sign_in("admin", ADMIN_PASSWORD).await.expect("the admin signs in").access_token
    }

    pub async fn sign_in(&self, login: &str, password: &str) -> Result<pb::SignInResponse, Status> {
        let request = pb::SignInRequest { organization_id: ORG.into(), login: login.into(), password: password.into() };
        self.client().sign_in(request).await.map(tonic::Response::into_inner)
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<pb::RefreshTokenResponse, Status> {
        let request = pb::RefreshTokenRequest { organization_id: ORG.into(), refresh_token: refresh_token.into() };
        self.client().refresh_token(request).await.map(tonic::Response::into_inner)
    }

    pub async fn sign_out(&self, refresh_token: &str) -> Result<pb::SignOutResponse, Status> {
        let request = pb::SignOutRequest { organization_id: ORG.into(), refresh_token: refresh_token.into() };
        self.client().sign_out(request).await.map(tonic::Response::into_inner)
    }

    pub async fn activate(&self, login: &str, code: &str, password: &str) -> Result<(), Status> {
        let request = pb::ActivateAccountRequest {
            organization_id: ORG.into(),
            login: login.into(),
            one_time_code: code.into(),
            new_password: password.into(),
        };
        self.client().activate_account(request).await.map(|_| ())
    }

    pub async fn import(&self, admin: &str, csv: &str) -> Result<pb::ImportAccountsResponse, Status> {
        let request = authed(pb::ImportAccountsRequest { csv: csv.into() }, admin);
        self.client().import_accounts(request).await.map(tonic::Response::into_inner)
    }

    pub async fn me(&self, token: &str) -> Result<pb::GetMeResponse, Status> {
        self.client().get_me(authed(pb::GetMeRequest {}, token)).await.map(tonic::Response::into_inner)
    }

    /// The event types of one of identity's streams.
    pub async fn event_types(&self, stream_type: &str, stream_id: &str) -> Vec<String> {
        let stream = StreamRef::new(&self.org, stream_type, stream_id);
        self.store.read_stream(&stream).await.expect("read").into_iter().map(|e| e.event_type).collect()
    }
}

pub fn authed<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
    request
}

/// The fields an INVALID_ARGUMENT names, with their descriptions, in order.
pub fn violations(status: &Status) -> Vec<(String, String)> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let bad_request = status.get_details_bad_request().expect("a BadRequest detail");
    bad_request.field_violations.into_iter().map(|v| (v.field, v.description)).collect()
}

/// Just the field names of [`violations`].
pub fn fields(status: &Status) -> Vec<String> {
    violations(status).into_iter().map(|(field, _)| field).collect()
}

/// Everything the test binary's subscriber writes, for the test that looks for secrets in it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

static CAPTURED: OnceLock<Captured> = OnceLock::new();

/// Installs, once per test binary, a subscriber that keeps every log line in memory: silent, and global, because
/// the server's tasks run on any thread (a thread-local default would miss them).
fn capture_logs() -> &'static Captured {
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            // Everything identity says at every level, with the fields of the spans around it.
            .with_env_filter(EnvFilter::new(
                "debug,onewindow_identity=trace,h2=info,hyper=info,hyper_util=info,tower=info",
            ))
            .with_writer(captured.clone())
            .with_ansi(false)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        captured
    })
}

/// What every test of this binary has logged so far.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&capture_logs().0.lock().expect("buffer")).into_owned()
}

/// Identity's options with a budget of `sign_in_per_minute` and the gateway's address trusted or not.
pub fn options(sign_in_per_minute: u32, trust_forwarded_for: bool) -> Options {
    Options {
        sign_in: onewindow_identity::SignInSettings {
            sign_in_per_minute: sign_in_per_minute.try_into().expect("a budget above zero"),
        },
        caller: onewindow_server::CallerSettings { trust_forwarded_for },
    }
}
