//! The bench's throwaway PostgreSQL databases: made fresh for each measurement and dropped when the run ends, so
//! a shared machine is left as it was.

use std::sync::Mutex;

use sqlx::Connection;

static CREATED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A new, empty database on the machine's PostgreSQL (the test harness's), remembered for [`drop_all`].
pub async fn postgres_database() -> anyhow::Result<String> {
    let url = onewindow_tests::fresh_postgres_database().await?;
    CREATED.lock().expect("scratch list").push(url.clone());
    Ok(url)
}

/// Drops every database this run made (after the processes using them have stopped).
pub async fn drop_all() {
    let urls = std::mem::take(&mut *CREATED.lock().expect("scratch list"));
    let admin = std::env::var("ONEWINDOW_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let Ok(mut connection) = sqlx::PgConnection::connect(&admin).await else { return };
    for url in urls {
        let Some((_, name)) = url.rsplit_once('/') else { continue };
        let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        if let Err(error) = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut connection).await {
            eprintln!("could not drop the bench database {name}: {error}");
        }
    }
}
