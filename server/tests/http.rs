//! Black-box HTTP tests: the whole application on a random port with a fresh database, on
//! SQLite and on PostgreSQL. One test binary for the crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use serde_json::Value;
use server::config::Cli;
use server::http::App;
use store::backend_tests;
use store::testing::TestDatabase;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server running in this process until `stop` is called or it is dropped.
struct TestServer {
    address: SocketAddr,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl TestServer {
    async fn start(db: &TestDatabase) -> Self {
        let cli = Cli::try_parse_from([
            "server",
            "--database-url",
            db.url.as_str(),
            "--bind",
            "127.0.0.1:0",
        ])
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = App::new(&cli.config, db.store.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve_until(
            listener,
            app,
            async move {
                let _ = stopped.await;
            },
            Duration::from_secs(5),
        ));
        Self {
            address,
            client: reqwest::Client::new(),
            stop: Some(stop),
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Asks the server to shut down and waits until it has.
    async fn shut_down(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.unwrap()
    }
}

backend_tests!(
    liveness_answers_ok,
    readiness_follows_the_database,
    the_portal_page_is_rendered_on_the_server,
    the_status_server_function_reads_the_database,
    unknown_pages_are_404,
    shutdown_lets_an_open_request_finish,
);

async fn liveness_answers_ok(db: TestDatabase) {
    let server = TestServer::start(&db).await;

    let response = server.get("/healthz").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "ok");
}

async fn readiness_follows_the_database(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let ready = server.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["database"], db.url.backend().name());

    db.store.close().await;
    let unready = server.get("/readyz").await;

    assert_eq!(unready.status(), 503);
    assert_eq!(
        unready.json::<Value>().await.unwrap()["status"],
        "unavailable"
    );
}

async fn the_portal_page_is_rendered_on_the_server(db: TestDatabase) {
    let server = TestServer::start(&db).await;

    let response = server.get("/").await;

    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("Deployment status"), "{html}");
    assert!(
        html.contains("/pkg/portal.js"),
        "the hydration script is not linked: {html}"
    );
}

async fn the_status_server_function_reads_the_database(db: TestDatabase) {
    let server = TestServer::start(&db).await;

    let response = server
        .client
        .post(server.url("/api/deployment_status"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let status: Value = response.json().await.unwrap();
    assert_eq!(status["database"], db.url.backend().name());
    assert_eq!(status["schema_version"], 1);
    assert_eq!(status["tenants"], 0);
}

async fn unknown_pages_are_404(db: TestDatabase) {
    let server = TestServer::start(&db).await;

    let response = server.get("/no/such/page").await;

    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

async fn shutdown_lets_an_open_request_finish(db: TestDatabase) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start(&db).await;
    let address = server.address;
    // A request whose body is only half sent is in flight: the server has routed it and
    // waits for the rest of the body.
    let body = "padding=0123456789";
    let mut connection = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/deployment_status HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    connection.write_all(head.as_bytes()).await.unwrap();
    connection.write_all(&body.as_bytes()[..8]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let stopping = tokio::spawn(server.shut_down());
    tokio::time::sleep(Duration::from_millis(200)).await;
    connection.write_all(&body.as_bytes()[8..]).await.unwrap();
    let mut response = String::new();
    connection.read_to_string(&mut response).await.unwrap();

    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    stopping.await.unwrap().unwrap();
    assert!(
        tokio::net::TcpStream::connect(address).await.is_err(),
        "the listener is still open"
    );
}
