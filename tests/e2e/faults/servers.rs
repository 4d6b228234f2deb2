//! PostgreSQL and MariaDB restarted under a running `lifeboat serve` with clients reporting.
//!
//! The servers are the machine's own, shared with every other test: both restarts run in one
//! test, one after the other, and each server is started again when the test ends, however it
//! ends.

use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;

use super::{Api, ENGINE, Load, assert_database_503};
use crate::support::Server;

/// One of the machine's database servers.
#[derive(Debug, Clone, Copy)]
enum DbServer {
    Postgres,
    MariaDb,
}

fn sh(command: &str) -> (bool, String) {
    let out = Command::new("sh")
        .args(["-c", command])
        .output()
        .expect("running sh");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

impl DbServer {
    fn url(self, database: &str) -> String {
        match self {
            Self::Postgres => format!("postgresql://postgres@127.0.0.1:5432/{database}"),
            Self::MariaDb => format!("mysql+pymysql://root@127.0.0.1:3306/{database}"),
        }
    }

    /// Runs one SQL statement as the administrator.
    fn admin(self, sql: &str) -> (bool, String) {
        match self {
            Self::Postgres => sh(&format!(
                "psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -c \"{sql}\""
            )),
            Self::MariaDb => sh(&format!("mysql -h 127.0.0.1 -uroot -e \"{sql}\"")),
        }
    }

    fn answers(self) -> bool {
        match self {
            Self::Postgres => sh("pg_isready -h 127.0.0.1 -p 5432").0 && self.admin("SELECT 1").0,
            Self::MariaDb => sh("mysqladmin -h 127.0.0.1 -uroot ping").0,
        }
    }

    fn stop(self) {
        let (ok, out) = match self {
            Self::Postgres => sh(
                "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -1) main stop -m fast",
            ),
            Self::MariaDb => sh("mysqladmin -uroot shutdown"),
        };
        assert!(ok, "stopping {self:?} failed: {out}");
    }

    /// Starts the server (nothing if it runs) and waits until it answers.
    fn start(self) -> Result<(), String> {
        let command = match self {
            Self::Postgres => {
                "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -1) main start"
            }
            Self::MariaDb => {
                "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd"
            }
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !self.answers() {
            // PostgreSQL refuses to start twice; whatever it says, the check above decides.
            let (_, out) = sh(command);
            if tokio::time::Instant::now() > deadline {
                return Err(format!(
                    "{self:?} did not come back within 60 s (`{command}`: {out})"
                ));
            }
            // Sync on purpose: this also runs in `Drop`, where nothing can be awaited.
            #[allow(clippy::disallowed_methods)]
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    }
}

/// A database of the test on a server, dropped when the test ends.
struct Database {
    server: DbServer,
    name: String,
}

impl Database {
    fn create(server: DbServer) -> Self {
        assert!(
            server.answers(),
            "{server:?} is not running at 127.0.0.1: start it (`scripts/setup/databases.sh`, or see \
             the README's test section)"
        );
        let name = format!(
            "lifeboat_faults_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let create = match server {
            DbServer::Postgres => format!("CREATE DATABASE {name}"),
            DbServer::MariaDb => {
                format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            }
        };
        let (ok, out) = server.admin(&create);
        assert!(ok, "{create}: {out}");
        Self { server, name }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Err(e) = self.server.start() {
            eprintln!("{e}");
        }
        let drop = match self.server {
            DbServer::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            DbServer::MariaDb => format!("DROP DATABASE IF EXISTS {}", self.name),
        };
        let _ = self.server.admin(&drop);
    }
}

/// A server taken down; started again by [`Outage::end`], or when dropped on a panic.
struct Outage(Option<DbServer>);

impl Outage {
    fn begin(server: DbServer) -> Self {
        let outage = Self(Some(server));
        server.stop();
        outage
    }

    fn end(mut self) {
        if let Some(server) = self.0.take() {
            server.start().unwrap();
        }
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        if let Some(Err(e)) = self.0.take().map(DbServer::start) {
            eprintln!("{e}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_servers_restarted_under_load_lose_nothing_and_the_engine_resumes() {
    for server in [DbServer::Postgres, DbServer::MariaDb] {
        restarted_under_load(server).await;
    }
}

async fn restarted_under_load(kind: DbServer) {
    let database = Database::create(kind);
    let url = kind.url(&database.name);
    lifeboat_store::open(
        &lifeboat_core::config::DatabaseUrl::parse(&url).unwrap(),
        &lifeboat_store::StoreOptions {
            migrate: true,
            ..lifeboat_store::StoreOptions::default()
        },
    )
    .await
    .unwrap();
    let server = Server::start(&format!("[database]\nconnection = {url}\n{ENGINE}")).await;
    let api = Api::new(server.url());
    api.segment_with_host().await;

    let load = Load::start(&api, 3);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = load.accepted();
    assert!(before > 0, "{kind:?}: nothing accepted before the restart");
    let outage = tokio::task::spawn_blocking(move || Outage::begin(kind))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    tokio::task::spawn_blocking(move || outage.end())
        .await
        .unwrap();
    let back = load.accepted();
    let resumed = tokio::time::Instant::now();
    while load.accepted() < back + 20 {
        assert!(
            resumed.elapsed() < Duration::from_secs(30),
            "{kind:?}: writes did not resume after the restart\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "{kind:?}: 20 more reports accepted {:?} after the server was back",
        resumed.elapsed()
    );
    let outcomes = load.stop().await;
    let mut accepted = Vec::new();
    let mut refused = 0;
    for (status, body, id) in outcomes {
        match id {
            Some(id) => accepted.push(id),
            None => {
                assert_database_503(status, &body);
                refused += 1;
            }
        }
    }
    eprintln!(
        "{kind:?}: {} reports accepted, {refused} answered 503 around the restart",
        accepted.len()
    );
    let (status, body) = api.health().await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{kind:?} healthcheck after the restart: {body}"
    );
    api.all_finished(&accepted, Duration::from_secs(90), || server.log())
        .await;
    server.stop().await;
    drop(database);
}
