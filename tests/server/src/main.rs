//! `fetchlane-test-server`: local HTTP API for fetchlane's browser tests.
//! Parses arguments, binds 127.0.0.1 (plus best-effort [::1] on the same port), announces the
//! port, serves until SIGINT/SIGTERM (or stdin EOF with `--exit-on-stdin-eof`), then shuts down.

mod accounting;
mod args;
mod conn;
mod cors;
mod data;
mod decode;
mod faults;
mod fields;
mod params;
mod routes;
mod state;
mod static_files;
mod stats;

use std::io::{Read, Write};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

/// How long in-flight requests get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

fn main() {
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}\n{}", args::USAGE);
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = runtime.block_on(run(args));
    // Exit without waiting for the (possibly blocked) stdin reader thread.
    std::process::exit(code);
}

async fn run(args: args::Args) -> i32 {
    let v4 = match TcpListener::bind((args.host.as_str(), args.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "fetchlane-test-server: cannot bind {}:{}: {e}",
                args.host, args.port
            );
            return 1;
        }
    };
    let port = v4.local_addr().map(|a| a.port()).unwrap_or(args.port);
    let mut listeners = vec![v4];
    if matches!(args.host.as_str(), "127.0.0.1" | "localhost") {
        if let Ok(v6) = TcpListener::bind(("::1", port)).await {
            listeners.push(v6);
        }
    }

    if let Some(path) = &args.port_file {
        let tmp = path.with_extension("tmp");
        let written =
            std::fs::write(&tmp, port.to_string()).and_then(|_| std::fs::rename(&tmp, path));
        if let Err(e) = written {
            eprintln!(
                "fetchlane-test-server: cannot write port file {}: {e}",
                path.display()
            );
            return 1;
        }
    }
    let shown_host = if args.host.contains(':') {
        format!("[{}]", args.host)
    } else {
        args.host.clone()
    };
    println!("fetchlane-test-server listening on http://{shown_host}:{port}");
    let _ = std::io::stdout().flush();

    let state = state::AppState::new(args.statics);
    let app = routes::router(state.clone());
    let (stop_tx, stop_rx) = watch::channel(false);
    let servers: Vec<_> = listeners
        .into_iter()
        .map(|listener| {
            // TCP_NODELAY on; connections the `drop` faults can reset (see `conn`).
            let listener = conn::KillableListener {
                listener,
                registry: state.conns.clone(),
            };
            let mut stop = stop_rx.clone();
            let app = app
                .clone()
                .into_make_service_with_connect_info::<conn::ConnHandle>();
            tokio::spawn(async move {
                let shutdown = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                if let Err(e) = axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
                {
                    eprintln!("fetchlane-test-server: server error: {e}");
                }
            })
        })
        .collect();

    wait_for_stop(args.exit_on_stdin_eof).await;
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
        for s in servers {
            let _ = s.await;
        }
    })
    .await;
    0
}

/// Resolves on SIGINT, SIGTERM, or (if enabled) EOF on stdin.
async fn wait_for_stop(exit_on_stdin_eof: bool) {
    let stdin_eof = async {
        if !exit_on_stdin_eof {
            return std::future::pending::<()>().await;
        }
        let (tx, rx) = oneshot::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
            let _ = tx.send(());
        });
        let _ = rx.await;
    };
    let sigterm = async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            match signal(SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = sigterm => {}
        _ = stdin_eof => {}
    }
}
