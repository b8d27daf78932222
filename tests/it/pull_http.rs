//! `joinedup pull` over HTTP against a scripted local server: each failure mode has an
//! exact expected outcome, and nothing truncated or oversized is ever landed.

use std::collections::HashMap;
use std::net::TcpStream;
use std::path::Path;

use crate::http_server::{Server, respond, respond_short};
use crate::util::*;

fn ok(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    respond(s, "200 OK", &[], b"ok,1\n");
}
fn flaky(hit: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    if hit == 1 {
        respond(s, "500 Internal Server Error", &[], b"try again");
    } else {
        respond(s, "200 OK", &[], b"flaky,2\n");
    }
}
fn reset_mid_body(hit: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    if hit == 1 {
        respond_short(s, 100, b"reset,3");
    } else {
        respond(s, "200 OK", &[], b"reset,3\n");
    }
}
fn always_short(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    respond_short(s, 100, b"short body");
}
fn slow(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    std::thread::sleep(std::time::Duration::from_millis(2500));
    respond(s, "200 OK", &[], b"slow,4\n");
}
fn etag(_: usize, h: &HashMap<String, String>, s: &mut TcpStream) {
    if h.get("if-none-match").map(String::as_str) == Some("\"v1\"") {
        respond(s, "304 Not Modified", &[("ETag", "\"v1\"")], b"");
    } else {
        respond(s, "200 OK", &[("ETag", "\"v1\"")], b"etag,5\n");
    }
}
fn hostile(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    respond(
        s,
        "200 OK",
        &[(
            "Content-Disposition",
            "attachment; filename=\"../../etc/passwd\"",
        )],
        b"hostile,6\n",
    );
}
fn too_large(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    respond(s, "200 OK", &[], &vec![b'x'; 5000]);
}
fn rate_limited(hit: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    if hit == 1 {
        respond(
            s,
            "429 Too Many Requests",
            &[("Retry-After", "0")],
            b"slow down",
        );
    } else {
        respond(s, "200 OK", &[], b"limited,7\n");
    }
}
fn bearer(_: usize, h: &HashMap<String, String>, s: &mut TcpStream) {
    if h.get("authorization").map(String::as_str) == Some("Bearer t0ken-xyz") {
        respond(s, "200 OK", &[], b"secret,8\n");
    } else {
        respond(s, "401 Unauthorized", &[], b"no");
    }
}

const PATHS: [&str; 10] = [
    "/ok.csv",
    "/flaky.csv",
    "/reset.csv",
    "/short.csv",
    "/slow.csv",
    "/etag.csv",
    "/hostile",
    "/large.csv",
    "/limited.csv",
    "/bearer.csv",
];

fn server() -> Server {
    let b: [crate::http_server::Behaviour; 10] = [
        ok,
        flaky,
        reset_mid_body,
        always_short,
        slow,
        etag,
        hostile,
        too_large,
        rate_limited,
        bearer,
    ];
    Server::start(PATHS.iter().copied().zip(b).collect())
}

fn pipeline(dir: &Path, server: &Server) -> String {
    let urls: Vec<String> = PATHS
        .iter()
        .map(|p| format!("\"{}{p}\"", server.base))
        .collect();
    let p = dir.join("http.toml");
    std::fs::write(dir.join("token"), "t0ken-xyz\n").unwrap();
    std::fs::write(
        &p,
        format!(
            "[pipeline]\nname = \"http-test\"\nschemas = \"{}\"\n\n[sources.pubs]\nkind = \"http\"\nurls = [{}]\nbearer_token_file = \"token\"\nconnect_timeout_seconds = 2\nread_timeout_seconds = 1\nretries = 2\nmax_bytes = 1000\nmax_concurrent = 3\n",
            root().join("schemas").display(),
            urls.join(", ")
        ),
    )
    .unwrap();
    p.to_str().unwrap().to_string()
}

/// (found, landed, already had, unchanged, waiting, failed) of source `pubs`.
fn counts(stdout: &str) -> [u64; 6] {
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("pubs "))
        .unwrap_or_else(|| panic!("{stdout}"));
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(2)
        .map(|v| v.parse().unwrap())
        .collect();
    [v[0], v[1], v[2], v[3], v[4], v[5]]
}

#[test]
fn http_pull_retries_what_is_transient_and_never_lands_a_bad_body() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(dir.path(), &server);
    let out = dir.path().join("out");

    let (code, stdout, stderr) = result(&joinedup(&[
        "pull",
        &pipeline,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(
        code, 4,
        "a failed URL makes the pull exit 4:\n{stdout}\n{stderr}"
    );
    // ok, flaky (500 then 200), reset (truncated then whole), etag, hostile, limited (429),
    // bearer land; short (always truncated), slow (always past the timeout) and large fail.
    assert_eq!(counts(&stdout), [10, 7, 0, 0, 0, 3], "{stdout}");
    for (path, reason) in [
        (
            "/short.csv",
            "gave up after 3 attempts: truncated body: 10 of 100 bytes",
        ),
        ("/slow.csv", "gave up after 3 attempts: timed out"),
        ("/large.csv", "5,000 bytes is over the limit of 1,000 bytes"),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!("failed: {}{path}", server.base)))
            .unwrap_or_else(|| panic!("{path}: {stdout}"));
        assert!(line.contains(reason), "{line}");
    }
    assert_eq!(
        (
            server.hits("/flaky.csv"),
            server.hits("/reset.csv"),
            server.hits("/short.csv"),
            server.hits("/large.csv")
        ),
        (2, 2, 3, 1)
    );

    let mut bodies: Vec<String> = std::fs::read_dir(out.join("landing/pubs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    bodies.sort();
    assert_eq!(
        bodies,
        [
            "etag,5\n",
            "flaky,2\n",
            "hostile,6\n",
            "limited,7\n",
            "ok,1\n",
            "reset,3\n",
            "secret,8\n"
        ]
    );
    let names: Vec<String> = std::fs::read_dir(out.join("landing/pubs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().any(|n| n.starts_with("passwd__")), "{names:?}");
    assert!(
        files_under(&out)
            .iter()
            .all(|p| p.starts_with(out.join("landing")) || p.ends_with(".lock"))
    );
    assert!(!stdout.contains("t0ken-xyz") && !stderr.contains("t0ken-xyz"));

    // Again: the ETag answers 304; the rest is recognised by content.
    let (code, stdout, _) = result(&joinedup(&[
        "pull",
        &pipeline,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 4);
    assert_eq!(counts(&stdout), [10, 0, 6, 1, 0, 3], "{stdout}");
    assert_eq!(
        std::fs::read_dir(out.join("landing/pubs")).unwrap().count(),
        7
    );

    // Regression: validators were kept per URL alone, so another source fetching the
    // same URL into the same data directory (a renamed source, a second pipeline) was
    // answered 304 and never landed it.
    let text = std::fs::read_to_string(&pipeline)
        .unwrap()
        .replace("[sources.pubs]", "[sources.renamed]");
    std::fs::write(&pipeline, text).unwrap();
    let (code, stdout, _) = result(&joinedup(&[
        "pull",
        &pipeline,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 4, "{stdout}");
    let landed: Vec<String> = std::fs::read_dir(out.join("landing/renamed"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(landed.contains(&"etag,5\n".to_string()), "{landed:?}");
}

#[test]
fn a_pinned_checksum_mismatch_and_a_refused_connection_fail_without_landing() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ok_url = format!("{}/ok.csv", server.base);
    let p = dir.path().join("pinned.toml");
    std::fs::write(
        &p,
        format!(
            "[pipeline]\nname = \"pinned\"\nschemas = \"{}\"\n\n[sources.pubs]\nkind = \"http\"\nurls = [\"{ok_url}\", \"http://127.0.0.1:{closed}/x.csv\"]\nretries = 1\n\n[sources.pubs.sha256]\n\"{ok_url}\" = \"{}\"\n",
            root().join("schemas").display(),
            "0".repeat(64)
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let (code, stdout, _) = result(&joinedup(&[
        "pull",
        p.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 4, "{stdout}");
    assert_eq!(counts(&stdout), [2, 0, 0, 0, 0, 2], "{stdout}");
    assert!(stdout.contains("differs from the pinned 0000000000000000000000000000000000000000000000000000000000000000; not landed"), "{stdout}");
    assert!(
        stdout.contains("gave up after 2 attempts: could not connect"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_dir(out.join("landing/pubs"))
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
}

/// Pulls one URL of `server` as source `pubs`, with `settings` added to the source.
fn pull_one(server: &Server, path: &str, settings: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    pull_into(dir.path(), server, path, settings)
}

/// Sends 100 announced bytes one every 400 ms: never 1 s between bytes, 40 s in all.
fn trickle(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    use std::io::Write;
    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n");
    for _ in 0..100 {
        if s.write_all(b"x").and_then(|_| s.flush()).is_err() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(400));
    }
}

/// Regression: the read timeout only limits the gap between bytes, so a server sending a
/// byte every few seconds held the pull (and the data directory's lock) for days.
#[test]
fn a_download_that_trickles_is_stopped_by_its_deadline() {
    let server = Server::start(vec![("/trickle.csv", trickle)]);
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = pull_one(
        &server,
        "/trickle.csv",
        "read_timeout_seconds = 1\ndownload_timeout_seconds = 2\nretries = 0\n",
    );
    assert_eq!(code, 4, "{stdout}{stderr}");
    assert!(
        stdout.contains("trickle.csv") && stdout.contains("timed out"),
        "{stdout}"
    );
    // Stopped at its 2 s deadline, well before the 40 s the body takes.
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    assert_eq!(counts(&stdout), [1, 0, 0, 0, 0, 1], "{stdout}");
}

/// Redirects to itself, for ever.
fn redirect_loop(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    respond(s, "302 Found", &[("Location", "/loop.csv")], b"");
}

/// Regression: a redirect loop (and a request that cannot be built) was retried as if
/// transient, although it fails the same way every time.
#[test]
fn a_redirect_loop_fails_without_retries() {
    let server = Server::start(vec![("/loop.csv", redirect_loop)]);
    let (code, stdout, stderr) = pull_one(&server, "/loop.csv", "retries = 3\n");
    assert_eq!(code, 4, "{stdout}{stderr}");
    assert_eq!(counts(&stdout), [1, 0, 0, 0, 0, 1], "{stdout}");
    assert!(!stdout.contains("gave up after"), "{stdout}");
    // One attempt: the first request and the 5 redirects reqwest follows.
    assert_eq!(server.hits("/loop.csv"), 6);
}

fn council_901_flaky(hit: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    if hit == 1 {
        respond(s, "500 Internal Server Error", &[], b"try again");
    } else {
        respond(
            s,
            "200 OK",
            &[],
            include_bytes!("../../data-samples/cld/cld_901_2026Q3.csv"),
        );
    }
}

/// The sample pipeline in `dir` with its CLD source fetched over HTTP from `server`.
fn sample_with_cld_over_http(dir: &Path, server: &Server) -> std::path::PathBuf {
    let text = sample_pipeline_anywhere(&sample_pipeline_text()).replace(
        &format!(
            "kind = \"local\"\npath = \"{}/data-samples/cld\"\npattern = \"cld_*.csv\"",
            root().display()
        ),
        &format!(
            "kind = \"http\"\nurls = [\"{}/cld_901_2026Q3.csv\"]\nretries = 2",
            server.base
        ),
    );
    assert!(text.contains("kind = \"http\""), "{text}");
    let pipeline = dir.join("p.toml");
    std::fs::write(&pipeline, text).unwrap();
    pipeline
}

/// Regression (review): a download's `retrying` events, on tokio's worker threads, had
/// no run id, when every other event of the run had one.
#[test]
fn regression_a_run_s_download_retries_carry_its_run_id() {
    let server = Server::start(vec![("/cld_901_2026Q3.csv", council_901_flaky)]);
    let dir = tempfile::tempdir().unwrap();
    let pipeline = sample_with_cld_over_http(dir.path(), &server);
    let out = dir.path().join("out");
    let (code, _, stderr) = result(&joinedup_env(
        &[
            "run",
            pipeline.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--log-format",
            "json",
        ],
        &[("JOINEDUP_LOG", "info")],
    ));
    assert_eq!(code, 0, "{stderr}");
    let retrying: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["message"] == "retrying")
        .collect();
    assert_eq!(retrying.len(), 1, "{stderr}");
    assert!(
        retrying[0]["span"]["run_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{}",
        retrying[0]
    );
}

/// Regression (review): a dry run (and `explain`, `status`) of a pipeline with a fetched
/// source exited 4 on a fresh data directory ("cannot open landing/cld") where a run
/// succeeds, and later said "nothing to do" with new files waiting to be pulled. It
/// counts what has landed and says that a run pulls first.
#[test]
fn regression_a_dry_run_says_it_does_not_pull() {
    let server = Server::start(vec![("/cld_901_2026Q3.csv", council_901_flaky)]);
    let dir = tempfile::tempdir().unwrap();
    let pipeline = sample_with_cld_over_http(dir.path(), &server);
    let out = dir.path().join("out");
    let dry = || {
        result(&joinedup(&[
            "run",
            pipeline.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--dry-run",
        ]))
    };
    let (code, stdout, stderr) = dry();
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("source cld is fetched from HTTP: a run pulls it first, which this dry run does not, so this counts only the 0 file(s) already landed"),
        "{stdout}"
    );
    // Regression (review): the folder a failed first download leaves empty made a dry
    // run predict exit 4, though a run would pull first.
    std::fs::create_dir_all(out.join("landing/cld")).unwrap();
    let (code, stdout, stderr) = dry();
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        server.hits("/cld_901_2026Q3.csv"),
        0,
        "a dry run fetches nothing"
    );
    run_ok(Some(&pipeline), &out, &[]);
    let (code, stdout, stderr) = dry();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("counts only the 1 file(s) already landed"),
        "{stdout}"
    );
    // Regression (review): explain and status said "up to date" without the note.
    for command in ["explain", "status"] {
        let (code, stdout, stderr) = result(&joinedup(&[
            command,
            pipeline.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]));
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stdout.contains("note: source cld is fetched from HTTP: a run pulls it first"),
            "{command}: {stdout}"
        );
    }
}

/// `dir/one.toml`: a pipeline pulling one URL of `server` (`path`, query string and all)
/// as source `pubs`, with `settings` added to the source.
fn one_url_pipeline(dir: &Path, server: &Server, path: &str, settings: &str) -> std::path::PathBuf {
    let p = dir.join("one.toml");
    std::fs::write(
        &p,
        format!(
            "[pipeline]\nname = \"one\"\nschemas = \"{}\"\n\n[sources.pubs]\nkind = \"http\"\nurls = [\"{}{path}\"]\n{settings}",
            root().join("schemas").display(),
            server.base
        ),
    )
    .unwrap();
    p
}

/// Pulls one URL of `server` (`path`, query string and all) as source `pubs` into
/// `dir/out`, with `settings` added to the source; JSON logs.
fn pull_into(dir: &Path, server: &Server, path: &str, settings: &str) -> (i32, String, String) {
    let p = one_url_pipeline(dir, server, path, settings);
    let out = dir.join("out");
    result(&joinedup(&[
        "pull",
        p.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--log-format",
        "json",
    ]))
}

/// v1 as `apc_1.csv`, v2 as `apc_2.csv`, then v1 again as `apc_3.csv`.
fn back_to_v1(hit: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    let (name, body): (&str, &[u8]) = match hit {
        1 => ("apc_1.csv", b"v1,1\n"),
        2 => ("apc_2.csv", b"v2,2\n"),
        _ => ("apc_3.csv", b"v1,1\n"),
    };
    let disposition = format!("attachment; filename=\"{name}\"");
    respond(s, "200 OK", &[("Content-Disposition", &disposition)], body);
}

/// Regression (review): a URL going back to earlier bytes under a new name stayed on
/// the version in between for good (the content was "already had", no record was made,
/// and its validators were saved, so later nights got 304).
#[test]
fn regression_a_url_going_back_to_earlier_bytes_makes_them_current_again() {
    let server = Server::start(vec![("/apc.csv", back_to_v1)]);
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        let (code, stdout, stderr) = pull_into(dir.path(), &server, "/apc.csv", "");
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
    let manifest = std::fs::read_to_string(dir.path().join("out/landing/manifest.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(manifest.lines().last().unwrap()).unwrap();
    let v1_file = serde_json::from_str::<serde_json::Value>(manifest.lines().next().unwrap())
        .unwrap()["file"]
        .clone();
    assert_eq!(last["file"], v1_file, "{manifest}");
}

fn secret_query(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    respond(s, "503 Service Unavailable", &[], b"down");
}

fn secret_ok(_: usize, h: &HashMap<String, String>, s: &mut TcpStream) {
    respond(
        s,
        "302 Found",
        &[("Location", "/landed.csv")],
        h.get("referer").map_or(b"".as_slice(), |r| r.as_bytes()),
    );
}

/// The redirect's target: refuses a request carrying a Referer.
fn no_referer(_: usize, h: &HashMap<String, String>, s: &mut TcpStream) {
    if h.contains_key("referer") {
        respond(s, "400 Bad Request", &[], b"a referer was sent");
    } else {
        respond(s, "200 OK", &[], b"ok,1\n");
    }
}

/// Regression (review): a pre-signed URL's query (`?sig=…`) reached the log's retry and
/// failure lines, the run manifest and the landing manifest, and went to a redirect's
/// target as the Referer.
#[test]
fn regression_a_urls_query_is_never_logged_recorded_or_sent_on() {
    let server = Server::start(vec![
        ("/down.csv?sig=S3CRETSIG", secret_query),
        ("/moved.csv?sig=S3CRETSIG", secret_ok),
        ("/landed.csv", no_referer),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = pull_into(
        dir.path(),
        &server,
        "/down.csv?sig=S3CRETSIG",
        "retries = 1\n",
    );
    assert_eq!(code, 4, "{stdout}{stderr}");
    assert!(stdout.contains("/down.csv?…"), "{stdout}");
    assert!(
        !format!("{stdout}{stderr}").contains("S3CRETSIG"),
        "{stdout}{stderr}"
    );

    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = pull_into(dir.path(), &server, "/moved.csv?sig=S3CRETSIG", "");
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(server.hits("/landed.csv"), 1);
    let landing = std::fs::read_to_string(dir.path().join("out/landing/manifest.jsonl")).unwrap();
    assert!(!landing.contains("S3CRETSIG"), "{landing}");
    assert!(landing.contains("/moved.csv?…"), "{landing}");
}

/// Fails slowly: 1.5 s, then 503.
fn slow_failure(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    std::thread::sleep(std::time::Duration::from_millis(1500));
    respond(s, "503 Service Unavailable", &[], b"down");
}

/// Regression (review): `download_timeout_seconds` bounded each attempt, not the
/// download: with retries a slow server held the run (and its lock) for the deadline
/// once per attempt.
#[test]
fn regression_the_download_deadline_covers_every_attempt() {
    let server = Server::start(vec![("/slow.csv", slow_failure)]);
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = pull_into(
        dir.path(),
        &server,
        "/slow.csv",
        "download_timeout_seconds = 2\nretries = 10\n",
    );
    assert_eq!(code, 4, "{stdout}{stderr}");
    assert!(
        stdout.contains("took longer than download_timeout_seconds (2 s)"),
        "{stdout}"
    );
    // Ten retries of 1.5 s each would take 15 s and more.
    assert!(started.elapsed().as_secs() < 8, "{:?}", started.elapsed());
}

/// Regression (review): SIGTERM during a download left the partial raw extract
/// (`landing/<source>/.incoming-…`) until the next pull.
#[test]
fn regression_a_signal_mid_download_leaves_no_partial_file() {
    let server = Server::start(vec![("/trickle.csv", trickle)]);
    let dir = tempfile::tempdir().unwrap();
    let p = one_url_pipeline(dir.path(), &server, "/trickle.csv", "");
    let out = dir.path().join("out");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_joinedup"))
        .args(["pull", p.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let folder = out.join("landing/pubs");
    let partial = || {
        std::fs::read_dir(&folder)
            .map(|d| {
                d.flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with(".incoming-"))
            })
            .unwrap_or(false)
    };
    let waited = std::time::Instant::now();
    while !partial() && waited.elapsed().as_secs() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(partial(), "the download never started");
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    assert!(
        !partial(),
        "a partial download was left in {}",
        folder.display()
    );
}

/// `gz,9\n`, gzip-compressed.
const GZIPPED: [u8; 25] = [
    0x1f, 0x8b, 0x8, 0x0, 0x0, 0x0, 0x0, 0x0, 0x2, 0x3, 0x4b, 0xaf, 0xd2, 0xb1, 0xe4, 0x2, 0x0,
    0x98, 0xc7, 0xb4, 0x36, 0x5, 0x0, 0x0, 0x0,
];

fn gzip_encoded(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    respond(s, "200 OK", &[("Content-Encoding", "gzip")], &GZIPPED);
}

/// Regression (review): a body sent with `Content-Encoding: gzip` (as object stores serve
/// files stored compressed) was landed still compressed, and refused by ingest.
#[test]
fn regression_a_gzip_encoded_body_is_landed_decoded() {
    let server = Server::start(vec![("/gz.csv", gzip_encoded)]);
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = pull_into(dir.path(), &server, "/gz.csv", "");
    assert_eq!(code, 0, "{stdout}{stderr}");
    let landed: Vec<_> = std::fs::read_dir(dir.path().join("out/landing/pubs"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(landed.len(), 1);
    assert_eq!(std::fs::read(landed[0].path()).unwrap(), b"gz,9\n");
}

fn login_page(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    respond(
        s,
        "200 OK",
        &[("Content-Type", "text/html; charset=utf-8")],
        b"<!DOCTYPE html><html><body>Please sign in</body></html>",
    );
}

/// Regression (review): a login or error page served with 200 (a proxy, an expired
/// link) was landed as the new version of the file, and the run then refused it.
#[test]
fn regression_an_html_page_served_as_the_file_is_not_landed() {
    let server = Server::start(vec![("/apc.csv", login_page)]);
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = pull_into(dir.path(), &server, "/apc.csv", "retries = 0\n");
    assert_eq!(code, 4, "{stdout}{stderr}");
    assert!(stdout.contains("the server sent an HTML page"), "{stdout}");
    let landed = std::fs::read_dir(dir.path().join("out/landing/pubs"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(landed, 0);
}

/// Regression (review): a failure of this machine while landing (a file where the
/// landing zone keeps the source's folder; a full disk) exited 4, as if the source had
/// failed, and lost its cause. It exits as the local error does (2 here: a setting to
/// fix), naming the path.
#[test]
fn regression_a_local_failure_while_landing_is_not_the_sources() {
    let server = Server::start(vec![("/ok.csv", ok)]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("out/landing")).unwrap();
    std::fs::write(dir.path().join("out/landing/pubs"), b"in the way").unwrap();
    let (code, stdout, stderr) = pull_into(dir.path(), &server, "/ok.csv", "retries = 0\n");
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("landing/pubs"), "{stderr}");
}

/// Pulls one URL of `server` as source `pubs` into `dir/out` with `env` set.
fn pull_env(
    dir: &Path,
    server: &Server,
    path: &str,
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let p = one_url_pipeline(dir, server, path, "retries = 0\n");
    let out = dir.join("out");
    result(&joinedup_env(
        &["pull", p.to_str().unwrap(), "--out", out.to_str().unwrap()],
        env,
    ))
}

/// The files landed for source `pubs` in `dir/out`.
fn landed_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("out/landing/pubs"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `v1,1` with ETag "v1" the first time, then an empty 200 with ETag "v2".
fn empty_after_v1(hit: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    if hit == 1 {
        respond(s, "200 OK", &[("ETag", "\"v1\"")], b"v1,1\n");
    } else {
        respond(s, "200 OK", &[("ETag", "\"v2\"")], b"");
    }
}

/// Regression (review): an empty 200 body was landed as the URL's current version, and
/// its ETag saved, so the next nights got 304 and kept it: every run failed until the
/// publisher changed the file. It is refused (the source's failure for this pull), and
/// the version landed before stays current, its validators with it.
#[test]
fn regression_an_empty_http_body_is_not_landed_and_the_earlier_version_stays_current() {
    let server = Server::start(vec![("/apc.csv", empty_after_v1)]);
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = pull_env(dir.path(), &server, "/apc.csv", &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for _ in 0..2 {
        let (code, stdout, stderr) = pull_env(dir.path(), &server, "/apc.csv", &[]);
        assert_eq!(code, 4, "{stdout}{stderr}");
        assert!(
            stdout.contains("the server sent an empty body (HTTP 200, no bytes): not landed; the version landed before stays current"),
            "{stdout}"
        );
        assert_eq!(counts(&stdout), [1, 0, 0, 0, 0, 1], "{stdout}");
    }
    assert_eq!(server.hits("/apc.csv"), 3);
    let current =
        joinedup::pull::landing::current_files(&dir.path().join("out"), "pubs", "*").unwrap();
    assert_eq!(current.len(), 1);
    assert_eq!(std::fs::read(&current[0]).unwrap(), b"v1,1\n");
    let state = std::fs::read_to_string(dir.path().join("out/landing/http_state.json")).unwrap();
    assert!(
        state.contains("\"\\\"v1\\\"\"") && !state.contains("v2"),
        "{state}"
    );
}

/// `v1,1` with ETag "v1" the first time, then 200s of only a BOM and whitespace.
fn blank_after_v1(hit: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    match hit {
        1 => respond(s, "200 OK", &[("ETag", "\"v1\"")], b"v1,1\n"),
        2 => respond(s, "200 OK", &[("ETag", "\"v2\"")], b"\xEF\xBB\xBF"),
        _ => respond(s, "200 OK", &[("ETag", "\"v3\"")], b"\xEF\xBB\xBF\r\n \n"),
    }
}

/// Regression (review): a 200 body of only a UTF-8 BOM and/or whitespace (an export
/// with no rows) was landed as the URL's current version, replacing good data: only a
/// body of no bytes was refused. It is refused as an empty one is, and the version
/// landed before stays current, its validators with it.
#[test]
fn regression_an_http_body_of_only_a_bom_or_whitespace_is_not_landed() {
    let server = Server::start(vec![("/apc.csv", blank_after_v1)]);
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = pull_env(dir.path(), &server, "/apc.csv", &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for bytes in [3, 7] {
        let (code, stdout, stderr) = pull_env(dir.path(), &server, "/apc.csv", &[]);
        assert_eq!(code, 4, "{stdout}{stderr}");
        let said = format!(
            "the server sent a body of only a byte order mark or whitespace (HTTP 200, {bytes} bytes): not landed; the version landed before stays current"
        );
        assert!(stdout.contains(&said), "{stdout}");
        assert_eq!(counts(&stdout), [1, 0, 0, 0, 0, 1], "{stdout}");
    }
    let current =
        joinedup::pull::landing::current_files(&dir.path().join("out"), "pubs", "*").unwrap();
    assert_eq!(current.len(), 1);
    assert_eq!(std::fs::read(&current[0]).unwrap(), b"v1,1\n");
    let state = std::fs::read_to_string(dir.path().join("out/landing/http_state.json")).unwrap();
    assert!(!state.contains("v2") && !state.contains("v3"), "{state}");
}

fn page_after_bom(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    respond(
        s,
        "200 OK",
        &[("Content-Type", "text/html")],
        b"\xEF\xBB\xBF<!DOCTYPE html><html><body>Please sign in</body></html>",
    );
}

/// An HTML page whose first network chunk is whitespace only.
fn page_after_whitespace(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    use std::io::Write;
    let (blank, page): (&[u8], &[u8]) = (b"\r\n\r\n  ", b"<!DOCTYPE html><html>Error</html>");
    let _ = s.write_all(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            blank.len() + page.len()
        )
        .as_bytes(),
    );
    let _ = s.write_all(blank);
    let _ = s.flush();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let _ = s.write_all(page);
    let _ = s.flush();
}

/// Regression (review): an HTML error page was landed as the file when it started with
/// a UTF-8 BOM, or when the first network chunk held only whitespace (only the first
/// chunk was looked at, and a BOM was not skipped).
#[test]
fn regression_an_html_page_after_a_bom_or_a_chunk_of_whitespace_is_not_landed() {
    let server = Server::start(vec![
        ("/bom.csv", page_after_bom),
        ("/ws.csv", page_after_whitespace),
    ]);
    for path in ["/bom.csv", "/ws.csv"] {
        let dir = tempfile::tempdir().unwrap();
        let (code, stdout, stderr) = pull_env(dir.path(), &server, path, &[]);
        assert_eq!(code, 4, "{path}: {stdout}{stderr}");
        assert!(
            stdout.contains("the server sent an HTML page (Content-Type text/html), not the file"),
            "{path}: {stdout}"
        );
        assert!(landed_files(dir.path()).is_empty(), "{path}");
    }
}

/// Regression (review): a full disk writing `landing/manifest.jsonl` after an HTTP body
/// had arrived was reported as the source's failure (exit 4). It is this machine's:
/// exit 5, with the OS's reason and the manifest named.
#[test]
fn regression_a_full_disk_recording_an_http_download_is_this_machine_s_failure() {
    let server = Server::start(vec![("/ok.csv", ok)]);
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = pull_env(
        dir.path(),
        &server,
        "/ok.csv",
        &[("JOINEDUP_FAULT", "enospc:landing_manifest")],
    );
    assert_eq!(code, 5, "{stdout}{stderr}");
    assert!(
        stderr.contains("landing/manifest.jsonl")
            && stderr.contains("No space left on device (os error 28)"),
        "{stderr}"
    );
    assert!(
        !std::fs::read_to_string(dir.path().join("out/landing/http_state.json"))
            .unwrap_or_default()
            .contains("ok.csv")
    );
}

/// Regression (review): a full disk saving `http_state.json` was reported as the
/// source's failure (exit 4), and left `.http_state.json.<uuid>.tmp` (0644) in the
/// landing root for good. It is this machine's failure (exit 5, the OS's reason), and
/// no temporary file is left.
#[test]
fn regression_a_full_disk_saving_http_state_is_this_machine_s_failure_and_leaves_nothing() {
    let server = Server::start(vec![("/ok.csv", ok)]);
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = pull_env(
        dir.path(),
        &server,
        "/ok.csv",
        &[("JOINEDUP_FAULT", "enospc:landing_state_write")],
    );
    assert_eq!(code, 5, "{stdout}{stderr}");
    assert!(
        stderr.contains("http_state.json")
            && stderr.contains("No space left on device (os error 28)"),
        "{stderr}"
    );
    assert_eq!(landed_files(dir.path()).len(), 1);
    let strays: Vec<String> = std::fs::read_dir(dir.path().join("out/landing"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(strays.is_empty(), "{strays:?}");
}

fn page_as_csv(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    respond(
        s,
        "200 OK",
        &[("Content-Type", "text/csv")],
        b"\xEF\xBB\xBF\r\n<!DOCTYPE html><html><body>Your session has expired</body></html>",
    );
}

/// Regression (review): a proxy's page labelled `text/csv` was landed as the file (only
/// a body declared HTML was looked at), replacing the good version. A body starting
/// with a page's own opening is refused whatever it is declared as.
#[test]
fn regression_an_html_page_served_as_csv_is_not_landed() {
    let server = Server::start(vec![("/expired.csv", page_as_csv)]);
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = pull_env(dir.path(), &server, "/expired.csv", &[]);
    assert_eq!(code, 4, "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "the server sent an HTML page (it starts like one, though served as text/csv), not the file"
        ),
        "{stdout}"
    );
    assert!(landed_files(dir.path()).is_empty());
}
