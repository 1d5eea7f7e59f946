//! The API's contract at its edges (issue 14, items 16–17): a body cut
//! short, a request over the time limit, and the spec's error answers.

mod common;

use std::time::{Duration, Instant};

use common::{REGION, Server, config, region};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use touban_api::ApiConfig;
use touban_store::Grant;

/// Sends `head` (a request whose body never completes) and reads until the
/// answer contains `until`; panics if none comes within `wait`.
async fn stalled(addr: &str, head: &str, until: &str, wait: Duration) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // The connection stays open: read until the answer's body is in.
    while !String::from_utf8_lossy(&buf).contains(until) {
        let n = tokio::time::timeout(wait, s.read(&mut chunk))
            .await
            .expect("an answer in time")
            .unwrap();
        assert!(
            n > 0,
            "closed without an answer: {}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// A client that announces a body and then stops sending it gets a 408
/// problem saying so, well before the request timeout; nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_cut_short_is_a_408_problem() {
    let srv = Server::start(config()).await;
    let token = srv.token(Grant::Coordinator { region: region() }).await;
    let addr = srv.base.trim_start_matches("http://").to_string();
    let part = r#"{"staff": "yamada-kenji", "start": "2027-01"#;
    let head = format!(
        "POST /api/v1/regions/{REGION}/absences HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{part}"
    );
    let start = Instant::now();
    let text = stalled(&addr, &head, "nothing was changed", Duration::from_secs(25)).await;
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.to_lowercase()
            .contains("content-type: application/problem+json"),
        "{text}"
    );
    assert!(
        text.contains("body-incomplete") && text.contains("200 bytes"),
        "{text}"
    );
    assert!(start.elapsed() < Duration::from_secs(20));
    let absences = touban_store::Store::absences(srv.store.as_ref(), &region())
        .await
        .unwrap();
    assert!(
        absences
            .iter()
            .all(|a| a.source == touban_store::AbsenceSource::File),
        "nothing reported is stored: {absences:?}"
    );
    srv.stop().await;
}

/// The request timeout answers a problem, not an empty 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_the_time_limit_is_a_503_problem() {
    let srv = Server::start(ApiConfig {
        request_timeout_seconds: 1,
        ..config()
    })
    .await;
    let token = srv.token(Grant::Coordinator { region: region() }).await;
    let addr = srv.base.trim_start_matches("http://").to_string();
    // A body that never finishes, with the body wait longer than the
    // request limit: the request timeout answers first.
    let head = format!(
        "POST /api/v1/regions/{REGION}/absences HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{{"
    );
    let text = stalled(
        &addr,
        &head,
        "check whether it took effect",
        Duration::from_secs(10),
    )
    .await;
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.to_lowercase().contains("retry-after: 5"), "{text}");
    assert!(text.contains("timed-out"), "{text}");
    srv.stop().await;
}

/// Every error answer in the spec is application/problem+json; operations
/// with a body document 400, 408, 413 and 415; changes document 409.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spec_documents_the_error_answers() {
    let srv = Server::start(config()).await;
    let spec: serde_json::Value = reqwest::get(srv.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ops = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(rs) = op["responses"].as_object() else {
                continue;
            };
            ops += 1;
            for (code, r) in rs {
                if code.starts_with('4') || code.starts_with('5') {
                    let types: Vec<&String> = r["content"]
                        .as_object()
                        .map_or(vec![], |c| c.keys().collect());
                    assert!(
                        types.iter().all(|t| *t == "application/problem+json")
                            || path.ends_with("/respond"),
                        "{method} {path} {code}: {types:?}"
                    );
                }
            }
            for code in ["400", "401", "429", "503"] {
                assert!(rs.contains_key(code), "{method} {path} lacks {code}");
            }
            if op.get("requestBody").is_some() {
                for code in ["408", "413", "415"] {
                    assert!(rs.contains_key(code), "{method} {path} lacks {code}");
                }
            }
            if method != "get" {
                assert!(rs.contains_key("409"), "{method} {path} lacks 409");
            }
        }
    }
    assert!(ops > 30, "{ops} operations");
    // The server's own rules are in the spec: ids, months, enums.
    let body = &spec["components"]["schemas"]["CoverBody"]["properties"];
    assert_eq!(body["mode"]["pattern"], "^(broadcast|one_by_one)$");
    assert!(
        body["institution"]["pattern"]
            .as_str()
            .unwrap()
            .starts_with("^[a-z0-9]")
    );
    let month = spec["paths"]["/api/v1/regions/{region}/rotas/{month}"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "month")
        .unwrap()
        .clone();
    assert!(
        month["schema"]["pattern"]
            .as_str()
            .unwrap()
            .contains("(0[1-9]|1[0-2])")
    );
    srv.stop().await;
}
