//! `cargo bench -p bench`: per-request latency of each backend on loopback (its release binary,
//! one reqwest client, keep-alive, one request at a time) for plaintext, json and static, and
//! micro-benchmarks of the core: static lookup, problem rendering, session lookup, and one
//! password hash at the contract's default cost.

use std::hint::black_box;

use bench::measure::backend_process::BackendProcess;
use bench::run::options::default_cpus;
use bench::workspace::{backends, binaries};
use criterion::{Criterion, criterion_group, criterion_main};
use http::HeaderMap;
use site_core::SiteError;
use site_core::passwords::{PasswordCost, Passwords};
use site_core::static_files::StaticRoot;
use site_core::storage::Storage;

fn per_request(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = reqwest::Client::builder().build().expect("client");
    let names: Vec<String> = backends::names().into_iter().map(String::from).collect();
    binaries::build_backends().expect("release build of the backends");
    let (server_cpus, _) = default_cpus();
    for name in names {
        let mut server = BackendProcess::start(&name, &server_cpus).expect("backend starts");
        let base_url = format!("http://{}", server.addr);
        let mut group = c.benchmark_group(format!("request/{name}"));
        for (scenario, path) in [
            ("plaintext", "/plaintext"),
            ("json", "/json"),
            ("static", "/"),
        ] {
            let url = format!("{base_url}{path}");
            group.bench_function(scenario, |b| {
                b.iter(|| {
                    runtime.block_on(async {
                        let response = client.get(&url).send().await.expect("response");
                        assert!(response.status().is_success());
                        black_box(response.bytes().await.expect("body"))
                    })
                });
            });
        }
        group.finish();
        assert!(server.stop(), "backend-{name} must exit 0 on SIGTERM");
    }
}

fn core(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let root = StaticRoot::embedded();
    let none = HeaderMap::new();
    c.bench_function("core/static lookup (/ embedded)", |b| {
        b.iter(|| runtime.block_on(root.serve(black_box("/"), None, &none)))
    });
    c.bench_function("core/problem rendering (404 JSON)", |b| {
        b.iter(|| black_box(SiteError::NotFound.render(&none)))
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let storage =
        Storage::open(dir.path().join("s.db").to_str().expect("utf-8 path")).expect("storage");
    runtime.block_on(async {
        storage
            .insert_user("ada".into(), "hash".into(), "2026-01-01T00:00:00Z".into())
            .await
            .expect("user");
        storage
            .insert_session([7; 32], "ada".into(), 0, i64::MAX)
            .await
            .expect("session");
    });
    c.bench_function("core/session lookup (SQLite)", |b| {
        b.iter(|| runtime.block_on(storage.session_user(black_box([7; 32]), 1)))
    });
    let passwords = Passwords::new(PasswordCost::DEFAULT, 1).expect("argon2 params");
    let mut slow = c.benchmark_group("core/password");
    slow.sample_size(10);
    slow.bench_function("argon2id hash, m=19456 t=2 p=1", |b| {
        b.iter(|| runtime.block_on(passwords.hash(black_box("correct horse battery".into()))))
    });
    slow.finish();
}

criterion_group!(benches, per_request, core);
criterion_main!(benches);
